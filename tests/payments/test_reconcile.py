"""`flask ledger reconcile`: the ledger against the processor's balance transactions.

Money moves through the StripeProvider against the fake Stripe (pledges paid, committed pledges
charged at the close, refunds, a dispute); the two sides agree. Then discrepancies are planted in
the fake's balance history — an extra transaction, a changed amount, a missing one — or in our
records (a lost webhook, a double charge), and each is listed, with exit status 1.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from tests.payments.money_helpers import (
    all_or_nothing,
    close_and_collect,
    committed_pledge,
    deliver,
    deliver_pending,
    keep_it_all,
    organizer_of,
    paid_pledge,
)
from tests.payments.support import fresh, load_rates, pay, submit_pledge, the_pledge
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.ledger import services as ledger
from webapp.ledger.models import LedgerEntry
from webapp.money import Money
from webapp.payments import reconcile, refunds
from webapp.payments.models import ChargeTiming, Pledge, PledgeStatus
from webapp.payments.providers import get_provider
from webapp.payments.reconcile import AMOUNT_DIFFERS, MISSING_AT_PROCESSOR, MISSING_IN_LEDGER, Difference

P = PledgeStatus


def period() -> tuple:
    today = utcnow().date()
    return today - timedelta(days=1), today


def run(app, first=None, last=None):
    first, last = (first, last) if first else period()
    return app.test_cli_runner().invoke(args=["ledger", "reconcile", "--from", f"{first:%Y-%m-%d}",
                                              "--to", f"{last:%Y-%m-%d}"])


def txn_of(fake, source: str) -> dict:
    [txn] = [t for t in fake.balance_transactions if t["source"] == source]
    return txn


@pytest.fixture
def money_moved(fake_stripe):
    """Pledges paid at once, pledges charged at the close, a partial refund, a dispute."""
    shop = keep_it_all(goal=100_000)
    owner = organizer_of(shop)
    refunded = paid_pledge(fake_stripe, shop, 2_500, email="a@example.org")
    disputed = paid_pledge(fake_stripe, shop, 4_000, email="b@example.org")
    plain = paid_pledge(fake_stripe, shop, 1_800, email="c@example.org")
    mill = all_or_nothing(goal=1_000)
    charged = [committed_pledge(fake_stripe, mill, 1_000 + i, email=f"m{i}@example.org") for i in range(2)]
    close_and_collect(fake_stripe, mill)
    refunds.request_refund(fresh(refunded), owner, Money(1_000, "EUR"), "Reward out of stock")
    db.session.commit()
    deliver_pending(fake_stripe)
    deliver(fake_stripe.dispute(disputed.payment_intent_id))
    return {"refunded": fresh(refunded), "disputed": fresh(disputed), "plain": fresh(plain),
            "charged": [fresh(p) for p in charged]}


def test_the_ledger_and_the_processor_agree_after_charges_refunds_and_a_dispute(app, money_moved, fake_stripe):
    assert reconcile.reconcile(*period()) == []
    # every kind of movement was there to compare
    assert {t["type"] for t in fake_stripe.balance_transactions} == {"charge", "refund", "adjustment"}
    assert {e.kind for e in db.session.scalars(db.select(LedgerEntry))} >= {"charge", "processor_fee", "refund",
                                                                            "dispute"}
    result = run(app)
    assert result.exit_code == 0, result.output
    assert "agree" in result.output


def test_an_extra_transaction_a_changed_amount_and_a_missing_one_are_each_listed(app, money_moved, fake_stripe):
    plain, refunded = money_moved["plain"], money_moved["refunded"]
    extra = fake_stripe.plant_balance_transaction(500, "EUR", type="adjustment", description="unexplained")
    changed = txn_of(fake_stripe, plain.charge_id)
    changed["amount"] += 100
    changed["net"] += 100
    [refund_txn] = [t for t in fake_stripe.balance_transactions if t["type"] == "refund"]
    fake_stripe.balance_transactions.remove(refund_txn)

    differences = reconcile.reconcile(*period())

    assert set(differences) == {
        Difference(MISSING_IN_LEDGER, "other", None, extra["id"], processor=Money(500, "EUR"),
                   note="balance transaction"),
        Difference(AMOUNT_DIFFERS, "charge", plain.id, changed["id"], ledger=Money(1_800, "EUR"),
                   processor=Money(1_900, "EUR")),
        Difference(MISSING_AT_PROCESSOR, "refund", refunded.id, refunded.charge_id, ledger=Money(1_000, "EUR")),
    }
    result = run(app)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert len(lines) == 4 and lines[-1].startswith("3 difference(s) between the ledger and stripe")
    assert any(extra["id"] in line and "missing_in_ledger" in line and "processor 500 EUR" in line for line in lines)
    assert any(changed["id"] in line and "amount_differs" in line and "ledger 1800 EUR, processor 1900 EUR" in line
               for line in lines)
    assert any(f"pledge {refunded.id}" in line and "missing_at_processor" in line and "refund" in line
               for line in lines)


def test_a_lost_webhook_leaves_the_fee_out_of_the_ledger_and_is_listed(app, fake_stripe):
    mill = all_or_nothing(goal=1_000)
    pledge = committed_pledge(fake_stripe, mill, 2_000)
    close_and_collect(None, mill)  # charged, but payment_intent.succeeded never arrives
    fake_stripe.take_events()
    pledge = fresh(pledge)
    assert pledge.status == P.PAID and pledge.charge_id is None

    [difference] = reconcile.reconcile(*period())

    fee = txn_of(fake_stripe, fake_stripe.objects[pledge.payment_intent_id]["latest_charge"])
    assert difference == Difference(MISSING_IN_LEDGER, "fee", pledge.id, fee["id"],
                                    processor=Money(fee["fee"], "EUR"))


def test_a_second_charge_of_a_pledge_is_listed(app, fake_stripe):
    mill = all_or_nothing(goal=1_000)
    pledge = committed_pledge(fake_stripe, mill, 2_000)
    close_and_collect(fake_stripe, mill)
    pledge = fresh(pledge)
    get_provider().charge_off_session(pledge.customer_id, pledge.payment_method_id, pledge.charge, "another-key",
                                      {"pledge_id": str(pledge.id)})

    differences = reconcile.reconcile(*period())

    assert [(d.problem, d.movement, d.pledge_id) for d in differences] == [
        (MISSING_IN_LEDGER, "charge", pledge.id), (AMOUNT_DIFFERS, "fee", pledge.id)]
    assert differences[0].note == "a further charge for a pledge the ledger booked once"
    assert differences[1].processor.amount == 2 * differences[1].ledger.amount


def test_a_charge_the_processor_never_made_is_listed(app, money_moved, fake_stripe):
    plain = money_moved["plain"]
    fake_stripe.balance_transactions.remove(txn_of(fake_stripe, plain.charge_id))

    differences = reconcile.reconcile(*period())

    assert [(d.problem, d.movement, d.pledge_id) for d in differences] == [
        (MISSING_AT_PROCESSOR, "charge", plain.id), (MISSING_AT_PROCESSOR, "fee", plain.id)]


def test_charges_settled_in_another_currency_are_compared_with_the_settled_figures(app, fake_stripe):
    load_rates(utcnow().date(), USD="1.0825")
    fake_stripe.settlement_currency = "eur"
    fake_stripe.exchange_rates = {"usd": Decimal("0.9200")}
    shop = keep_it_all(goal=100_000, accepts_backer_currency=True)
    owner = organizer_of(shop)
    pledge = paid_pledge(fake_stripe, shop, 2_500, pay_currency="USD")
    assert (pledge.charge_currency, pledge.settled_currency) == ("USD", "EUR")
    refunds.request_refund(pledge, owner, Money(1_000, "EUR"), "Partly delivered")
    db.session.commit()
    deliver_pending(fake_stripe)

    assert reconcile.reconcile(*period()) == []

    charge = txn_of(fake_stripe, fresh(pledge).charge_id)
    charge["amount"] -= 7
    [difference] = reconcile.reconcile(*period())
    assert (difference.problem, difference.movement, difference.processor.currency) == (AMOUNT_DIFFERS, "charge", "EUR")


def test_movements_are_paired_across_midnight_at_the_edges_of_the_period():
    day = utcnow().date() - timedelta(days=3)
    pledge = Pledge(id=7, reference="r7", amount=1_000, currency="EUR", charge_amount=1_000, charge_currency="EUR",
                    charge_id="ch_7", payment_intent_id="pi_7", refunded_amount=0, provider="stripe",
                    charge_timing=ChargeTiming.NOW)
    booked = LedgerEntry(key="charge:pledge:7", kind="charge", debit_account="processor:stripe",
                         credit_account="campaign:1", amount=1_000, currency="EUR", cause="pledge:7",
                         processor_ref="ch_7", occurred_at=datetime.combine(day, datetime.max.time()))
    midnight = int(datetime.combine(day + timedelta(days=1), datetime.min.time()).timestamp()) + 1
    txn = {"id": "txn_7", "type": "charge", "amount": 1_000, "fee": 0, "currency": "eur", "created": midnight,
           "source": {"id": "ch_7", "object": "charge", "payment_intent": "pi_7"}}
    the_day = reconcile.period_bounds(day, day)

    assert reconcile.compare([txn], [booked], [pledge], the_day) == []
    assert reconcile.compare([], [booked], [pledge], the_day) == [
        Difference(MISSING_AT_PROCESSOR, "charge", 7, "ch_7", ledger=Money(1_000, "EUR"))]
    next_day = reconcile.period_bounds(day + timedelta(days=1), day + timedelta(days=1))
    assert reconcile.compare([txn], [], [pledge], next_day) == [
        Difference(MISSING_IN_LEDGER, "charge", 7, "txn_7", processor=Money(1_000, "EUR"))]


def test_the_sandbox_reconciles_against_its_own_history(app, client):
    from tests.campaigns.helpers import sign_in
    from flask import url_for

    shop = keep_it_all(goal=100_000)
    owner = organizer_of(shop)
    db.session.commit()
    pay(client, submit_pledge(client, shop, "25"))
    pledge = the_pledge(shop)
    sign_in(client, owner)
    client.post(url_for("money.refund", reference=pledge.reference), data={"amount": "5", "reason": "Too much"})
    pledge = fresh(pledge)
    assert (pledge.status, pledge.refunded_amount, pledge.provider) == (P.PAID, 500, "sandbox")

    result = run(app)
    assert result.exit_code == 0, result.output

    ledger.book(key="stray", kind="adjustment", debit=ledger.processor("sandbox"), credit=ledger.PLATFORM_REVENUE,
                money=Money(300, "EUR"), cause="manual")
    db.session.commit()
    result = run(app)
    assert result.exit_code == 1
    assert "missing_at_processor adjustment" in result.output and "ledger entry stray" in result.output


@pytest.mark.parametrize("args", [["--from", "2026-05-02", "--to", "2026-05-01"], ["--from", "May 1", "--to", "x"]])
def test_a_malformed_period_is_refused(app, args):
    result = app.test_cli_runner().invoke(args=["ledger", "reconcile", *args])
    assert result.exit_code == 2
