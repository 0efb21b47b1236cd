"""Refunds of any payment taken (a pledge, or one period of a recurring gift): asking the processor for one
(organizers, admins), applying what it confirms, and marking the requests its confirmation covers."""
from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from webapp.accounts.models import User
from webapp.errors import DomainError
from webapp.extensions import db
from webapp.i18n import locale_code
from webapp.mail import queue_email
from webapp.money import Money
from webapp.payments import bookkeeping, currencies
from webapp.payments.models import Pledge, Refund, RefundStatus
from webapp.payments.pledging import access
from webapp.payments.providers import get_provider
from webapp.payments.recurring.models import RecurringCharge

Payable = Pledge | RecurringCharge


def _of(row: Payable):
    """Refunds naming this payment (by its pledge or its recurring charge)."""
    (column, ident), = bookkeeping.payment_of(row).owner.items()
    return getattr(Refund, column) == ident


def refundable(row: Payable) -> Money:
    """What can still be refunded: the payment less what is refunded or already asked for."""
    p = bookkeeping.payment_of(row)
    asked = db.session.scalar(select(func.coalesce(func.sum(Refund.amount), 0)).where(
        _of(row), Refund.status == RefundStatus.REQUESTED)) or 0
    return Money(max(0, p.money.amount - row.refunded_amount - int(asked)), p.money.currency)


#: the longest reason a refund gives the backer (one email's paragraph)
REASON_MAX = 2_000


def request_refund(row: Payable, actor: User, amount: Money, reason: str) -> Refund:
    """Ask the processor for a refund; it is final when the processor confirms it (charge.refunded)."""
    p = bookkeeping.payment_of(row)
    if not p.paid or not row.payment_intent_id:
        raise DomainError(_("Only a paid pledge can be refunded.") if isinstance(row, Pledge)
                          else _("Only a paid period of a gift can be refunded."))
    reason = (reason or "").replace("\x00", "").strip()  # PostgreSQL refuses NUL in text; it never means anything
    if not reason:
        raise DomainError(_("Give the reason for the refund; the backer will read it."))
    if len(reason) > REASON_MAX:
        raise DomainError(_("Keep the reason under %(n)d characters.", n=REASON_MAX))
    if amount.currency != p.money.currency or amount.amount <= 0:
        raise DomainError(_("Enter an amount in %(c)s.", c=p.money.currency))
    left = refundable(row)
    if amount > left:
        raise DomainError(_("At most %(left)s can still be refunded.", left=left.format(locale_code())))
    refund = Refund(**p.owner, amount=amount.amount, reason=reason, requested_by_id=actor.id)
    db.session.add(refund)
    db.session.flush()
    # The processor counts in the charged currency: refund the same share of what was charged.
    if amount.amount == p.money.amount - row.refunded_amount:
        processor_amount = None  # all that remains
    else:
        # The charge also carried the tip, which stays with the platform unless all is refunded. Rounded up:
        # the processor's confirmation, converted back (rounded down), covers at least what was asked.
        share = -(-p.charge.amount * amount.amount // (p.money.amount + p.tip.amount))
        step = 10 if p.charge.currency in currencies.THREE_DECIMAL else 1
        processor_amount = Money(-(-share // step) * step, p.charge.currency)
    _tell_payer(row, refund, amount)
    refund.processor_refund_id = get_provider().refund(
        row.payment_intent_id, processor_amount, idempotency_key=f"refund-{refund.id}",
        metadata={**{k: str(v) for k, v in p.owner.items()}, "refund_id": str(refund.id)},
        reason="requested_by_customer")
    return refund


def _target_name(support) -> str:
    from webapp.payments.recurring.services import target_name  # the scheduler's module imports this one's peers

    return target_name(support)


def _tell_payer(row: Payable, refund: Refund, amount: Money) -> None:
    if isinstance(row, Pledge):
        queue_email("pledge_refunded", row.email, row.locale, pledge=row, campaign=row.campaign, amount=amount,
                    reason=refund.reason, link=access.link(row, "refund"))
        return
    support = row.support
    queue_email("recurring_refunded", support.user.email, support.locale, support=support, charge=row,
                amount=amount, reason=refund.reason,
                name=_target_name(support),
                link=url_for("recurring.mine", _external=True))


def confirmed(row: Payable, refunded_charge: int) -> int:
    """The processor says `refunded_charge` (its currency, cumulative) of this payment is refunded: book what
    is new, return the refund if it is whole, mark the requests covered. Applying it twice or late gives the same
    result. Returns the refunded total (booked currency) before."""
    p = bookkeeping.payment_of(row)
    if refunded_charge >= p.charge.amount:
        refunded = p.money.amount
    else:
        refunded = min(p.money.amount, (p.money.amount + p.tip.amount) * refunded_charge // p.charge.amount)
    before = row.refunded_amount or 0
    row.refunded_amount = max(before, min(refunded, p.money.amount))
    bookkeeping.book_refund(row, before)
    if refunded_charge >= p.charge.amount:
        bookkeeping.book_tip_return(row, "refund")
    settle_requested_refunds(row)
    return before


def settle_requested_refunds(row: Payable) -> None:
    """The processor confirmed refunds up to the refunded total: mark the requests that it covers."""
    confirmed_total = row.refunded_amount
    for refund in db.session.scalars(select(Refund).where(_of(row)).order_by(Refund.id)):
        confirmed_total -= refund.amount
        if confirmed_total >= 0 and refund.status == RefundStatus.REQUESTED:
            refund.status = RefundStatus.SUCCEEDED
