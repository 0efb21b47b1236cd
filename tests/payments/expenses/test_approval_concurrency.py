"""Two approvals at the same moment, on real concurrent PostgreSQL connections, never overdraw a campaign."""
from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from config import TestConfig
from tests.payments.expenses.helpers import expense, world
from webapp.extensions import db
from webapp.payments.expenses import services as expenses
from webapp.payments.expenses.models import Expense, ExpenseState

pytestmark = pytest.mark.pg_only


@pytest.fixture
def worker_app(app):
    from webapp import create_app

    settings = {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 4, "max_overflow": 0, "pool_timeout": 60}}
    worker = create_app(type("ConcurrentTestConfig", (TestConfig,), settings))
    yield worker
    with worker.app_context():
        db.engine.dispose()


def at_once(jobs):
    barrier = threading.Barrier(len(jobs))

    def start(job):
        barrier.wait()
        try:
            return job()
        except Exception as exc:  # reported by the test
            return exc

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(start, jobs))


@pytest.mark.parametrize("run", range(3))
def test_two_simultaneous_approvals_cannot_overdraw_the_campaign(app, worker_app, run):
    w = world(route="host", raised=1_000_000, fee_bp=0)
    first, second = expense(w, 600_000), expense(w, 500_000)  # each fits alone, not both
    approvers = {first.id: w.host_owner.id, second.id: w.host_editor.id}
    db.session.commit()

    def approving(expense_id):
        def job():
            with worker_app.test_request_context():
                try:
                    from webapp.accounts.models import User

                    e = db.session.get(Expense, expense_id)
                    done = expenses.approve(e, db.session.get(User, approvers[expense_id]))
                    db.session.commit()
                    return "approved" if done else "first"
                except expenses.Overdraw:
                    db.session.rollback()
                    return "overdraw"
                finally:
                    db.session.remove()
        return job

    results = at_once([approving(first.id), approving(second.id)])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert Counter(results) == {"approved": 1, "overdraw": 1}
    db.session.expire_all()
    states = Counter(db.session.get(Expense, i).state for i in (first.id, second.id))
    assert states == {ExpenseState.APPROVED: 1, ExpenseState.SUBMITTED: 1}
    assert expenses.promised(db.session.get(Expense, first.id).campaign).amount <= 1_000_000


def test_without_the_lock_the_same_race_would_overdraw(app, worker_app, monkeypatch):
    """The test above can fail: with the lock taken away, both approvals read the same balance."""
    monkeypatch.setattr(expenses, "_lock_campaign", lambda campaign: None)
    w = world(route="host", raised=1_000_000, fee_bp=0)
    first, second = expense(w, 600_000), expense(w, 500_000)
    ids = {first.id: w.host_owner.id, second.id: w.host_editor.id}
    db.session.commit()
    gate = threading.Barrier(2)
    real_available = expenses.available

    def slow_available(campaign):
        value = real_available(campaign)
        gate.wait(timeout=10)  # both have read before either writes
        return value

    monkeypatch.setattr(expenses, "available", slow_available)

    def approving(expense_id):
        def job():
            with worker_app.test_request_context():
                from webapp.accounts.models import User

                try:
                    expenses.approve(db.session.get(Expense, expense_id), db.session.get(User, ids[expense_id]))
                    db.session.commit()
                    return "approved"
                finally:
                    db.session.remove()
        return job

    results = at_once([approving(first.id), approving(second.id)])
    assert results == ["approved", "approved"]
