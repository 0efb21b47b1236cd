"""The webhook's unit of work: verify the signature, record the event once, apply it, commit."""
from __future__ import annotations

import json
import logging

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp.extensions import db
from webapp.payments.models import ProcessedEvent
from webapp.payments.providers import get_provider
from webapp.payments.webhooks import versions
from webapp.payments.webhooks.handlers import HANDLERS, NotYet
from webapp.payments.webhooks.signatures import BadSignature, verify

log = logging.getLogger(__name__)


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
    refused = versions.refusal(event)
    if refused is not None:
        return 400, refused
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
    return 200, "ok"
