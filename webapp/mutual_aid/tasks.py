"""Background jobs of mutual aid: thin wrappers that commit around the delivery and upkeep services."""
from __future__ import annotations

import logging
import os

from webapp.extensions import db
from webapp.mail import SmtpSession
from webapp.jobs import celery, periodic
from webapp.mutual_aid import ratelimit
from webapp.mutual_aid.services import delivery, matching, privacy
from webapp.mutual_aid.settings import setting

log = logging.getLogger(__name__)


@celery.task(name="mutual_aid.dispatch_calls")
def dispatch_calls(event_id: int) -> int:
    """Split an event's due deliveries into batches, one task each (enqueued after activation commits)."""
    return _enqueue(delivery.due_batches(event_id))


@celery.task(name="mutual_aid.resume_deliveries")
def resume_deliveries() -> int:
    """The safety net: whatever is due (a retry whose time came, a claim whose worker died) goes again."""
    return _enqueue(delivery.due_batches())


def _enqueue(batches) -> int:
    batches = list(batches)  # read them all before the eager mode runs any (one cursor at a time)
    db.session.rollback()
    for channel, ids in batches:
        deliver_batch.delay(channel, ids)
    return sum(len(ids) for _channel, ids in batches)


@celery.task(name="mutual_aid.deliver_batch", bind=True, max_retries=8)
def deliver_batch(self, channel: str, delivery_ids: list[int]) -> dict[str, int]:
    """Deliver one batch on one channel. Safe to run twice, or after a crash: each delivery is claimed."""
    counts = {delivery.Outcome.SENT: 0, delivery.Outcome.RETRY: 0, delivery.Outcome.FAILED: 0,
              delivery.Outcome.SKIPPED: 0}
    if channel == "inapp":
        counts[delivery.Outcome.SENT] = delivery.deliver_inapp(delivery_ids)
        db.session.commit()
        return counts
    retry_later = []
    pending = list(delivery_ids)
    chunk_size = max(1, int(setting("MUTUAL_AID_SEND_CHUNK")))
    with SmtpSession() as smtp:  # one connection for the batch's emails (opened again if the server drops it)
        while pending:
            # as many as the channel's rate allows now (at least one, waiting for it): claimed in one
            # statement, committed, sent, then marked sent in one statement and committed
            take = ratelimit.acquire_up_to(channel, min(chunk_size, len(pending)))
            chunk, pending = pending[:take], pending[take:]
            claimed = delivery.claim_many(chunk)
            db.session.commit()
            counts[delivery.Outcome.SKIPPED] += len(chunk) - len(claimed)
            if not claimed:
                continue
            try:
                outcomes = delivery.send_claimed_many(claimed, smtp if channel == "email" else None)
                db.session.commit()
            except Exception:
                db.session.rollback()  # the claims stay: the lease gives the deliveries back later
                log.exception("deliveries %s crashed", claimed)
                raise
            counts[delivery.Outcome.SKIPPED] += len(claimed) - len(outcomes)
            for delivery_id, outcome in outcomes.items():
                counts[outcome] += 1
                if outcome == delivery.Outcome.RETRY:
                    retry_later.append(delivery_id)
    if retry_later and not self.request.is_eager:
        wait = max(delivery.backoff_seconds(self.request.retries + 1), 1)
        raise self.retry(args=(channel, retry_later), countdown=wait)
    return counts


@celery.task(name="mutual_aid.expire_quiet_matches")
def expire_quiet_matches() -> int:
    expired = matching.expire_quiet_matches()
    db.session.commit()
    return expired


@celery.task(name="mutual_aid.nudge_waiting_requesters")
def nudge_waiting_requesters() -> int:
    nudged = matching.nudge_waiting_requesters()
    db.session.commit()
    return nudged


@celery.task(name="mutual_aid.purge_closed_events")
def purge_closed_events() -> int:
    purged = privacy.purge_closed_events()
    db.session.commit()
    return purged


periodic("mutual_aid.resume_deliveries", int(os.environ.get("MUTUAL_AID_SWEEP_SECONDS", 60)))
periodic("mutual_aid.expire_quiet_matches", 300)
periodic("mutual_aid.nudge_waiting_requesters", 3600)
periodic("mutual_aid.purge_closed_events", 6 * 3600)
