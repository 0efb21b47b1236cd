"""Disputes: recording each processor event about one, and what it does to the ledger, in any order.

Every dispute event (created, updated, funds_withdrawn, funds_reinstated, closed) carries the whole
dispute object, with its status and the balance transactions Stripe booked for it so far
(https://docs.stripe.com/api/disputes/object: "balance_transactions: List of zero, one, or two
balance transactions that show funds withdrawn and reinstated"). So each event is applied as a
statement of where the dispute stands, never as a step: the status only moves forward
(DISPUTE_STAGE), and the withdrawal and the reinstatement are booked once each, by whichever event
first shows them. An inquiry (warning_*) moves no money
(https://docs.stripe.com/disputes/how-disputes-work#inquiries).
"""
from __future__ import annotations

import logging

from sqlalchemy import select

from webapp.clock import utcnow
from webapp.extensions import db
from webapp.money import Money
from webapp.payments import bookkeeping
from webapp.payments.models import DISPUTE_STAGE, Dispute, Pledge
from webapp.payments.recurring.models import RecurringCharge

log = logging.getLogger(__name__)

#: chargebacks whose money the processor has taken (a won one has had it back since)
WITHDRAWN = frozenset({"needs_response", "under_review", "won", "lost"})


def apply(pledge: Pledge | RecurringCharge, obj: dict, event_type: str) -> Dispute:
    """Bring our record of the dispute (of a pledge or a period of a recurring gift) and the ledger up to what
    `obj` says; idempotent, any order."""
    dispute = _record(pledge, obj)
    txns = [t for t in obj.get("balance_transactions") or [] if isinstance(t, dict)]
    withdrawals = [t for t in txns if int(t.get("amount") or 0) < 0]
    reinstatements = [t for t in txns if int(t.get("amount") or 0) > 0]
    status = obj.get("status") or "needs_response"  # a dispute without one is no inquiry
    withdrawn = bool(withdrawals) or event_type == "charge.dispute.funds_withdrawn" or status in WITHDRAWN
    reinstated = bool(reinstatements) or event_type == "charge.dispute.funds_reinstated" or status == "won"
    if withdrawn or reinstated:
        amount = obj.get("amount")
        bookkeeping.book_dispute(pledge, int(amount) if amount is not None else None, _fee(withdrawals))
        if pledge.disputed_at is None:
            pledge.disputed_at = utcnow()
        dispute.withdrawn_at = dispute.withdrawn_at or utcnow()
    if reinstated:
        returned = _fee(reinstatements)
        bookkeeping.book_dispute_reinstated(pledge, Money(-returned.amount, returned.currency) if returned else None)
        dispute.reinstated_at = dispute.reinstated_at or utcnow()
    return dispute


def _record(pledge: Pledge | RecurringCharge, obj: dict) -> Dispute:
    payment = bookkeeping.payment_of(pledge)
    ident = str(obj.get("id") or payment.subject.replace(":", "-"))
    dispute = db.session.scalar(select(Dispute).where(Dispute.processor_dispute_id == ident).with_for_update())
    status = obj.get("status") or "needs_response"
    if dispute is None:
        dispute = Dispute(**payment.owner, processor_dispute_id=ident, status=status,
                          amount=int(obj.get("amount") or payment.charge.amount),
                          currency=str(obj.get("currency") or payment.charge.currency).upper(),
                          reason=(obj.get("reason") or None) and str(obj["reason"])[:60])
        db.session.add(dispute)
    elif DISPUTE_STAGE.get(status, 0) > DISPUTE_STAGE.get(dispute.status, 0):
        dispute.status = status  # forward only: an older event delivered late changes nothing
    if dispute.status in ("won", "lost", "warning_closed", "prevented") and dispute.closed_at is None:
        dispute.closed_at = utcnow()
        log.info("dispute %s on %s closed: %s", ident, payment.subject, dispute.status)
    return dispute


def _fee(txns: list[dict]) -> Money | None:
    """The fee of these balance transactions (negative when the processor returns it), or None."""
    with_fee = [t for t in txns if int(t.get("fee") or 0)]
    if not with_fee:
        return None
    return Money(sum(int(t["fee"]) for t in with_fee), str(with_fee[0]["currency"]).upper())


def disputes_of(campaign_id: int) -> list[Dispute]:
    return list(db.session.scalars(
        select(Dispute).join(Pledge, Pledge.id == Dispute.pledge_id).where(Pledge.campaign_id == campaign_id)
        .options(db.joinedload(Dispute.pledge)).order_by(Dispute.opened_at.desc(), Dispute.id.desc()).limit(200)))
