"""Disputes through the fake Stripe: inquiries move no money, chargebacks withdraw the amount and the fee,
won ones give both back, lost ones keep them — whatever the order the events arrive in, and on the
organizer's money page and the public transparency page.
"""
from __future__ import annotations

import itertools

import pytest
from flask import url_for
from sqlalchemy import select

from tests.factories import UserFactory
from tests.payments.money_helpers import deliver, entries, keep_it_all, organizer_of, paid_pledge
from tests.payments.support import fresh, text
from tests.campaigns.helpers import sign_in
from webapp.extensions import db
from webapp.ledger import services as ledger
from webapp.payments import reconcile
from webapp.payments.models import Dispute, PledgeStatus
from webapp.payments.views.organizer import statement
from webapp.clock import utcnow

P = PledgeStatus
FEE = 1_500  #: the fake's dispute fee


@pytest.fixture
def world(fake_stripe):
    campaign = keep_it_all(goal=100_000, title="Fournil coopératif")
    owner = organizer_of(campaign)
    pledge = paid_pledge(fake_stripe, campaign, 2_500, email="afi@example.org")
    db.session.commit()
    return campaign, owner, pledge


def held(campaign) -> int:
    return ledger.balance(ledger.campaign_account(campaign.id), campaign.currency).amount


def money_rows() -> list[tuple]:
    db.session.expire_all()
    return sorted((e.key, e.kind, e.amount, e.debit_account, e.credit_account) for e in entries())


def the_dispute() -> Dispute:
    db.session.expire_all()
    [dispute] = db.session.scalars(select(Dispute)).all()
    return dispute


def clean_month() -> list:
    today = utcnow().date()
    return reconcile.reconcile(today, today)


def test_an_inquiry_moves_no_money_and_closes_without_any(world, fake_stripe):
    campaign, _owner, pledge = world
    before, balance = money_rows(), held(campaign)
    [created] = fake_stripe.dispute(pledge.payment_intent_id, inquiry=True)
    deliver([created])
    assert money_rows() == before and held(campaign) == balance
    assert (the_dispute().outcome, the_dispute().status) == ("inquiry", "warning_needs_response")
    assert fresh(pledge).disputed_at is None and fresh(pledge).status == P.PAID

    deliver(fake_stripe.close_dispute(created["data"]["object"]["id"], won=True))
    assert money_rows() == before
    assert the_dispute().outcome == "closed" and the_dispute().closed_at is not None
    assert clean_month() == []


def test_a_lost_chargeback_withdraws_the_amount_and_the_fee_for_good(world, fake_stripe):
    campaign, _owner, pledge = world
    balance = held(campaign)
    [created, withdrawn] = fake_stripe.dispute(pledge.payment_intent_id)
    deliver([created, withdrawn])
    assert held(campaign) == balance - 2_500 - FEE
    assert the_dispute().outcome == "open" and fresh(pledge).disputed_at is not None

    deliver(fake_stripe.close_dispute(created["data"]["object"]["id"], won=False))
    assert held(campaign) == balance - 2_500 - FEE
    assert the_dispute().outcome == "lost"
    assert statement(campaign)["disputes"].amount == 2_500
    assert fresh(pledge).status == P.PAID  # the pledge was paid; the chargeback is the bank's decision since
    assert clean_month() == []


def test_a_won_chargeback_gives_back_the_amount_and_the_fee(world, fake_stripe):
    campaign, _owner, pledge = world
    balance = held(campaign)
    [created, withdrawn] = fake_stripe.dispute(pledge.payment_intent_id)
    deliver([created, withdrawn])
    deliver(fake_stripe.close_dispute(created["data"]["object"]["id"], won=True))
    assert held(campaign) == balance
    assert the_dispute().outcome == "won" and the_dispute().reinstated_at is not None
    figures = statement(campaign)
    assert (figures["disputes"].amount, figures["fees"].amount) == (0, fresh(pledge).settled_fee)
    assert [e.amount for e in entries(kind="dispute_reinstated")] == [2_500]
    assert [e.amount for e in entries(kind="processor_fee_return")] == [FEE]
    assert clean_month() == []


def test_a_won_chargeback_whose_fee_stays_with_the_processor_gives_back_the_amount_only(world, fake_stripe):
    campaign, _owner, pledge = world
    fake_stripe.dispute_fee_returned_on_win = False
    balance = held(campaign)
    [created, withdrawn] = fake_stripe.dispute(pledge.payment_intent_id)
    deliver([created, withdrawn, *fake_stripe.close_dispute(created["data"]["object"]["id"], won=True)])
    assert held(campaign) == balance - FEE
    assert entries(kind="processor_fee_return") == []
    assert clean_month() == []


def test_an_inquiry_that_becomes_a_chargeback_and_is_won(world, fake_stripe):
    campaign, _owner, pledge = world
    balance = held(campaign)
    [created] = fake_stripe.dispute(pledge.payment_intent_id, inquiry=True)
    dispute_id = created["data"]["object"]["id"]
    deliver([created])
    deliver(fake_stripe.escalate_inquiry(dispute_id))
    assert held(campaign) == balance - 2_500 - FEE and the_dispute().outcome == "open"
    deliver(fake_stripe.close_dispute(dispute_id, won=True))
    assert held(campaign) == balance and the_dispute().outcome == "won"
    assert clean_month() == []


@pytest.mark.parametrize("won", [True, False])
def test_dispute_events_in_any_order_and_redelivered_book_the_same_ledger(app, fake_stripe, won):
    """Every order of the four (or three) events, each delivered twice, ends in the same ledger and status."""
    outcomes = []
    for order_index, order in enumerate(itertools.permutations(range(4 if won else 3))):
        campaign = keep_it_all(goal=100_000, title=f"Fournil {order_index}")
        pledge = paid_pledge(fake_stripe, campaign, 2_500, email=f"b{order_index}@example.org")
        db.session.commit()
        balance = held(campaign)
        [created, withdrawn] = fake_stripe.dispute(pledge.payment_intent_id)
        closing = fake_stripe.close_dispute(created["data"]["object"]["id"], won=won)
        story = [created, withdrawn, *closing]
        for index in order:
            deliver([story[index], story[index]])
        db.session.expire_all()
        [dispute] = db.session.scalars(select(Dispute).where(Dispute.pledge_id == pledge.id)).all()
        outcomes.append((dispute.outcome, balance - held(campaign),
                         sorted((e.kind, e.amount) for e in entries(campaign_id=campaign.id) if "dispute" in e.key)))
    expected_loss = 0 if won else 2_500 + FEE
    assert {o[0] for o in outcomes} == {"won" if won else "lost"}
    assert {o[1] for o in outcomes} == {expected_loss}
    assert len({tuple(o[2]) for o in outcomes}) == 1
    assert clean_month() == []


def test_a_chargeback_takes_the_tip_back_and_a_won_one_returns_it(fake_stripe):
    from tests.payments.money_helpers import started_pledge

    campaign = keep_it_all(goal=100_000)
    pledge = started_pledge(campaign, 2_000, tip=300)
    deliver(fake_stripe.complete_checkout(pledge.checkout_session_id, authenticate=True))
    pledge = fresh(pledge)
    revenue = ledger.balance(ledger.PLATFORM_REVENUE, "EUR").amount
    [created, withdrawn] = fake_stripe.dispute(pledge.payment_intent_id)
    deliver([created, withdrawn])
    assert ledger.balance(ledger.PLATFORM_REVENUE, "EUR").amount == revenue - 300
    deliver(fake_stripe.close_dispute(created["data"]["object"]["id"], won=True))
    assert ledger.balance(ledger.PLATFORM_REVENUE, "EUR").amount == revenue
    assert clean_month() == []


def test_the_money_page_and_the_transparency_page_show_each_dispute_and_its_outcome(client, fake_stripe):
    campaign = keep_it_all(goal=100_000, title="Fournil coopératif")
    owner = organizer_of(campaign)
    won = paid_pledge(fake_stripe, campaign, 2_500, email="won@example.org")
    lost = paid_pledge(fake_stripe, campaign, 1_800, email="lost@example.org")
    still_open = paid_pledge(fake_stripe, campaign, 1_200, email="open@example.org")
    asked = paid_pledge(fake_stripe, campaign, 1_000, email="asked@example.org")
    for pledge, close in ((won, True), (lost, False), (still_open, None)):
        created, withdrawn = fake_stripe.dispute(pledge.payment_intent_id)
        deliver([created, withdrawn])
        if close is not None:
            deliver(fake_stripe.close_dispute(created["data"]["object"]["id"], won=close))
    deliver(fake_stripe.dispute(asked.payment_intent_id, inquiry=True))
    figures = statement(campaign)
    assert figures["disputes"].amount == 1_800 + 1_200  # the won one came back

    for viewer in (owner, UserFactory(verified=True, admin=True)):
        db.session.commit()
        sign_in(client, viewer)
        page = text(client.get(url_for("money.dashboard", slug=campaign.slug)))
        assert "won: the money is back" in page
        assert "lost: the money went back to the backer's bank" in page
        assert "open: the money and the dispute fee are withheld until the bank decides" in page
        assert "inquiry: the bank asks questions; no money has moved" in page
        assert f"<strong>{figures['net'].format('en')}</strong>" in page
        assert "disputed" in page
    client.post(url_for("accounts.logout"))
    public = text(client.get(url_for("money.transparency", slug=campaign.slug)))
    assert public.count("won: the money is back") == 1 and "lost: the money went back" in public
    assert "won@example.org" not in public and "lost@example.org" not in public
    assert "Dispute won: money back" in public  # the ledger line of the reinstatement


def test_a_dispute_delivered_before_its_payments_events_is_asked_for_again_and_then_applied(fake_stripe):
    import json

    from tests.payments.money_helpers import started_pledge
    from tests.payments.support import count, signature
    from webapp.payments import webhooks
    from webapp.payments.models import ProcessedEvent

    campaign = keep_it_all(goal=100_000)
    pledge = started_pledge(campaign, 2_500)
    payment_events = fake_stripe.complete_checkout(pledge.checkout_session_id, authenticate=True)
    created, withdrawn = fake_stripe.dispute(fake_stripe.objects[pledge.checkout_session_id]["payment_intent"])

    def receive(evt):
        payload = json.dumps(evt).encode()
        return webhooks.receive(payload, signature(payload))[0]

    recorded = count(ProcessedEvent)
    assert [receive(created), receive(withdrawn)] == [503, 503]  # Stripe retries non-2xx answers
    assert count(ProcessedEvent) == recorded and entries(kind="dispute") == []
    deliver(payment_events)
    deliver([withdrawn, created])  # the retries, in any order
    assert the_dispute().outcome == "open" and [e.amount for e in entries(kind="dispute")] == [2_500]
