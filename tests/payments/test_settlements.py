"""A settlement whose balance transaction was not ready when the payment events came is read again later:
by charge.updated, or by the periodic job when that event is lost. No paid pledge stays without its fee."""
from __future__ import annotations

from tests.payments.money_helpers import deliver, entries, keep_it_all, paid_pledge
from tests.payments.support import fresh
from webapp.extensions import db
from webapp.jobs import PERIODIC
from webapp.payments import reconcile, tasks
from webapp.clock import utcnow


def late_pledge(fake, amount: int = 2_500, email: str = "afi@example.org"):
    fake.settle_immediately = False
    campaign = keep_it_all(goal=100_000)
    pledge = paid_pledge(fake, campaign, amount, email=email)
    db.session.commit()
    pledge = fresh(pledge)
    assert pledge.settled_fee is None and entries(kind="processor_fee") == []
    return pledge, fake.objects[pledge.payment_intent_id]["latest_charge"]


def test_charge_updated_brings_the_fee_and_net_when_the_balance_transaction_appears(client, fake_stripe):
    pledge, charge_id = late_pledge(fake_stripe)
    [updated] = fake_stripe.settle_late(charge_id)
    assert updated["type"] == "charge.updated"
    deliver([updated, updated])
    pledge = fresh(pledge)
    txn = fake_stripe.objects[fake_stripe.objects[charge_id]["balance_transaction"]]
    assert (pledge.settled_amount, pledge.settled_fee, pledge.settled_currency) == (txn["net"], txn["fee"], "EUR")
    assert [e.amount for e in entries(kind="processor_fee")] == [txn["fee"]]
    today = utcnow().date()
    assert reconcile.reconcile(today, today) == []


def test_the_periodic_job_reads_settlements_whose_event_never_came(client, fake_stripe):
    assert any(job.task == "payments.record_late_settlements" for job in PERIODIC)
    pledge, charge_id = late_pledge(fake_stripe)
    other, other_charge = late_pledge(fake_stripe, 1_800, "kofi@example.org")
    assert tasks.record_late_settlements.apply().get() == (0, 2)  # nothing booked yet at the processor
    fake_stripe.settle(charge_id)  # booked, but charge.updated is lost
    fake_stripe.settle(other_charge)
    assert tasks.record_late_settlements.apply().get() == (2, 0)
    assert fresh(pledge).settled_fee is not None and fresh(other).settled_fee is not None
    assert len(entries(kind="processor_fee")) == 2
    assert tasks.record_late_settlements.apply().get() == (0, 0)  # once known, never read again
    assert len(entries(kind="processor_fee")) == 2
    today = utcnow().date()
    assert reconcile.reconcile(today, today) == []
