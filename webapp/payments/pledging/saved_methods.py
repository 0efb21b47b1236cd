"""Payment methods saved ahead of any pledge (setup mode), and pledges charged on them in one click.

A higher domain (mutual aid's standing commitments) asks for a method to be saved for an owner key
such as "commitment:12" and registers a listener for that key's prefix; the processor's events
reach the listener through the same webhook code as pledges. Nothing is charged until the owner
confirms a pledge, which is then charged off-session on the saved method.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _

from webapp.accounts.models import User
from webapp.clock import utcnow
from webapp.errors import DomainError
from webapp.extensions import db
from webapp.money import Money
from webapp.payments import currencies
from webapp.payments.pledging import services
from webapp.payments.pledging.customers import customer_for
from webapp.payments.pledging.states import move
from webapp.payments.models import Pledge, PledgeStatus
from webapp.payments.providers import get_provider
from webapp.payments.providers.base import CheckoutRequest, CheckoutSession

log = logging.getLogger(__name__)
METADATA_KEY = "setup_for"

#: owner-key prefix → called with (owner_key, customer_id, payment_method_id) once a method is saved
_LISTENERS: dict[str, Callable[[str, str | None, str | None], None]] = {}


def on_method_saved(prefix: str, listener: Callable[[str, str | None, str | None], None]) -> None:
    _LISTENERS[prefix] = listener


def start_setup(owner_key: str, email: str, currency: str, terms: str, locale: str, success_url: str,
                cancel_url: str, user: User | None = None) -> CheckoutSession:
    """Open the processor's hosted page in setup mode for this owner; nothing is charged.

    A member's method is saved on the member's one customer (pledging.customers), like their pledges'.
    """
    minimum = Money(currencies.rule(currency).minimum, currency)
    customer_id = customer_for(user) if user is not None else None
    return get_provider().create_checkout(CheckoutRequest(
        pledge_id=0, reference=owner_key.replace(":", "-"), mode="setup", charge=minimum, email=email,
        description=terms, terms=terms, locale=locale, success_url=success_url, cancel_url=cancel_url,
        expires_at=utcnow() + timedelta(minutes=current_app.config["CHECKOUT_HOLD_MINUTES"] + 1),
        idempotency_key=f"setup-{owner_key.replace(':', '-')}-{int(utcnow().timestamp())}",
        metadata={METADATA_KEY: owner_key}, customer_id=customer_id))


def owner_of(obj: dict) -> str | None:
    return (obj.get("metadata") or {}).get(METADATA_KEY) or None


def method_saved(owner_key: str, customer_id: str | None, payment_method_id: str | None) -> None:
    """Called by the webhook handlers for setup-mode events that belong to no pledge."""
    for prefix, listener in _LISTENERS.items():
        if owner_key.startswith(prefix):
            listener(owner_key, customer_id, payment_method_id)
            return
    log.warning("a payment method was saved for %s, which nobody listens for", owner_key)


def charge_saved_method(req: services.PledgeRequest, customer_id: str, payment_method_id: str) -> Pledge:
    """A pledge charged at once on a saved method; if the bank wants the backer, its checkout stays open.

    Returns the pledge: PAID when the charge went through, else PENDING with a checkout URL where the
    backer completes the payment on-session.
    """
    pledge = services.start_pledge(req)  # records the pledge, holds nothing (no tier), opens a checkout
    if pledge.status != PledgeStatus.PENDING:
        return pledge
    result = get_provider().charge_off_session(
        customer_id, payment_method_id, pledge.charge, idempotency_key=services.pledge_key(pledge, "charge-1"),
        metadata={**services.processor_metadata(pledge), "charge_attempt": "1"},
        description=f"Harambee pledge {pledge.reference}")
    pledge.charge_attempts = 1
    pledge.payment_intent_id = result.payment_intent_id or pledge.payment_intent_id
    pledge.customer_id, pledge.payment_method_id = customer_id, payment_method_id
    if result.status == "succeeded":
        move(pledge, PledgeStatus.PAID, "charged on the saved method")
    elif result.status == "processing":
        # A bank debit on its way: its hold must not expire (that would release it for nothing);
        # payment_intent.succeeded or payment_failed ends it.
        move(pledge, PledgeStatus.PROCESSING, "debited on the saved method")
    else:
        pledge.failure_reason = result.failure_message or result.failure_code
        log.info("pledge %s: the saved method needs the backer (%s)", pledge.id, result.failure_code)
    db.session.flush()
    return pledge


def require_saved(customer_id: str | None, payment_method_id: str | None) -> None:
    if not customer_id or not payment_method_id:
        raise DomainError(_("No payment method is saved yet."))
