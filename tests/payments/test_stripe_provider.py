"""StripeProvider against the fake Stripe server: what reaches "Stripe", idempotency, charges, refunds, balance."""
from __future__ import annotations

import ast
import math
import os
from dataclasses import replace
from datetime import UTC, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import free_port
from webapp.clock import utcnow
from webapp.errors import InvalidMoney, ProviderError
from webapp.money import Money
from webapp.payments.providers import get_provider
from webapp.payments.providers.base import ChargeResult, CheckoutRequest, Settlement
from webapp.payments.providers.stripe import StripeProvider, checkout_locale

ROOT = Path(__file__).resolve().parents[2]


def checkout_request(**changes) -> CheckoutRequest:
    request = CheckoutRequest(
        pledge_id=41, reference="pledge-41", mode="payment", charge=Money(25000, "XOF"),
        email="nurse@harambee.test", description="Pledge to Ganvié eco-tourism", terms=None, locale="fr",
        success_url="http://harambee.test/pledges/41/thanks", cancel_url="http://harambee.test/pledges/41/cancel",
        expires_at=utcnow() + timedelta(minutes=30), idempotency_key="pledge-41-checkout-1",
        metadata={"campaign_id": "7"},
    )
    return replace(request, **changes)


def sent(fake, path: str) -> list[dict]:
    """The decoded parameters of every request the fake received on this path."""
    return [r.params for r in fake.requests if r.path == path]


def saved_card(fake, provider, card="4242424242424242", *, authenticate=False) -> dict:
    """Checkout in setup mode, completed with `card`: the succeeded SetupIntent (customer, payment_method)."""
    session = provider.create_checkout(checkout_request(mode="setup", terms="Charged only if funded.",
                                                        idempotency_key=f"setup-{card}"))
    events = fake.complete_checkout(session.id, card, authenticate=authenticate)
    assert [e["type"] for e in events] == ["checkout.session.completed", "setup_intent.succeeded"]
    return events[1]["data"]["object"]


def paid_intent(fake, provider, charge: Money, key="pay-1") -> dict:
    session = provider.create_checkout(checkout_request(charge=charge, idempotency_key=key))
    events = fake.complete_checkout(session.id)
    return events[1]["data"]["object"]


# -- checkout -----------------------------------------------------------------------------------

@pytest.mark.parametrize("charge, currency, unit_amount", [
    (Money(25000, "XOF"), "xof", "25000"),  # zero-decimal: whole francs
    (Money(1250, "EUR"), "eur", "1250"),  # 12.50 EUR in cents
    (Money(12340, "TND"), "tnd", "12340"),  # 12.340 TND in millimes, last digit 0
    (Money(500, "JPY"), "jpy", "500"),
])
def test_payment_checkout_sends_the_amount_in_the_processors_units(fake_stripe, stripe_provider, charge, currency,
                                                                   unit_amount):
    request = checkout_request(charge=charge)
    session = stripe_provider.create_checkout(request)

    [params] = sent(fake_stripe, "/v1/checkout/sessions")
    assert params["mode"] == "payment"
    assert params["line_items"] == [{"price_data": {"currency": currency, "unit_amount": unit_amount,
                                                    "product_data": {"name": "Pledge to Ganvié eco-tourism"}},
                                     "quantity": "1"}]
    assert params["customer_email"] == "nurse@harambee.test"
    assert params["client_reference_id"] == "pledge-41"
    assert params["metadata"] == {"campaign_id": "7", "pledge_id": "41"}
    assert params["payment_intent_data"]["metadata"] == {"campaign_id": "7", "pledge_id": "41"}
    assert params["success_url"] == request.success_url and params["cancel_url"] == request.cancel_url
    assert params["locale"] == "fr"
    assert int(params["expires_at"]) == math.ceil(request.expires_at.replace(tzinfo=UTC).timestamp())
    assert session.id.startswith("cs_test_") and session.url.startswith(fake_stripe.url)
    assert session.customer_id is None
    assert fake_stripe.objects[session.id]["amount_total"] == int(unit_amount)


def test_tnd_amount_not_ending_in_zero_is_refused_before_any_call(fake_stripe, stripe_provider):
    with pytest.raises(InvalidMoney):
        stripe_provider.create_checkout(checkout_request(charge=Money(12345, "TND")))
    assert fake_stripe.requests == []


def test_setup_checkout_saves_a_method_for_a_new_customer_and_shows_the_terms(fake_stripe, stripe_provider):
    terms = "You will be charged only if the campaign reaches its goal on 30 June 2026."
    session = stripe_provider.create_checkout(checkout_request(mode="setup", terms=terms))

    [customer_params] = sent(fake_stripe, "/v1/customers")
    assert customer_params == {"email": "nurse@harambee.test", "metadata": {"campaign_id": "7", "pledge_id": "41"}}
    assert fake_stripe.requests[0].idempotency_key == "pledge-41-checkout-1-customer"
    [params] = sent(fake_stripe, "/v1/checkout/sessions")
    assert params["mode"] == "setup" and params["currency"] == "xof"
    assert params["customer"] == session.customer_id
    assert params["custom_text"] == {"submit": {"message": terms}}
    assert params["setup_intent_data"]["metadata"] == {"campaign_id": "7", "pledge_id": "41"}
    assert "line_items" not in params and "customer_email" not in params

    events = fake_stripe.complete_checkout(session.id)
    completed, succeeded = (e["data"]["object"] for e in events)
    assert completed["setup_intent"] == succeeded["id"]
    assert succeeded["customer"] == session.customer_id
    assert fake_stripe.objects[succeeded["payment_method"]]["customer"] == session.customer_id


def test_payment_checkout_for_a_known_customer_names_the_customer_not_the_email(fake_stripe, stripe_provider):
    customer = stripe_provider.create_checkout(checkout_request(mode="setup")).customer_id

    session = stripe_provider.create_checkout(checkout_request(customer_id=customer, idempotency_key="complete-41"))

    params = sent(fake_stripe, "/v1/checkout/sessions")[-1]
    assert params["customer"] == customer and "customer_email" not in params
    assert session.customer_id == customer
    intent = fake_stripe.complete_checkout(session.id)[1]["data"]["object"]
    assert intent["customer"] == customer


@pytest.mark.parametrize("ours, stripes", [("fr", "fr"), ("en", "en"), ("pt_BR", "pt-BR"), ("fr_BE", "fr"),
                                           ("pt", "pt-BR"), ("pt_PT", "pt"),  # our "pt" is Brazilian
                                           ("wo", "auto"), ("", "auto")])
def test_checkout_locale_is_ours_when_checkout_has_it_else_auto(ours, stripes):
    assert checkout_locale(ours) == stripes


def test_unsupported_locale_reaches_stripe_as_auto(fake_stripe, stripe_provider):
    stripe_provider.create_checkout(checkout_request(locale="wo"))
    assert sent(fake_stripe, "/v1/checkout/sessions")[0]["locale"] == "auto"


# -- idempotency ----------------------------------------------------------------------------------

def test_the_same_key_twice_creates_one_checkout_session(fake_stripe, stripe_provider):
    request = checkout_request()  # once: its expires_at must not tick to the next second between calls
    first = stripe_provider.create_checkout(request)
    second = stripe_provider.create_checkout(request)

    assert first == second
    assert fake_stripe.count("checkout.session") == 1
    assert fake_stripe.idempotency_keys["pledge-41-checkout-1"] == 2
    assert [r.replayed for r in fake_stripe.requests] == [False, True]


def test_the_same_key_twice_in_setup_mode_creates_one_customer_and_one_session(fake_stripe, stripe_provider):
    request = checkout_request(mode="setup")  # once: its expires_at must not tick to the next second between calls
    first = stripe_provider.create_checkout(request)
    second = stripe_provider.create_checkout(request)

    assert first == second
    assert fake_stripe.count("customer") == 1 and fake_stripe.count("checkout.session") == 1
    assert fake_stripe.idempotency_keys["pledge-41-checkout-1-customer"] == 2


def test_a_key_reused_for_a_different_amount_is_refused_and_creates_nothing(fake_stripe, stripe_provider):
    stripe_provider.create_checkout(checkout_request())
    with pytest.raises(ProviderError) as refused:
        stripe_provider.create_checkout(checkout_request(charge=Money(30000, "XOF")))
    assert refused.value.code == "idempotency_error" and not refused.value.retryable
    assert fake_stripe.count("checkout.session") == 1


def test_a_lost_response_is_retried_with_the_same_key_and_charges_once(fake_stripe, stripe_provider):
    method = saved_card(fake_stripe, stripe_provider)
    fake_stripe.lose_next_responses(1)

    result = stripe_provider.charge_off_session(method["customer"], method["payment_method"], Money(25000, "XOF"),
                                                "pledge-41-charge-1", {"pledge_id": "41"})

    assert result.status == "succeeded"
    assert fake_stripe.idempotency_keys["pledge-41-charge-1"] == 2  # the library retried...
    assert fake_stripe.count("payment_intent") == 1  # ...and Stripe replayed instead of charging again
    assert fake_stripe.count("charge") == 1


# -- settlement -----------------------------------------------------------------------------------

def test_settlement_reports_the_net_and_the_fee_of_the_charge(fake_stripe, stripe_provider):
    intent = paid_intent(fake_stripe, stripe_provider, Money(1250, "EUR"))

    settlement = stripe_provider.settlement(intent["id"])

    # 1.5% of 1250 is 18.75, rounded to 19, plus 25
    assert settlement == Settlement(amount=Money(1206, "EUR"), fee=Money(44, "EUR"),
                                    charge_id=intent["latest_charge"])
    [params] = [r.params for r in fake_stripe.requests if r.path == f"/v1/payment_intents/{intent['id']}"]
    assert params == {"expand": ["latest_charge.balance_transaction"]}


def test_settlement_is_in_the_balance_currency_when_stripe_converts(fake_stripe, stripe_provider):
    fake_stripe.settlement_currency = "eur"
    fake_stripe.exchange_rates = {"xof": Decimal("0.00152449")}
    intent = paid_intent(fake_stripe, stripe_provider, Money(25000, "XOF"))

    settlement = stripe_provider.settlement(intent["id"])

    # 25000 XOF = 38.11225 EUR → 3811 cents; fee 1.5% = 57.165 → 57, plus 25
    assert settlement.amount == Money(3811 - 82, "EUR") and settlement.fee == Money(82, "EUR")


def test_settlement_is_none_until_the_charge_is_booked(fake_stripe, stripe_provider):
    fake_stripe.settle_immediately = False
    session = stripe_provider.create_checkout(checkout_request())
    fake_stripe.complete_checkout(session.id, "4000000000009995")
    declined = fake_stripe.objects[session.id]["payment_intent"]
    assert stripe_provider.settlement(declined) is None  # no successful charge at all

    intent = fake_stripe.complete_checkout(session.id)[1]["data"]["object"]
    assert stripe_provider.settlement(intent["id"]) is None  # charged, not yet in the balance

    fake_stripe.settle(intent["latest_charge"])
    assert stripe_provider.settlement(intent["id"]).fee == Money(400, "XOF")


# -- off-session charges --------------------------------------------------------------------------

def test_off_session_charge_succeeds_on_a_saved_card(fake_stripe, stripe_provider):
    method = saved_card(fake_stripe, stripe_provider)

    result = stripe_provider.charge_off_session(method["customer"], method["payment_method"], Money(1250, "EUR"),
                                                "pledge-41-charge-1", {"pledge_id": "41"}, transfer_group="campaign-7")

    assert result == ChargeResult("succeeded", result.payment_intent_id)
    [params] = sent(fake_stripe, "/v1/payment_intents")
    assert params == {"amount": "1250", "currency": "eur", "customer": method["customer"],
                      "payment_method": method["payment_method"], "off_session": "true", "confirm": "true",
                      "metadata": {"pledge_id": "41"}, "transfer_group": "campaign-7"}
    assert fake_stripe.objects[result.payment_intent_id]["status"] == "succeeded"
    assert [e["type"] for e in fake_stripe.take_events()][-2:] == ["charge.succeeded", "payment_intent.succeeded"]


def test_off_session_charge_needing_authentication_asks_the_backer_to_act(fake_stripe, stripe_provider):
    method = saved_card(fake_stripe, stripe_provider, "4000002760003184", authenticate=True)

    result = stripe_provider.charge_off_session(method["customer"], method["payment_method"], Money(25000, "XOF"),
                                                "pledge-41-charge-1", {"pledge_id": "41"})

    assert result.status == "requires_action"
    assert result.failure_code == "authentication_required"
    assert fake_stripe.objects[result.payment_intent_id]["status"] == "requires_payment_method"
    assert fake_stripe.count("charge") == 0


def test_fail_card_makes_a_later_charge_need_authentication(fake_stripe, stripe_provider):
    method = saved_card(fake_stripe, stripe_provider)
    fake_stripe.fail_card(method["payment_method"], "authentication_required")

    result = stripe_provider.charge_off_session(method["customer"], method["payment_method"], Money(1250, "EUR"),
                                                "pledge-41-charge-1", {})
    assert result.status == "requires_action"


@pytest.mark.parametrize("card", ["4000000000009995", "4000000000000341"])
def test_off_session_charge_on_a_card_saved_then_declined_fails(fake_stripe, stripe_provider, card):
    method = saved_card(fake_stripe, stripe_provider, card)

    result = stripe_provider.charge_off_session(method["customer"], method["payment_method"], Money(1250, "EUR"),
                                                "pledge-41-charge-1", {"pledge_id": "41"})

    assert result.status == "failed" and result.failure_code == "card_declined"
    assert result.failure_message and result.payment_intent_id
    assert fake_stripe.count("charge") == 0


def test_a_declined_charge_retried_with_its_key_is_not_attempted_again(fake_stripe, stripe_provider):
    method = saved_card(fake_stripe, stripe_provider)
    fake_stripe.fail_card(method["payment_method"], "card_declined", "insufficient_funds")
    args = (method["customer"], method["payment_method"], Money(1250, "EUR"), "pledge-41-charge-1", {})

    first = stripe_provider.charge_off_session(*args)
    fake_stripe.fail_card(method["payment_method"], None)  # the card would pass now...
    again = stripe_provider.charge_off_session(*args)

    assert first == again and again.status == "failed"  # ...but the same key replays the first answer
    assert fake_stripe.count("payment_intent") == 1 and fake_stripe.count("charge") == 0


# -- refunds and saved methods --------------------------------------------------------------------

def test_refunds_in_part_then_in_full_and_never_beyond(fake_stripe, stripe_provider):
    intent = paid_intent(fake_stripe, stripe_provider, Money(1250, "EUR"))

    part = stripe_provider.refund(intent["id"], Money(500, "EUR"), "refund-1", {"pledge_id": "41"},
                                  reason="requested_by_customer")
    [charge_refunded, _] = fake_stripe.refund_events(part)
    assert charge_refunded["type"] == "charge.refunded"
    assert charge_refunded["data"]["object"]["amount_refunded"] == 500
    assert charge_refunded["data"]["object"]["refunded"] is False

    rest = stripe_provider.refund(intent["id"], None, "refund-2", {"pledge_id": "41"})
    assert fake_stripe.objects[rest]["amount"] == 750
    assert fake_stripe.refund_events(rest)[0]["data"]["object"]["refunded"] is True
    assert [r["metadata"] for r in fake_stripe.of_kind("refund")] == [{"pledge_id": "41"}] * 2
    assert sent(fake_stripe, "/v1/refunds")[0] == {"payment_intent": intent["id"], "amount": "500",
                                                   "metadata": {"pledge_id": "41"},
                                                   "reason": "requested_by_customer"}

    with pytest.raises(ProviderError) as refused:
        stripe_provider.refund(intent["id"], Money(1, "EUR"), "refund-3", {})
    assert refused.value.code == "charge_already_refunded"
    refunds = [t for t in fake_stripe.balance_transactions if t["type"] == "refund"]
    assert [t["amount"] for t in refunds] == [-500, -750]


def test_a_refund_retried_with_its_key_refunds_once(fake_stripe, stripe_provider):
    intent = paid_intent(fake_stripe, stripe_provider, Money(1250, "EUR"))
    first = stripe_provider.refund(intent["id"], Money(500, "EUR"), "refund-1", {})
    second = stripe_provider.refund(intent["id"], Money(500, "EUR"), "refund-1", {})
    assert first == second and fake_stripe.count("refund") == 1
    assert fake_stripe.objects[intent["latest_charge"]]["amount_refunded"] == 500


def test_detaching_a_saved_method_twice_is_harmless(fake_stripe, stripe_provider):
    method = saved_card(fake_stripe, stripe_provider)

    stripe_provider.detach_payment_method(method["payment_method"])
    stripe_provider.detach_payment_method(method["payment_method"])

    assert fake_stripe.objects[method["payment_method"]]["customer"] is None
    with pytest.raises(ProviderError):
        stripe_provider.detach_payment_method("pm_unknown")
    with pytest.raises(ProviderError) as refused:
        stripe_provider.charge_off_session(method["customer"], method["payment_method"], Money(1250, "EUR"),
                                           "after-detach", {})
    assert refused.value.code == "payment_method_unexpected_state"


# -- expiry ---------------------------------------------------------------------------------------

def test_expire_checkout_closes_an_open_session_and_ignores_finished_ones(fake_stripe, stripe_provider):
    open_session = stripe_provider.create_checkout(checkout_request())
    paid = stripe_provider.create_checkout(checkout_request(idempotency_key="other"))
    fake_stripe.complete_checkout(paid.id)

    stripe_provider.expire_checkout(open_session.id)
    stripe_provider.expire_checkout(open_session.id)  # already expired
    stripe_provider.expire_checkout(paid.id)  # already complete

    assert fake_stripe.objects[open_session.id]["status"] == "expired"
    assert fake_stripe.objects[paid.id]["status"] == "complete"
    assert [e["type"] for e in fake_stripe.take_events()] == ["checkout.session.expired"]
    with pytest.raises(ProviderError):
        stripe_provider.expire_checkout("cs_test_unknown")


# -- balance history ------------------------------------------------------------------------------

def test_balance_transactions_are_listed_across_pages_within_the_period(fake_stripe, stripe_provider):
    start = 1_780_000_000
    planted = [fake_stripe.plant_balance_transaction(100 + i, "EUR", created=start + i) for i in range(230)]
    fake_stripe.plant_balance_transaction(1, "EUR", created=start - 1)  # before the period
    fake_stripe.plant_balance_transaction(2, "EUR", created=start + 230)  # at its end: excluded

    listed = stripe_provider.list_balance_transactions(start, start + 230)

    assert sorted(t["id"] for t in listed) == sorted(t["id"] for t in planted)
    assert all(isinstance(t, dict) and t["object"] == "balance_transaction" for t in listed)
    pages = sent(fake_stripe, "/v1/balance_transactions")
    assert len(pages) == 3  # 100 + 100 + 30
    assert pages[0]["created"] == {"gte": str(start), "lt": str(start + 230)}
    assert pages[1]["starting_after"] == listed[99]["id"]


def test_balance_transactions_accept_naive_utc_datetimes(fake_stripe, stripe_provider):
    intent = paid_intent(fake_stripe, stripe_provider, Money(1250, "EUR"))
    now = utcnow()
    listed = stripe_provider.list_balance_transactions(now - timedelta(minutes=5), now + timedelta(minutes=5))
    assert [(t["type"], t["source"], t["amount"], t["fee"], t["net"]) for t in listed] == [
        ("charge", intent["latest_charge"], 1250, 44, 1206)]
    assert stripe_provider.list_balance_transactions(now + timedelta(minutes=5), now + timedelta(hours=1)) == []


# -- errors and the wire --------------------------------------------------------------------------

def test_a_wrong_key_is_a_provider_error_with_a_safe_message(fake_stripe):
    provider = StripeProvider("sk_test_wrong", fake_stripe.url)
    with pytest.raises(ProviderError) as refused:
        provider.create_checkout(checkout_request())
    assert not refused.value.retryable
    assert "sk_test" not in str(refused.value) and "Stripe" not in str(refused.value)
    assert fake_stripe.requests[0].status == 401


def test_an_unreachable_processor_is_a_retryable_provider_error(fake_stripe):
    provider = StripeProvider("sk_test_fake", f"http://127.0.0.1:{free_port()}", max_network_retries=0)
    with pytest.raises(ProviderError) as failed:
        provider.create_checkout(checkout_request())
    assert failed.value.retryable


def test_every_request_goes_to_the_fake_on_loopback_with_the_key(fake_stripe, stripe_provider, loopback_only):
    intent = paid_intent(fake_stripe, stripe_provider, Money(1250, "EUR"))
    stripe_provider.settlement(intent["id"])
    stripe_provider.refund(intent["id"], None, "refund-1", {})
    method = saved_card(fake_stripe, stripe_provider)
    stripe_provider.charge_off_session(method["customer"], method["payment_method"], Money(1250, "EUR"), "c-1", {})

    # checkout; settlement; refund; customer + checkout; charge
    assert [(r.method, r.path.split("/")[2]) for r in fake_stripe.requests] == [
        ("POST", "checkout"), ("GET", "payment_intents"), ("POST", "refunds"), ("POST", "customers"),
        ("POST", "checkout"), ("POST", "payment_intents")]
    assert all(r.headers["authorization"] == "Bearer sk_test_fake" for r in fake_stripe.requests)
    assert all(r.client_host == "127.0.0.1" for r in fake_stripe.requests)
    assert loopback_only and {address for address in loopback_only} == {("127.0.0.1", fake_stripe.port)}


def test_get_provider_builds_the_stripe_provider_from_the_settings(fake_stripe):
    provider = get_provider()
    assert isinstance(provider, StripeProvider) and provider.name == "stripe"
    assert provider.api_base == fake_stripe.url
    assert get_provider() is provider


def test_only_the_stripe_provider_module_imports_stripe():
    importers = set()
    for path in _python_files_outside_tests():
        relative = path.relative_to(ROOT)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            if any(name == "stripe" or name.startswith("stripe.") for name in names):
                importers.add(relative.as_posix())
    assert importers == {"webapp/payments/providers/stripe.py"}


def _python_files_outside_tests():
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = [d for d in subfolders if not d.startswith(".") and d not in ("tests", "node_modules",
                                                                                     "instance", "__pycache__")]
        yield from (Path(folder) / name for name in files if name.endswith(".py"))
