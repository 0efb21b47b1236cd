"""What each payment event books in the ledger: a pledge's, in the campaign's currency, and the fee, refunds and
disputes of any payment taken — a pledge or one period of a recurring gift (`Payment`)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from webapp.extensions import db
from webapp.ledger import services as ledger
from webapp.ledger.models import LedgerEntry
from webapp.money import Money
from webapp.payments import fx
from webapp.payments.hosts import services as hosts
from webapp.payments.models import Pledge
from webapp.payments.recurring.models import ChargeStatus, RecurringCharge, RecurringSupport


@dataclass(frozen=True)
class Payment:
    """What the ledger needs to know of a payment taken: a pledge, or one period of a recurring gift."""

    #: names its entries ("pledge:7", "recurring:3:2026-12") and their cause ("pledge:7", "recurring:3")
    subject: str
    cause: str
    #: the account its money was booked to (the campaign's, the organization's) and the campaign, if any
    account: str
    campaign_id: int | None
    provider: str
    charge_id: str | None
    #: the gift and the tip as booked (the booked currency), what the processor took (gift and tip, its currency)
    money: Money
    tip: Money
    charge: Money
    #: what the processor settled (net) and kept (fee), in its balance currency, once it says
    settled: Money | None
    fee: Money | None
    #: the column refunds and disputes name it by, and its id
    owner: dict[str, int]
    #: the money is taken (and not yet all given back): it can be refunded
    paid: bool


def support_account(support: RecurringSupport) -> str:
    """Where a recurring gift's periods are booked: its pooled fund's account, its ongoing campaign's, or the
    organization's. Refunds and disputes of a period draw back from the same account."""
    if support.pooled_fund_id is not None:
        return ledger.pooled_fund_account(support.pooled_fund_id)
    if support.campaign_id is not None:  # a pooled fund's giving campaign books into the fund
        return pledge_account(support.campaign)
    return ledger.organization_account(support.organization_id)


def pledge_account(campaign) -> str:
    """Where a campaign's pledges (and their matches) are booked: the pooled fund's account when the campaign is
    a fund's giving campaign (`Campaign.pooled_fund_id`), else the campaign's. Fees, refunds and disputes of
    its pledges draw back from the same account; payouts pay out nothing for such a campaign."""
    if campaign.pooled_fund_id is not None:
        return ledger.pooled_fund_account(campaign.pooled_fund_id)
    return ledger.campaign_account(campaign.id)


def payment_of(row: Pledge | RecurringCharge) -> Payment:
    if isinstance(row, RecurringCharge):
        support = row.support
        return Payment(
            subject=f"recurring:{support.id}:{row.period}", cause=f"recurring:{support.id}",
            account=support_account(support),
            campaign_id=support.campaign_id, provider=row.provider, charge_id=row.charge_id,
            money=row.booked_money, tip=row.booked(row.tip), charge=row.total, fee=row.fee,
            settled=(Money(row.settled_amount, row.settled_currency)
                     if row.settled_amount is not None and row.settled_currency else None),
            owner={"recurring_charge_id": row.id}, paid=row.status == ChargeStatus.SUCCEEDED)
    from webapp.payments.models import PledgeStatus

    return Payment(
        subject=f"pledge:{row.id}", cause=f"pledge:{row.id}",
        # a pledge read without its campaign (reconciliation's own rows) is a campaign's, as before funds
        account=pledge_account(row.campaign) if row.campaign is not None else ledger.campaign_account(row.campaign_id),
        campaign_id=row.campaign_id, provider=row.provider, charge_id=row.charge_id, money=row.money,
        tip=Money(row.tip_amount or 0, row.currency), charge=row.charge, settled=row.settled, fee=row.fee,
        owner={"pledge_id": row.id},
        paid=row.status == PledgeStatus.PAID)


def _settle_with_host(p: Payment, cause: str) -> None:
    # an organization's own account, or a pooled fund's, is not held by a host per campaign
    if p.campaign_id is not None and p.account == ledger.campaign_account(p.campaign_id):
        hosts.settle_with_host(p.campaign_id, cause)


def _in_booked_currency(p: Payment, fee: Money) -> Money:
    return fee if fee.currency == p.money.currency else fx.convert(fee, p.money.currency).converted


def book_processor_fee(row: Pledge | RecurringCharge) -> None:
    """The processor's fee, borne by the campaign (or organization); converted when it settles in another currency."""
    p = payment_of(row)
    fee = p.fee
    if fee is None or fee.amount == 0:
        return
    ledger.book(key=f"fee:{p.subject}", kind="processor_fee", debit=p.account, credit=ledger.processor(p.provider),
                money=_in_booked_currency(p, fee), cause=p.cause, campaign_id=p.campaign_id, memo="Processing fee",
                processor_ref=p.charge_id, processor_money=fee if fee.currency != p.money.currency else None)


def book_refund(row: Pledge | RecurringCharge, refunded_before: int) -> None:
    """The refunded total grew: book the difference, keyed by the new total so a repeat books nothing."""
    p = payment_of(row)
    delta = row.refunded_amount - refunded_before
    if delta <= 0:
        return
    key = f"refund:{p.subject}:{row.refunded_amount}"
    ledger.book(key=key, kind="refund", debit=p.account, credit=ledger.processor(p.provider),
                money=Money(delta, p.money.currency), cause=p.cause, campaign_id=p.campaign_id, memo="Refund",
                processor_ref=p.charge_id)
    _settle_with_host(p, key)


def book_tip_return(row: Pledge | RecurringCharge, why: str) -> None:
    """A full refund or a chargeback returns the whole charge to the payer, the platform's tip included."""
    p = payment_of(row)
    if not p.tip.amount:
        return
    ledger.book(key=f"tip_return:{p.subject}", kind=f"tip_{why}", debit=ledger.PLATFORM_REVENUE,
                credit=ledger.processor(p.provider), money=p.tip, cause=p.cause, campaign_id=None,
                memo="Tip returned to the backer", processor_ref=p.charge_id)


def book_dispute(row: Pledge | RecurringCharge, disputed_charge: int | None = None, fee: Money | None = None) -> None:
    """A chargeback: the processor takes the disputed money back from the campaign (and the platform's tip),
    and its dispute fee. `disputed_charge` is in the charge's currency (None: all that was not refunded).

    Keyed per payment (a charge has at most one dispute): whichever event shows the withdrawal books it once.
    """
    p = payment_of(row)
    if fee is not None and fee.amount > 0:
        ledger.book(key=f"dispute_fee:{p.subject}", kind="processor_fee", debit=p.account,
                    credit=ledger.processor(p.provider), money=_in_booked_currency(p, fee), cause=p.cause,
                    campaign_id=p.campaign_id, memo="Dispute fee", processor_ref=p.charge_id,
                    processor_money=fee if fee.currency != p.money.currency else None)
    remaining = p.money.amount - row.refunded_amount
    tip = p.tip.amount
    if disputed_charge is None or disputed_charge >= p.charge.amount:
        campaign_part, tip_part = remaining, tip
    else:  # the same share of gift and tip as the charge carried them, the gift's part first
        share = (p.money.amount + tip) * disputed_charge // p.charge.amount
        campaign_part = min(remaining, share)
        tip_part = min(tip, share - campaign_part)
    if campaign_part > 0:
        ledger.book(key=f"dispute:{p.subject}", kind="dispute", debit=p.account, credit=ledger.processor(p.provider),
                    money=Money(campaign_part, p.money.currency), cause=p.cause, campaign_id=p.campaign_id,
                    memo="Dispute (chargeback)", processor_ref=p.charge_id)
    _settle_with_host(p, f"dispute:{p.subject}")
    if tip_part > 0:  # the chargeback takes the whole charge back, the tip in it included
        ledger.book(key=f"tip_return:{p.subject}", kind="tip_dispute", debit=ledger.PLATFORM_REVENUE,
                    credit=ledger.processor(p.provider), money=Money(tip_part, p.money.currency), cause=p.cause,
                    campaign_id=None, memo="Tip returned to the backer", processor_ref=p.charge_id)


def book_dispute_reinstated(row: Pledge | RecurringCharge, fee_returned: Money | None = None) -> None:
    """A won chargeback: what the withdrawal took comes back, entry for entry, and the fee if returned."""
    p = payment_of(row)
    withdrawn = _entry(f"dispute:{p.subject}")
    if withdrawn is not None:
        ledger.book(key=f"dispute_reinstated:{p.subject}", kind="dispute_reinstated",
                    debit=ledger.processor(p.provider), credit=p.account, money=withdrawn.money, cause=p.cause,
                    campaign_id=p.campaign_id, memo="Dispute won: money back", processor_ref=p.charge_id)
    tip = _entry(f"tip_return:{p.subject}")
    if tip is not None and tip.kind == "tip_dispute":
        ledger.book(key=f"tip_dispute_reinstated:{p.subject}", kind="tip_dispute_reinstated",
                    debit=ledger.processor(p.provider), credit=ledger.PLATFORM_REVENUE, money=tip.money,
                    cause=p.cause, campaign_id=None, memo="Tip back after a won dispute", processor_ref=p.charge_id)
    if fee_returned is not None and fee_returned.amount > 0:
        fee = _entry(f"dispute_fee:{p.subject}")
        same = fee is not None and (fee.processor_amount or fee.amount) == fee_returned.amount and (
            fee.processor_currency or fee.currency) == fee_returned.currency
        ledger.book(key=f"dispute_fee_returned:{p.subject}", kind="processor_fee_return",
                    debit=ledger.processor(p.provider), credit=p.account,
                    money=fee.money if same else _in_booked_currency(p, fee_returned), cause=p.cause,
                    campaign_id=p.campaign_id, memo="Dispute fee returned", processor_ref=p.charge_id,
                    processor_money=fee_returned if fee_returned.currency != p.money.currency else None)
    _settle_with_host(p, f"dispute_reinstated:{p.subject}")


def _entry(key: str) -> LedgerEntry | None:
    db.session.flush()  # entries booked earlier in this unit of work count
    return db.session.scalar(select(LedgerEntry).where(LedgerEntry.key == key))


def book_charge(pledge: Pledge) -> None:
    """The backer's money reached the processor on the campaign's behalf (or its pooled fund's), and the tip,
    the platform's."""
    processor_money = pledge.charge if pledge.charge_currency != pledge.currency else None
    ledger.book(key=f"charge:pledge:{pledge.id}", kind="charge", debit=ledger.processor(pledge.provider),
                credit=pledge_account(pledge.campaign), money=pledge.money, cause=f"pledge:{pledge.id}",
                campaign_id=pledge.campaign_id, memo="Pledge",  # never the backer's name: ledger rows outlive an account's erasure
                processor_ref=pledge.charge_id or pledge.payment_intent_id, processor_money=processor_money)
    if pledge.tip_amount:
        ledger.book(key=f"tip:pledge:{pledge.id}", kind="tip", debit=ledger.processor(pledge.provider),
                    credit=ledger.PLATFORM_REVENUE, money=Money(pledge.tip_amount, pledge.currency),
                    cause=f"pledge:{pledge.id}", campaign_id=None, memo="Tip to the platform")
