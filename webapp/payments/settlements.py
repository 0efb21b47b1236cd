"""A payment's settlement (net and fee, in the balance currency) — a paid pledge's or a paid period of a recurring
gift's — read once the processor has booked it.

Stripe may book a charge's balance transaction a moment after the charge succeeds
(https://docs.stripe.com/payments/payment-intents/asynchronous-capture: "The balance_transaction
field on the Charge object might be null immediately after confirmation"). The payment events read
it when they can; `charge.updated` (balance_transaction set) and the periodic `record_missing`
read it again later, so no paid pledge or renewal stays without its fee and net.
"""
from __future__ import annotations

import logging

from sqlalchemy import select

from webapp.extensions import db
from webapp.payments import bookkeeping
from webapp.payments.models import Pledge, PledgeStatus
from webapp.payments.providers import get_provider
from webapp.payments.recurring.models import ChargeStatus, RecurringCharge

log = logging.getLogger(__name__)

#: pledges whose money the processor received, so whose charge has (or will have) a balance transaction
SETTLING = (PledgeStatus.PAID, PledgeStatus.REFUNDED)


def record(pledge: Pledge | RecurringCharge) -> bool:
    """Read the settlement if it is still unknown and book the processor's fee; True once it is known."""
    if pledge.settled_amount is not None:
        return True
    if not pledge.payment_intent_id:
        return False
    try:
        settlement = get_provider().settlement(pledge.payment_intent_id)
    except Exception:  # the pledge is paid either way; the figures are read again later
        log.exception("could not read the settlement of %s", pledge.payment_intent_id)
        return False
    if settlement is None:
        return False
    pledge.settled_amount, pledge.settled_fee = settlement.amount.amount, settlement.fee.amount
    pledge.settled_currency = settlement.amount.currency
    pledge.charge_id = settlement.charge_id or pledge.charge_id
    bookkeeping.book_processor_fee(pledge)
    return True


def record_missing(limit: int = 200) -> tuple[int, int]:
    """Paid pledges and renewals without their settlement, newest first: read each again. Returns (read, still
    missing)."""
    provider = get_provider().name
    waiting: list[Pledge | RecurringCharge] = list(db.session.scalars(
        select(Pledge).where(Pledge.status.in_(SETTLING), Pledge.settled_amount.is_(None),
                             Pledge.payment_intent_id.is_not(None), Pledge.provider == provider)
        .order_by(Pledge.id.desc()).limit(limit).with_for_update(skip_locked=True)))
    waiting += db.session.scalars(
        select(RecurringCharge).where(RecurringCharge.status == ChargeStatus.SUCCEEDED,
                                      RecurringCharge.settled_amount.is_(None),
                                      RecurringCharge.payment_intent_id.is_not(None),
                                      RecurringCharge.provider == provider)
        .order_by(RecurringCharge.id.desc()).limit(limit).with_for_update(skip_locked=True))
    found = sum(1 for pledge in waiting if record(pledge))
    db.session.flush()
    if len(waiting) > found:
        log.warning("%d paid pledge(s) or renewal(s) still have no settlement at the processor", len(waiting) - found)
    return found, len(waiting) - found
