"""The fake Stripe itself: Stripe's wire format and rules, and the events its control API produces."""
from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode

import pytest
import stripe

from tests.fake_stripe import FakeStripeError, sign
from tests.fake_stripe.server import parse_params


def call(fake, method: str, path: str, params: dict | None = None, key: str | None = "sk_test_fake",
         idempotency_key: str | None = None) -> tuple[int, dict]:
    """One raw HTTP request to the fake, without the stripe library."""
    data = urlencode(params or {}).encode() if method == "POST" else None
    url = fake.url + path + ("?" + urlencode(params) if params and method == "GET" else "")
    request = urllib.request.Request(url, data=data, method=method)
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    if idempotency_key:
        request.add_header("Idempotency-Key", idempotency_key)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def session(fake, mode="payment", currency="eur", amount=1250, **extra) -> dict:
    params = {"mode": mode, "success_url": "http://127.0.0.1:9/ok?s={CHECKOUT_SESSION_ID}",
              "cancel_url": "http://127.0.0.1:9/no", "expires_at": int(time.time()) + 1900,
              "metadata[pledge_id]": "41", **extra}
    if mode == "payment":
        params.update({"line_items[0][price_data][currency]": currency,
                       "line_items[0][price_data][unit_amount]": amount,
                       "line_items[0][price_data][product_data][name]": "Pledge",
                       "line_items[0][quantity]": 1, "payment_intent_data[metadata][pledge_id]": "41"})
    else:
        params["currency"] = currency
        params["setup_intent_data[metadata][pledge_id]"] = "41"
    status, body = call(fake, "POST", "/v1/checkout/sessions", params)
    assert status == 200, body
    return body


@pytest.mark.no_app
def test_form_keys_decode_to_nested_hashes_and_arrays():
    assert parse_params([("line_items[0][price_data][currency]", "eur"), ("line_items[1][quantity]", "2"),
                         ("metadata[pledge_id]", "41"), ("expand[]", "a"), ("expand[]", "b.c"),
                         ("created[gte]", "10")]) == {
        "line_items": [{"price_data": {"currency": "eur"}}, {"quantity": "2"}],
        "metadata": {"pledge_id": "41"}, "expand": ["a", "b.c"], "created": {"gte": "10"}}


def test_requests_without_the_secret_key_are_refused_like_stripe(fake_stripe):
    status, body = call(fake_stripe, "GET", "/v1/balance_transactions", key=None)
    assert status == 401 and body["error"]["type"] == "invalid_request_error"
    status, body = call(fake_stripe, "GET", "/v1/balance_transactions", key="sk_test_other")
    assert status == 401 and body["error"]["code"] == "api_key_invalid"


@pytest.mark.parametrize("params, param, code", [
    ({"surprise": "1"}, "surprise", "parameter_unknown"),
    ({"expires_at": int(time.time()) + 600}, "expires_at", "parameter_invalid"),
    ({"line_items[0][price_data][unit_amount]": 49}, "line_items[0][price_data][unit_amount]", "amount_too_small"),
    ({"line_items[0][price_data][unit_amount]": 100_000_000}, "line_items[0][price_data][unit_amount]",
     "amount_too_large"),
    ({"locale": "wo"}, "locale", "parameter_invalid"),
])
def test_checkout_parameters_stripe_would_refuse_get_a_400(fake_stripe, params, param, code):
    base = {"mode": "payment", "success_url": "http://127.0.0.1:9/ok", "expires_at": int(time.time()) + 1900,
            "line_items[0][price_data][currency]": "eur", "line_items[0][price_data][unit_amount]": 1250,
            "line_items[0][price_data][product_data][name]": "Pledge", "line_items[0][quantity]": 1}
    status, body = call(fake_stripe, "POST", "/v1/checkout/sessions", {**base, **params})
    assert status == 400
    assert (body["error"]["param"], body["error"]["code"]) == (param, code)
    assert fake_stripe.count("checkout.session") == 0


def test_a_refused_request_is_not_saved_under_its_idempotency_key(fake_stripe):
    params = {"amount": 10, "currency": "eur"}
    assert call(fake_stripe, "POST", "/v1/payment_intents", params, idempotency_key="k")[0] == 400
    status, body = call(fake_stripe, "POST", "/v1/payment_intents", {"amount": 100, "currency": "eur"},
                        idempotency_key="k")
    assert status == 200 and body["amount"] == 100
    assert fake_stripe.idempotency_keys["k"] == 2


def test_a_declined_card_leaves_the_session_open_and_a_good_card_then_pays(fake_stripe):
    cs = session(fake_stripe)

    [failed] = fake_stripe.complete_checkout(cs["id"], "4000 0000 0000 9995")
    assert failed["type"] == "payment_intent.payment_failed"
    error = failed["data"]["object"]["last_payment_error"]
    assert (error["code"], error["decline_code"]) == ("card_declined", "insufficient_funds")
    assert fake_stripe.objects[cs["id"]]["status"] == "open"

    completed, succeeded = fake_stripe.complete_checkout(cs["id"])
    assert completed["type"] == "checkout.session.completed"
    assert completed["data"]["object"]["payment_status"] == "paid"
    assert completed["data"]["object"]["payment_intent"] == failed["data"]["object"]["id"] == \
        succeeded["data"]["object"]["id"]
    assert succeeded["data"]["object"]["metadata"] == {"pledge_id": "41"}
    assert len({e["id"] for e in (failed, completed, succeeded)}) == 3


def test_the_authentication_card_completes_only_when_the_backer_authenticates(fake_stripe):
    cs = session(fake_stripe)
    assert fake_stripe.complete_checkout(cs["id"], "4000002760003184") == []
    assert fake_stripe.objects[fake_stripe.objects[cs["id"]]["payment_intent"]]["status"] == "requires_action"
    types = [e["type"] for e in fake_stripe.complete_checkout(cs["id"], "4000002760003184", authenticate=True)]
    assert types == ["checkout.session.completed", "payment_intent.succeeded"]


def test_an_expired_session_sends_its_event_and_takes_no_payment(fake_stripe):
    cs = session(fake_stripe)
    [expired] = fake_stripe.expire_session(cs["id"])
    assert expired["type"] == "checkout.session.expired"
    assert expired["data"]["object"]["status"] == "expired"
    with pytest.raises(FakeStripeError):
        fake_stripe.complete_checkout(cs["id"])


def test_a_sepa_debit_is_processing_until_the_bank_answers(fake_stripe):
    good, bad = session(fake_stripe), session(fake_stripe)
    [completed] = fake_stripe.complete_checkout(good["id"], "DE89370400440532013000")
    assert completed["data"]["object"]["payment_status"] == "unpaid"
    assert [e["type"] for e in fake_stripe.finish_async_payment(good["id"])] == [
        "checkout.session.async_payment_succeeded", "payment_intent.succeeded"]

    fake_stripe.complete_checkout(bad["id"], "DE62370400440532013001")
    assert [e["type"] for e in fake_stripe.finish_async_payment(bad["id"])] == [
        "checkout.session.async_payment_failed", "payment_intent.payment_failed"]
    assert fake_stripe.count("charge") == 1


def test_a_dispute_withdraws_the_amount_and_a_fee(fake_stripe):
    cs = session(fake_stripe, amount=5000)
    intent = fake_stripe.complete_checkout(cs["id"])[1]["data"]["object"]

    created, withdrawn = fake_stripe.dispute(intent["id"])

    assert created["type"] == "charge.dispute.created"
    assert withdrawn["type"] == "charge.dispute.funds_withdrawn"
    dispute = created["data"]["object"]
    assert (dispute["amount"], dispute["charge"], dispute["payment_intent"]) == (
        5000, intent["latest_charge"], intent["id"])
    txn = fake_stripe.balance_transactions[-1]
    assert (txn["type"], txn["amount"], txn["fee"], txn["net"]) == ("adjustment", -5000, 1500, -6500)
    status, body = call(fake_stripe, "POST", "/v1/refunds", {"payment_intent": intent["id"]})
    assert status == 400 and body["error"]["code"] == "charge_disputed"


def test_webhook_requests_carry_a_signature_the_stripe_library_accepts(fake_stripe):
    cs = session(fake_stripe)
    [expired] = fake_stripe.expire_session(cs["id"])
    body, headers = fake_stripe.webhook_request(expired, "whsec_test")

    event = stripe.Webhook.construct_event(body, headers["Stripe-Signature"], "whsec_test")
    assert event.id == expired["id"] and event.type == "checkout.session.expired"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, headers["Stripe-Signature"], "whsec_other")
    stale = sign(body, "whsec_test", timestamp=int(time.time()) - 600)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, stale, "whsec_test", tolerance=300)


def test_the_hosted_page_takes_a_card_delivers_signed_events_and_redirects(fake_stripe):
    received: list[tuple[dict, str]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((json.loads(body), self.headers["Stripe-Signature"]))
            stripe.Webhook.construct_event(body, self.headers["Stripe-Signature"], "whsec_test")
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    hook = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    try:
        fake_stripe.webhook_url = f"http://127.0.0.1:{hook.server_address[1]}/payments/webhooks/stripe"
        cs = session(fake_stripe)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())
        with opener.open(cs["url"], timeout=10) as page:
            assert b"Fake Stripe Checkout" in page.read()
        with pytest.raises(urllib.error.HTTPError) as redirect:
            opener.open(urllib.request.Request(cs["url"], data=b"card=4242424242424242", method="POST"),
                        timeout=10)
        assert redirect.value.code == 303
        assert redirect.value.headers["Location"] == f"http://127.0.0.1:9/ok?s={cs['id']}"
        assert [event["type"] for event, _ in received] == ["checkout.session.completed", "payment_intent.succeeded"]
    finally:
        hook.shutdown()
        hook.server_close()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
