"""Payouts: a successful campaign's money goes to its organization's connected account, one transfer per charge.

After the holding period that follows a campaign's success, each paid charge is passed on by its own
transfer (https://docs.stripe.com/connect/separate-charges-and-transfers):

* in the currency the charge settled in — the platform's settlement currency — since that is the
  money the balance holds ("Your Stripe balance must be able to cover the transfer amount");
* with `source_transaction` = the charge, so the transfer waits for that charge's funds to become
  available instead of drawing on the balance, and can never exceed what the charge brought;
* in the campaign's `transfer_group`, with an idempotency key per charge (and amount);
* for what the charge settled as (its balance transaction's amount, less the processor's fee), in the
  campaign's share of it (the tip stays with the platform), less the platform fee and what was refunded.

The ledger books each transfer twice: campaign → organization in the campaign's currency (so the
campaign's account empties), and processor → organization's bank with what left the balance in the
settlement currency as its processor figure (reconciliation pairs it with the transfer's balance
transaction). A later refund or lost dispute reverses the matching part of the transfer (reversals.py).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import column, exists, select, table

from webapp.campaigns.models import Campaign, CampaignStatus, CampaignTransition
from webapp.clock import utcnow
from webapp.errors import ProviderError
from webapp.extensions import db
from webapp.geo import country_name
from webapp.i18n import format_day, locale_code
from webapp.ledger import services as ledger
from webapp.ledger.models import LedgerEntry
from webapp.money import Money
from webapp.payments.models import (
    ConnectedAccount, Dispute, Pledge, PledgeStatus, Refund, RefundStatus, Transfer, TransferStatus,
)
from webapp.payments.hosts import services as hosts
from webapp.payments.hosts.models import PayoutRouteKind
from webapp.payments.payouts import countries
from webapp.payments.payouts.accounts import account_of, account_updated, capability_updated, onboarding_link
from webapp.payments.providers import get_provider

__all__ = ["account_of", "account_updated", "capability_updated", "onboarding_link", "on_host_route", "pay_out",
           "share_of", "status_for", "succeeded_at"]

log = logging.getLogger(__name__)

#: pledges whose collection is not over (a bank debit on its way counts: its money is not in yet)
IN_FLIGHT = (PledgeStatus.COMMITTED, PledgeStatus.COLLECTING, PledgeStatus.NEEDS_ACTION)
#: transfers that need nothing more
DONE = (TransferStatus.SENT, TransferStatus.NOTHING)
#: charges examined per campaign and run (the next run takes the rest)
BATCH = 500


@dataclass(frozen=True)
class Share:
    """What one charge owes the organization now: to send (settlement currency), the same in the campaign's
    currency, and the platform's fee (campaign currency)."""

    settlement: Money
    campaign: Money
    platform_fee: Money


def succeeded_at(campaign: Campaign) -> datetime | None:
    return db.session.scalar(select(CampaignTransition.at).where(
        CampaignTransition.campaign_id == campaign.id, CampaignTransition.to_status == CampaignStatus.SUCCEEDED))


def _entries(keys: list[str]) -> dict[str, LedgerEntry]:
    db.session.flush()
    return {e.key: e for e in db.session.scalars(select(LedgerEntry).where(LedgerEntry.key.in_(keys)))}


def _processor_fees(pledge: Pledge) -> tuple[int, int]:
    """The processor's fees this charge bore, as booked: (campaign currency, settlement currency)."""
    found = _entries([f"fee:pledge:{pledge.id}", f"dispute_fee:pledge:{pledge.id}",
                      f"dispute_fee_returned:pledge:{pledge.id}"])
    campaign = settlement = 0
    for key, entry in found.items():
        sign = -1 if key.startswith("dispute_fee_returned") else 1
        campaign += sign * entry.amount
        settlement += sign * (entry.processor_amount if entry.processor_amount is not None else entry.amount)
    return campaign, settlement


def _lost_to_dispute(pledge: Pledge) -> int:
    """What a lost chargeback took from the campaign's part of this charge (campaign currency)."""
    lost = db.session.scalar(select(Dispute.id).where(Dispute.pledge_id == pledge.id, Dispute.status == "lost"))
    if lost is None:
        return 0
    entry = _entries([f"dispute:pledge:{pledge.id}"]).get(f"dispute:pledge:{pledge.id}")
    return entry.amount if entry is not None else pledge.amount - pledge.refunded_amount


def share_of(pledge: Pledge) -> Share | None:
    """What the charge owes the organization now; None while its settlement is not known."""
    if pledge.settled_amount is None or not pledge.settled_currency:
        return None
    percent = current_app.config["PLATFORM_FEE_PERCENT"]
    base = max(0, pledge.amount - pledge.refunded_amount - _lost_to_dispute(pledge))
    keep = base * (100 - percent) // 100
    fees_campaign, fees_settled = _processor_fees(pledge)
    # the charge's amount in the settlement currency (its balance transaction's amount), the campaign's part
    gross = pledge.settled_amount + (pledge.settled_fee or 0)
    whole = pledge.amount + (pledge.tip_amount or 0)
    keep_settled = gross * base * (100 - percent) // (whole * 100)
    return Share(settlement=Money(max(0, keep_settled - fees_settled), pledge.settled_currency),
                 campaign=Money(max(0, keep - fees_campaign), pledge.currency),
                 platform_fee=Money(base - keep, pledge.currency))


def _due(campaign: Campaign, now: datetime) -> bool:
    closed = succeeded_at(campaign)
    hold = timedelta(days=current_app.config["PAYOUT_HOLD_DAYS"])
    if campaign.status != CampaignStatus.SUCCEEDED or closed is None or now - closed < hold:
        return False
    still_open = db.session.scalar(select(Pledge.id).where(
        Pledge.campaign_id == campaign.id, Pledge.status.in_(IN_FLIGHT)).limit(1))
    return still_open is None


def undone_charges(campaign_id: int | None = None):
    """Paid pledges whose charge has no finished transfer yet (a select of pledge ids)."""
    done = exists().where(Transfer.pledge_id == Pledge.id, Transfer.status.in_(DONE))
    query = select(Pledge.id).where(Pledge.status == PledgeStatus.PAID, ~done)
    return query.where(Pledge.campaign_id == campaign_id) if campaign_id is not None else query


def pay_out(campaign: Campaign, now: datetime | None = None) -> list[Transfer] | None:
    """Transfer each paid charge of a successful campaign once, after the holding period; None when not due."""
    now = now or utcnow()
    if campaign.pooled_fund_id is not None:  # its pledges were booked into the fund: nothing of it to pay out
        return None
    if not _due(campaign, now):
        return None
    if on_host_route(campaign.organization_id):
        return [_hold_for_host(campaign, now)]
    account = account_of(campaign.organization)
    pledges = [db.session.get(Pledge, pledge_id) for pledge_id in
               db.session.scalars(undone_charges(campaign.id).order_by(Pledge.id).limit(BATCH))]
    debt = [_campaign_debt(campaign, pledges)]
    return [_pay_charge(campaign, pledge, account, now, debt) for pledge in pledges]


def _campaign_debt(campaign: Campaign, pledges: list[Pledge]) -> int:
    """What the campaign owes beyond the charges still to pass on (campaign currency): a charge lost to a
    chargeback, or refunded after its fee, leaves its fees on the campaign's account, and the organization's
    other charges bear them, as the campaign's statement shows them."""
    flows = ledger.flows(campaign.id, campaign.currency)
    matches_owed = flows["match"].amount - flows["match_return"].amount  # institutions pay those directly
    balance = ledger.balance(ledger.campaign_account(campaign.id), campaign.currency).amount
    shares = [share_of(p) for p in pledges]
    owed = sum(s.campaign.amount + s.platform_fee.amount for s in shares if s is not None)
    return max(0, owed + matches_owed - balance)


def _less_debt(share: Share, debt: list[int]) -> Share:
    """The share less what the campaign owes (taken from the first charges paid out), in both currencies."""
    if not debt[0] or not share.campaign.amount:
        return share
    cut = min(debt[0], share.campaign.amount)
    debt[0] -= cut
    campaign = share.campaign.amount - cut
    settlement = share.settlement.amount * campaign // share.campaign.amount
    return Share(Money(settlement, share.settlement.currency), Money(campaign, share.campaign.currency),
                 share.platform_fee)


def _pay_charge(campaign: Campaign, pledge: Pledge, account: ConnectedAccount | None, now: datetime,
                debt: list[int]) -> Transfer:
    transfer = db.session.scalar(select(Transfer).where(Transfer.pledge_id == pledge.id).with_for_update())
    if transfer is None:
        transfer = Transfer(campaign_id=campaign.id, organization_id=campaign.organization_id, pledge_id=pledge.id,
                            amount=0, currency=pledge.settled_currency or pledge.charge_currency,
                            campaign_amount=0, campaign_currency=campaign.currency, platform_fee=0)
        db.session.add(transfer)
    if transfer.status in DONE:
        return transfer
    open_dispute = db.session.scalar(select(Dispute.id).where(
        Dispute.pledge_id == pledge.id, Dispute.closed_at.is_(None), Dispute.withdrawn_at.is_not(None)))
    share = share_of(pledge)
    if open_dispute is not None or share is None:
        transfer.failure_reason = ("a chargeback on this charge is still open" if open_dispute is not None
                                   else "the processor has not reported this charge's settlement yet")
        db.session.flush()
        return transfer
    share = _less_debt(share, debt)
    transfer.amount, transfer.currency = share.settlement.amount, share.settlement.currency
    transfer.campaign_amount, transfer.platform_fee = share.campaign.amount, share.platform_fee.amount
    transfer.source_charge_id = pledge.charge_id
    db.session.flush()
    if share.settlement.amount == 0:
        _book_platform_fee(transfer, share)
        transfer.status, transfer.failure_reason = TransferStatus.NOTHING, None
        return transfer
    if account is None:
        transfer.failure_reason = "the organization has not connected a payout account yet"
        return transfer
    if not account.can_receive_transfers:
        transfer.failure_reason = "the payout account's transfers capability is not active"
        return transfer
    try:
        transfer.processor_transfer_id = get_provider().create_transfer(
            share.settlement, account.processor_account_id, transfer_group=f"campaign-{campaign.id}",
            idempotency_key=f"transfer-pledge-{pledge.id}-{share.settlement.amount}",
            # no pledge_id in the metadata: reconciliation would take the transfer for a movement of the charge
            metadata={"campaign_id": str(campaign.id), "transfer_id": str(transfer.id)},
            source_transaction=pledge.charge_id)
    except ProviderError as exc:
        transfer.failure_reason = str(exc)
        return transfer
    transfer.status, transfer.sent_at, transfer.failure_reason = TransferStatus.SENT, now, None
    _book_transfer(transfer, share)
    return transfer


def on_host_route(organization_id: int) -> bool:
    route = hosts.route_of(organization_id)
    return route is not None and route.kind == PayoutRouteKind.HOST


def _hold_for_host(campaign: Campaign, now: datetime) -> Transfer:
    """Host route: the money stays in the platform's balance, held in the ledger for the host, which pays each
    approved expense (payments/hosts). One whole-campaign row (no pledge): what the campaign holds, less the
    platform fee and the matches institutions pay directly."""
    transfer = db.session.scalar(select(Transfer).where(
        Transfer.campaign_id == campaign.id, Transfer.pledge_id.is_(None)).with_for_update())
    if transfer is not None and transfer.status == TransferStatus.SENT:
        return transfer
    if transfer is None:
        flows = ledger.flows(campaign.id, campaign.currency)
        fee = flows["charge"].amount * current_app.config["PLATFORM_FEE_PERCENT"] // 100
        matches_owed = flows["match"].amount - flows["match_return"].amount
        balance = ledger.balance(ledger.campaign_account(campaign.id), campaign.currency).amount
        amount = max(0, balance - fee - matches_owed)
        transfer = Transfer(campaign_id=campaign.id, organization_id=campaign.organization_id, pledge_id=None,
                            amount=amount, currency=campaign.currency, campaign_amount=amount,
                            campaign_currency=campaign.currency, platform_fee=fee)
        db.session.add(transfer)
        db.session.flush()
        ledger.book(key=f"platform_fee:campaign:{campaign.id}", kind="platform_fee",
                    debit=ledger.campaign_account(campaign.id), credit=ledger.PLATFORM_REVENUE,
                    money=Money(fee, campaign.currency), cause=f"campaign:{campaign.id}", campaign_id=campaign.id,
                    memo="Platform fee")
    if not hosts.hold_for_host(campaign, transfer.campaign_money, now):
        transfer.failure_reason = "the host has not accepted the organization yet"
        return transfer
    transfer.status, transfer.sent_at, transfer.failure_reason = TransferStatus.SENT, now, None
    return transfer


def _book_platform_fee(transfer: Transfer, share: Share) -> None:
    ledger.book(key=f"platform_fee:pledge:{transfer.pledge_id}", kind="platform_fee",
                debit=ledger.campaign_account(transfer.campaign_id), credit=ledger.PLATFORM_REVENUE,
                money=share.platform_fee, cause=f"pledge:{transfer.pledge_id}", campaign_id=transfer.campaign_id,
                memo="Platform fee")


def _book_transfer(transfer: Transfer, share: Share) -> None:
    _book_platform_fee(transfer, share)
    ledger.book(key=f"transfer:pledge:{transfer.pledge_id}", kind="transfer",
                debit=ledger.campaign_account(transfer.campaign_id),
                credit=ledger.organization_account(transfer.organization_id), money=share.campaign,
                cause=f"transfer:{transfer.id}", campaign_id=transfer.campaign_id,
                processor_ref=transfer.processor_transfer_id, memo="Transfer to the organization")
    # what left the processor's balance, in the settlement currency, for the organization's own account
    converted = share.settlement.currency != share.campaign.currency
    ledger.book(key=f"transfer_out:pledge:{transfer.pledge_id}", kind="transfer_out",
                debit=ledger.organization_bank(transfer.organization_id), credit=ledger.processor(get_provider().name),
                money=share.campaign, cause=f"transfer:{transfer.id}", processor_ref=transfer.processor_transfer_id,
                processor_money=share.settlement if converted else None, memo="Sent to the organization's account")


# -- what the organizer reads -------------------------------------------------------------------
def _capability_words(status: str | None) -> str:
    return {
        "pending": _("the processor is reviewing it"),
        "disabled": _("the processor has disabled it"),
    }.get(status or "", _("it is not active yet"))


def _fund_name(fund_id: int) -> str:
    # payments never imports governance: the name is read by table
    funds = table("pooled_funds", column("id"), column("name"))
    return db.session.scalar(select(funds.c.name).where(funds.c.id == fund_id)) or ""


def status_for(campaign: Campaign, now: datetime | None = None) -> str:
    """One sentence for the organizer: what the campaign's payout waits for, or when it left."""
    now = now or utcnow()
    if campaign.pooled_fund_id is not None:
        return _("Nothing is paid out for this campaign: every payment it receives goes into the pooled fund "
                 "“%(fund)s”, whose members decide in their rounds what it pays for.",
                 fund=_fund_name(campaign.pooled_fund_id))
    if campaign.status != CampaignStatus.SUCCEEDED:
        return _("Payouts start once the campaign has succeeded.")
    transfers = list(db.session.scalars(select(Transfer).where(Transfer.campaign_id == campaign.id)))
    if not transfers and db.session.scalar(select(Pledge.id).where(
            Pledge.campaign_id == campaign.id, Pledge.status.in_((PledgeStatus.PAID, *IN_FLIGHT))).limit(1)) is None:
        # not "the payout is due": there is nothing to pay, whatever the route or the account
        return _("Nothing to pay out: no backer’s payment was received.")
    if on_host_route(campaign.organization_id):
        return _host_status(campaign, transfers, now)
    sent = [t for t in transfers if t.status == TransferStatus.SENT]
    waiting = db.session.scalar(undone_charges(campaign.id).limit(1))
    if sent and waiting is None:
        return _("Transferred to the organization’s account on %(date)s.",
                 date=format_day(max(t.sent_at for t in sent).date(), "long"))
    organization = campaign.organization
    if not countries.connect_supported(organization.country or ""):
        return _("Stripe cannot pay organizations in %(country)s: the payout waits for a host to receive the "
                 "money for the organization.", country=country_name(organization.country, locale_code()))
    account = account_of(organization)
    if account is None:
        return _("The payout waits for a payout account: the organization has not connected one yet.")
    if not account.payouts_enabled:
        return _("The payout waits for the processor to enable the organization’s payout account: "
                 "it is connected, but not enabled yet.")
    if not account.can_receive_transfers:
        return _("The payout waits for the processor to activate the transfers capability of the organization’s "
                 "payout account: %(why)s.", why=_capability_words(account.transfers_capability))
    closed = succeeded_at(campaign)
    if closed is not None:
        release = closed + timedelta(days=current_app.config["PAYOUT_HOLD_DAYS"])
        if now < release:
            return _("The payout waits for the holding period to end, on %(date)s.",
                     date=format_day(release.date(), "long"))
    in_flight = db.session.scalar(select(Pledge.id).where(
        Pledge.campaign_id == campaign.id, Pledge.status.in_(IN_FLIGHT)).limit(1))
    if in_flight is not None:
        return _("The payout waits for the bank debits and charges still in flight to arrive.")
    pledge_ids = select(Pledge.id).where(Pledge.campaign_id == campaign.id)
    refund = db.session.scalar(select(Refund.id).where(
        Refund.pledge_id.in_(pledge_ids), Refund.status == RefundStatus.REQUESTED).limit(1))
    dispute = db.session.scalar(select(Dispute.id).where(
        Dispute.pledge_id.in_(pledge_ids), Dispute.closed_at.is_(None)).limit(1))
    if refund is not None or dispute is not None:
        return _("The payout is due, but refunds or disputes on this campaign are still pending.")
    unsettled = db.session.scalar(select(Pledge.id).where(
        Pledge.id.in_(undone_charges(campaign.id)), Pledge.settled_amount.is_(None)).limit(1))
    if unsettled is not None:
        return _("The payout waits for the processor to report what each charge settled as.")
    failed = next((t for t in transfers if t.status not in DONE and t.failure_reason and t.processor_transfer_id is None
                   and t.failure_reason not in _OWN_REASONS), None)
    if failed is not None:
        return _("Waiting: %(why)s.", why=failed.failure_reason)
    if sent:
        return _("Part of the money was transferred on %(date)s; the rest leaves with the next payout run.",
                 date=format_day(max(t.sent_at for t in sent).date(), "long"))
    return _("The payout is due: it leaves with the next payout run.")


#: the reasons pay_out records itself, which status_for says in its own (translated) words above
_OWN_REASONS = frozenset({
    "a chargeback on this charge is still open", "the processor has not reported this charge's settlement yet",
    "the organization has not connected a payout account yet", "the payout account's transfers capability is not active",
})


def _host_status(campaign: Campaign, transfers: list[Transfer], now: datetime) -> str:
    host = hosts.host_for(campaign.organization_id)
    held = next((t for t in transfers if t.pledge_id is None and t.status == TransferStatus.SENT), None)
    if held is not None and host is not None:
        return _("Held by %(host)s for the organization since %(date)s: it pays each approved expense.",
                 host=host.organization.name, date=format_day(held.sent_at.date(), "long"))
    if host is None:
        return _("The payout waits for the host to accept the organization.")
    closed = succeeded_at(campaign)
    if closed is not None:
        release = closed + timedelta(days=current_app.config["PAYOUT_HOLD_DAYS"])
        if now < release:
            return _("The payout waits for the holding period to end, on %(date)s.",
                     date=format_day(release.date(), "long"))
    in_flight = db.session.scalar(select(Pledge.id).where(
        Pledge.campaign_id == campaign.id, Pledge.status.in_(IN_FLIGHT)).limit(1))
    if in_flight is not None:
        return _("The payout waits for the bank debits and charges still in flight to arrive.")
    return _("The payout is due: it leaves with the next payout run.")
