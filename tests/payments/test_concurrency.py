"""Real concurrent connections on PostgreSQL: reward limits, redelivered webhooks and expiring holds.

Each thread has its own app context, hence its own session and its own connection from a second app's
pool. PostgreSQL allows 100 connections here, so 200 threads share 40 of them: at most 40 transactions
run at once, which is plenty to make them race for the same row.
"""
from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from config import TestConfig
from tests.payments.support import (
    count,
    event,
    live_campaign,
    payload_of,
    pending_pledge,
    session_obj,
    signature,
    tier,
    token,
)
from webapp.campaigns.models import Campaign, RewardTier
from webapp.campaigns.services import claim_tier_unit
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.money import Money
from webapp.payments.pledging import services
from webapp.payments.models import HOLDING_STATUSES, Pledge, PledgeEvent, PledgeStatus, ProcessedEvent

pytestmark = pytest.mark.pg_only
P = PledgeStatus
POOL = 40


@pytest.fixture
def worker_app(app):
    """A second app on the same database whose pool lets many threads hold a connection at once."""
    from webapp import create_app

    settings = {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": POOL, "max_overflow": 0, "pool_timeout": 120},
                "STRIPE_WEBHOOK_SECRET": app.config["STRIPE_WEBHOOK_SECRET"]}
    worker = create_app(type("ConcurrentTestConfig", (TestConfig,), settings))
    yield worker
    with worker.app_context():
        db.engine.dispose()


def run_at_once(n: int, work) -> list:
    """Run work(i) in n threads released together by a barrier; returns results (or exceptions)."""
    barrier = threading.Barrier(n)

    def start(i):
        barrier.wait()
        try:
            return work(i)
        except Exception as exc:  # reported by the test, not lost in a thread
            return exc

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(start, range(n)))


def refreshed_tier(tier_id: int) -> RewardTier:
    db.session.expire_all()
    return db.session.get(RewardTier, tier_id)


def test_a_tier_of_fifty_units_sells_fifty_to_two_hundred_simultaneous_backers(worker_app):
    campaign = live_campaign("EUR")
    reward = tier(campaign, 2_000, limit=50)
    db.session.commit()
    campaign_id, tier_id = campaign.id, reward.id

    def pledge(i):
        with worker_app.test_request_context():
            try:
                c = db.session.get(Campaign, campaign_id)
                services.start_pledge(services.PledgeRequest(
                    campaign=c, tier=db.session.get(RewardTier, tier_id), amount=Money(2_500, "EUR"),
                    pay_currency="EUR", email=f"backer{i}@example.org", user=None, display_name=None,
                    anonymous=False, message=None, locale="en", client_token=token()))
                db.session.commit()
                return "pledged"
            except services.SoldOut:
                db.session.rollback()
                return "sold out"
            finally:
                db.session.remove()

    results = run_at_once(200, pledge)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors[:3]
    assert Counter(results) == {"pledged": 50, "sold out": 150}
    assert refreshed_tier(tier_id).units_claimed == 50
    holding = count(Pledge, Pledge.tier_id == tier_id, Pledge.status.in_(HOLDING_STATUSES))
    assert holding == count(Pledge) == 50


def test_claiming_units_directly_never_oversells(worker_app):
    reward = tier(live_campaign("EUR"), 1_000, limit=7)
    db.session.commit()
    tier_id = reward.id

    def claim(_i):
        with worker_app.app_context():
            try:
                taken = claim_tier_unit(tier_id)
                db.session.commit()
                return taken
            finally:
                db.session.remove()

    results = run_at_once(60, claim)
    assert not [r for r in results if isinstance(r, Exception)]
    assert results.count(True) == 7
    assert refreshed_tier(tier_id).units_claimed == 7


def test_the_same_event_delivered_by_several_threads_at_once_is_applied_once(worker_app, smtp_server):
    worker_app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port,
                             MAIL_USE_TLS=False, MAIL_USERNAME=None)
    campaign = live_campaign("EUR")
    reward = tier(campaign, 2_000, limit=3)
    db.session.commit()
    pledge = pending_pledge(campaign, 2_500, tier=reward)
    evt = event("checkout.session.completed",
                session_obj(pledge, status="complete", payment_status="paid",
                            payment_intent=f"pi_test_{pledge.reference}"))
    payload = payload_of(evt)
    header = signature(payload)

    def deliver(_i):
        client = worker_app.test_client()
        response = client.post("/payments/webhooks/stripe", data=payload,
                               headers={"Stripe-Signature": header, "Content-Type": "application/json"})
        return response.status_code, response.get_json()["status"]

    results = run_at_once(12, deliver)
    assert all(not isinstance(r, Exception) and r[0] == 200 for r in results), results
    assert Counter(message for _, message in results) == {"ok": 1, "already processed": 11}
    db.session.expire_all()
    assert count(ProcessedEvent) == 1
    assert count(PledgeEvent, PledgeEvent.pledge_id == pledge.id, PledgeEvent.to_status == P.PAID) == 1
    assert db.session.get(Pledge, pledge.id).status == P.PAID
    assert refreshed_tier(reward.id).units_claimed == 1
    smtp_server.wait_for(1)
    assert len(smtp_server.messages) == 1  # one receipt


def test_concurrent_hold_sweeps_expire_each_pledge_once(worker_app):
    campaign = live_campaign("EUR")
    reward = tier(campaign, 2_000, limit=30)
    db.session.commit()
    stale = [pending_pledge(campaign, 2_500, tier=reward, commit=False) for _ in range(20)]
    for pledge in stale:
        pledge.hold_expires_at = utcnow() - timedelta(minutes=1)
    fresh_holds = [pending_pledge(campaign, 2_500, tier=reward, commit=False) for _ in range(5)]
    db.session.commit()
    assert refreshed_tier(reward.id).units_claimed == 25

    def sweep(_i):
        with worker_app.test_request_context():
            try:
                expired = services.release_expired_holds()
                db.session.commit()
                return expired
            finally:
                db.session.remove()

    results = run_at_once(6, sweep)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(results) == 20
    db.session.expire_all()
    assert count(PledgeEvent, PledgeEvent.to_status == P.EXPIRED) == 20
    assert refreshed_tier(reward.id).units_claimed == 5 == len(fresh_holds)
    assert db.session.scalar(select(func.count()).select_from(Pledge).where(Pledge.status == P.PENDING)) == 5
