"""The fake's balance: late balance transactions, transfers and reversals, payouts, and events' api_version.

Balance transactions are shaped as https://docs.stripe.com/api/balance_transactions/object and listed
the way `flask ledger reconcile` reads them (webapp/payments/reconcile.py): created, available_on,
amount, fee, net, currency, type, source, reporting_category.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
import stripe

from tests.fake_stripe.client import library_client
from tests.fake_stripe import API_VERSION, FakeStripeError
from tests.payments.test_stripe_provider import paid_intent
from webapp.clock import utcnow
from webapp.money import Money

FIELDS = {"id", "object", "amount", "fee", "net", "currency", "created", "available_on", "status", "type", "source",
          "reporting_category", "fee_details", "description", "exchange_rate"}


@pytest.fixture
def client(fake_stripe) -> stripe.StripeClient:
    return library_client(fake_stripe)


def history(provider) -> list[dict]:
    return provider.list_balance_transactions(utcnow() - timedelta(days=1), utcnow() + timedelta(days=1),
                                              expand_sources=True)


def connected_account(fake, provider) -> str:
    account = provider.create_connected_account("org@example.org", "FR", "account-1")
    fake.onboard(account)
    return account


# -- balance transactions that appear late ------------------------------------------------------

def test_a_charges_balance_transaction_can_appear_later_with_a_charge_updated_event(fake_stripe, stripe_provider):
    fake_stripe.settle_immediately = False
    intent = paid_intent(fake_stripe, stripe_provider, Money(2500, "EUR"))
    charge = fake_stripe.objects[intent["latest_charge"]]
    assert charge["status"] == "succeeded" and charge["balance_transaction"] is None
    assert stripe_provider.settlement(intent["id"]) is None
    assert history(stripe_provider) == []

    [updated] = fake_stripe.settle_late(charge["id"])

    assert updated["type"] == "charge.updated"
    assert updated["data"]["previous_attributes"] == {"balance_transaction": None}
    assert updated["data"]["object"]["balance_transaction"].startswith("txn_")
    settlement = stripe_provider.settlement(intent["id"])
    assert settlement.amount.amount + settlement.fee.amount == 2500
    [txn] = history(stripe_provider)
    assert (txn["type"], txn["reporting_category"], txn["source"]["id"]) == ("charge", "charge", charge["id"])
    with pytest.raises(FakeStripeError):
        fake_stripe.settle_late(charge["id"])


# -- transfers ----------------------------------------------------------------------------------

def test_a_transfer_books_a_transfer_balance_transaction_on_the_platform(fake_stripe, stripe_provider, client):
    paid_intent(fake_stripe, stripe_provider, Money(5000, "EUR"))
    account = connected_account(fake_stripe, stripe_provider)

    transfer_id = stripe_provider.create_transfer(Money(3000, "EUR"), account, "campaign-7", "transfer-1",
                                                  {"campaign_id": "7"})

    transfer = client.v1.transfers.retrieve(transfer_id, params={"expand": ["balance_transaction"]})
    txn = transfer.balance_transaction
    assert (txn.type, txn.reporting_category, txn.amount, txn.fee, txn.net, txn.currency, txn.source) == (
        "transfer", "transfer", -3000, 0, -3000, "eur", transfer_id)
    assert txn.available_on == txn.created
    assert {t["type"] for t in history(stripe_provider)} == {"charge", "transfer"}
    assert set(history(stripe_provider)[0]) >= FIELDS


def test_a_transfer_reversal_books_the_money_back(fake_stripe, stripe_provider, client):
    account = connected_account(fake_stripe, stripe_provider)
    transfer_id = stripe_provider.create_transfer(Money(3000, "EUR"), account, "campaign-7", "transfer-1", {})

    reversal = client.v1.transfers.reversals.create(transfer_id, params={"amount": 1000})

    txn = fake_stripe.objects[reversal.balance_transaction]
    assert (txn["type"], txn["reporting_category"], txn["amount"], txn["source"]) == (
        "transfer_refund", "transfer_reversal", 1000, reversal.id)
    transfer = fake_stripe.objects[transfer_id]
    assert (transfer["amount_reversed"], transfer["reversed"]) == (1000, False)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.transfers.reversals.create(transfer_id, params={"amount": 2001})
    client.v1.transfers.reversals.create(transfer_id)
    assert fake_stripe.objects[transfer_id]["reversed"] is True


def test_with_check_balance_a_transfer_needs_available_funds(fake_stripe, stripe_provider):
    from webapp.errors import ProviderError

    fake_stripe.check_balance = True
    paid_intent(fake_stripe, stripe_provider, Money(5000, "EUR"))
    account = connected_account(fake_stripe, stripe_provider)
    with pytest.raises(ProviderError):  # the charge's funds are pending for two days
        stripe_provider.create_transfer(Money(3000, "EUR"), account, "campaign-7", "transfer-1", {})
    fake_stripe.make_available()
    assert stripe_provider.create_transfer(Money(3000, "EUR"), account, "campaign-7", "transfer-2", {})


# -- payouts ------------------------------------------------------------------------------------

def test_a_payout_books_a_payout_balance_transaction(fake_stripe, client):
    payout = client.v1.payouts.create(params={"amount": 1200, "currency": "eur"})

    assert (payout.status, payout.automatic) == ("pending", False)
    txn = fake_stripe.objects[payout.balance_transaction]
    assert (txn["type"], txn["reporting_category"], txn["amount"], txn["net"], txn["source"]) == (
        "payout", "payout", -1200, -1200, payout.id)
    assert [p.id for p in client.v1.payouts.list().data] == [payout.id]
    listed = client.v1.balance_transactions.list(params={"type": "payout"})
    assert [t.id for t in listed.data] == [txn["id"]]


def test_an_automatic_payout_takes_the_available_balance_and_is_paid(fake_stripe, stripe_provider):
    paid_intent(fake_stripe, stripe_provider, Money(5000, "EUR"))
    charge_net = fake_stripe.balance_transactions[0]["net"]

    [created] = fake_stripe.automatic_payout("eur")

    payout = created["data"]["object"]
    assert (created["type"], payout["automatic"], payout["amount"]) == ("payout.created", True, charge_net)
    assert fake_stripe.available_balance("eur") == 0
    events = fake_stripe.finish_payout(payout["id"])
    assert [e["type"] for e in events] == ["payout.updated", "payout.paid"]
    assert fake_stripe.automatic_payout("eur") == []  # nothing left to pay out


def test_a_failed_payout_puts_the_money_back(fake_stripe, client):
    payout = client.v1.payouts.create(params={"amount": 1200, "currency": "eur"})

    events = fake_stripe.finish_payout(payout.id, failure_code="account_closed")

    assert [e["type"] for e in events] == ["payout.updated", "payout.failed"]
    failed = events[1]["data"]["object"]
    assert failed["failure_code"] == "account_closed"
    txn = fake_stripe.objects[failed["failure_balance_transaction"]]
    assert (txn["type"], txn["reporting_category"], txn["amount"]) == ("payout_failure", "payout_reversal", 1200)
    with pytest.raises(FakeStripeError):
        fake_stripe.finish_payout(payout.id)


def test_the_reconcile_listing_returns_every_kind_with_its_fields(fake_stripe, stripe_provider, client):
    intent = paid_intent(fake_stripe, stripe_provider, Money(5000, "EUR"))
    stripe_provider.refund(intent["id"], Money(1000, "EUR"), "refund-1", {})
    fake_stripe.dispute(intent["id"], amount=2000)
    account = connected_account(fake_stripe, stripe_provider)
    stripe_provider.create_transfer(Money(500, "EUR"), account, "campaign-7", "transfer-1", {})
    client.v1.payouts.create(params={"amount": 300, "currency": "eur"})

    listed = history(stripe_provider)

    assert sorted((t["type"], t["reporting_category"]) for t in listed) == sorted([
        ("charge", "charge"), ("refund", "refund"), ("adjustment", "dispute"), ("transfer", "transfer"),
        ("payout", "payout")])
    for txn in listed:
        assert set(txn) >= FIELDS and txn["net"] == txn["amount"] - txn["fee"]
        assert txn["available_on"] >= txn["created"]
        assert isinstance(txn["source"], dict) and txn["source"]["object"] in (
            "charge", "refund", "dispute", "transfer", "payout")


# -- events' api_version ------------------------------------------------------------------------

def test_events_carry_the_endpoints_api_version(fake_stripe, stripe_provider):
    intent = paid_intent(fake_stripe, stripe_provider, Money(2500, "EUR"))
    assert {e["api_version"] for e in fake_stripe.events} == {API_VERSION}

    older = fake_stripe.event_in_version(fake_stripe.events[-1], "2024-06-20")
    assert (older["api_version"], older["id"], older["data"]) == (
        "2024-06-20", fake_stripe.events[-1]["id"], fake_stripe.events[-1]["data"])

    fake_stripe.event_api_version = "2025-03-31.basil"  # an endpoint pinned to another version
    [refunded, _] = fake_stripe.refund(intent["id"])
    assert refunded["api_version"] == "2025-03-31.basil"


def test_the_balance_history_of_an_automatic_payout_lists_what_it_paid_out(fake_stripe, stripe_provider, client):
    paid_intent(fake_stripe, stripe_provider, Money(5000, "EUR"))
    paid_intent(fake_stripe, stripe_provider, Money(2000, "EUR"), key="pay-2")
    [created] = fake_stripe.automatic_payout("eur")
    payout_id = created["data"]["object"]["id"]
    paid_intent(fake_stripe, stripe_provider, Money(1000, "EUR"), key="pay-3")  # after the payout

    listed = client.v1.balance_transactions.list(params={"payout": payout_id})

    assert sorted(t.type for t in listed.data) == ["charge", "charge", "payout"]
    assert sum(t.net for t in listed.data) == 0
    manual = client.v1.payouts.create(params={"amount": 1, "currency": "eur"})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.balance_transactions.list(params={"payout": manual.id})


def test_events_caused_by_an_api_request_name_it(fake_stripe, stripe_provider):
    intent = paid_intent(fake_stripe, stripe_provider, Money(2500, "EUR"))
    assert fake_stripe.events[-1]["request"] == {"id": None, "idempotency_key": None}  # the hosted page
    stripe_provider.refund(intent["id"], None, "refund-1", {})
    refunded = fake_stripe.take_events()[0]
    [request] = [r for r in fake_stripe.requests if r.path == "/v1/refunds"]
    assert refunded["request"]["idempotency_key"] == "refund-1" == request.idempotency_key
    assert refunded["request"]["id"].startswith("req_")
