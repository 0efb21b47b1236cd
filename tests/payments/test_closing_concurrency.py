"""Closing under stress: two workers at once (PostgreSQL), a worker killed half-way, a response lost on the wire.

Whatever happens, each committed pledge is charged exactly once: the fake Stripe counts the
PaymentIntents it created, and the idempotency keys it received (a replayed key returns the first
PaymentIntent instead of creating another).
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

#: when the deadline passed: just now (a lost answer is replayed by its idempotency key) or long ago (the processor
#: is read before each first attempt, and finds it); either way nobody is charged twice
DEADLINES = pytest.mark.parametrize("checked", [False, True], ids=["just-ended", "ended-long-ago"])

from config import TestConfig
from tests.payments.money_helpers import (
    LONG_AGO,
    all_or_nothing,
    charge_key,
    charge_keys,
    committed_pledge,
    deliver_pending,
    entries,
    intent_creations,
    pass_deadline,
    precheck_reads,
    status_of,
)
from tests.payments.support import count, fresh
from webapp.campaigns.models import CampaignStatus, CampaignTransition
from webapp.extensions import db
from webapp.payments import batches
from webapp.payments.collection import services as closing
from webapp.payments.models import PledgeStatus
from webapp.payments.providers import get_provider

P = PledgeStatus


class WorkerKilled(BaseException):
    """The worker process died: nothing after this point runs, its open transaction is lost."""


def collect_and_die_after_the_answer(campaign, on: int = 1) -> None:
    """A collection whose worker dies once the processor has answered its `on`-th charge, before our commit."""
    provider = get_provider()
    answered = []

    def dies_after_the_processor_answered(*args, **kwargs):
        result = provider.__class__.charge_off_session(provider, *args, **kwargs)
        answered.append(kwargs["idempotency_key"])
        if len(answered) == on:
            raise WorkerKilled
        return result

    provider.charge_off_session = dies_after_the_processor_answered
    try:
        with pytest.raises(WorkerKilled):
            batches.collect(campaign.id)
    finally:
        del provider.charge_off_session
    db.session.rollback()  # the dead worker's transaction is gone with its connection


def run_at_once(n: int, work) -> list:
    barrier = threading.Barrier(n)

    def start(i):
        barrier.wait()
        try:
            return work(i)
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(start, range(n)))


@pytest.fixture
def worker_app(app, fake_stripe):
    """A second app on the same database, pointed at the fake Stripe: each thread is a worker of its own."""
    from webapp import create_app

    settings = {"PAYMENT_PROVIDER": "stripe", "STRIPE_SECRET_KEY": "sk_test_fake", "STRIPE_API_BASE": fake_stripe.url,
                "STRIPE_WEBHOOK_SECRET": fake_stripe.webhook_secret,
                "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 8, "max_overflow": 0, "pool_timeout": 60}}
    worker = create_app(type("CloseWorkerConfig", (TestConfig,), settings))
    yield worker
    with worker.app_context():
        db.engine.dispose()


def close_due_command(worker_app) -> tuple[list[int], int]:
    """What `flask campaigns close-due` does, in a worker of its own: (campaigns it closed, pledges it charged)."""
    with worker_app.test_request_context():
        try:
            closed = batches.close_due_campaigns()
            left = [c for c in closing.campaigns_left_to_collect() if c not in closed]
            charged = sum(batches.collect(campaign_id).charged for campaign_id in closed + left)
            return closed, charged
        finally:
            db.session.remove()


@pytest.mark.pg_only
def test_two_close_due_runs_at_once_close_the_campaign_once_and_charge_each_pledge_once(worker_app, fake_stripe):
    campaign = all_or_nothing(goal=1_000)
    pledges = [committed_pledge(fake_stripe, campaign, 1_000 + i, email=f"b{i}@example.org") for i in range(16)]
    pass_deadline(campaign)

    results = run_at_once(2, lambda _i: close_due_command(worker_app))

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(closed for closed, _ in results) == [[], [campaign.id]]
    assert sum(charged for _, charged in results) == 16
    assert count(CampaignTransition, CampaignTransition.to_status == CampaignStatus.SUCCEEDED) == 1
    assert fake_stripe.count("payment_intent") == 16
    assert charge_keys(fake_stripe) == {charge_key(p): 1 for p in pledges}
    assert {fresh(p).status for p in pledges} == {P.PAID}


@pytest.mark.pg_only
def test_four_workers_collecting_the_same_campaign_at_once_charge_each_pledge_once(worker_app, fake_stripe):
    campaign = all_or_nothing(goal=1_000)
    pledges = [committed_pledge(fake_stripe, campaign, 1_000 + i, email=f"b{i}@example.org") for i in range(24)]
    pass_deadline(campaign)
    batches.close_due_campaigns()

    def collect(_i):
        with worker_app.test_request_context():
            try:
                return batches.collect(campaign.id, batch_size=5)
            finally:
                db.session.remove()

    reports = run_at_once(4, collect)

    assert not [r for r in reports if isinstance(r, Exception)], reports
    assert sum(r.charged for r in reports) == 24
    assert fake_stripe.count("payment_intent") == len(intent_creations(fake_stripe)) == 24
    assert set(charge_keys(fake_stripe).values()) == {1}
    deliver_pending(fake_stripe)
    assert len(entries(kind="charge", campaign_id=campaign.id)) == 24
    assert {fresh(p).status for p in pledges} == {P.PAID}


@DEADLINES
def test_a_worker_killed_between_the_processors_answer_and_the_commit_is_resumed_charging_nobody_twice(
        fake_stripe, checked):
    campaign = all_or_nothing(goal=1_000)
    pledges = [committed_pledge(fake_stripe, campaign, 1_000 + i, email=f"b{i}@example.org") for i in range(5)]
    pass_deadline(campaign, LONG_AGO if checked else timedelta(seconds=1))
    batches.close_due_campaigns()
    collect_and_die_after_the_answer(campaign, on=3)  # the processor charged the third; we never recorded it

    assert [fresh(p).status for p in pledges] == [P.PAID, P.PAID, P.COMMITTED, P.COMMITTED, P.COMMITTED]
    assert fake_stripe.count("payment_intent") == 3  # the third backer is charged at the processor already

    report = batches.collect(campaign.id)  # the next run picks up where it died
    deliver_pending(fake_stripe)

    assert report.charged == 3
    assert fake_stripe.count("payment_intent") == 5  # nobody twice
    third = charge_key(pledges[2])
    if checked:
        # The check before the attempt found the third backer's payment at the processor: no second
        # request at all (not even a replay, which Stripe would no longer answer after 24 hours).
        assert charge_keys(fake_stripe) == {charge_key(p): 1 for p in pledges}
        assert [r for r in intent_creations(fake_stripe) if r.replayed] == []
        assert len(precheck_reads(fake_stripe)) == 3 + 3  # one read before each attempt: 3 in each run
    else:
        # Minutes after the deadline, the third backer's attempt is sent again with its key: Stripe's saved
        # answer, no second payment.
        assert charge_keys(fake_stripe) == {**{charge_key(p): 1 for p in pledges}, third: 2}
        assert [r.idempotency_key for r in intent_creations(fake_stripe) if r.replayed] == [third]
        assert precheck_reads(fake_stripe) == []
    paid = [fresh(p) for p in pledges]
    assert {p.status for p in paid} == {P.PAID}  # nobody zero times
    assert len({p.payment_intent_id for p in paid}) == 5 and {p.charge_attempts for p in paid} == {1}
    assert len(entries(kind="charge", campaign_id=campaign.id)) == 5


@DEADLINES
def test_a_crash_inside_our_own_bookkeeping_after_the_charge_is_resumed_the_same_way(fake_stripe, monkeypatch, checked):
    from webapp.payments.pledging import states as services  # the state machine the collection moves pledges with

    campaign = all_or_nothing(goal=1_000)
    pledges = [committed_pledge(fake_stripe, campaign, 1_000 + i, email=f"b{i}@example.org") for i in range(4)]
    pass_deadline(campaign, LONG_AGO if checked else timedelta(seconds=1))
    batches.close_due_campaigns()
    real_move, moves = services.move, []

    def move(pledge, target, cause):
        if target == P.PAID:
            moves.append(pledge.id)
            if len(moves) == 2:
                raise WorkerKilled
        return real_move(pledge, target, cause)

    monkeypatch.setattr(services, "move", move)
    with pytest.raises(WorkerKilled):
        batches.collect(campaign.id)
    db.session.rollback()
    monkeypatch.setattr(services, "move", real_move)

    batches.collect(campaign.id)

    assert fake_stripe.count("payment_intent") == 4
    assert {fresh(p).status for p in pledges} == {P.PAID}
    # found by the check, not asked again; or, just after the deadline, asked again with its key (replayed)
    assert charge_keys(fake_stripe)[charge_key(pledges[1])] == (1 if checked else 2)
    assert fresh(pledges[1]).payment_intent_id in fake_stripe.objects


def test_a_lost_response_is_retried_with_the_same_key_and_charges_once(fake_stripe):
    campaign = all_or_nothing(goal=1_000)
    pledge = committed_pledge(fake_stripe, campaign, 1_500)
    pass_deadline(campaign)
    batches.close_due_campaigns()
    fake_stripe.lose_next_responses_to("POST", "/v1/payment_intents")  # the charge happens, its answer never arrives

    assert batches.collect(campaign.id).charged == 1

    assert fake_stripe.count("payment_intent") == 1
    assert charge_keys(fake_stripe) == {charge_key(pledge): 2}
    assert fresh(pledge).status == P.PAID
    assert status_of(campaign) == CampaignStatus.SUCCEEDED


@DEADLINES
def test_an_answer_that_cannot_be_recorded_with_its_batch_is_recorded_alone_and_the_others_are_kept(
        fake_stripe, monkeypatch, checked):
    """A batch's answers go in one commit; when one of them is refused there, the others are recorded one
    by one, without asking the processor again, and the refused one is found by the next run's check (or,
    just after the deadline, its attempt is replayed by its key)."""
    from webapp.errors import DomainError
    from webapp.payments.pledging import states

    campaign = all_or_nothing(goal=1_000)
    pledges = [committed_pledge(fake_stripe, campaign, 1_000 + i, email=f"b{i}@example.org") for i in range(4)]
    pass_deadline(campaign, LONG_AGO if checked else timedelta(seconds=1))
    batches.close_due_campaigns()
    real_move, refused = states.move, pledges[2].id

    def move(pledge, target, cause):
        if pledge.id == refused and target == P.PAID:
            raise DomainError("a rule refuses this one")
        return real_move(pledge, target, cause)

    monkeypatch.setattr(states, "move", move)
    report = batches.collect(campaign.id)

    assert (report.charged, report.skipped) == (3, 1)
    assert [fresh(p).status for p in pledges] == [P.PAID, P.PAID, P.COMMITTED, P.PAID]
    assert len(intent_creations(fake_stripe)) == 4  # nothing asked twice
    assert len(precheck_reads(fake_stripe)) == (4 if checked else 0)
    assert len(entries(kind="charge", campaign_id=campaign.id)) == 3

    monkeypatch.setattr(states, "move", real_move)
    assert batches.collect(campaign.id).charged == 1  # the next run's check finds its payment, or replays its key

    assert charge_keys(fake_stripe) == {**{charge_key(p): 1 for p in pledges},
                                        **({} if checked else {charge_key(pledges[2]): 2})}
    assert fake_stripe.count("payment_intent") == 4
    assert {fresh(p).status for p in pledges} == {P.PAID}
    assert len(entries(kind="charge", campaign_id=campaign.id)) == 4


def test_a_batch_is_locked_in_one_statement_and_recorded_in_one_commit_whatever_its_size(app, fake_stripe, monkeypatch):
    """The SQL of a collection does not grow with the pledges of a batch (bench/close.py measures it at scale)."""
    from sqlalchemy import event

    monkeypatch.setitem(app.config, "CHARGE_LOCK_SECONDS", 600)  # a busy machine never cuts a batch short

    sent = []

    def record(_conn, _cursor, statement, *_rest):
        sent.append(statement)

    def statements_to_collect(n: int) -> None:
        campaign = all_or_nothing(goal=1_000)
        for i in range(n):
            committed_pledge(fake_stripe, campaign, 1_000 + i, email=f"b{n}-{i}@example.org")
        pass_deadline(campaign)
        batches.close_due_campaigns()
        db.session.commit()
        sent.clear()
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            assert batches.collect(campaign.id).charged == n
        finally:
            event.remove(db.engine, "before_cursor_execute", record)

    grows = ("INSERT INTO pledge_events", "INSERT INTO pledge_access_tokens")
    counted = ((lambda s: True) if db.engine.dialect.name == "postgresql"
               # SQLite: the ORM inserts rows that need their ids back one by one (in process, no round trip)
               else (lambda s: not s.lstrip().startswith(grows)))

    def counted_to_collect(n: int) -> int:
        statements_to_collect(n)
        return sum(1 for s in sent if counted(s))

    assert counted_to_collect(2) == counted_to_collect(6)
    # the batch's lock, and the one that finds nobody left (SQLite has no FOR UPDATE)
    assert sum("FOR UPDATE" in s for s in sent) == (2 if db.engine.dialect.name == "postgresql" else 0)
