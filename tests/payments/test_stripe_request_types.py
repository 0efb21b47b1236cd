"""Every request the fake serves is checked against the stripe library's own params types, as Stripe checks it.

The validator (tests/fake_stripe/params.py) reads the TypedDicts stripe 16 generates from Stripe's
OpenAPI spec for 2026-10-28.endive; these tests prove it refuses what Stripe refuses, with Stripe's
error codes, and that a whole provider flow sends nothing Stripe would refuse.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
import stripe

from tests.fake_stripe.client import library_client, refused
from tests.fake_stripe.params import ROUTE_PARAMS, check, params_type, validate
from tests.fake_stripe.server import ApiError, parse_params
from tests.payments.test_stripe_provider import checkout_request, saved_card
from webapp.clock import utcnow
from webapp.money import Money


@pytest.fixture
def client(fake_stripe) -> stripe.StripeClient:
    """The real stripe library pointed at the fake, without retries."""
    return library_client(fake_stripe)


# -- the validator on its own ------------------------------------------------------------------

PI = params_type("POST", "/v1/payment_intents")


@pytest.mark.parametrize("params, param, code", [
    ({"amount": "100", "currency": "eur", "surprise": "1"}, "surprise", "parameter_unknown"),
    ({"amount": "100", "currency": "eur", "automatic_payment_methods": {"enabled": "true", "x": "1"}},
     "automatic_payment_methods[x]", "parameter_unknown"),
    ({"currency": "eur"}, "amount", "parameter_missing"),
    ({"amount": "100", "currency": "eur", "automatic_payment_methods": {"allow_redirects": "never"}},
     "automatic_payment_methods[enabled]", "parameter_missing"),
    ({"amount": "ten", "currency": "eur"}, "amount", "parameter_invalid_integer"),
    ({"amount": "100", "currency": "eur", "confirm": "yes"}, "confirm", "parameter_invalid"),
    ({"amount": "100", "currency": "eur", "capture_method": "later"}, "capture_method", "parameter_invalid"),
    ({"amount": "100", "currency": "eur", "metadata": "pledge"}, "metadata", "parameter_invalid"),
    ({"amount": "100", "currency": "eur", "amount_details": {"line_items": "x"}}, "amount_details[line_items]",
     "parameter_invalid"),
    ({"amount": "100", "currency": "eur", "description": ""}, "description", "parameter_invalid_empty"),
    ({"amount": {"value": "100"}, "currency": "eur"}, "amount", "parameter_invalid"),
])
def test_the_validator_refuses_unknown_missing_and_wrongly_typed_parameters(params, param, code):
    with pytest.raises(ApiError) as caught:
        validate(PI, params)
    assert caught.value.status == 400
    assert (caught.value.error["param"], caught.value.error["code"]) == (param, code)


def test_the_validator_names_stripes_messages():
    with pytest.raises(ApiError, match=r"^Received unknown parameter: payment_intent_data\[surprise\]$"):
        validate(params_type("POST", "/v1/checkout/sessions"), {"payment_intent_data": {"surprise": "x"}})
    with pytest.raises(ApiError, match=r"^Missing required param: line_items\[0\]\[price_data\]\[currency\]\.$"):
        validate(params_type("POST", "/v1/checkout/sessions"),
                 {"line_items": [{"price_data": {"unit_amount": "5", "product_data": {"name": "x"}}}]})
    with pytest.raises(ApiError, match=r"^Invalid integer: 12\.5$"):
        validate(PI, {"amount": "12.5", "currency": "eur"})


def test_the_validator_accepts_what_stripe_accepts():
    params = parse_params([("amount", "100"), ("currency", "eur"), ("confirm", "true"), ("off_session", "recurring"),
                           ("metadata[pledge_id]", "41"), ("metadata[0]", "zero"), ("expand[]", "latest_charge"),
                           ("expand[]", "customer"), ("automatic_payment_methods[enabled]", "true"),
                           ("automatic_payment_methods[allow_redirects]", "never")])
    checked = validate(PI, params)
    assert checked["metadata"] == {"pledge_id": "41", "0": "zero"}
    assert checked["expand"] == ["latest_charge", "customer"]
    # an update may unset metadata (Literal['']) and a key of it (an empty value)
    update = params_type("POST", "/v1/payment_intents/{id}")
    assert validate(update, {"metadata": ""}) == {"metadata": ""}
    assert validate(update, {"metadata": {"pledge_id": ""}}) == {"metadata": {"pledge_id": ""}}
    # a hash whose keys are all digits arrives as an array and is a hash again
    assert check(["a", "b"], dict[str, str], "metadata") == {"0": "a", "1": "b"}


def test_arrays_are_checked_item_by_item():
    with pytest.raises(ApiError) as caught:
        validate(PI, {"amount": "1", "currency": "eur", "expand": {"0": "a", "1": {"b": "c"}}})
    assert caught.value.error["param"] == "expand[1]"
    with pytest.raises(ApiError) as caught:
        validate(PI, {"amount": "1", "currency": "eur", "excluded_payment_method_types": ["card", "cheque"]})
    assert caught.value.error["param"] == "excluded_payment_method_types[1]"


def test_every_route_the_fake_serves_has_a_params_type_and_every_type_loads(fake_stripe):
    served = {(r.method, r.template) for r in fake_stripe.routes}
    assert served == set(ROUTE_PARAMS)
    for method, path in served:
        assert params_type(method, path).__name__.endswith("Params")


# -- over HTTP, with the real stripe library ---------------------------------------------------

def test_the_fake_answers_an_unknown_parameter_as_stripe_does(fake_stripe, client):
    error = refused(lambda: client.v1.payment_intents.create(params={"amount": 1000, "currency": "eur",
                                                                     "surprise": "yes"}))
    assert error == {"type": "invalid_request_error", "code": "parameter_unknown", "param": "surprise",
                     "message": "Received unknown parameter: surprise"}
    assert fake_stripe.count("payment_intent") == 0
    [request] = fake_stripe.requests
    assert request.validated is False and request.validation_error["code"] == "parameter_unknown"
    assert fake_stripe.invalid_requests() == [request]


def test_the_fake_answers_a_missing_parameter_as_stripe_does(fake_stripe, client):
    # the types are checked before anything is looked up: no "No such account" for acct_x
    error = refused(lambda: client.v1.transfers.create(params={"amount": 100, "destination": "acct_x"}))
    assert error == {"type": "invalid_request_error", "code": "parameter_missing", "param": "currency",
                     "message": "Missing required param: currency."}
    error = refused(lambda: client.v1.checkout.sessions.create(params={
        "mode": "payment", "success_url": "http://127.0.0.1:9/ok",
        "line_items": [{"price_data": {"unit_amount": 500, "product_data": {"name": "x"}}, "quantity": 1}]}))
    assert (error["code"], error["param"]) == ("parameter_missing", "line_items[0][price_data][currency]")


def test_the_fake_answers_a_wrongly_typed_parameter_as_stripe_does(fake_stripe, client):
    error = refused(lambda: client.v1.payment_intents.create(params={"amount": "lots", "currency": "eur"}))
    assert (error["code"], error["param"], error["message"]) == (
        "parameter_invalid_integer", "amount", "Invalid integer: lots")
    error = refused(lambda: client.v1.payment_intents.create(params={"amount": 100, "currency": "eur",
                                                                     "capture_method": "eventually"}))
    assert (error["code"], error["param"]) == ("parameter_invalid", "capture_method")
    error = refused(lambda: client.v1.checkout.sessions.create(params={
        "mode": "payment", "success_url": "http://127.0.0.1:9/ok",
        "line_items": [{"price_data": {"currency": "eur", "unit_amount": 500, "product_data": {"name": "x"}},
                        "quantity": "one"}]}))
    assert (error["code"], error["param"]) == ("parameter_invalid_integer", "line_items[0][quantity]")


def test_expand_is_checked_as_stripe_does(fake_stripe, client, stripe_provider):
    session = stripe_provider.create_checkout(checkout_request(charge=Money(1250, "EUR")))
    intent_id = fake_stripe.complete_checkout(session.id)[1]["data"]["object"]["id"]
    intent = client.v1.payment_intents.retrieve(intent_id, params={"expand": ["latest_charge.balance_transaction"]})
    assert intent.latest_charge.balance_transaction.object == "balance_transaction"
    error = refused(lambda: client.v1.payment_intents.retrieve(intent_id, params={"expand": ["nonsense"]}))
    assert error["param"] == "expand"
    error = refused(lambda: client.v1.payment_intents.retrieve(
        intent_id, params={"expand": ["latest_charge.balance_transaction.source.payment_intent.customer"]}))
    assert "4 levels" in error["message"]


def test_metadata_is_checked_as_stripe_does(fake_stripe, client):
    error = refused(lambda: client.v1.customers.create(params={"metadata": {f"k{i}": "v" for i in range(51)}}))
    assert error["param"] == "metadata"
    error = refused(lambda: client.v1.customers.create(params={"metadata": {"k" * 41: "v"}}))
    assert error["param"].startswith("metadata[")
    customer = client.v1.customers.create(params={"metadata": {"pledge_id": "41", "empty": ""}})
    assert customer.metadata.to_dict() == {"pledge_id": "41"}


def test_every_request_of_a_whole_provider_flow_passes_the_types(fake_stripe, stripe_provider):
    """Checkout (payment and setup), settlement, an off-session charge, a refund, Connect, a transfer,
    the balance history, detaching and expiring: every request the provider sends is one Stripe accepts."""
    session = stripe_provider.create_checkout(checkout_request(charge=Money(2500, "EUR")))
    intent = fake_stripe.complete_checkout(session.id)[1]["data"]["object"]
    assert stripe_provider.settlement(intent["id"]) is not None
    setup = saved_card(fake_stripe, stripe_provider)
    result = stripe_provider.charge_off_session(setup["customer"], setup["payment_method"], Money(1500, "EUR"),
                                                "close-1", {"pledge_id": "42"}, description="Pledge",
                                                transfer_group="campaign-7")
    assert result.status == "succeeded"
    stripe_provider.refund(result.payment_intent_id, Money(500, "EUR"), "refund-1", {"pledge_id": "42"},
                           reason="requested_by_customer")
    account = stripe_provider.create_connected_account("org@example.org", "FR", "account-1")
    assert stripe_provider.create_account_link(account, "http://127.0.0.1:9/r", "http://127.0.0.1:9/ok")
    fake_stripe.onboard(account)
    transfer = stripe_provider.create_transfer(Money(1000, "EUR"), account, "campaign-7", "transfer-1",
                                               {"campaign_id": "7"})
    charge = fake_stripe.objects[result.payment_intent_id]["latest_charge"]
    stripe_provider.create_transfer(Money(500, "EUR"), account, "campaign-7", "transfer-2", {"campaign_id": "7"},
                                    source_transaction=charge)
    stripe_provider.reverse_transfer(transfer, Money(100, "EUR"), "reversal-1", {"transfer_id": "1"})
    history = stripe_provider.list_balance_transactions(utcnow() - timedelta(days=1), utcnow() + timedelta(days=1),
                                                        expand_sources=True)
    assert {t["type"] for t in history} == {"charge", "refund", "transfer", "transfer_refund"}
    stripe_provider.detach_payment_method(setup["payment_method"])
    open_session = stripe_provider.create_checkout(checkout_request(idempotency_key="pledge-43"))
    stripe_provider.expire_checkout(open_session.id)

    assert len(fake_stripe.requests) >= 13
    refused_requests = [(r.method, r.path, r.validation_error) for r in fake_stripe.requests if not r.validated]
    assert refused_requests == [] and fake_stripe.invalid_requests() == []
    assert all(r.status == 200 for r in fake_stripe.requests)


def test_only_ids_of_other_objects_expand(fake_stripe, client):
    customer = client.v1.customers.create(params={"email": "a@example.org"})
    error = refused(lambda: client.v1.customers.retrieve(customer.id, params={"expand": ["email"]}))
    assert (error["param"], error["message"]) == ("expand", "This property cannot be expanded (email).")


def test_metadata_keys_may_not_hold_square_brackets():
    from tests.fake_stripe.state import check_metadata

    with pytest.raises(ApiError) as caught:
        check_metadata({"a]b": "v"})
    assert caught.value.error["param"] == "metadata[a]b]"
