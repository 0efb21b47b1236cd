"""The pledge state machine: the allowed transitions, and what each move sets off (receipts, tiers, books, matches)."""
from __future__ import annotations

import logging

from flask import url_for

from webapp.campaigns import services as campaigns
from webapp.clock import utcnow
from webapp.errors import InvalidTransition
from webapp.extensions import db
from webapp.mail import queue_email
from webapp.payments import bookkeeping
from webapp.payments.matching import services as matching
from webapp.payments.models import CONFIRMED_STATUSES, HOLDING_STATUSES, Pledge, PledgeEvent, PledgeStatus

log = logging.getLogger(__name__)
P = PledgeStatus

#: Forward moves only: an event that arrives late or twice can never move a pledge back.
TRANSITIONS: dict[PledgeStatus, frozenset[PledgeStatus]] = {
    P.PENDING: frozenset({P.PROCESSING, P.COMMITTED, P.PAID, P.FAILED, P.EXPIRED}),
    P.PROCESSING: frozenset({P.PAID, P.FAILED}),
    P.COMMITTED: frozenset({P.CANCELLED, P.PAID, P.COLLECTING, P.NEEDS_ACTION, P.RELEASED}),
    # A debit on its way is never charged again: the processor's answer makes it paid, or asks the backer.
    P.COLLECTING: frozenset({P.PAID, P.NEEDS_ACTION}),
    # The backer completes it on-session; with a bank debit the money is on its way again.
    P.NEEDS_ACTION: frozenset({P.PAID, P.COLLECTING, P.LAPSED}),
    P.PAID: frozenset({P.REFUNDED}),
    P.FAILED: frozenset(),
    # The processor took the money after our hold ran out (a webhook delayed by an outage): the
    # payment is real, so the pledge counts; its reward is taken again if one is left.
    P.EXPIRED: frozenset({P.PAID}),
    P.CANCELLED: frozenset(),
    P.REFUNDED: frozenset(),
    P.LAPSED: frozenset(),
    P.RELEASED: frozenset(),
}


def move(pledge: Pledge, target: PledgeStatus, cause: str) -> bool:
    """Apply a transition from the table; False when it is a repeat, InvalidTransition when it goes back."""
    if pledge.status == target:
        return False
    if target not in TRANSITIONS[pledge.status]:
        raise InvalidTransition("pledge", pledge.status.value, target.value)
    db.session.add(PledgeEvent(pledge_id=pledge.id, from_status=pledge.status, to_status=target, cause=cause[:255]))
    was_holding = pledge.status in HOLDING_STATUSES
    if not was_holding and target in HOLDING_STATUSES and pledge.tier_id is not None \
            and not campaigns.claim_tier_unit(pledge.tier_id):
        log.warning("pledge %s paid after its hold expired; its reward is sold out", pledge.id)
        pledge.failure_reason = "paid after the checkout expired; the reward was sold out meanwhile"
        pledge.tier_id = None
    pledge.status = target
    if was_holding and target not in HOLDING_STATUSES and pledge.tier_id is not None:
        campaigns.release_tier_unit(pledge.tier_id)
    if target in (P.COMMITTED, P.PAID):
        # One receipt when the method is saved, another when the money is actually taken.
        pledge.confirmed_at = pledge.confirmed_at or utcnow()
        pledge.hold_expires_at = None
        send_receipt(pledge)
    if target == P.COMMITTED:
        matching.book_match(pledge)
    elif target == P.PAID:
        bookkeeping.book_charge(pledge)
        matching.pledge_charged(pledge)
        if pledge.refunded_amount >= pledge.amount:  # the refund's event came before the payment's
            move(pledge, P.REFUNDED, f"{cause} (already refunded)")
    elif target not in CONFIRMED_STATUSES:
        matching.give_back(pledge)
    return True


def move_if_allowed(pledge: Pledge, target: PledgeStatus, cause: str) -> bool:
    """For processor events: a stale or out-of-order event is logged and changes nothing."""
    try:
        return move(pledge, target, cause)
    except InvalidTransition as exc:
        log.info("ignored %s for pledge %s: %s", cause, pledge.id, exc)
        return False


def send_receipt(pledge: Pledge) -> None:
    link = url_for("payments.receipt", reference=pledge.reference, _external=True)
    queue_email("pledge_receipt", pledge.email, pledge.locale, pledge=pledge, campaign=pledge.campaign, link=link)
