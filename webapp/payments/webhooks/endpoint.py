"""The webhook's unit of work: verify the signature, check the event's shape, record it once, apply it, commit.

Two endpoints share it (https://docs.stripe.com/connect/webhooks): the platform's, for events on the
platform's own account, signed with STRIPE_WEBHOOK_SECRET; and the Connect endpoint, for events on
connected accounts (they carry an `account` field), signed with STRIPE_CONNECT_WEBHOOK_SECRET. Each
verifies with its own secret only, so an event signed for one is refused by the other; an event of the
wrong kind for its endpoint (a Connect event at the platform's, or the reverse) is refused too.
"""
from __future__ import annotations

import json
import logging

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp.extensions import db
from webapp.payments.models import ProcessedEvent
from webapp.payments.providers import get_provider
from webapp.payments.webhooks import schemas, versions
from webapp.payments.webhooks.handlers import HANDLERS, NotYet
from webapp.payments.webhooks.signatures import BadSignature, verify

log = logging.getLogger(__name__)


def receive(payload: bytes, header: str | None, *, connect: bool = False) -> tuple[int, str]:
    """The whole webhook: verify, record the event id and apply its effect in one transaction.

    `connect`: this is the Connect endpoint (connected accounts' events, its own secret).
    """
    cfg = current_app.config
    secret = cfg["STRIPE_CONNECT_WEBHOOK_SECRET"] if connect else cfg["STRIPE_WEBHOOK_SECRET"]
    try:
        verify(payload, header, secret, cfg["WEBHOOK_TOLERANCE"])
    except BadSignature as exc:
        log.warning("webhook refused: %s", exc)
        return 400, str(exc)
    try:
        event = json.loads(payload)
    except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested past the parser's depth
        log.warning("webhook refused: the body is not JSON")
        return 400, "not a JSON event"
    try:
        # Before anything is written, the event id included: a malformed event leaves no trace but the log.
        event_id, event_type, obj = schemas.parse(event)
    except schemas.MalformedEvent as exc:
        log.warning("webhook refused: malformed event %.80r: %s", _loggable_id(event), exc)
        return 400, f"malformed event: {exc}"
    refused = versions.refusal(event)
    if refused is not None:
        return 400, refused
    if bool(event.get("account")) != connect:
        where = "the Connect endpoint" if event.get("account") else "the platform endpoint"
        log.error("webhook %s (%s) belongs on %s: refused. Check which events each Stripe endpoint is subscribed "
                  "to (README).", event_id, event_type, where)
        return 400, f"this event belongs on {where}"
    handler = HANDLERS.get(event_type)
    provider = get_provider().name
    try:
        # The event id goes in first, in one statement that is also the check: nothing comes back when it
        # was recorded before. A concurrent delivery of the same event waits here on the unique key, then
        # finds it recorded (or, if the first rolled back, records and applies it).
        recorded = db.session.scalar(
            _insert_for(db.session.get_bind().dialect.name)(ProcessedEvent)
            .values(provider=provider, event_id=event_id, event_type=event_type)
            .on_conflict_do_nothing(index_elements=[ProcessedEvent.provider, ProcessedEvent.event_id])
            .returning(ProcessedEvent.id))
        if recorded is None:
            db.session.rollback()
            return 200, "already processed"
        if handler is None:  # recorded, so that only a duplicate id answers 'already processed'
            log.info("webhook %s of unhandled type %s acknowledged", event_id, event_type)
        else:
            handler(obj, f"{event_type}:{event_id}")
        db.session.commit()
    except NotYet as exc:
        db.session.rollback()
        log.warning("webhook %s not applied yet, the processor will deliver it again: %s", event_id, exc)
        return 503, "not yet: deliver again later"
    except IntegrityError:
        db.session.rollback()
        if db.session.scalar(select(ProcessedEvent.id).where(
                ProcessedEvent.provider == provider, ProcessedEvent.event_id == event_id)) is not None:
            return 200, "already processed"  # a concurrent delivery of the same event applied it
        raise  # anything else is a real failure: answer 500 so the processor delivers it again
    return 200, "ok" if handler is not None else "ignored"


def _insert_for(dialect: str):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def _loggable_id(event: object) -> object:
    return event.get("id") if isinstance(event, dict) else None
