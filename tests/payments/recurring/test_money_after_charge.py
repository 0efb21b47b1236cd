"""A recurring gift's money after it is charged, booked as a pledge's is: the processor's fee and settlement of
each period (first payment and renewals), refunds asked by the organization or made at the processor, the
supporter's bank disputing a period — idempotent whatever is delivered again or late — and a bank debit whose
events were lost, asked again after PROCESSING_RECHECK_DAYS."""
from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from flask import url_for
from sqlalchemy import select

from tests.campaigns.helpers import sign_in
from tests.payments.money_helpers import deliver
from tests.payments.recurring.helpers import after_due, association, booked, editor_of, start_gift, supporter
from tests.payments.support import text
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.jobs import PERIODIC
from webapp.ledger import services as ledger
from webapp.payments import batches, reconcile, refunds, tasks
from webapp.payments.models import Dispute, Refund, RefundStatus
from webapp.payments.recurring import services as recurring
from webapp.payments.recurring.models import ChargeStatus, RecurringCharge, RecurringSupport, SupportState

FEE = 1_500  #: the fake's dispute fee
IBAN_OK, IBAN_BOUNCES = "DE89370400440532013000", "DE62370400440532013001"


def clean_today() -> list:
    """`flask ledger reconcile` for today: the processor's balance transactions against the ledger."""
    today = utcnow().date()
    return reconcile.reconcile(today, today)


def the_charges(support) -> list[RecurringCharge]:
    db.session.expire_all()
    return list(db.session.scalars(select(RecurringCharge).where(RecurringCharge.support_id == support.id)
                                   .order_by(RecurringCharge.period)))


def held(org) -> int:
    return ledger.balance(ledger.organization_account(org.id), org.currency).amount


@pytest.fixture
def renewed(fake_stripe):
    """A CAD gift to a CAD association: its first period paid on Checkout and its second renewed off-session."""
    org, user = association(), supporter()
    support = start_gift(fake_stripe, user, org)
    assert batches.renew_due(after_due(support)).charged == 1
    db.session.commit()
    return org, user, db.session.get(RecurringSupport, support.id)


# -- the processor's fee and settlement -------------------------------------------------------
def test_each_period_books_the_processors_fee_from_its_balance_transaction(renewed, fake_stripe):
    org, _user, support = renewed
    first, second = the_charges(support)
    for charge in (first, second):
        txn = fake_stripe.objects[fake_stripe.objects[charge.charge_id]["balance_transaction"]]
        assert (charge.settled_amount, charge.settled_fee, charge.settled_currency) == (
            txn["net"], txn["fee"], txn["currency"].upper())
        assert txn["fee"] > 0
    fees = booked(support, ("processor_fee",))
    assert fees == sorted([(f"fee:recurring:{support.id}:{c.period}", c.settled_fee, "CAD") for c in (first, second)])
    assert held(org) == 2 * 2_500 - first.settled_fee - second.settled_fee
    assert clean_today() == []


def test_a_settlement_not_ready_at_payment_comes_with_charge_updated_or_the_periodic_job(fake_stripe):
    org, user = association(), supporter()
    support = start_gift(fake_stripe, user, org)
    fake_stripe.settle_immediately = False
    assert batches.renew_due(after_due(support)).charged == 1
    db.session.commit()
    _first, second = the_charges(support)
    assert second.settled_fee is None and len(booked(support, ("processor_fee",))) == 1

    assert any(job.task == "payments.record_late_settlements" for job in PERIODIC)
    assert tasks.record_late_settlements.apply().get() == (0, 1)  # not booked at the processor yet
    charge_id = fake_stripe.objects[second.payment_intent_id]["latest_charge"]  # the renewal's own events bring it
    [updated] = fake_stripe.settle_late(charge_id)
    deliver([updated, updated])  # delivered twice: booked once
    _first, second = the_charges(support)
    assert second.settled_fee is not None
    assert len(booked(support, ("processor_fee",))) == 2
    assert tasks.record_late_settlements.apply().get() == (0, 0)
    assert clean_today() == []


def test_the_job_reads_a_renewals_settlement_whose_event_was_lost(fake_stripe):
    org, user = association(), supporter()
    support = start_gift(fake_stripe, user, org)
    fake_stripe.settle_immediately = False
    batches.renew_due(after_due(support))
    db.session.commit()
    _first, second = the_charges(support)
    fake_stripe.settle(fake_stripe.objects[second.payment_intent_id]["latest_charge"])  # charge.updated lost
    assert tasks.record_late_settlements.apply().get() == (1, 0)
    assert the_charges(support)[1].settled_fee is not None


# -- refunds -----------------------------------------------------------------------------------
def test_an_editor_refunds_part_of_a_renewal_then_the_rest_and_the_ledger_follows_the_processor(
        renewed, fake_stripe, client, outbox):
    org, user, support = renewed
    editor = editor_of(org, email="kofi@example.org")
    _first, second = the_charges(support)
    balance = held(org)
    sign_in(client, editor)
    response = client.post(url_for("recurring.refund", slug=org.slug, charge_id=second.id),
                           data={"amount": "10.00", "reason": "Donné deux fois par erreur"})
    assert response.status_code == 302
    [refund] = db.session.scalars(select(Refund)).all()
    assert (refund.recurring_charge_id, refund.pledge_id, refund.amount, refund.status) == (
        second.id, None, 1_000, RefundStatus.REQUESTED)
    assert "Donné deux fois par erreur" in outbox.last(to=user.email).body
    stripe_refund = fake_stripe.objects[refund.processor_refund_id]
    events = fake_stripe.refund_events(stripe_refund["id"])
    deliver(events + events)  # redelivered: booked once
    assert held(org) == balance - 1_000
    assert db.session.get(Refund, refund.id).status == RefundStatus.SUCCEEDED
    assert the_charges(support)[1].refunded_amount == 1_000

    response = client.post(url_for("recurring.refund", slug=org.slug, charge_id=second.id),
                           data={"amount": "", "reason": "Le reste aussi"})
    assert response.status_code == 302
    last = db.session.scalars(select(Refund).order_by(Refund.id.desc())).first()
    deliver(fake_stripe.refund_events(last.processor_refund_id))
    assert held(org) == balance - 2_500
    assert the_charges(support)[1].refunded_amount == 2_500
    assert [a for _, a, _ in booked(support, ("refund",))] == [1_000, 1_500]
    assert clean_today() == []

    again = client.post(url_for("recurring.refund", slug=org.slug, charge_id=second.id),
                        data={"amount": "1.00", "reason": "Encore"})
    assert again.status_code == 400  # nothing is left to refund


def test_a_full_refund_made_at_the_processor_returns_the_tip_too_and_is_replay_safe(fake_stripe):
    org, user = association(), supporter()
    support = recurring.start(user, org, recurring.Money(2_500, "CAD"), recurring.SupportInterval.MONTHLY,
                              "America/Toronto", "fr", tip=recurring.Money(200, "CAD"))
    recurring.open_checkout(support, "http://harambee.test/support/mine", "http://harambee.test/")
    db.session.commit()
    deliver(fake_stripe.complete_checkout(support.checkout_session_id, "4242424242424242"))
    [first] = the_charges(support)
    tips_before = ledger.balance(ledger.PLATFORM_REVENUE, "CAD").amount
    events = fake_stripe.refund(first.payment_intent_id)  # from the Dashboard: no request of ours
    for order in itertools.permutations(events):
        deliver(list(order))
    [first] = the_charges(support)
    assert first.refunded_amount == 2_500
    assert booked(support, ("refund",)) == [(f"refund:recurring:{support.id}:{first.period}:2500", 2_500, "CAD")]
    assert ledger.balance(ledger.PLATFORM_REVENUE, "CAD").amount == tips_before - 200
    assert clean_today() == []


@pytest.mark.parametrize("amount, reason, why", [("abc", "x", "not an amount"), ("1.00", "", "no reason"),
                                                   ("-5", "x", "negative"), ("9999", "x", "more than paid")])
def test_a_bad_refund_is_a_400_and_asks_nothing_of_the_processor(renewed, fake_stripe, client, amount, reason, why):
    org, _user, support = renewed
    _first, second = the_charges(support)
    sign_in(client, editor_of(org, email="kofi@example.org"))
    before = len(fake_stripe.requests)
    response = client.post(url_for("recurring.refund", slug=org.slug, charge_id=second.id),
                           data={"amount": amount, "reason": reason})
    assert response.status_code == 400, why
    assert db.session.scalars(select(Refund)).all() == []
    assert not [r for r in fake_stripe.requests[before:] if r.path == "/v1/refunds"]


def test_a_period_of_another_organization_or_not_paid_is_not_refunded_here(renewed, fake_stripe, client):
    org, user, support = renewed
    other = association(slug="autre", name="Autre association")
    sign_in(client, editor_of(other, email="ama@example.org"))
    _first, second = the_charges(support)
    assert client.post(url_for("recurring.refund", slug=other.slug, charge_id=second.id),
                       data={"amount": "1.00", "reason": "x"}).status_code == 404
    pending = recurring.charge_for(support, support.next_period, "renewal")
    db.session.commit()
    with pytest.raises(recurring.DomainError):
        refunds.request_refund(pending, user, recurring.Money(100, "CAD"), "x")


# -- disputes ----------------------------------------------------------------------------------
def test_a_lost_chargeback_of_a_renewal_withdraws_the_amount_and_the_fee(renewed, fake_stripe):
    org, _user, support = renewed
    _first, second = the_charges(support)
    balance = held(org)
    [created, withdrawn] = fake_stripe.dispute(second.charge_id)
    deliver([created, withdrawn])
    assert held(org) == balance - 2_500 - FEE
    [dispute] = db.session.scalars(select(Dispute)).all()
    assert (dispute.recurring_charge_id, dispute.pledge_id, dispute.outcome) == (second.id, None, "open")
    assert the_charges(support)[1].disputed_at is not None
    deliver(fake_stripe.close_dispute(created["data"]["object"]["id"], won=False))
    assert held(org) == balance - 2_500 - FEE
    db.session.expire_all()
    assert db.session.get(Dispute, dispute.id).outcome == "lost"
    assert clean_today() == []


@pytest.mark.parametrize("won", [True, False])
def test_dispute_events_of_a_renewal_in_any_order_and_redelivered_book_the_same(fake_stripe, won):
    outcomes = set()
    for index, order in enumerate(itertools.permutations(range(4 if won else 3))):
        org = association(slug=f"assoc-{index}", name=f"Association {index}")
        support = start_gift(fake_stripe, supporter(email=f"s{index}@example.org"), org)
        [first] = the_charges(support)
        balance = held(org)
        [created, withdrawn] = fake_stripe.dispute(first.charge_id)
        story = [created, withdrawn, *fake_stripe.close_dispute(created["data"]["object"]["id"], won=won)]
        for i in order:
            deliver([story[i], story[i]])
        db.session.expire_all()
        [dispute] = db.session.scalars(select(Dispute).where(Dispute.recurring_charge_id == first.id)).all()
        outcomes.add((dispute.status, held(org) - balance,
                      tuple(sorted(k.split(":")[0] for k, _, _ in booked(support, ("dispute", "dispute_reinstated",
                                                                                     "processor_fee_return"))))))
    assert outcomes == ({("won", 0, ("dispute", "dispute_fee_returned", "dispute_reinstated"))} if won
                        else {("lost", -2_500 - FEE, ("dispute",))})
    assert clean_today() == []


def test_my_support_shows_a_refund_and_a_dispute(renewed, fake_stripe, client):
    org, user, support = renewed
    first, second = the_charges(support)
    deliver(fake_stripe.refund(first.payment_intent_id, 500))
    deliver(fake_stripe.dispute(second.charge_id))
    sign_in(client, user)
    page = text(client.get(url_for("recurring.mine")))  # in the supporter's language
    assert "remboursés sur" in page and "5,00" in page
    assert "contesté par votre banque" in page


# -- bank debits whose events were lost --------------------------------------------------------
def _gift_by_debit(fake, iban: str):
    org, user = association(), supporter()
    support = recurring.start(user, org, recurring.Money(2_500, "CAD"), recurring.SupportInterval.MONTHLY,
                              "America/Toronto", "fr")
    recurring.open_checkout(support, "http://harambee.test/support/mine", "http://harambee.test/")
    db.session.commit()
    deliver(fake.complete_checkout(support.checkout_session_id, iban))
    deliver(fake.finish_async_payment(support.checkout_session_id, succeed=True))
    support = db.session.get(RecurringSupport, support.id)
    db.session.refresh(support)
    assert support.state == SupportState.ACTIVE
    return org, user, support


@pytest.mark.parametrize("bounces", [False, True])
def test_a_renewal_debit_whose_events_were_lost_is_asked_again_after_the_configured_days(fake_stripe, app, bounces):
    assert any(job.task == "payments.recheck_recurring" for job in PERIODIC)
    org, user, support = _gift_by_debit(fake_stripe, IBAN_BOUNCES if bounces else IBAN_OK)
    due = after_due(support)
    assert batches.renew_due(due).processing == 1
    db.session.commit()
    renewal = the_charges(support)[1]
    assert renewal.status == ChargeStatus.PROCESSING and renewal.processing_since is not None
    fake_stripe.finish_async_payment(renewal.payment_intent_id)  # the bank answers; its events are lost

    days = app.config["PROCESSING_RECHECK_DAYS"]
    assert batches.recheck_recurring(renewal.processing_since + timedelta(days=days - 1)) == {}  # too early
    later = renewal.processing_since + timedelta(days=days, minutes=1)
    seen = batches.recheck_recurring(later)
    renewal = the_charges(support)[1]
    db.session.refresh(support)
    if bounces:
        assert seen == {"requires_payment_method": 1}
        assert renewal.status == ChargeStatus.NEEDS_ACTION and support.state == SupportState.NEEDS_ACTION
        assert support.next_period == renewal.period
    else:
        assert seen == {"succeeded": 1}
        assert renewal.status == ChargeStatus.SUCCEEDED and renewal.settled_fee is not None
        assert len(booked(support)) == 2
    assert batches.recheck_recurring(later) == {}  # once applied, never asked again
    assert len(booked(support)) == (1 if bounces else 2)


def test_a_converted_gift_with_a_tip_its_fee_a_refund_and_a_dispute_reconcile_with_the_processor(fake_stripe):
    org, user = association(currency="CAD"), supporter()
    support = recurring.start(user, org, recurring.Money(3_000, "EUR"), recurring.SupportInterval.MONTHLY,
                              "Europe/Paris", "fr", tip=recurring.Money(300, "EUR"))
    recurring.open_checkout(support, "http://harambee.test/support/mine", "http://harambee.test/")
    db.session.commit()
    deliver(fake_stripe.complete_checkout(support.checkout_session_id, "4242424242424242"))
    assert batches.renew_due(after_due(support)).charged == 1
    db.session.commit()
    first, second = the_charges(support)
    assert first.fx_rate is not None and len(booked(support, ("processor_fee",))) == 2
    deliver(fake_stripe.refund(first.payment_intent_id, 1_100))  # a third of gift and tip
    deliver(fake_stripe.dispute(second.payment_intent_id))
    first, second = the_charges(support)
    assert 0 < first.refunded_amount < first.booked_money.amount and second.disputed_at is not None
    assert clean_today() == []
