"""What each payment event books in the ledger, in the campaign's currency."""
from __future__ import annotations

from webapp.ledger import services as ledger
from webapp.money import Money
from webapp.payments import fx
from webapp.payments.models import Pledge


def _memo(pledge: Pledge, what: str) -> str:
    return f"{what} — {pledge.public_name}" if pledge.public_name else what


def book_charge(pledge: Pledge) -> None:
    """The backer's money reached the processor on the campaign's behalf (and the tip, the platform's)."""
    processor_money = pledge.charge if pledge.charge_currency != pledge.currency else None
    ledger.book(key=f"charge:pledge:{pledge.id}", kind="charge", debit=ledger.processor(pledge.provider),
                credit=ledger.campaign_account(pledge.campaign_id), money=pledge.money, cause=f"pledge:{pledge.id}",
                campaign_id=pledge.campaign_id, memo=_memo(pledge, "Pledge"),
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


def book_tip_return(pledge: Pledge, why: str) -> None:
    """A full refund or a chargeback returns the whole charge to the backer, the platform's tip included."""
    if not pledge.tip_amount:
        return
    ledger.book(key=f"tip_return:pledge:{pledge.id}", kind=f"tip_{why}", debit=ledger.PLATFORM_REVENUE,
                credit=ledger.processor(pledge.provider), money=Money(pledge.tip_amount, pledge.currency),
                cause=f"pledge:{pledge.id}", campaign_id=None, memo="Tip returned to the backer",
                processor_ref=pledge.charge_id)


def book_dispute(pledge: Pledge, fee: Money | None = None) -> None:
    """A chargeback: the processor takes the disputed money back from the campaign, and its dispute fee."""
    if fee is not None and fee.amount > 0:
        in_campaign = fee if fee.currency == pledge.currency else fx.convert(fee, pledge.currency).converted
        ledger.book(key=f"dispute_fee:pledge:{pledge.id}", kind="processor_fee",
                    debit=ledger.campaign_account(pledge.campaign_id), credit=ledger.processor(pledge.provider),
                    money=in_campaign, cause=f"pledge:{pledge.id}", campaign_id=pledge.campaign_id,
                    memo="Dispute fee", processor_ref=pledge.charge_id,
                    processor_money=fee if fee.currency != pledge.currency else None)
    disputed = pledge.amount - pledge.refunded_amount
    if disputed <= 0:
        return
    ledger.book(key=f"dispute:pledge:{pledge.id}", kind="dispute", debit=ledger.campaign_account(pledge.campaign_id),
                credit=ledger.processor(pledge.provider), money=Money(disputed, pledge.currency),
                cause=f"pledge:{pledge.id}", campaign_id=pledge.campaign_id, memo="Dispute (chargeback)",
                processor_ref=pledge.charge_id)
