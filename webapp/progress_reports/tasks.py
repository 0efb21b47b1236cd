"""Background jobs of progress reports: thin wrappers that commit around the delivery service."""
from __future__ import annotations

import logging

from webapp.extensions import db
from webapp.jobs import celery, periodic
from webapp.progress_reports import delivery

log = logging.getLogger(__name__)


@celery.task(name="progress_reports.fan_out")
def fan_out(report_id: int) -> int:
    """Write the report's deliveries, then send them in batches (enqueued after the report is committed)."""
    count = delivery.fan_out(report_id)
    db.session.commit()
    _enqueue(delivery.due_batches(report_id))
    return count


@celery.task(name="progress_reports.resume")
def resume() -> int:
    """The safety net: a report never fanned out, a delivery to retry, a claim whose worker died."""
    for report_id in delivery.reports_not_fanned_out():
        delivery.fan_out(report_id)
        db.session.commit()
    return _enqueue(delivery.due_batches())


def _enqueue(batches: list[list[int]]) -> int:
    db.session.rollback()  # end the read before the eager mode runs any batch in this session
    for ids in batches:
        send_batch.delay(ids)
    return sum(len(ids) for ids in batches)


@celery.task(name="progress_reports.send_batch")
def send_batch(delivery_ids: list[int]) -> dict[str, int]:
    """Send one batch. Safe to run twice, or after a crash: each delivery is claimed and committed first."""
    counts = dict.fromkeys((delivery.Outcome.SENT, delivery.Outcome.RETRY, delivery.Outcome.FAILED,
                            delivery.Outcome.SKIPPED), 0)
    for delivery_id in delivery_ids:
        claimed = delivery.claim(delivery_id)
        db.session.commit()
        if not claimed:
            counts[delivery.Outcome.SKIPPED] += 1
            continue
        try:
            outcome = delivery.send_claimed(delivery_id)
            db.session.commit()
        except Exception:
            db.session.rollback()  # the claim stays: the lease gives the delivery back later
            log.exception("progress report delivery %s crashed", delivery_id)
            raise
        counts[outcome] += 1
    return counts


periodic("progress_reports.resume", 300)
