"""A whole month through the fake Stripe — pledges, refunds, a won and a lost dispute, transfers to
organizations (one partly reversed), payouts to the platform's bank (one failed) — reconciles with no
difference; a payout whose events never reached us is then the one difference listed.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.payments.money_helpers import (
    all_or_nothing,
    close_and_collect,
    committed_pledge,
    deliver,
    deliver_pending,
    entries,
    keep_it_all,
    organizer_of,
    paid_pledge,
)
from tests.payments.support import fresh
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.ledger import services as ledger
from webapp.money import Money
from webapp.payments import batches, refunds, reconcile
from webapp.payments.models import Transfer, TransferStatus
from webapp.payments.payouts import services as payouts
from webapp.payments.reconcile import MISSING_IN_LEDGER, Difference
from webapp.payments.views.organizer import statement


def this_month() -> tuple:
    today = utcnow().date()
    return today.replace(day=1), today


def connect(fake, campaign, owner) -> None:
    campaign.organization.country = "FR"  # where Stripe Connect can pay (the factory's is Senegal)
    payouts.onboarding_link(campaign.organization, owner.email, return_url="http://harambee.test/back",
                            refresh_url="http://harambee.test/back")
    db.session.commit()
    account = payouts.account_of(campaign.organization)
    deliver(fake.onboard(account.processor_account_id))


def test_a_month_of_pledges_refunds_disputes_transfers_and_payouts_reconciles_and_a_lost_payout_is_listed(
        app, fake_stripe):
    fake = fake_stripe
    # pledges paid at once, with a partial refund and two disputes (won, lost)
    shop = keep_it_all(goal=100_000, title="Fournil coopératif")
    owner = organizer_of(shop)
    refunded = paid_pledge(fake, shop, 2_500, email="a@example.org")
    won = paid_pledge(fake, shop, 4_000, email="b@example.org")
    lost = paid_pledge(fake, shop, 1_800, email="c@example.org")
    paid_pledge(fake, shop, 3_000, email="d@example.org", tip=200)
    refunds.request_refund(fresh(refunded), owner, Money(1_000, "EUR"), "Reward out of stock")
    db.session.commit()
    deliver_pending(fake)
    for pledge, outcome in ((won, True), (lost, False)):
        created, withdrawn = fake.dispute(pledge.payment_intent_id)
        deliver([created, withdrawn, *fake.close_dispute(created["data"]["object"]["id"], won=outcome)])
    # pledges charged at a campaign's success
    mill = all_or_nothing(goal=1_000, title="Moulin")
    mill_owner = organizer_of(mill)
    for i in range(2):
        committed_pledge(fake, mill, 1_500 + i, email=f"m{i}@example.org")
    close_and_collect(fake, mill)

    # both campaigns succeed and are transferred to their organizations' connected accounts
    close_and_collect(fake, shop)
    connect(fake, shop, owner)
    connect(fake, mill, mill_owner)
    later = utcnow() + timedelta(days=app.config["PAYOUT_HOLD_DAYS"], minutes=1)
    assert batches.pay_out_due(later) == 2
    deliver_pending(fake)  # transfer.created
    transfers = db.session.scalars(select(Transfer).order_by(Transfer.id)).all()
    sent = [t for t in transfers if t.status == TransferStatus.SENT]
    # one transfer per charge; the charge lost to a dispute has nothing to pass on, and the fees it left on
    # the campaign are borne by the campaign's first other charge (which had 1,500 left after its refund)
    assert len(transfers) == 6 and all(t.processor_transfer_id for t in sent)
    assert {t.pledge_id for t in transfers if t.status == TransferStatus.NOTHING} == {lost.id, refunded.id}
    assert len(entries(kind="transfer_out")) == len(sent) == 4
    assert ledger.balance(ledger.campaign_account(shop.id), "EUR") == Money(0, "EUR")

    # part of one transfer is reversed from the Dashboard
    mill_transfer = next(t for t in transfers if t.campaign_id == mill.id)
    stripe_client = __import__("stripe").StripeClient("sk_test_fake", base_addresses={"api": fake.url})
    stripe_client.v1.transfers.reversals.create(mill_transfer.processor_transfer_id, params={"amount": 500})
    deliver_pending(fake)  # transfer.reversed
    assert [e.amount for e in entries(kind="transfer_reversal")] == [500]
    mill_sent = sum(t.campaign_amount for t in sent if t.campaign_id == mill.id)
    assert statement(db.session.get(type(mill), mill.id))["transfers"].amount == mill_sent - 500

    # Stripe pays the rest of the balance out to the platform's bank; one payout fails and comes back
    [created] = fake.automatic_payout("eur")
    payout_id = created["data"]["object"]["id"]
    failed = fake.finish_payout(payout_id, failure_code="account_closed")
    deliver([created, *failed])
    [created_again] = fake.automatic_payout("eur")
    deliver([created_again, *fake.finish_payout(created_again["data"]["object"]["id"])])
    assert {e.kind for e in entries()} >= {"charge", "processor_fee", "refund", "dispute", "dispute_reinstated",
                                          "processor_fee_return", "transfer", "transfer_out", "transfer_reversal",
                                          "transfer_reversal_in", "payout", "payout_return", "tip"}
    kinds = {t["type"] for t in fake.balance_transactions}
    assert kinds >= {"charge", "refund", "adjustment", "transfer", "transfer_refund", "payout", "payout_failure"}
    # the processor's balance in the ledger is what the fake holds: nothing left once paid out
    assert fake.available_balance("eur") == 0
    assert ledger.balance(ledger.processor("stripe"), "EUR") == Money(0, "EUR")

    assert reconcile.reconcile(*this_month()) == []
    result = app.test_cli_runner().invoke(args=["ledger", "reconcile", "--from", f"{this_month()[0]:%Y-%m-%d}",
                                                "--to", f"{this_month()[1]:%Y-%m-%d}"])
    assert result.exit_code == 0, result.output

    # a payout whose events never reached us: exactly that balance transaction is listed
    paid_pledge(fake, keep_it_all(goal=100_000, title="Atelier"), 2_000, email="e@example.org")
    [lost_created] = fake.automatic_payout("eur")  # its payout.* events are lost
    lost_payout = lost_created["data"]["object"]
    assert reconcile.reconcile(*this_month()) == [
        Difference(MISSING_IN_LEDGER, "other", None, lost_payout["balance_transaction"],
                   processor=Money(-lost_payout["amount"], "EUR"), note=f"payout {lost_payout['id']}")]
