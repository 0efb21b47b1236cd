"""Disputes on the fake, shaped as https://docs.stripe.com/api/disputes/object and moving money as Stripe does.

An inquiry (status warning_needs_response) moves no money; a chargeback (needs_response) withdraws
the amount and charges the dispute fee in one balance transaction; a won dispute reinstates them
(charge.dispute.funds_reinstated); a lost one keeps them withdrawn.
"""
from __future__ import annotations

import pytest
import stripe

from tests.fake_stripe import FakeStripeError
from tests.fake_stripe.client import library_client
from tests.payments.test_stripe_provider import paid_intent
from webapp.money import Money


@pytest.fixture
def client(fake_stripe) -> stripe.StripeClient:
    return library_client(fake_stripe)


@pytest.fixture
def intent(fake_stripe, stripe_provider) -> dict:
    return paid_intent(fake_stripe, stripe_provider, Money(5000, "EUR"))


def types(events: list[dict]) -> list[str]:
    return [e["type"] for e in events]


def test_a_chargeback_withdraws_the_amount_and_the_fee(fake_stripe, intent):
    before = len(fake_stripe.balance_transactions)

    events = fake_stripe.dispute(intent["id"], reason="product_not_received")

    assert types(events) == ["charge.dispute.created", "charge.dispute.funds_withdrawn"]
    dispute = events[0]["data"]["object"]
    assert (dispute["object"], dispute["status"], dispute["reason"]) == ("dispute", "needs_response",
                                                                          "product_not_received")
    assert (dispute["amount"], dispute["currency"], dispute["charge"], dispute["payment_intent"]) == (
        5000, "eur", intent["latest_charge"], intent["id"])
    assert dispute["is_charge_refundable"] is False
    assert dispute["evidence_details"]["due_by"] > dispute["created"]
    [txn] = dispute["balance_transactions"]
    assert (txn["type"], txn["reporting_category"], txn["amount"], txn["fee"], txn["net"], txn["source"]) == (
        "adjustment", "dispute", -5000, 1500, -6500, dispute["id"])
    assert txn["fee_details"][0]["description"] == "Dispute fee"
    assert len(fake_stripe.balance_transactions) == before + 1
    assert fake_stripe.objects[intent["latest_charge"]]["disputed"] is True


def test_an_inquiry_moves_no_money_and_may_be_refunded(fake_stripe, intent, client):
    before = len(fake_stripe.balance_transactions)

    [created] = fake_stripe.dispute(intent["id"], inquiry=True)

    dispute = created["data"]["object"]
    assert (dispute["status"], dispute["balance_transactions"], dispute["is_charge_refundable"]) == (
        "warning_needs_response", [], True)
    assert len(fake_stripe.balance_transactions) == before
    assert client.v1.refunds.create(params={"payment_intent": intent["id"]}).status == "succeeded"


def test_an_inquiry_that_escalates_withdraws_then(fake_stripe, intent):
    [created] = fake_stripe.dispute(intent["id"], inquiry=True)
    events = fake_stripe.escalate_inquiry(created["data"]["object"]["id"])
    assert types(events) == ["charge.dispute.updated", "charge.dispute.funds_withdrawn"]
    assert events[0]["data"]["previous_attributes"] == {"status": "warning_needs_response"}
    assert events[1]["data"]["object"]["balance_transactions"][0]["net"] == -6500


def test_a_closed_inquiry_moves_nothing(fake_stripe, intent):
    [created] = fake_stripe.dispute(intent["id"], inquiry=True)
    [closed] = fake_stripe.close_dispute(created["data"]["object"]["id"], won=True)
    assert (closed["type"], closed["data"]["object"]["status"]) == ("charge.dispute.closed", "warning_closed")
    assert all(t["source"] != created["data"]["object"]["id"] for t in fake_stripe.balance_transactions)


def test_a_won_dispute_reinstates_the_funds_and_the_fee(fake_stripe, intent):
    dispute_id = fake_stripe.dispute(intent["id"])[0]["data"]["object"]["id"]

    events = fake_stripe.close_dispute(dispute_id, won=True)

    assert types(events) == ["charge.dispute.closed", "charge.dispute.funds_reinstated"]
    dispute = events[1]["data"]["object"]
    assert dispute["status"] == "won"
    withdrawal, reinstatement = dispute["balance_transactions"]
    assert (reinstatement["amount"], reinstatement["fee"], reinstatement["net"]) == (5000, -1500, 6500)
    assert reinstatement["reporting_category"] == "dispute_reversal"
    assert withdrawal["net"] + reinstatement["net"] == 0


def test_the_fee_can_stay_withdrawn_when_a_dispute_is_won(fake_stripe, intent):
    fake_stripe.dispute_fee_returned_on_win = False
    dispute_id = fake_stripe.dispute(intent["id"])[0]["data"]["object"]["id"]
    reinstatement = fake_stripe.close_dispute(dispute_id, won=True)[1]["data"]["object"]["balance_transactions"][1]
    assert (reinstatement["amount"], reinstatement["fee"], reinstatement["net"]) == (5000, 0, 5000)


def test_a_lost_dispute_keeps_the_money_withdrawn(fake_stripe, intent):
    dispute_id = fake_stripe.dispute(intent["id"])[0]["data"]["object"]["id"]
    [closed] = fake_stripe.close_dispute(dispute_id, won=False)
    assert (closed["type"], closed["data"]["object"]["status"]) == ("charge.dispute.closed", "lost")
    assert len(closed["data"]["object"]["balance_transactions"]) == 1
    with pytest.raises(FakeStripeError):
        fake_stripe.close_dispute(dispute_id, won=True)


def test_evidence_submitted_over_the_api_puts_the_dispute_under_review(fake_stripe, intent, client):
    dispute_id = fake_stripe.dispute(intent["id"])[0]["data"]["object"]["id"]
    fake_stripe.take_events()

    staged = client.v1.disputes.update(dispute_id, params={"evidence": {"uncategorized_text": "Delivered."},
                                                           "submit": False})
    assert (staged.status, staged.evidence.uncategorized_text) == ("needs_response", "Delivered.")
    submitted = client.v1.disputes.update(dispute_id, params={"evidence": {"customer_name": "Afi"}})
    assert submitted.status == "under_review"
    assert submitted.evidence_details.submission_count == 1
    assert types(fake_stripe.take_events()) == ["charge.dispute.updated", "charge.dispute.updated"]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.disputes.update(dispute_id, params={"evidence": {"unknown_field": "x"}})
    assert caught.value.json_body["error"]["param"] == "evidence[unknown_field]"


def test_accepting_a_dispute_over_the_api_loses_it(fake_stripe, intent, client):
    dispute_id = fake_stripe.dispute(intent["id"])[0]["data"]["object"]["id"]
    fake_stripe.take_events()
    assert client.v1.disputes.close(dispute_id).status == "lost"
    assert types(fake_stripe.take_events()) == ["charge.dispute.closed"]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.disputes.close(dispute_id)
    with pytest.raises(FakeStripeError):
        fake_stripe.close_dispute(dispute_id, won=True)


def test_disputes_are_listed_by_charge(fake_stripe, intent, client):
    dispute_id = fake_stripe.dispute(intent["id"])[0]["data"]["object"]["id"]
    listed = client.v1.disputes.list(params={"charge": intent["latest_charge"]})
    assert [d.id for d in listed.data] == [dispute_id]
    assert client.v1.disputes.retrieve(dispute_id, params={"expand": ["charge"]}).charge.id == intent["latest_charge"]
