"""Bank debits on the fake: saved in setup-mode Checkout, processing when charged off-session, then paid or failed.

Stripe's test accounts (tests/fake_stripe BANK_ACCOUNTS; https://docs.stripe.com/payments/sepa-debit/set-up-payment
"Test your integration"): DE89370400440532013000 succeeds, DE62370400440532013001 fails; BACS sort code
108800 with account 00012345 succeeds, 90012345 fails; ACH routing 110000000 with 000123456789
succeeds, 000222222227 fails for insufficient funds.
"""
from __future__ import annotations

import pytest

from tests.payments.test_stripe_provider import checkout_request
from webapp.money import Money


def saved_debit(fake, provider, account: str, currency: str = "EUR") -> dict:
    """Checkout in setup mode, completed with a test bank account: the succeeded SetupIntent."""
    session = provider.create_checkout(checkout_request(mode="setup", charge=Money(1000, currency),
                                                        terms="Debited only if funded.",
                                                        idempotency_key=f"setup-{account}"))
    events = fake.complete_checkout(session.id, account)
    assert [e["type"] for e in events] == ["checkout.session.completed", "setup_intent.succeeded"]
    return events[1]["data"]["object"]


def test_setup_mode_checkout_saves_a_sepa_debit_with_a_mandate(fake_stripe, stripe_provider):
    setup = saved_debit(fake_stripe, stripe_provider, "DE89370400440532013000")
    method = fake_stripe.objects[setup["payment_method"]]
    assert method["type"] == "sepa_debit" and method["sepa_debit"]["last4"] == "3000"
    assert method["customer"] == setup["customer"]
    assert setup["status"] == "succeeded" and setup["mandate"].startswith("mandate_")
    assert setup["payment_method_types"] == ["sepa_debit"]


@pytest.mark.parametrize("account, currency, kind", [
    ("DE89370400440532013000", "EUR", "sepa_debit"),
    ("108800-00012345", "GBP", "bacs_debit"),
    ("110000000-000123456789", "USD", "us_bank_account"),
])
def test_an_off_session_debit_is_processing_then_succeeds(fake_stripe, stripe_provider, account, currency, kind):
    setup = saved_debit(fake_stripe, stripe_provider, account, currency)
    fake_stripe.take_events()

    result = stripe_provider.charge_off_session(setup["customer"], setup["payment_method"], Money(2500, currency),
                                                "close-1", {"pledge_id": "42"})

    assert result.status == "processing"
    intent = fake_stripe.objects[result.payment_intent_id]
    charge = fake_stripe.objects[intent["latest_charge"]]
    assert (charge["status"], charge["paid"], charge["balance_transaction"]) == ("pending", False, None)
    assert charge["payment_method_details"]["type"] == kind
    assert [e["type"] for e in fake_stripe.take_events()] == [
        "payment_intent.created", "charge.pending", "payment_intent.processing"]
    assert stripe_provider.settlement(intent["id"]) is None  # no money yet

    events = fake_stripe.finish_async_payment(intent["id"])

    assert [e["type"] for e in events] == ["charge.succeeded", "payment_intent.succeeded"]
    assert events[1]["data"]["object"]["status"] == "succeeded"
    assert fake_stripe.count("charge") == 1  # the pending charge is the one that succeeded
    settlement = stripe_provider.settlement(intent["id"])
    assert settlement is not None and settlement.amount.amount + settlement.fee.amount == 2500


@pytest.mark.parametrize("account, currency, code", [
    ("DE62370400440532013001", "EUR", "insufficient_funds"),
    ("108800-90012345", "GBP", "insufficient_funds"),
    ("110000000-000222222227", "USD", "insufficient_funds"),
    ("110000000-000111111113", "USD", "account_closed"),
])
def test_an_off_session_debit_the_bank_refuses_goes_back_to_requires_payment_method(
        fake_stripe, stripe_provider, account, currency, code):
    setup = saved_debit(fake_stripe, stripe_provider, account, currency)
    result = stripe_provider.charge_off_session(setup["customer"], setup["payment_method"], Money(2500, currency),
                                                "close-1", {"pledge_id": "42"})
    assert result.status == "processing"

    events = fake_stripe.finish_async_payment(result.payment_intent_id)

    assert [e["type"] for e in events] == ["charge.failed", "payment_intent.payment_failed"]
    charge, intent = events[0]["data"]["object"], events[1]["data"]["object"]
    assert (charge["status"], charge["failure_code"]) == ("failed", code)
    assert intent["status"] == "requires_payment_method"
    assert intent["last_payment_error"]["code"] == code
    assert stripe_provider.settlement(intent["id"]) is None
    assert fake_stripe.balance_transactions == []  # no money moved


def test_the_outcome_can_be_forced_on_command(fake_stripe, stripe_provider):
    setup = saved_debit(fake_stripe, stripe_provider, "DE89370400440532013000")
    first = stripe_provider.charge_off_session(setup["customer"], setup["payment_method"], Money(2500, "EUR"),
                                               "close-1", {"pledge_id": "42"})
    second = stripe_provider.charge_off_session(setup["customer"], setup["payment_method"], Money(1500, "EUR"),
                                                "close-2", {"pledge_id": "43"})

    failed = fake_stripe.finish_async_payment(first.payment_intent_id, succeed=False,
                                              failure_code="debit_not_authorized")
    assert failed[-1]["data"]["object"]["last_payment_error"]["code"] == "debit_not_authorized"
    paid = fake_stripe.finish_async_payment(second.payment_intent_id, succeed=True)
    assert paid[-1]["type"] == "payment_intent.succeeded"


def test_a_debit_that_is_not_processing_cannot_be_finished(fake_stripe, stripe_provider):
    from tests.fake_stripe import FakeStripeError

    setup = saved_debit(fake_stripe, stripe_provider, "DE89370400440532013000")
    result = stripe_provider.charge_off_session(setup["customer"], setup["payment_method"], Money(2500, "EUR"),
                                                "close-1", {"pledge_id": "42"})
    fake_stripe.finish_async_payment(result.payment_intent_id)
    with pytest.raises(FakeStripeError):
        fake_stripe.finish_async_payment(result.payment_intent_id)
