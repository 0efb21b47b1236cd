"""What each payment event books in the ledger, in the campaign's currency."""
from __future__ import annotations

from sqlalchemy import select

from webapp.extensions import db
from webapp.ledger import services as ledger
from webapp.ledger.models import LedgerEntry
from webapp.money import Money
from webapp.payments import fx
from webapp.payments.hosts import services as hosts
from webapp.payments.models import Pledge


def book_charge(pledge: Pledge) -> None:
    """The backer's money reached the processor on the campaign's behalf (and the tip, the platform's)."""
    processor_money = pledge.charge if pledge.charge_currency != pledge.currency else None
    ledger.book(key=f"charge:pledge:{pledge.id}", kind="charge", debit=ledger.processor(pledge.provider),
                credit=ledger.campaign_account(pledge.campaign_id), money=pledge.money, cause=f"pledge:{pledge.id}",
                campaign_id=pledge.campaign_id, memo="Pledge",  # never the backer's name: ledger rows outlive an account's erasure
                processor_ref=pledge.charge_id or pledge.payment_intent_id, processor_money=processor_money)
    if pledge.tip_amount:
        ledger.book(key=f"tip:pledge:{pledge.id}", kind="tip", debit=ledger.processor(pledge.provider),
                    credit=ledger.PLATFORM_REVENUE, money=Money(pledge.tip_amount, pledge.currency),
                    cause=f"pledge:{pledge.id}", campaign_id=None, memo="Tip to the platform")


def book_processor_fee(pledge: Pledge) -> None:
    """The processor's fee, borne by the campaign; converted when the processor settles in another currency."""
    fee = pledge.fee
    if fee is None or fee.amount == 0:
        return
    in_campaign = fee if fee.currency == pledge.currency else fx.convert(fee, pledge.currency).converted
    ledger.book(key=f"fee:pledge:{pledge.id}", kind="processor_fee", debit=ledger.campaign_account(pledge.campaign_id),
                credit=ledger.processor(pledge.provider), money=in_campaign, cause=f"pledge:{pledge.id}",
                campaign_id=pledge.campaign_id, memo="Processing fee", processor_ref=pledge.charge_id,
                processor_money=fee if fee.currency != pledge.currency else None)


def book_refund(pledge: Pledge, refunded_before: int) -> None:
    """The refunded total grew: book the difference, keyed by the new total so a repeat books nothing."""
    delta = pledge.refunded_amount - refunded_before
    if delta <= 0:
        return
    ledger.book(key=f"refund:pledge:{pledge.id}:{pledge.refunded_amount}", kind="refund",
                debit=ledger.campaign_account(pledge.campaign_id), credit=ledger.processor(pledge.provider),
                money=Money(delta, pledge.currency), cause=f"pledge:{pledge.id}", campaign_id=pledge.campaign_id,
                memo="Refund", processor_ref=pledge.charge_id)
    hosts.settle_with_host(pledge.campaign_id, f"refund:pledge:{pledge.id}:{pledge.refunded_amount}")


def book_tip_return(pledge: Pledge, why: str) -> None:
    """A full refund or a chargeback returns the whole charge to the backer, the platform's tip included."""
    if not pledge.tip_amount:
        return
    ledger.book(key=f"tip_return:pledge:{pledge.id}", kind=f"tip_{why}", debit=ledger.PLATFORM_REVENUE,
                credit=ledger.processor(pledge.provider), money=Money(pledge.tip_amount, pledge.currency),
                cause=f"pledge:{pledge.id}", campaign_id=None, memo="Tip returned to the backer",
                processor_ref=pledge.charge_id)


def _in_campaign_currency(pledge: Pledge, fee: Money) -> Money:
    return fee if fee.currency == pledge.currency else fx.convert(fee, pledge.currency).converted


def book_dispute(pledge: Pledge, disputed_charge: int | None = None, fee: Money | None = None) -> None:
    """A chargeback: the processor takes the disputed money back from the campaign (and the platform's tip),
    and its dispute fee. `disputed_charge` is in the charge's currency (None: all that was not refunded).

    Keyed per pledge (a charge has at most one dispute): whichever event shows the withdrawal books it once.
    """
    if fee is not None and fee.amount > 0:
        ledger.book(key=f"dispute_fee:pledge:{pledge.id}", kind="processor_fee",
                    debit=ledger.campaign_account(pledge.campaign_id), credit=ledger.processor(pledge.provider),
                    money=_in_campaign_currency(pledge, fee), cause=f"pledge:{pledge.id}",
                    campaign_id=pledge.campaign_id, memo="Dispute fee", processor_ref=pledge.charge_id,
                    processor_money=fee if fee.currency != pledge.currency else None)
    remaining = pledge.amount - pledge.refunded_amount
    tip = pledge.tip_amount or 0
    if disputed_charge is None or disputed_charge >= pledge.charge_amount:
        campaign_part, tip_part = remaining, tip
    else:  # the same share of pledge and tip as the charge carried them, the pledge's part first
        share = (pledge.amount + tip) * disputed_charge // pledge.charge_amount
        campaign_part = min(remaining, share)
        tip_part = min(tip, share - campaign_part)
    if campaign_part > 0:
        ledger.book(key=f"dispute:pledge:{pledge.id}", kind="dispute",
                    debit=ledger.campaign_account(pledge.campaign_id), credit=ledger.processor(pledge.provider),
                    money=Money(campaign_part, pledge.currency), cause=f"pledge:{pledge.id}",
                    campaign_id=pledge.campaign_id, memo="Dispute (chargeback)", processor_ref=pledge.charge_id)
    hosts.settle_with_host(pledge.campaign_id, f"dispute:pledge:{pledge.id}")
    if tip_part > 0:  # the chargeback takes the whole charge back, the tip in it included
        ledger.book(key=f"tip_return:pledge:{pledge.id}", kind="tip_dispute", debit=ledger.PLATFORM_REVENUE,
                    credit=ledger.processor(pledge.provider), money=Money(tip_part, pledge.currency),
                    cause=f"pledge:{pledge.id}", campaign_id=None, memo="Tip returned to the backer",
                    processor_ref=pledge.charge_id)


def book_dispute_reinstated(pledge: Pledge, fee_returned: Money | None = None) -> None:
    """A won chargeback: what the withdrawal took comes back, entry for entry, and the fee if returned."""
    withdrawn = _entry(f"dispute:pledge:{pledge.id}")
    if withdrawn is not None:
        ledger.book(key=f"dispute_reinstated:pledge:{pledge.id}", kind="dispute_reinstated",
                    debit=ledger.processor(pledge.provider), credit=ledger.campaign_account(pledge.campaign_id),
                    money=withdrawn.money, cause=f"pledge:{pledge.id}", campaign_id=pledge.campaign_id,
                    memo="Dispute won: money back", processor_ref=pledge.charge_id)
    tip = _entry(f"tip_return:pledge:{pledge.id}")
    if tip is not None and tip.kind == "tip_dispute":
        ledger.book(key=f"tip_dispute_reinstated:pledge:{pledge.id}", kind="tip_dispute_reinstated",
                    debit=ledger.processor(pledge.provider), credit=ledger.PLATFORM_REVENUE, money=tip.money,
                    cause=f"pledge:{pledge.id}", campaign_id=None, memo="Tip back after a won dispute",
                    processor_ref=pledge.charge_id)
    if fee_returned is not None and fee_returned.amount > 0:
        fee = _entry(f"dispute_fee:pledge:{pledge.id}")
        same = fee is not None and (fee.processor_amount or fee.amount) == fee_returned.amount and (
            fee.processor_currency or fee.currency) == fee_returned.currency
        ledger.book(key=f"dispute_fee_returned:pledge:{pledge.id}", kind="processor_fee_return",
                    debit=ledger.processor(pledge.provider), credit=ledger.campaign_account(pledge.campaign_id),
                    money=fee.money if same else _in_campaign_currency(pledge, fee_returned),
                    cause=f"pledge:{pledge.id}", campaign_id=pledge.campaign_id, memo="Dispute fee returned",
                    processor_ref=pledge.charge_id,
                    processor_money=fee_returned if fee_returned.currency != pledge.currency else None)
    hosts.settle_with_host(pledge.campaign_id, f"dispute_reinstated:pledge:{pledge.id}")


def _entry(key: str) -> LedgerEntry | None:
    db.session.flush()  # entries booked earlier in this unit of work count
    return db.session.scalar(select(LedgerEntry).where(LedgerEntry.key == key))
