"""The events of recurring support, replayed and reordered: whatever the order and however often they arrive,
each period is booked once, the gift ends active on the period after the last one paid, and the card saved
is the one the events name."""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.payments.recurring.helpers import association, supporter
from tests.payments.support import signature
from webapp.extensions import db
from webapp.ledger import services as ledger
from webapp.ledger.models import LedgerEntry
from webapp.money import Money
from webapp.payments import webhooks
from webapp.payments.recurring import schedule
from webapp.payments.recurring import services as recurring
from webapp.payments.recurring.models import RecurringCharge, SupportInterval, SupportState

_counter = iter(range(10**9))


def _event(kind: str, obj: dict) -> dict:
    return {"id": f"evt_rec_{next(_counter)}", "object": "event", "type": kind, "created": 1_790_000_000,
            "livemode": False, "data": {"object": obj}}


def events_of(support, periods: list[str]) -> list[dict]:
    """What the processor sends for a first period paid on Checkout and renewals paid off-session."""
    out = []
    for i, period in enumerate(periods):
        metadata = recurring.processor_metadata(support, period)
        intent = {"id": f"pi_rec_{support.id}_{period}", "object": "payment_intent", "status": "succeeded",
                  "amount": support.amount, "currency": support.currency.lower(), "customer": "cus_rec_1",
                  "payment_method": "pm_rec_first" if i == 0 else "pm_rec_first",
                  "latest_charge": f"ch_rec_{support.id}_{period}", "metadata": metadata}
        if i == 0:
            intent["setup_future_usage"] = "off_session"
            out.append(_event("checkout.session.completed", {
                "id": support.checkout_session_id or f"cs_rec_{support.id}", "object": "checkout.session",
                "mode": "payment", "status": "complete", "payment_status": "paid", "customer": "cus_rec_1",
                "payment_intent": intent["id"], "metadata": metadata}))
        out.append(_event("payment_intent.succeeded", intent))
    return out


def receive(evt: dict) -> int:
    payload = json.dumps(evt).encode()
    status, _ = webhooks.receive(payload, signature(payload))
    return status


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_each_period_is_booked_once_whatever_the_order_and_repeats(data):
    n = data.draw(st.integers(1, 4), label="periods paid")
    user, org = supporter(email=f"p{next(_counter)}@example.org"), _org() or association()
    support = recurring.start(user, org, Money(3_000, "EUR"), SupportInterval.MONTHLY, "Europe/Paris", "fr")
    db.session.commit()
    periods = [support.next_period]
    for _ in range(n - 1):
        periods.append(schedule.following(periods[-1], support.interval))
    evts = events_of(support, periods)
    order = data.draw(st.permutations(range(len(evts))), label="order")
    repeats = data.draw(st.lists(st.tuples(st.integers(0, len(evts) - 1), st.integers(0, len(evts))), max_size=5),
                        label="redeliveries")
    deliveries = list(order)
    for index, position in repeats:
        deliveries.insert(position, index)

    seen: set[str] = set()
    for index in deliveries:
        entries_before = _entries(support)
        assert receive(evts[index]) == 200
        if evts[index]["id"] in seen:
            assert _entries(support) == entries_before  # a redelivery books nothing
        seen.add(evts[index]["id"])
        balances: dict[str, int] = {}
        for (_account, currency), value in ledger.trial_balance().items():
            balances[currency] = balances.get(currency, 0) + value
        assert all(v == 0 for v in balances.values())

    db.session.expire_all()
    support = db.session.get(type(support), support.id)
    assert support.state == SupportState.ACTIVE
    assert support.next_period == schedule.following(periods[-1], support.interval)
    statuses = dict(db.session.execute(select(RecurringCharge.period, RecurringCharge.status)
                                       .where(RecurringCharge.support_id == support.id)).all())
    assert statuses == {p: "succeeded" for p in periods}
    assert _entries(support, "recurring_charge") == n
    assert _entries(support, "processor_fee") == n  # each period's fee, read from its settlement once
    assert recurring.saved_method(user.id).payment_method_id == "pm_rec_first"


def _org():
    from webapp.organizations.models import Organization

    return db.session.scalar(select(Organization).where(Organization.slug == "ganvie-solidarite"))


def _entries(support, kind: str | None = None) -> int:
    query = select(func.count()).select_from(LedgerEntry).where(LedgerEntry.cause == f"recurring:{support.id}")
    return db.session.scalar(query.where(LedgerEntry.kind == kind) if kind else query)


def _charge_event(kind: str, support, period: str, **fields) -> dict:
    obj = {"id": f"ch_rec_{support.id}_{period}", "object": "charge", "payment_intent": f"pi_rec_{support.id}_{period}",
           "amount": support.amount + support.tip_amount, "currency": support.currency.lower(), "status": "succeeded",
           "metadata": recurring.processor_metadata(support, period), **fields}
    return _event(kind, obj)


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_refunds_of_a_period_end_in_the_same_ledger_whatever_the_order_and_repeats(data):
    """The payment, then refunds whose cumulative figures grow (the last one whole or not), delivered in any
    order and again; what Stripe is told to deliver later (a refund before its payment) comes again at the end."""
    user, org = supporter(email=f"r{next(_counter)}@example.org"), _org() or association()
    support = recurring.start(user, org, Money(3_000, "EUR"), SupportInterval.MONTHLY, "Europe/Paris", "fr",
                              tip=Money(300, "EUR"))
    db.session.commit()
    period = support.next_period
    charged = support.amount + support.tip_amount
    steps = sorted(set(data.draw(st.lists(st.integers(1, charged - 1), min_size=1, max_size=3), label="partial")))
    if data.draw(st.booleans(), label="ends whole"):
        steps.append(charged)
    evts = events_of(support, [period])
    evts += [_charge_event("charge.refunded", support, period, amount_refunded=total, refunded=total >= charged)
             for total in steps]
    order = data.draw(st.permutations(range(len(evts))), label="order")
    repeats = data.draw(st.lists(st.integers(0, len(evts) - 1), max_size=3), label="redeliveries")
    later = []
    for index in [*order, *repeats]:
        if receive(evts[index]) != 200:
            later.append(index)  # the processor delivers it again
    for index in later:
        assert receive(evts[index]) == 200

    db.session.expire_all()
    charge = db.session.scalar(select(RecurringCharge).where(RecurringCharge.support_id == support.id))
    booked_gift = ledger_entry(f"charge:recurring:{support.id}:{period}").amount
    booked_tip = ledger_entry(f"tip:recurring:{support.id}:{period}").amount
    refunds = db.session.scalars(select(LedgerEntry).where(LedgerEntry.cause == f"recurring:{support.id}",
                                                           LedgerEntry.kind == "refund")).all()
    whole = steps[-1] >= charged
    tip_back = ledger_entry(f"tip_return:recurring:{support.id}:{period}")
    assert sum(e.amount for e in refunds) == charge.refunded_amount
    # the last cumulative figure decides, as a share of gift and tip in the booked currency
    assert charge.refunded_amount == (booked_gift if whole else
                                      min(booked_gift, (booked_gift + booked_tip) * steps[-1] // charged))
    assert (tip_back is not None) == whole
    balances: dict[str, int] = {}
    for (_account, currency), value in ledger.trial_balance().items():
        balances[currency] = balances.get(currency, 0) + value
    assert all(v == 0 for v in balances.values())


def ledger_entry(key: str):
    return db.session.scalar(select(LedgerEntry).where(LedgerEntry.key == key))
