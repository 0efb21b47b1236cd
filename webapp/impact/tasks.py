"""Background jobs of impact: sending a value's confirmation links, one commit per person."""
from __future__ import annotations

from webapp.extensions import db
from webapp.impact.services import confirmations
from webapp.jobs import celery


@celery.task(name="impact.send_requests")
def send_requests(value_id: int) -> int:
    """Send every unsent link of a value (enqueued after its requests are committed); safe to rerun."""
    ids = confirmations.unsent(value_id)
    db.session.rollback()
    sent = 0
    for request_id in ids:
        sent += confirmations.send(request_id)
        db.session.commit()
    return sent
