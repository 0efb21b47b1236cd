"""What the stricter fake showed about the application's webhook handling, now fixed.

They were real-money defects, first written as strict xfails: an inquiry booked as a chargeback, a
won dispute never reinstated (webapp/payments/disputes.py), a late balance transaction never read
(charge.updated and the periodic re-read, webapp/payments/settlements.py).
"""
from __future__ import annotations

import pytest

from tests.payments.money_helpers import deliver, entries, keep_it_all, paid_pledge
from tests.payments.support import fresh
from webapp.extensions import db


@pytest.fixture
def pledge(fake_stripe):
    campaign = keep_it_all(goal=100_000, title="Fournil coopératif")
    pledge = paid_pledge(fake_stripe, campaign, 2_500, email="afi@example.org")
    db.session.commit()
    return pledge


def test_an_inquiry_books_no_dispute(client, fake_stripe, pledge):
    deliver(fake_stripe.dispute(pledge.payment_intent_id, inquiry=True))
    assert entries(kind="dispute") == []
    assert fresh(pledge).disputed_at is None


def test_a_won_dispute_gives_the_money_back_to_the_ledger(client, fake_stripe, pledge):
    [created, withdrawn] = fake_stripe.dispute(pledge.payment_intent_id)
    deliver([created, withdrawn])
    assert sum(e.amount for e in entries(kind="dispute")) == 2_500
    deliver(fake_stripe.close_dispute(created["data"]["object"]["id"], won=True))
    # entries are never changed: the reinstatement is a second entry, in the other direction
    assert sum(e.amount for e in entries(kind="dispute")) - sum(e.amount for e in entries(kind="dispute_reinstated")) == 0


def test_a_balance_transaction_that_appears_later_is_recorded(client, fake_stripe):
    fake_stripe.settle_immediately = False
    campaign = keep_it_all(goal=100_000, title="Fournil coopératif")
    late = paid_pledge(fake_stripe, campaign, 2_500, email="afi@example.org")
    db.session.commit()
    assert fresh(late).settled_fee is None
    charge_id = fake_stripe.objects[late.payment_intent_id]["latest_charge"]
    deliver(fake_stripe.settle_late(charge_id))
    assert fresh(late).settled_fee is not None
