"""Payouts: organizations connect an account at the processor; successful campaigns' money goes to it.

After the holding period that follows a campaign's success, what the campaign holds in the ledger,
less the platform fee and the matches (which institutions pay to the organization directly), is
transferred once to the organization's connected account, in a transfer group per campaign.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from webapp.campaigns.models import Campaign, CampaignStatus, CampaignTransition
from webapp.clock import utcnow
from webapp.errors import ProviderError
from webapp.extensions import db
from webapp.i18n import format_day
from webapp.ledger import services as ledger
from webapp.money import Money
from webapp.organizations.models import Organization
from webapp.payments.models import (
    ConnectedAccount, Dispute, Pledge, PledgeStatus, Refund, RefundStatus, Transfer, TransferStatus,
)
from webapp.payments.hosts import services as hosts
from webapp.payments.hosts.models import PayoutRouteKind
from webapp.payments.providers import get_provider

log = logging.getLogger(__name__)


def account_of(org: Organization) -> ConnectedAccount | None:
    return db.session.scalar(select(ConnectedAccount).where(ConnectedAccount.organization_id == org.id))


def onboarding_link(org: Organization, email: str, return_url: str, refresh_url: str) -> str:
    """Create the organization's connected account if needed; return the processor's onboarding page."""
    provider = get_provider()
    account = account_of(org)
    if account is None:
        account_id = provider.create_connected_account(email=email, country=org.country,
                                                       idempotency_key=f"organization-{org.id}-account")
        account = ConnectedAccount(organization_id=org.id, processor_account_id=account_id)
        db.session.add(account)
        db.session.flush()
    return provider.create_account_link(account.processor_account_id, refresh_url=refresh_url, return_url=return_url)


def account_updated(obj: dict) -> None:
    """account.updated: keep the organization's payout status as the processor sees it."""
    account = db.session.scalar(select(ConnectedAccount).where(ConnectedAccount.processor_account_id == obj.get("id")))
    if account is None:
        log.info("account.updated for an account we do not know: %s", obj.get("id"))
        return
    account.details_submitted = bool(obj.get("details_submitted"))
    account.payouts_enabled = bool(obj.get("payouts_enabled"))
    account.updated_at = utcnow()


def succeeded_at(campaign: Campaign) -> datetime | None:
    return db.session.scalar(select(CampaignTransition.at).where(
        CampaignTransition.campaign_id == campaign.id, CampaignTransition.to_status == CampaignStatus.SUCCEEDED))


def payable(campaign: Campaign) -> tuple[Money, Money]:
    """(transfer, platform fee): the campaign's ledger balance less the fee and the matches institutions pay."""
    flows = ledger.flows(campaign.id, campaign.currency)
    gross = flows["charge"].amount
    fee = gross * current_app.config["PLATFORM_FEE_PERCENT"] // 100
    matches_owed = flows["match"].amount - flows["match_return"].amount
    balance = ledger.balance(ledger.campaign_account(campaign.id), campaign.currency).amount
    return Money(max(0, balance - fee - matches_owed), campaign.currency), Money(fee, campaign.currency)


def pay_out(campaign: Campaign, now: datetime | None = None) -> Transfer | None:
    """Transfer a successful campaign's money once, after the holding period; None when not due yet."""
    now = now or utcnow()
    closed = succeeded_at(campaign)
    hold = timedelta(days=current_app.config["PAYOUT_HOLD_DAYS"])
    if campaign.status != CampaignStatus.SUCCEEDED or closed is None or now - closed < hold:
        return None
    still_open = db.session.scalar(select(Pledge.id).where(
        Pledge.campaign_id == campaign.id,
        Pledge.status.in_((PledgeStatus.COMMITTED, PledgeStatus.COLLECTING, PledgeStatus.NEEDS_ACTION))).limit(1))
    if still_open is not None:
        return None  # the collection is not over (a bank debit on its way counts: its money is not in yet)
    transfer = db.session.scalar(select(Transfer).where(Transfer.campaign_id == campaign.id).with_for_update())
    if transfer is not None and transfer.status == TransferStatus.SENT:
        return transfer
    amount, fee = payable(campaign) if transfer is None else (transfer.money, Money(transfer.platform_fee, campaign.currency))
    if transfer is None:
        transfer = Transfer(campaign_id=campaign.id, organization_id=campaign.organization_id, amount=amount.amount,
                            platform_fee=fee.amount, currency=campaign.currency)
        db.session.add(transfer)
        db.session.flush()
        ledger.book(key=f"platform_fee:campaign:{campaign.id}", kind="platform_fee",
                    debit=ledger.campaign_account(campaign.id), credit=ledger.PLATFORM_REVENUE, money=fee,
                    cause=f"campaign:{campaign.id}", campaign_id=campaign.id, memo="Platform fee")
    route = hosts.route_of(campaign.organization_id)
    if route is not None and route.kind == PayoutRouteKind.HOST:
        return _hold_for_host(campaign, transfer, amount, now)
    account = db.session.scalar(select(ConnectedAccount).where(
        ConnectedAccount.organization_id == campaign.organization_id))
    if account is None or not account.payouts_enabled:
        transfer.failure_reason = "the organization has not connected a payout account yet"
        return transfer
    try:
        if amount.amount > 0:
            transfer.processor_transfer_id = get_provider().create_transfer(
                amount, account.processor_account_id, transfer_group=f"campaign-{campaign.id}",
                idempotency_key=f"transfer-campaign-{campaign.id}",
                metadata={"campaign_id": str(campaign.id), "transfer_id": str(transfer.id)})
    except ProviderError as exc:
        transfer.failure_reason = str(exc)
        return transfer
    transfer.status, transfer.sent_at, transfer.failure_reason = TransferStatus.SENT, now, None
    ledger.book(key=f"transfer:campaign:{campaign.id}", kind="transfer", debit=ledger.campaign_account(campaign.id),
                credit=ledger.organization_account(campaign.organization_id), money=amount,
                cause=f"transfer:{transfer.id}", campaign_id=campaign.id, processor_ref=transfer.processor_transfer_id,
                memo="Transfer to the organization")
    # the same money leaves the processor's balance for the organization's own account (reconciliation)
    ledger.book(key=f"transfer_out:campaign:{campaign.id}", kind="transfer_out",
                debit=ledger.organization_bank(campaign.organization_id), credit=ledger.processor(get_provider().name),
                money=amount, cause=f"transfer:{transfer.id}", processor_ref=transfer.processor_transfer_id,
                memo="Sent to the organization's account")
    return transfer


def _hold_for_host(campaign: Campaign, transfer: Transfer, amount: Money, now: datetime) -> Transfer:
    """Host route: the money stays with the platform until the host is paid; the ledger holds it for the host."""
    if not hosts.hold_for_host(campaign, amount, now):
        transfer.failure_reason = "the host has not accepted the organization yet"
        return transfer
    transfer.status, transfer.sent_at, transfer.failure_reason = TransferStatus.SENT, now, None
    return transfer


def transfer_reversed(obj: dict) -> None:
    """transfer.reversed: each reversal brings money back from the organization's account to the campaign's."""
    transfer = db.session.scalar(select(Transfer).where(Transfer.processor_transfer_id == obj.get("id")))
    if transfer is None:
        log.warning("transfer.reversed for a transfer we do not know: %s", obj.get("id"))
        return
    reversals = (obj.get("reversals") or {}).get("data") or []
    for reversal in reversals:
        if not isinstance(reversal, dict) or not reversal.get("id") or not reversal.get("amount"):
            continue
        money = Money(int(reversal["amount"]), str(reversal.get("currency") or transfer.currency).upper())
        ledger.book(key=f"transfer_reversal:{reversal['id']}", kind="transfer_reversal",
                    debit=ledger.organization_account(transfer.organization_id),
                    credit=ledger.campaign_account(transfer.campaign_id), money=money,
                    cause=f"transfer:{transfer.id}", campaign_id=transfer.campaign_id, processor_ref=reversal["id"],
                    memo="Transfer reversed: back with the campaign")
        ledger.book(key=f"transfer_reversal_in:{reversal['id']}", kind="transfer_reversal_in",
                    debit=ledger.processor(get_provider().name),
                    credit=ledger.organization_bank(transfer.organization_id), money=money,
                    cause=f"transfer:{transfer.id}", processor_ref=reversal["id"],
                    memo="Back from the organization's account")


def status_for(campaign: Campaign, now: datetime | None = None) -> str:
    """One sentence for the organizer: what the campaign's payout waits for, or when it left."""
    now = now or utcnow()
    transfer = db.session.scalar(select(Transfer).where(Transfer.campaign_id == campaign.id))
    if campaign.status != CampaignStatus.SUCCEEDED:
        return _("Payouts start once the campaign has succeeded.")
    host = hosts.host_for(campaign.organization_id)
    if transfer is not None and transfer.status == TransferStatus.SENT and host is not None:
        return _("Held by %(host)s for the organization since %(date)s: it pays each approved expense.",
                 host=host.organization.name, date=format_day(transfer.sent_at.date(), "long"))
    if transfer is not None and transfer.status == TransferStatus.SENT:
        return _("Transferred to the organization’s account on %(date)s.",
                 date=format_day(transfer.sent_at.date(), "long"))
    route = hosts.route_of(campaign.organization_id)
    if route is not None and route.kind == PayoutRouteKind.HOST and host is None:
        return _("The payout waits for the host to accept the organization.")
    account = account_of(campaign.organization)
    if account is None and host is None:
        return _("The payout waits for a payout account: the organization has not connected one yet.")
    if account is not None and host is None and not account.payouts_enabled:
        return _("The payout waits for the processor to enable the organization’s payout account: "
                 "it is connected, but not enabled yet.")
    closed = succeeded_at(campaign)
    if closed is not None:
        release = closed + timedelta(days=current_app.config["PAYOUT_HOLD_DAYS"])
        if now < release:
            return _("The payout waits for the holding period to end, on %(date)s.",
                     date=format_day(release.date(), "long"))
    in_flight = db.session.scalar(select(Pledge.id).where(
        Pledge.campaign_id == campaign.id,
        Pledge.status.in_((PledgeStatus.COMMITTED, PledgeStatus.COLLECTING, PledgeStatus.NEEDS_ACTION))).limit(1))
    if in_flight is not None:
        return _("The payout waits for the bank debits and charges still in flight to arrive.")
    pledge_ids = select(Pledge.id).where(Pledge.campaign_id == campaign.id)
    refund = db.session.scalar(select(Refund.id).where(
        Refund.pledge_id.in_(pledge_ids), Refund.status == RefundStatus.REQUESTED).limit(1))
    dispute = db.session.scalar(select(Dispute.id).where(
        Dispute.pledge_id.in_(pledge_ids), Dispute.closed_at.is_(None)).limit(1))
    if refund is not None or dispute is not None:
        return _("The payout is due, but refunds or disputes on this campaign are still pending.")
    if transfer is not None and transfer.failure_reason:
        return _("Waiting: %(why)s.", why=transfer.failure_reason)
    return _("The payout is due: it leaves with the next payout run.")
