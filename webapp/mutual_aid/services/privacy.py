"""Erasing what could identify people in a closed event's posts, a configured time after closing."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from webapp.clock import utcnow
from webapp.extensions import db
from webapp.mutual_aid.models import CallDelivery, DisasterEvent, EventState, HelpRequest, Offer
from webapp.mutual_aid.settings import setting


def purge_closed_events(now=None) -> int:
    """Contact details, exact points and free texts of the posts go; grid cells and figures stay."""
    now = now or utcnow()
    before = now - timedelta(days=int(setting("MUTUAL_AID_PURGE_AFTER_DAYS")))
    events = db.session.scalars(select(DisasterEvent).where(
        DisasterEvent.state == EventState.CLOSED, DisasterEvent.closed_at <= before,
        DisasterEvent.purged_at.is_(None)).with_for_update(skip_locked=True)).all()
    for event in events:
        purge_event(event, now)
    return len(events)


def purge_event(event: DisasterEvent, now=None) -> None:
    db.session.execute(update(Offer).where(Offer.event_id == event.id)
                       .values(contact_phone=None, contact_note=None, latitude=None, longitude=None,
                               description="").execution_options(synchronize_session=False))
    db.session.execute(update(HelpRequest).where(HelpRequest.event_id == event.id)
                       .values(address=None, contact_phone=None, latitude=None, longitude=None, description="")
                       .execution_options(synchronize_session=False))
    # SMTP errors can quote addresses.
    db.session.execute(update(CallDelivery).where(CallDelivery.event_id == event.id)
                       .values(failure_reason=None).execution_options(synchronize_session=False))
    event.purged_at = now or utcnow()
    db.session.flush()
