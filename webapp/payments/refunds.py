"""Refunds: asking the processor for one (organizers), and marking requests its confirmation covers."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from webapp.accounts.models import User
from webapp.errors import DomainError
from webapp.extensions import db
from webapp.i18n import locale_code
from webapp.mail import queue_email
from webapp.money import Money
from webapp.payments import currencies
from webapp.payments.models import Pledge, PledgeStatus, Refund, RefundStatus
from webapp.payments.pledging import access
from webapp.payments.providers import get_provider


def refundable(pledge: Pledge) -> Money:
    """What can still be refunded: the pledge less what is refunded or already asked for."""
    asked = db.session.scalar(select(func.coalesce(func.sum(Refund.amount), 0)).where(
        Refund.pledge_id == pledge.id, Refund.status == RefundStatus.REQUESTED)) or 0
    return Money(max(0, pledge.amount - pledge.refunded_amount - int(asked)), pledge.currency)


def request_refund(pledge: Pledge, actor: User, amount: Money, reason: str) -> Refund:
    """Ask the processor for a refund; it is final when the processor confirms it (charge.refunded)."""
    if pledge.status != PledgeStatus.PAID or not pledge.payment_intent_id:
        raise DomainError(_("Only a paid pledge can be refunded."))
    if not (reason or "").strip():
        raise DomainError(_("Give the reason for the refund; the backer will read it."))
    if amount.currency != pledge.currency or amount.amount <= 0:
        raise DomainError(_("Enter an amount in %(c)s.", c=pledge.currency))
    left = refundable(pledge)
    if amount > left:
        raise DomainError(_("At most %(left)s can still be refunded.", left=left.format(locale_code())))
    refund = Refund(pledge_id=pledge.id, amount=amount.amount, reason=reason.strip(), requested_by_id=actor.id)
    db.session.add(refund)
    db.session.flush()
    # The processor counts in the charged currency: refund the same share of what was charged.
    if amount.amount == pledge.amount - pledge.refunded_amount:
        processor_amount = None  # all that remains
    else:
        # The charge also carried the tip, which stays with the platform unless all is refunded. Rounded up:
        # the processor's confirmation, converted back (rounded down), covers at least what was asked.
        share = -(-pledge.charge_amount * amount.amount // (pledge.amount + pledge.tip_amount))
        step = 10 if pledge.charge_currency in currencies.THREE_DECIMAL else 1
        processor_amount = Money(-(-share // step) * step, pledge.charge_currency)
    queue_email("pledge_refunded", pledge.email, pledge.locale, pledge=pledge, campaign=pledge.campaign,
                amount=amount, reason=refund.reason,
                link=access.link(pledge, "refund"))
    refund.processor_refund_id = get_provider().refund(
        pledge.payment_intent_id, processor_amount, idempotency_key=f"refund-{refund.id}",
        metadata={"pledge_id": str(pledge.id), "refund_id": str(refund.id)}, reason="requested_by_customer")
    return refund


def settle_requested_refunds(pledge: Pledge) -> None:
    """The processor confirmed refunds up to pledge.refunded_amount: mark the requests that it covers."""
    confirmed = pledge.refunded_amount
    for refund in db.session.scalars(select(Refund).where(Refund.pledge_id == pledge.id).order_by(Refund.id)):
        confirmed -= refund.amount
        if confirmed >= 0 and refund.status == RefundStatus.REQUESTED:
            refund.status = RefundStatus.SUCCEEDED
