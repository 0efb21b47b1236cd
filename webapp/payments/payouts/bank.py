"""Stripe's payouts of the platform's balance to the platform's bank account, booked in the ledger.

A payout leaves the processor's balance when it is created (its balance transaction, type
`payout`); a failed or cancelled one comes back (`payout_failure` / `payout_cancel`;
https://docs.stripe.com/payouts#payout-failures). Each payout event carries the whole payout, so
any of them books what it shows, once (keyed by the payout's id), whatever the order.
"""
from __future__ import annotations

import logging
from datetime import UTC, datetime

from webapp.ledger import services as ledger
from webapp.money import Money
from webapp.payments.providers import get_provider

log = logging.getLogger(__name__)

#: the platform's own bank account, where Stripe pays the balance out
PLATFORM_BANK = "external:bank:platform"


def payout_changed(obj: dict) -> None:
    """payout.created / updated / paid / failed / canceled: book the payout, and its return if it failed."""
    ident, amount, currency = obj.get("id"), obj.get("amount"), obj.get("currency")
    if not ident or amount is None or not currency:
        log.warning("payout event without id, amount or currency: %s", ident)
        return
    money = Money(int(amount), str(currency).upper())
    processor = ledger.processor(get_provider().name)
    created = obj.get("created")
    occurred = datetime.fromtimestamp(int(created), UTC).replace(tzinfo=None) if created else None
    ledger.book(key=f"payout:{ident}", kind="payout", debit=PLATFORM_BANK, credit=processor, money=money,
                cause=f"payout:{ident}", memo="Payout to the platform's bank",
                processor_ref=_id(obj.get("balance_transaction")) or ident, occurred_at=occurred)
    if obj.get("status") in ("failed", "canceled"):
        ledger.book(key=f"payout_return:{ident}", kind="payout_return", debit=processor, credit=PLATFORM_BANK,
                    money=money, cause=f"payout:{ident}",
                    memo=f"Payout {obj['status']}: back in the balance ({obj.get('failure_code') or '-'})",
                    processor_ref=_id(obj.get("failure_balance_transaction")) or ident)


def _id(value) -> str | None:
    if isinstance(value, dict):
        return value.get("id")
    return value or None
