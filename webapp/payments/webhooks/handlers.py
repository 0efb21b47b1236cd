"""What each processor event does to our records: idempotent handlers that flush, never commit.

They read objects that webhooks/schemas.py has checked: a new handler needs a schema there too.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from webapp.campaigns.models import Campaign
from webapp.extensions import db
from webapp.ids import parse_id
from webapp.payments import disputes, refunds, settlements
from webapp.payments.matching import services as matching
from webapp.payments.pledging import saved_methods
from webapp.payments.pledging.states import move_if_allowed
from webapp.payments.recurring import services as recurring
from webapp.payments.models import Pledge, PledgeStatus

log = logging.getLogger(__name__)
P = PledgeStatus


# -- finding the pledge an object is about ------------------------------------------------------
def _find(obj: dict, **keys: str | None) -> Pledge | None:
    """Our pledge id in the metadata first, else any of our stored processor ids; locked for the update."""
    pledge_id = parse_id((obj.get("metadata") or {}).get("pledge_id"))  # ASCII digits within range, or None
    if pledge_id is not None:
        # Locked, with its campaign, organization and the campaign's translations (receipts name them, in the
        # backer's language): one statement, not four.
        pledge = db.session.execute(
            select(Pledge).where(Pledge.id == pledge_id)
            .options(joinedload(Pledge.campaign, innerjoin=True).options(
                joinedload(Campaign.organization, innerjoin=True), joinedload(Campaign.translations)))
            .with_for_update(of=Pledge).execution_options(populate_existing=True)).unique().scalar_one_or_none()
        if pledge is not None:
            return pledge
    conditions = [getattr(Pledge, column) == value for column, value in keys.items() if value]
    if not conditions:
        return None
    return db.session.scalar(select(Pledge).where(or_(*conditions)).with_for_update())


class NotYet(Exception):
    """The event is about something we cannot find yet (its payment's events are still on their way):
    nothing is recorded and the processor is asked to deliver it again later."""


def _missing(kind: str, obj: dict, cause: str) -> None:
    log.warning("%s: no pledge for %s %s", cause, kind, obj.get("id"))


# -- handlers -----------------------------------------------------------------------------------
def checkout_completed(obj: dict, cause: str) -> None:
    if recurring.is_recurring(obj):
        return  # the payment's own payment_intent.succeeded records it, whichever comes first
    owner = saved_methods.owner_of(obj)
    if owner and obj.get("mode") == "setup":  # a method saved ahead of any pledge
        saved_methods.method_saved(owner, _id(obj.get("customer")), None)
        return
    pledge = _find(obj, checkout_session_id=obj.get("id"))
    if pledge is None:
        return _missing("checkout session", obj, cause)
    pledge.customer_id = _id(obj.get("customer")) or pledge.customer_id
    if obj.get("mode") == "setup":
        pledge.setup_intent_id = _id(obj.get("setup_intent")) or pledge.setup_intent_id
        move_if_allowed(pledge, P.COMMITTED, cause)
        return
    pledge.payment_intent_id = _id(obj.get("payment_intent")) or pledge.payment_intent_id
    if obj.get("payment_status") == "paid":
        _paid(pledge, cause)
    elif pledge.status == P.NEEDS_ACTION:  # completed on-session with a bank debit: on its way, never lapses
        from webapp.payments.collection import services as collection

        collection.collecting(pledge, cause)
    else:  # a bank debit: the money arrives (or not) days later
        move_if_allowed(pledge, P.PROCESSING, cause)


def checkout_async_succeeded(obj: dict, cause: str) -> None:
    pledge = _find(obj, checkout_session_id=obj.get("id"))
    if pledge is None:
        return _missing("checkout session", obj, cause)
    pledge.payment_intent_id = _id(obj.get("payment_intent")) or pledge.payment_intent_id
    _paid(pledge, cause)


def checkout_async_failed(obj: dict, cause: str) -> None:
    pledge = _find(obj, checkout_session_id=obj.get("id"))
    if pledge is None:
        return _missing("checkout session", obj, cause)
    pledge.failure_reason = pledge.failure_reason or "bank debit failed"
    if pledge.status == P.COLLECTING:  # the backer's debit completing a pledge bounced: ask again
        from webapp.payments.collection import services as collection

        collection.debit_failed(pledge, "bank debit failed", cause)
        return
    move_if_allowed(pledge, P.FAILED, cause)


def checkout_expired(obj: dict, cause: str) -> None:
    if recurring.is_recurring(obj):
        return recurring.checkout_expired(obj, cause)
    pledge = _find(obj, checkout_session_id=obj.get("id"))
    if pledge is None:
        return _missing("checkout session", obj, cause)
    move_if_allowed(pledge, P.EXPIRED, cause)


def setup_intent_succeeded(obj: dict, cause: str) -> None:
    owner = saved_methods.owner_of(obj)
    if owner:
        saved_methods.method_saved(owner, _id(obj.get("customer")), _id(obj.get("payment_method")))
        return
    pledge = _find(obj, setup_intent_id=obj.get("id"))
    if pledge is None:
        return _missing("setup intent", obj, cause)
    pledge.setup_intent_id = obj.get("id")
    pledge.payment_method_id = _id(obj.get("payment_method")) or pledge.payment_method_id
    pledge.customer_id = _id(obj.get("customer")) or pledge.customer_id
    move_if_allowed(pledge, P.COMMITTED, cause)


def payment_intent_succeeded(obj: dict, cause: str) -> None:
    if recurring.is_recurring(obj):
        return recurring.payment_succeeded(obj, cause)
    pledge = _find(obj, payment_intent_id=obj.get("id"))
    if pledge is None:
        return _missing("payment intent", obj, cause)
    pledge.payment_intent_id = obj.get("id")
    pledge.charge_id = _id(obj.get("latest_charge")) or pledge.charge_id
    _paid(pledge, cause)


def payment_intent_failed(obj: dict, cause: str) -> None:
    if recurring.is_recurring(obj):
        return recurring.payment_failed(obj, cause)
    pledge = _find(obj, payment_intent_id=obj.get("id"))
    if pledge is None:
        return _missing("payment intent", obj, cause)
    error = obj.get("last_payment_error") or {}
    pledge.failure_reason = error.get("message") or error.get("code") or "payment failed"
    # During an open checkout the backer may still try another card: only a debit in flight fails here.
    if pledge.status == P.PROCESSING:
        move_if_allowed(pledge, P.FAILED, cause)
    elif pledge.status in (P.COMMITTED, P.COLLECTING) and pledge.payment_intent_id == obj.get("id"):
        # The charge at success was a bank debit and it bounced: ask the backer, as for a declined card.
        from webapp.payments.collection import services as collection

        collection.debit_failed(pledge, error.get("code") or "failed", cause)


def charge_refunded(obj: dict, cause: str) -> None:
    intent_id = _id(obj.get("payment_intent"))
    pledge = None if recurring.is_recurring(obj) else _find(obj, payment_intent_id=intent_id, charge_id=obj.get("id"))
    if pledge is None:
        renewal = recurring.charge_paid_by(intent_id, obj.get("id"), obj)  # a period of a recurring gift
        if renewal is None:
            if recurring.is_recurring(obj):  # its payment's events come after it: asked again later
                raise NotYet(f"{cause}: the recurring payment of {obj.get('id')} is not recorded yet")
            return _missing("charge", obj, cause)
        refunds.confirmed(renewal, int(obj.get("amount_refunded") or 0))
        return
    pledge.charge_id = obj.get("id") or pledge.charge_id
    # The event carries the cumulative refund: applying it twice or late gives the same result.
    before = refunds.confirmed(pledge, int(obj.get("amount_refunded") or 0))
    if pledge.refunded_amount > before and pledge.refunded_amount < pledge.amount:
        matching.give_back(pledge)  # in proportion; a full refund gives it back through the state change
    if pledge.refunded_amount >= pledge.amount:
        move_if_allowed(pledge, P.REFUNDED, cause)
    if pledge.refunded_amount > before:
        _take_back(pledge, cause)


def _take_back(pledge: Pledge, cause: str) -> None:
    """Money left the charge after its transfer: reverse the matching part (asked again if the processor is away)."""
    from webapp.errors import ProviderError
    from webapp.payments.payouts import reversals

    try:
        reversals.take_back(pledge)
    except ProviderError as exc:
        raise NotYet(f"{cause}: could not reverse the transfer of pledge {pledge.id} yet: {exc}") from None


def dispute_event(event_type: str) -> Callable[[dict, str], None]:
    """created, updated, funds_withdrawn, funds_reinstated, closed: each says where the dispute stands."""
    def handle(obj: dict, cause: str) -> None:
        intent_id, charge_id = _id(obj.get("payment_intent")), _id(obj.get("charge"))
        pledge = _find({}, payment_intent_id=intent_id, charge_id=charge_id)
        if pledge is None:
            renewal = recurring.charge_paid_by(intent_id, charge_id)
            if renewal is not None:
                disputes.apply(renewal, obj, event_type)
                return
        if pledge is None:
            # A dispute names only the charge and the intent, which we learn from the payment's own events;
            # after an outage Stripe may deliver it first. Acknowledging it would lose it: ask for it again.
            raise NotYet(f"{cause}: no pledge yet for charge {_id(obj.get('charge'))}")
        dispute = disputes.apply(pledge, obj, event_type)
        if dispute.status == "lost":
            _take_back(pledge, cause)

    handle.__name__ = f"dispute_{event_type.rsplit('.', 1)[-1]}"
    return handle


def _record_settlement(pledge: Pledge) -> None:
    settlements.record(pledge)


def _paid(pledge: Pledge, cause: str) -> None:
    """The processor took the money: its settlement (net and fee) is read, then the pledge moves to paid.

    In that order the pledge's row is written once (settled figures and new state in one UPDATE, at the
    next flush); the settlement was read whether or not the move is allowed before too, so the books are
    the same, the fee's entry only booked ahead of the charge's.
    """
    _record_settlement(pledge)
    move_if_allowed(pledge, P.PAID, cause)


def charge_updated(obj: dict, cause: str) -> None:
    """A charge's balance transaction appeared after the payment events (asynchronous capture)."""
    if not obj.get("balance_transaction") or obj.get("status") != "succeeded":
        return
    intent_id = _id(obj.get("payment_intent"))
    pledge = None if recurring.is_recurring(obj) else _find(obj, payment_intent_id=intent_id, charge_id=obj.get("id"))
    if pledge is None:
        renewal = recurring.charge_paid_by(intent_id, obj.get("id"), obj)  # a period of a recurring gift
        if renewal is None:
            return _missing("charge", obj, cause)  # the payment's own event reads the settlement
        settlements.record(renewal)
        return
    if pledge.status in settlements.SETTLING:
        pledge.payment_intent_id = pledge.payment_intent_id or _id(obj.get("payment_intent"))
        settlements.record(pledge)


def _id(value) -> str | None:
    if isinstance(value, dict):
        return value.get("id")
    return value or None


def account_updated(obj: dict, cause: str) -> None:
    from webapp.payments.payouts import accounts

    accounts.account_updated(obj)


def capability_updated(obj: dict, cause: str) -> None:
    from webapp.payments.payouts import accounts

    accounts.capability_updated(obj)


#: the dispute events to enable on the webhook endpoint (README)
DISPUTE_EVENTS = ("charge.dispute.created", "charge.dispute.updated", "charge.dispute.funds_withdrawn",
                  "charge.dispute.funds_reinstated", "charge.dispute.closed")

def transfer_reversed(obj: dict, cause: str) -> None:
    from webapp.payments.payouts import reversals

    reversals.transfer_reversed(obj)


def payout_changed(obj: dict, cause: str) -> None:
    from webapp.payments.payouts import bank

    bank.payout_changed(obj)


#: the payout events to enable (payouts of the platform's balance to its bank)
PAYOUT_EVENTS = ("payout.created", "payout.updated", "payout.paid", "payout.failed", "payout.canceled")

#: every handled event type; connected accounts' events (account.updated, capability.updated) reach the
#: Connect endpoint (endpoint.py), the platform's own (an account.updated of the platform) the platform endpoint
HANDLERS: dict[str, Callable[[dict, str], None]] = {
    "account.updated": account_updated,
    "capability.updated": capability_updated,
    "checkout.session.completed": checkout_completed,
    "checkout.session.async_payment_succeeded": checkout_async_succeeded,
    "checkout.session.async_payment_failed": checkout_async_failed,
    "checkout.session.expired": checkout_expired,
    "setup_intent.succeeded": setup_intent_succeeded,
    "payment_intent.succeeded": payment_intent_succeeded,
    "payment_intent.payment_failed": payment_intent_failed,
    "charge.refunded": charge_refunded,
    "charge.updated": charge_updated,
    **{name: dispute_event(name) for name in DISPUTE_EVENTS},
    "transfer.reversed": transfer_reversed,
    **{name: payout_changed for name in PAYOUT_EVENTS},
}

