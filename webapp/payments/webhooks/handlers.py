"""Processor events: signature checks on the raw body, applied once each, in any order."""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable

from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from webapp.extensions import db
from webapp.payments import bookkeeping, matching, saved_methods, services
from webapp.payments.models import Pledge, PledgeStatus, ProcessedEvent
from webapp.payments.provider import get_provider

log = logging.getLogger(__name__)
P = PledgeStatus


class BadSignature(Exception):
    pass


# -- signatures (Stripe's scheme: HMAC-SHA256 over "{timestamp}.{payload}") ----------------------
def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(payload: bytes, header: str | None, secret: str, tolerance: int) -> None:
    if not header:
        raise BadSignature("missing Stripe-Signature header")
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    timestamps = [v for k, v in parts if k.strip() == "t"]
    signatures = [v for k, v in parts if k.strip() == "v1"]
    if not timestamps or not signatures:
        raise BadSignature("malformed signature header")
    try:
        timestamp = int(timestamps[0])
    except ValueError:
        raise BadSignature("malformed timestamp") from None
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, s.strip()) for s in signatures):
        raise BadSignature("signature does not match")
    if abs(time.time() - timestamp) > tolerance:
        raise BadSignature("signature timestamp is outside the tolerance")


def receive(payload: bytes, header: str | None) -> tuple[int, str]:
    """The whole webhook: verify, record the event id and apply its effect in one transaction."""
    cfg = current_app.config
    try:
        verify(payload, header, cfg["STRIPE_WEBHOOK_SECRET"], cfg["WEBHOOK_TOLERANCE"])
    except BadSignature as exc:
        log.warning("webhook refused: %s", exc)
        return 400, str(exc)
    try:
        event = json.loads(payload)
        event_id, event_type, obj = event["id"], event["type"], event["data"]["object"]
    except (ValueError, KeyError, TypeError):
        return 400, "not a JSON event"
    provider = get_provider().name
    if db.session.scalar(select(ProcessedEvent.id).where(
            ProcessedEvent.provider == provider, ProcessedEvent.event_id == event_id)) is not None:
        return 200, "already processed"
    try:
        # The event id goes in first: a concurrent delivery of the same event waits here, then fails.
        db.session.add(ProcessedEvent(provider=provider, event_id=event_id, event_type=event_type))
        db.session.flush()
        handler = HANDLERS.get(event_type)
        if handler is None:
            log.info("webhook %s of unhandled type %s acknowledged", event_id, event_type)
        else:
            handler(obj, f"{event_type}:{event_id}")
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        if db.session.scalar(select(ProcessedEvent.id).where(
                ProcessedEvent.provider == provider, ProcessedEvent.event_id == event_id)) is not None:
            return 200, "already processed"  # a concurrent delivery of the same event applied it
        raise  # anything else is a real failure: answer 500 so the processor delivers it again
    return 200, "ok"


# -- finding the pledge an object is about ------------------------------------------------------
def _find(obj: dict, **keys: str | None) -> Pledge | None:
    """Our pledge id in the metadata first, else any of our stored processor ids; locked for the update."""
    pledge_id = str((obj.get("metadata") or {}).get("pledge_id", ""))
    if pledge_id.isdigit():
        pledge = db.session.get(Pledge, int(pledge_id), with_for_update=True)
        if pledge is not None:
            return pledge
    conditions = [getattr(Pledge, column) == value for column, value in keys.items() if value]
    if not conditions:
        return None
    return db.session.scalar(select(Pledge).where(or_(*conditions)).with_for_update())


def _missing(kind: str, obj: dict, cause: str) -> None:
    log.warning("%s: no pledge for %s %s", cause, kind, obj.get("id"))


# -- handlers -----------------------------------------------------------------------------------
def checkout_completed(obj: dict, cause: str) -> None:
    owner = saved_methods.owner_of(obj)
    if owner and obj.get("mode") == "setup":  # a method saved ahead of any pledge
        saved_methods.method_saved(owner, _id(obj.get("customer")), None)
        return
    pledge = _find(obj, checkout_session_id=obj.get("id"))
    if pledge is None:
        return _missing("checkout session", obj, cause)
    pledge.customer_id = obj.get("customer") or pledge.customer_id
    if obj.get("mode") == "setup":
        pledge.setup_intent_id = _id(obj.get("setup_intent")) or pledge.setup_intent_id
        services.move_if_allowed(pledge, P.COMMITTED, cause)
        return
    pledge.payment_intent_id = _id(obj.get("payment_intent")) or pledge.payment_intent_id
    if obj.get("payment_status") == "paid":
        services.move_if_allowed(pledge, P.PAID, cause)
        _record_settlement(pledge)
    else:  # a bank debit: the money arrives (or not) days later
        services.move_if_allowed(pledge, P.PROCESSING, cause)


def checkout_async_succeeded(obj: dict, cause: str) -> None:
    pledge = _find(obj, checkout_session_id=obj.get("id"))
    if pledge is None:
        return _missing("checkout session", obj, cause)
    pledge.payment_intent_id = _id(obj.get("payment_intent")) or pledge.payment_intent_id
    services.move_if_allowed(pledge, P.PAID, cause)
    _record_settlement(pledge)


def checkout_async_failed(obj: dict, cause: str) -> None:
    pledge = _find(obj, checkout_session_id=obj.get("id"))
    if pledge is None:
        return _missing("checkout session", obj, cause)
    pledge.failure_reason = pledge.failure_reason or "bank debit failed"
    services.move_if_allowed(pledge, P.FAILED, cause)


def checkout_expired(obj: dict, cause: str) -> None:
    pledge = _find(obj, checkout_session_id=obj.get("id"))
    if pledge is None:
        return _missing("checkout session", obj, cause)
    services.move_if_allowed(pledge, P.EXPIRED, cause)


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
    services.move_if_allowed(pledge, P.COMMITTED, cause)


def payment_intent_succeeded(obj: dict, cause: str) -> None:
    pledge = _find(obj, payment_intent_id=obj.get("id"))
    if pledge is None:
        return _missing("payment intent", obj, cause)
    pledge.payment_intent_id = obj.get("id")
    pledge.charge_id = _id(obj.get("latest_charge")) or pledge.charge_id
    services.move_if_allowed(pledge, P.PAID, cause)
    _record_settlement(pledge)


def payment_intent_failed(obj: dict, cause: str) -> None:
    pledge = _find(obj, payment_intent_id=obj.get("id"))
    if pledge is None:
        return _missing("payment intent", obj, cause)
    error = obj.get("last_payment_error") or {}
    pledge.failure_reason = error.get("message") or error.get("code") or "payment failed"
    # During an open checkout the backer may still try another card: only a debit in flight fails here.
    if pledge.status == P.PROCESSING:
        services.move_if_allowed(pledge, P.FAILED, cause)
    elif pledge.status == P.COMMITTED and pledge.payment_intent_id == obj.get("id"):
        # The charge at success was a bank debit and it bounced: ask the backer, as for a declined card.
        from webapp.payments import closing

        closing.needs_action(pledge, error.get("code") or "failed", cause)


def charge_refunded(obj: dict, cause: str) -> None:
    pledge = _find(obj, payment_intent_id=_id(obj.get("payment_intent")), charge_id=obj.get("id"))
    if pledge is None:
        return _missing("charge", obj, cause)
    pledge.charge_id = obj.get("id") or pledge.charge_id
    refunded_charge = int(obj.get("amount_refunded") or 0)
    # The event carries the cumulative refund: applying it twice or late gives the same result.
    if refunded_charge >= pledge.charge_amount:
        refunded = pledge.amount
    else:
        refunded = min(pledge.amount, (pledge.amount + pledge.tip_amount) * refunded_charge // pledge.charge_amount)
    before = pledge.refunded_amount
    pledge.refunded_amount = max(pledge.refunded_amount, min(refunded, pledge.amount))
    bookkeeping.book_refund(pledge, before)
    if refunded_charge >= pledge.charge_amount:
        bookkeeping.book_tip_return(pledge, "refund")
    services.settle_requested_refunds(pledge)
    if pledge.refunded_amount > before and pledge.refunded_amount < pledge.amount:
        matching.give_back(pledge)  # in proportion; a full refund gives it back through the state change
    if pledge.refunded_amount >= pledge.amount:
        services.move_if_allowed(pledge, P.REFUNDED, cause)


def dispute_created(obj: dict, cause: str) -> None:
    pledge = _find({}, payment_intent_id=_id(obj.get("payment_intent")), charge_id=_id(obj.get("charge")))
    if pledge is None:
        return _missing("dispute", obj, cause)
    if pledge.disputed_at is None:
        pledge.disputed_at = services.utcnow()
        bookkeeping.book_dispute(pledge, _dispute_fee(obj))
        bookkeeping.book_tip_return(pledge, "dispute")  # the chargeback takes the whole charge back


def _dispute_fee(obj: dict):
    """The processor's dispute fee, from the balance transactions the dispute carries (None if none)."""
    from webapp.money import Money

    txns = [t for t in obj.get("balance_transactions") or [] if isinstance(t, dict) and t.get("fee")]
    if not txns:
        return None
    return Money(sum(int(t["fee"]) for t in txns), str(txns[0]["currency"]).upper())


def _record_settlement(pledge: Pledge) -> None:
    if not pledge.payment_intent_id or pledge.settled_amount is not None:
        return
    try:
        settlement = get_provider().settlement(pledge.payment_intent_id)
    except Exception:  # the pledge is paid either way; the figures can be read again later
        log.exception("could not read the settlement of %s", pledge.payment_intent_id)
        return
    if settlement is not None:
        pledge.settled_amount, pledge.settled_fee = settlement.amount.amount, settlement.fee.amount
        pledge.settled_currency = settlement.amount.currency
        pledge.charge_id = settlement.charge_id or pledge.charge_id
        bookkeeping.book_processor_fee(pledge)


def _id(value) -> str | None:
    if isinstance(value, dict):
        return value.get("id")
    return value or None


def account_updated(obj: dict, cause: str) -> None:
    from webapp.payments import payouts

    payouts.account_updated(obj)


HANDLERS: dict[str, Callable[[dict, str], None]] = {
    "account.updated": account_updated,
    "checkout.session.completed": checkout_completed,
    "checkout.session.async_payment_succeeded": checkout_async_succeeded,
    "checkout.session.async_payment_failed": checkout_async_failed,
    "checkout.session.expired": checkout_expired,
    "setup_intent.succeeded": setup_intent_succeeded,
    "payment_intent.succeeded": payment_intent_succeeded,
    "payment_intent.payment_failed": payment_intent_failed,
    "charge.refunded": charge_refunded,
    "charge.dispute.created": dispute_created,
}
