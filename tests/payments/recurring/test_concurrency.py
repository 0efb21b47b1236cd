"""Recurring support under real concurrency on PostgreSQL: two renewal jobs at once, a cancel while a renewal
is in flight. Each period is charged at most once; nothing is charged after a cancel."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from config import TestConfig
from tests.payments.recurring.helpers import after_due, association, booked, charges, renewal_keys, start_gift, supporter
from tests.payments.test_closing_concurrency import run_at_once
from webapp.accounts.models import User
from webapp.extensions import db
from webapp.payments import batches
from webapp.payments.providers import get_provider
from webapp.payments.recurring import services as recurring
from webapp.payments.recurring.models import RecurringSupport, SupportState


@pytest.fixture
def worker_app(app, fake_stripe):
    from webapp import create_app

    settings = {"PAYMENT_PROVIDER": "stripe", "STRIPE_SECRET_KEY": "sk_test_fake", "STRIPE_API_BASE": fake_stripe.url,
                "STRIPE_WEBHOOK_SECRET": fake_stripe.webhook_secret,
                "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 8, "max_overflow": 0, "pool_timeout": 60}}
    worker = create_app(type("RenewWorkerConfig", (TestConfig,), settings))
    yield worker
    with worker.app_context():
        db.engine.dispose()


@pytest.mark.pg_only
def test_two_renewal_jobs_at_once_charge_each_period_once(worker_app, fake_stripe):
    org = association()
    supports = [start_gift(fake_stripe, supporter(email=f"s{i}@example.org"), org, amount=2_000 + i)
                for i in range(10)]
    due = max(after_due(s) for s in supports)
    before = fake_stripe.count("payment_intent")

    def job(_i):
        with worker_app.test_request_context():
            try:
                return batches.renew_due(due)
            finally:
                db.session.remove()

    reports = run_at_once(2, job)

    assert not [r for r in reports if isinstance(r, Exception)], reports
    assert sum(r.charged for r in reports) == 10
    assert fake_stripe.count("payment_intent") - before == 10
    assert {n for key, n in renewal_keys(fake_stripe).items() if "-charge-" in key} == {1}
    for support in supports:
        assert list(charges(support).values()) == ["succeeded", "succeeded"]
        assert len(booked(support)) == 2


@pytest.mark.pg_only
def test_cancel_while_a_renewal_is_in_flight_waits_for_it_and_nothing_is_charged_after(worker_app, fake_stripe):
    user = supporter()
    support = start_gift(fake_stripe, user, association())
    due = after_due(support)
    in_flight, release = threading.Event(), threading.Event()
    order: list[str] = []

    def renewal():
        with worker_app.test_request_context():
            provider = get_provider()
            real = provider.charge_off_session

            def slow_charge(*args, **kwargs):
                result = real(*args, **kwargs)  # the processor has charged; our commit is still to come
                in_flight.set()
                release.wait(5)
                return result

            provider.charge_off_session = slow_charge
            try:
                report = batches.renew_due(due)
                order.append("renewal committed")
                return report
            finally:
                provider.charge_off_session = real
                db.session.remove()

    def cancel():
        with worker_app.test_request_context():
            try:
                mine = db.session.get(RecurringSupport, support.id)
                recurring.cancel(mine, db.session.get(User, user.id))
                db.session.commit()
                order.append("cancel committed")
            finally:
                db.session.remove()

    worker = threading.Thread(target=renewal)
    worker.start()
    assert in_flight.wait(10)
    canceller = threading.Thread(target=cancel)
    canceller.start()
    time.sleep(0.5)
    assert order == []  # the cancel waits on the renewal's row lock
    release.set()
    worker.join(10)
    canceller.join(10)
    assert order == ["renewal committed", "cancel committed"]

    db.session.expire_all()
    assert db.session.get(RecurringSupport, support.id).state == SupportState.CANCELLED
    before = fake_stripe.count("payment_intent")
    for months in range(1, 4):
        batches.renew_due(due + timedelta(days=31 * months))
    assert fake_stripe.count("payment_intent") == before  # nothing after the cancel
    assert len(booked(support)) == 2  # the renewal the processor made before the cancel is booked
