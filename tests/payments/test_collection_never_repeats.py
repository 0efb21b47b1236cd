"""Charges that must never repeat: bank debits that answer `processing`, lost answers, 429s, concurrent workers.

Against the fake Stripe, whose PaymentIntent count is the ground truth: whatever the collector, the
network and the processor do, one committed pledge is one PaymentIntent. A SEPA debit saved in
setup-mode Checkout (DE89370400440532013000 succeeds, DE62370400440532013001 fails, as Stripe's test
IBANs) is `processing` when charged off-session until the fake's bank answers (finish_async_payment).
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.payments.money_helpers import (
    OK_CARD,
    all_or_nothing,
    charge_key,
    charge_keys,
    LONG_AGO,
    committed_pledge,
    days_later,
    deliver,
    deliver_pending,
    entries,
    intent_creations,
    pass_deadline,
    precheck_reads,
)
from tests.payments.support import fresh
from tests.payments.test_closing_concurrency import (  # noqa: F401 (worker_app: a fixture)
    collect_and_die_after_the_answer, run_at_once, worker_app)
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.jobs import PERIODIC
from webapp.payments import batches
from webapp.payments.models import Pledge, PledgeEvent, PledgeStatus
from webapp.payments.providers import get_provider

P = PledgeStatus
SEPA_OK = "DE89370400440532013000"
SEPA_BOUNCES = "DE62370400440532013001"


def closed_with(fake, accounts: list[str], amount: int = 1_000, ago: timedelta = timedelta(seconds=1)) -> tuple:
    """An all-or-nothing campaign that reached its goal with one committed pledge per account, closed `ago`."""
    campaign = all_or_nothing(goal=amount)
    pledges = [committed_pledge(fake, campaign, amount + i, account, email=f"b{i}@example.org")
               for i, account in enumerate(accounts)]
    pass_deadline(campaign, ago)
    assert batches.close_due_campaigns() == [campaign.id]
    fake.take_events()
    return campaign, pledges


def mail_to(smtp_server, address: str) -> list:
    return [m for m in smtp_server.messages if m["To"] == address]


# -- a debit on its way is never charged again -----------------------------------------------------
def test_a_debit_answering_processing_is_charged_once_however_many_collection_passes(fake_stripe):
    campaign, [pledge] = closed_with(fake_stripe, [SEPA_OK])

    reports = [batches.collect(campaign.id) for _ in range(5)]

    assert fake_stripe.count("payment_intent") == 1
    assert len(intent_creations(fake_stripe)) == 1 and charge_keys(fake_stripe) == {charge_key(pledge): 1}
    assert [(r.collecting, r.charged, r.needs_action) for r in reports] == [(1, 0, 0)] + [(0, 0, 0)] * 4
    collecting = fresh(pledge)
    assert collecting.status == P.COLLECTING and collecting.charge_attempts == 1
    assert collecting.collecting_since is not None
    assert fake_stripe.objects[collecting.payment_intent_id]["status"] == "processing"
    assert entries(kind="charge", campaign_id=campaign.id) == []  # no money yet
    # it still counts for the campaign: the backer has not withdrawn anything
    from tests.payments.support import confirmed_sum

    assert confirmed_sum(campaign.id) == (1_000, 1)

    deliver_pending(fake_stripe)  # payment_intent.created, charge.pending, payment_intent.processing
    assert fresh(pledge).status == P.COLLECTING
    deliver(fake_stripe.finish_async_payment(collecting.payment_intent_id))

    paid = fresh(pledge)
    assert paid.status == P.PAID and paid.settled_fee is not None
    assert [e.amount for e in entries(kind="charge", campaign_id=campaign.id)] == [1_000]
    assert batches.collect(campaign.id).charged == 0
    assert fake_stripe.count("payment_intent") == 1


def test_a_bounced_debit_asks_the_backer_to_complete_the_payment(fake_stripe, smtp_server):
    campaign, [pledge] = closed_with(fake_stripe, [SEPA_BOUNCES])
    batches.collect(campaign.id)
    batches.collect(campaign.id)
    smtp_server.clear()
    intent = fresh(pledge).payment_intent_id

    deliver(fake_stripe.take_events() + fake_stripe.finish_async_payment(intent))

    asked = fresh(pledge)
    assert asked.status == P.NEEDS_ACTION and asked.needs_action_since is not None
    assert "insufficient funds" in asked.failure_reason
    [mail] = mail_to(smtp_server, asked.email)
    assert mail["Subject"].startswith("Complete your payment")
    assert re.search(rf"/{asked.reference}/complete", smtp_server.text_of(mail))
    assert fake_stripe.count("payment_intent") == 1
    assert batches.collect(campaign.id).charged == 0 and fake_stripe.count("payment_intent") == 1


def test_the_off_session_charge_is_confirmed_as_stripe_documents_it_for_saved_methods(fake_stripe):
    """PaymentIntent create on 2026-10-28.endive: confirm=true with off_session=true (which needs no
    return_url, the redirect rule being for on-session confirmations), no payment_method_types (removed),
    no error_on_requires_action (refused with automatic payment methods); the saved method and its customer."""
    campaign, [card, debit] = closed_with(fake_stripe, [OK_CARD, SEPA_OK])

    batches.collect(campaign.id)

    for request in intent_creations(fake_stripe):
        assert request.validated and request.status == 200, request.validation_error
        params = request.params
        assert (params["confirm"], params["off_session"]) == ("true", "true")
        assert not {"return_url", "payment_method_types", "error_on_requires_action",
                    "automatic_payment_methods", "setup_future_usage"} & set(params)
        assert params["metadata"]["charge_attempt"] == "1"
    assert [fresh(p).status for p in (card, debit)] == [P.PAID, P.COLLECTING]


# -- two workers at once, on PostgreSQL ----------------------------------------------------------------
@pytest.mark.pg_only
def test_two_workers_collecting_processing_debits_again_and_again_make_one_intent_each(worker_app, fake_stripe):
    campaign, pledges = closed_with(fake_stripe, [SEPA_OK] * 6 + [SEPA_BOUNCES] * 2)

    def worker(_i):
        with worker_app.test_request_context():
            try:
                return [batches.collect(campaign.id, batch_size=3) for _ in range(4)]
            finally:
                db.session.remove()

    results = run_at_once(2, worker)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r.collecting for runs in results for r in runs) == 8
    assert fake_stripe.count("payment_intent") == len(intent_creations(fake_stripe)) == 8
    assert set(charge_keys(fake_stripe).values()) == {1}
    assert {fresh(p).status for p in pledges} == {P.COLLECTING}

    events = fake_stripe.take_events()
    for pledge in pledges:
        events += fake_stripe.finish_async_payment(fresh(pledge).payment_intent_id)
    deliver(events)

    assert [fresh(p).status for p in pledges] == [P.PAID] * 6 + [P.NEEDS_ACTION] * 2
    assert len(entries(kind="charge", campaign_id=campaign.id)) == 6
    assert fake_stripe.count("payment_intent") == 8


# -- an answer lost, and Stripe's memory of the key gone -------------------------------------------------
@pytest.mark.parametrize("account, status", [(OK_CARD, P.PAID), (SEPA_OK, P.COLLECTING)], ids=["card", "debit"])
def test_an_attempt_whose_answer_was_lost_is_found_by_the_check_and_not_made_again(fake_stripe, account, status):
    campaign, [pledge] = closed_with(fake_stripe, [account])
    collect_and_die_after_the_answer(campaign)
    assert fresh(pledge).status == P.COMMITTED and fresh(pledge).charge_attempts == 0  # we recorded nothing
    days_later(fake_stripe, campaign)  # the same key would now charge again

    report = batches.collect(campaign.id)

    assert fake_stripe.count("payment_intent") == 1
    assert len(intent_creations(fake_stripe)) == 1
    found = fresh(pledge)
    assert found.status == status and found.charge_attempts == 1
    assert found.payment_intent_id == fake_stripe.of_kind("payment_intent")[0]["id"]
    assert (report.charged, report.collecting) == ((1, 0) if status == P.PAID else (0, 1))
    # none before the first run's attempt (the campaign had just ended: a lost answer would be replayed by its
    # key), one before the second's (days later: Stripe no longer knows the key)
    assert len(precheck_reads(fake_stripe)) == 1
    cause = db.session.scalar(select(PledgeEvent.cause).where(PledgeEvent.pledge_id == pledge.id,
                                                              PledgeEvent.to_status == status))
    assert cause.startswith(f"earlier payment {found.payment_intent_id}")


def test_an_earlier_attempt_that_took_nothing_allows_the_next_one(fake_stripe):
    """requires_payment_method (declined, answer lost): a new attempt, numbered after it."""
    campaign, [pledge] = closed_with(fake_stripe, [OK_CARD])
    fake_stripe.fail_card(pledge.payment_method_id, "card_declined")
    collect_and_die_after_the_answer(campaign)
    fake_stripe.fail_card(pledge.payment_method_id, None)  # the backer topped up their account
    days_later(fake_stripe, campaign)

    assert batches.collect(campaign.id).charged == 1

    assert charge_keys(fake_stripe) == {charge_key(pledge, 1): 1, charge_key(pledge, 2): 1}
    assert fresh(pledge).status == P.PAID and fresh(pledge).charge_attempts == 2
    assert fake_stripe.count("payment_intent") == 2


def test_just_after_the_deadline_a_lost_answer_is_replayed_by_its_key_and_charges_once(fake_stripe):
    """Within hours of the end, a pledge never tried is charged without a read first: the attempt whose answer
    was lost is sent again with the same key and parameters, and Stripe answers with what it saved."""
    campaign, [pledge] = closed_with(fake_stripe, [OK_CARD])
    collect_and_die_after_the_answer(campaign)

    assert batches.collect(campaign.id).charged == 1

    assert fake_stripe.count("payment_intent") == 1 and precheck_reads(fake_stripe) == []
    assert charge_keys(fake_stripe) == {charge_key(pledge): 2}
    assert [r.replayed for r in intent_creations(fake_stripe)] == [False, True]
    paid = fresh(pledge)
    assert paid.status == P.PAID and paid.charge_attempts == 1
    assert paid.payment_intent_id == fake_stripe.of_kind("payment_intent")[0]["id"]


def test_just_after_the_deadline_a_lost_decline_is_replayed_and_asks_the_backer(fake_stripe):
    """The replay of a declined attempt is the decline Stripe saved: the backer is asked, nothing charged twice."""
    campaign, [pledge] = closed_with(fake_stripe, [OK_CARD])
    fake_stripe.fail_card(pledge.payment_method_id, "card_declined")
    collect_and_die_after_the_answer(campaign)
    fake_stripe.fail_card(pledge.payment_method_id, None)

    report = batches.collect(campaign.id)

    assert (report.charged, report.needs_action) == (0, 1)
    assert fake_stripe.count("payment_intent") == 1 and charge_keys(fake_stripe) == {charge_key(pledge): 2}
    assert fresh(pledge).status == P.NEEDS_ACTION and fresh(pledge).charge_attempts == 1


@pytest.mark.parametrize("ago, reads", [(timedelta(seconds=1), 0), (timedelta(hours=11), 0),
                                        (timedelta(hours=12, seconds=1), 3), (LONG_AGO, 3)])
def test_the_processor_is_read_before_a_first_attempt_only_once_the_deadline_is_12_hours_old(fake_stripe, ago, reads):
    campaign, pledges = closed_with(fake_stripe, [OK_CARD] * 3, ago=ago)

    assert batches.collect(campaign.id).charged == 3

    assert len(precheck_reads(fake_stripe)) == reads
    assert charge_keys(fake_stripe) == {charge_key(p): 1 for p in pledges}


# -- rate limits ------------------------------------------------------------------------------------------
def test_a_429_is_retried_with_bounded_jittered_backoff_and_is_never_a_decline(fake_stripe):
    campaign, [pledge] = closed_with(fake_stripe, [OK_CARD], ago=LONG_AGO)  # with the check before the charge
    provider = get_provider()
    pauses = []
    provider.sleep = pauses.append
    fake_stripe.rate_limit_next(3, "/v1/payment_intents")  # the check's read, then the charge, are refused

    report = batches.collect(campaign.id)

    assert (report.charged, report.needs_action, report.skipped) == (1, 0, 0)
    assert [r.status for r in fake_stripe.requests if r.path == "/v1/payment_intents"] == [429, 429, 429, 200, 200]
    assert len(pauses) == 3
    for retry, pause in enumerate(pauses):  # full jitter under an exponential, capped ceiling
        assert 0 <= pause <= min(provider.rate_limit_backoff_cap, provider.rate_limit_backoff * 2 ** retry)
    paid = fresh(pledge)
    assert paid.status == P.PAID and paid.charge_attempts == 1 and paid.failure_reason is None
    assert charge_keys(fake_stripe) == {charge_key(pledge): 1}


def test_a_rate_limit_that_outlasts_the_retries_leaves_the_pledge_committed_for_the_next_run(fake_stripe):
    campaign, [pledge] = closed_with(fake_stripe, [OK_CARD], ago=LONG_AGO)  # with the check before the charge
    provider = get_provider()
    provider.sleep = lambda seconds: None
    fake_stripe.rate_limit_next(provider.rate_limit_retries + 1, "/v1/payment_intents")

    report = batches.collect(campaign.id)

    assert (report.charged, report.needs_action, report.skipped) == (0, 0, 1)
    waiting = fresh(pledge)
    assert waiting.status == P.COMMITTED and waiting.charge_attempts == 0 and waiting.failure_reason is None
    assert intent_creations(fake_stripe) == []  # refused at the check: nothing was asked of the card

    assert batches.collect(campaign.id).charged == 1
    assert charge_keys(fake_stripe) == {charge_key(pledge): 1}


def test_the_default_pace_stays_under_stripes_test_mode_limit_reads_included(app, fake_stripe, monkeypatch):
    from config import Config

    assert Config.CHARGE_RATE_PER_SECOND <= 10 < 25  # headroom under test mode's 25 requests a second
    campaign, pledges = closed_with(fake_stripe, [OK_CARD] * 8, ago=LONG_AGO)  # a read before each charge
    monkeypatch.setitem(app.config, "CHARGE_RATE_PER_SECOND", Config.CHARGE_RATE_PER_SECOND)
    get_provider().sleep = lambda seconds: pytest.fail("a 429 was answered: the pace is too fast")
    fake_stripe.limit_rate(25)
    try:
        report = batches.collect(campaign.id)
    finally:
        fake_stripe.limit_rate(None)

    assert report.charged == 8
    assert 429 not in [r.status for r in fake_stripe.requests]
    assert len(precheck_reads(fake_stripe)) == 8


# -- a debit in flight for too long ----------------------------------------------------------------------
def test_the_recheck_job_reads_debits_in_flight_too_long_and_ends_them(app, fake_stripe, smtp_server):
    assert any(job.task == "payments.recheck_collecting" for job in PERIODIC)
    campaign, [paid, bounced, recent] = closed_with(fake_stripe, [SEPA_OK, SEPA_BOUNCES, SEPA_OK])
    batches.collect(campaign.id)
    fake_stripe.take_events()
    for pledge in (paid, bounced):  # the bank answered, but the webhooks never arrived
        fake_stripe.finish_async_payment(fresh(pledge).payment_intent_id)
        row = db.session.get(Pledge, pledge.id)
        row.collecting_since = utcnow() - timedelta(days=app.config["PROCESSING_RECHECK_DAYS"], hours=1)
        db.session.commit()
    reads_before = len(fake_stripe.requests)
    smtp_server.clear()

    seen = batches.recheck_collecting()

    assert seen == {"succeeded": 1, "requires_payment_method": 1}
    assert len(fake_stripe.requests) - reads_before == 2  # the recent one is not asked about
    assert [fresh(p).status for p in (paid, bounced, recent)] == [P.PAID, P.NEEDS_ACTION, P.COLLECTING]
    assert [m["Subject"][:21] for m in smtp_server.messages if m["To"] == bounced.email] == ["Complete your payment"]
    assert len(entries(kind="charge", campaign_id=campaign.id)) == 1
    assert batches.recheck_collecting() == {}
    assert fake_stripe.count("payment_intent") == 3


# -- the backer's own debits: in flight, never lapsed or expired ---------------------------------------------
def test_a_backer_completing_with_a_bank_debit_is_collecting_and_never_lapses_meanwhile(fake_stripe):
    from tests.payments.money_helpers import DECLINED_CARD
    from webapp.payments.collection import services as collection

    campaign, [pledge] = closed_with(fake_stripe, [DECLINED_CARD])
    batches.collect(campaign.id)
    deliver_pending(fake_stripe)
    assert fresh(pledge).status == P.NEEDS_ACTION
    collection.start_completion(fresh(pledge))
    db.session.commit()
    session_id = fresh(pledge).checkout_session_id

    deliver(fake_stripe.complete_checkout(session_id, SEPA_OK))  # on the hosted page, with an IBAN

    assert fresh(pledge).status == P.COLLECTING
    assert collection.chase_needs_action(now=utcnow() + timedelta(days=8)) == (0, 0)  # no lapse while in flight
    db.session.commit()
    deliver(fake_stripe.finish_async_payment(session_id))
    assert fresh(pledge).status == P.PAID
    assert len(entries(kind="charge", campaign_id=campaign.id)) == 1


def test_a_pledge_debited_on_a_saved_method_is_processing_and_its_hold_never_expires(fake_stripe):
    from tests.payments.support import live_campaign, token
    from webapp.money import Money
    from webapp.payments.pledging import saved_methods, services

    session = saved_methods.start_setup("commitment:5", "afi@example.org", "EUR", "Only when you confirm.", "en",
                                        "http://harambee.test/done", "http://harambee.test/back")
    [_, saved] = fake_stripe.complete_checkout(session.id, SEPA_OK)
    method = saved["data"]["object"]
    fund = live_campaign("EUR")
    request = services.PledgeRequest(campaign=fund, tier=None, amount=Money(2_500, "EUR"), pay_currency="EUR",
                                     email="afi@example.org", user=None, display_name="Afi", anonymous=False,
                                     message=None, locale="en", client_token=token())

    pledge = saved_methods.charge_saved_method(request, method["customer"], method["payment_method"])
    db.session.commit()

    assert fresh(pledge).status == P.PROCESSING
    assert services.release_expired_holds(now=utcnow() + timedelta(hours=2)) == 0
    db.session.commit()
    deliver(fake_stripe.take_events() + fake_stripe.finish_async_payment(fresh(pledge).payment_intent_id))
    assert fresh(pledge).status == P.PAID
    assert fake_stripe.count("payment_intent") == 1


def test_the_payout_waits_for_debits_on_their_way(client, fake_stripe):
    from flask import url_for

    from tests.campaigns.helpers import sign_in
    from tests.payments.money_helpers import organizer_of
    from webapp.campaigns.models import Campaign
    from webapp.payments.payouts import services as payouts

    campaign, [card, debit] = closed_with(fake_stripe, [OK_CARD, SEPA_OK])
    batches.collect(campaign.id)
    deliver_pending(fake_stripe)
    later = utcnow() + timedelta(days=60)

    assert payouts.pay_out(db.session.get(Campaign, campaign.id), later) is None  # its money is not in yet
    sign_in(client, organizer_of(campaign))
    page = client.get(url_for("money.dashboard", slug=campaign.slug)).get_data(as_text=True)
    assert "1 bank debit is on its way" in page and "bank debit on its way</td><td>1" in page

    deliver(fake_stripe.finish_async_payment(fresh(debit).payment_intent_id))
    from tests.payments.money_helpers import ledger_sum

    assert ledger_sum("charge", campaign.id) == fresh(card).amount + fresh(debit).amount
    transfers = payouts.pay_out(db.session.get(Campaign, campaign.id), later)
    # the transfers are prepared, one per charge (this organization has no payout account yet): both backers'
    assert sorted(t.pledge_id for t in transfers) == sorted((card.id, debit.id))  # not the card's alone
    assert sum(t.amount for t in transfers) > fresh(card).settled_amount


def test_only_one_completion_page_can_be_paid_however_often_the_backer_opens_it(client, fake_stripe):
    from flask import url_for

    from tests.fake_stripe import FakeStripeError
    from tests.payments.money_helpers import DECLINED_CARD

    campaign, [pledge] = closed_with(fake_stripe, [DECLINED_CARD])
    batches.collect(campaign.id)
    deliver_pending(fake_stripe)
    from webapp.payments.pledging import access

    # the emailed link: the pledge's reference alone opens nothing (issue 9)
    link = url_for("money.complete_payment", reference=pledge.reference, token=access.mint(pledge.id, "complete"))
    db.session.commit()

    first, second = client.post(link), client.post(link)  # two tabs, or a double click

    pages = [r.location.rsplit("/", 1)[1] for r in (first, second)]
    assert [r.status_code for r in (first, second)] == [303, 303] and pages[0] != pages[1]
    assert fake_stripe.objects[pages[0]]["status"] == "expired"  # the first can no longer be paid
    with pytest.raises(FakeStripeError):
        fake_stripe.complete_checkout(pages[0], OK_CARD)
    paid = fake_stripe.complete_checkout(pages[1], OK_CARD)  # paid; its webhook is still on its way

    third = client.post(link)

    assert third.status_code == 409 and "already paid" in third.get_data(as_text=True)
    assert fake_stripe.count("checkout.session") == 1 + 2  # the setup page and the two completion pages
    deliver(paid)
    assert fresh(pledge).status == P.PAID
    charged = [i for i in fake_stripe.of_kind("payment_intent") if i["status"] == "succeeded"]
    assert len(charged) == 1
