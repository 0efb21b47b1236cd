"""Taking back from a transfer what a later refund or a lost dispute took from its charge, and booking reversals.

A transfer passed on a charge's money; when the backer is refunded later, or the bank wins a
chargeback, the platform's balance pays for it. The matching part of the charge's transfer comes back
with a reversal (POST /v1/transfers/{id}/reversals, https://docs.stripe.com/connect/separate-charges-and-transfers#reverse-transfers):
what the transfer would be now is computed again (payouts.share_of) and the difference reversed,
under an idempotency key naming that target, so a redelivered event asks for nothing more. The
platform fee on the money given back is returned to the campaign too.

Each reversal is booked once, keyed by its id: by us with the exact campaign-currency figure when we
ask for it, or by `transfer.reversed` (a reversal made from the Dashboard) in proportion to the transfer.
"""
from __future__ import annotations

import logging

from sqlalchemy import select

from webapp.extensions import db
from webapp.ledger import services as ledger
from webapp.money import Money
from webapp.payments.models import Pledge, Transfer, TransferStatus
from webapp.payments.payouts.services import share_of
from webapp.payments.providers import get_provider

log = logging.getLogger(__name__)


def take_back(pledge: Pledge) -> Transfer | None:
    """After a refund or a lost dispute: reverse what the charge's transfer now passes on too much.

    Raises ProviderError when the processor does not answer (the event is then delivered again).
    """
    transfer = db.session.scalar(select(Transfer).where(Transfer.pledge_id == pledge.id).with_for_update())
    if transfer is None or transfer.status != TransferStatus.SENT or not transfer.processor_transfer_id:
        return None  # not sent yet: pay_out computes the charge's share afresh when it sends it
    share = share_of(pledge)
    if share is None:
        return None
    back = transfer.amount - transfer.reversed_amount - share.settlement.amount
    if back <= 0:
        return transfer
    back_campaign = max(0, transfer.campaign_amount - transfer.reversed_campaign_amount - share.campaign.amount)
    reversal_id = get_provider().reverse_transfer(
        transfer.processor_transfer_id, Money(back, transfer.currency),
        idempotency_key=f"reversal-transfer-{transfer.id}-to-{share.settlement.amount}",
        metadata={"transfer_id": str(transfer.id)})  # no pledge_id: reconciliation pairs it by its own id
    book_reversal(transfer, reversal_id, back, back_campaign)
    returned = transfer.platform_fee - share.platform_fee.amount
    if returned > 0:
        ledger.book(key=f"platform_fee_return:pledge:{pledge.id}:{share.platform_fee.amount}",
                    kind="platform_fee_return", debit=ledger.PLATFORM_REVENUE,
                    credit=ledger.campaign_account(transfer.campaign_id), money=Money(returned, pledge.currency),
                    cause=f"pledge:{pledge.id}", campaign_id=transfer.campaign_id,
                    memo="Platform fee returned with a refund or a lost dispute")
        transfer.platform_fee = share.platform_fee.amount
    return transfer


def book_reversal(transfer: Transfer, reversal_id: str, amount: int, campaign_amount: int) -> bool:
    """Book one reversal (settlement `amount`, its `campaign_amount` equivalent) once; False if already booked."""
    key = f"transfer_reversal:{reversal_id}"
    db.session.flush()
    if db.session.scalar(select(ledger.LedgerEntry.id).where(ledger.LedgerEntry.key == key)) is not None:
        return False
    currency = transfer.campaign_currency or transfer.currency
    money = Money(campaign_amount, currency)
    ledger.book(key=key, kind="transfer_reversal", debit=ledger.organization_account(transfer.organization_id),
                credit=ledger.campaign_account(transfer.campaign_id), money=money, cause=f"transfer:{transfer.id}",
                campaign_id=transfer.campaign_id, processor_ref=reversal_id,
                memo="Transfer reversed: back with the campaign")
    converted = currency != transfer.currency
    ledger.book(key=f"transfer_reversal_in:{reversal_id}", kind="transfer_reversal_in",
                debit=ledger.processor(get_provider().name), credit=ledger.organization_bank(transfer.organization_id),
                money=money, cause=f"transfer:{transfer.id}", processor_ref=reversal_id,
                processor_money=Money(amount, transfer.currency) if converted else None,
                memo="Back from the organization's account")
    transfer.reversed_amount = min(transfer.amount, transfer.reversed_amount + amount)
    transfer.reversed_campaign_amount += campaign_amount
    return True


def transfer_reversed(obj: dict) -> None:
    """transfer.reversed: book each reversal not booked yet (one made from the Dashboard) in proportion."""
    transfer = db.session.scalar(select(Transfer).where(Transfer.processor_transfer_id == obj.get("id"))
                                 .with_for_update())
    if transfer is None:
        log.warning("transfer.reversed for a transfer we do not know: %s", obj.get("id"))
        return
    reversals = (obj.get("reversals") or {}).get("data") or []
    for reversal in sorted((r for r in reversals if isinstance(r, dict) and r.get("id") and r.get("amount")),
                           key=lambda r: r.get("created") or 0):
        amount = int(reversal["amount"])
        left = transfer.amount - transfer.reversed_amount
        left_campaign = transfer.campaign_amount - transfer.reversed_campaign_amount
        if left <= 0:
            continue
        campaign_amount = left_campaign if amount >= left else left_campaign * amount // left
        book_reversal(transfer, reversal["id"], min(amount, left), campaign_amount)
