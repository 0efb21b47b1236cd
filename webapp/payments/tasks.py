"""Background jobs of the payments domain: thin wrappers around its services and its batches (the per-item commit loops)."""
from __future__ import annotations

from webapp.extensions import db
from webapp.jobs import celery, periodic
from webapp.payments.pledging import services


@celery.task(name="payments.release_expired_holds")
def release_expired_holds() -> int:
    released = services.release_expired_holds()
    db.session.commit()
    return released


periodic("payments.release_expired_holds", 60)


@celery.task(name="payments.close_due_campaigns")
def close_due_campaigns() -> list[int]:
    """Close what is due, then collect each closed campaign in its own task."""
    from webapp.payments import batches

    closed = batches.close_due_campaigns()
    for campaign_id in closed:
        collect.delay(campaign_id)
    return closed


@celery.task(name="payments.collect", bind=True, max_retries=5)
def collect(self, campaign_id: int) -> dict:
    from webapp.payments import batches

    report = batches.collect(campaign_id)
    return report.__dict__


@celery.task(name="payments.resume_collections")
def resume_collections() -> int:
    """After a crash, campaigns closed with committed pledges left are collected again."""
    from webapp.payments.collection import services as collection

    ids = collection.campaigns_left_to_collect()
    for campaign_id in ids:
        collect.delay(campaign_id)
    return len(ids)


@celery.task(name="payments.chase_needs_action")
def chase_needs_action() -> tuple[int, int]:
    from webapp.payments.collection import services as collection

    result = collection.chase_needs_action()
    db.session.commit()
    return result


@celery.task(name="payments.recheck_collecting")
def recheck_collecting() -> dict:
    """Bank debits of collected pledges still `processing` after PROCESSING_RECHECK_DAYS: ask Stripe again."""
    from webapp.payments import batches

    return batches.recheck_collecting()


periodic("payments.close_due_campaigns", 60)
periodic("payments.resume_collections", 300)
periodic("payments.chase_needs_action", 3600)
periodic("payments.recheck_collecting", 6 * 3600)


@celery.task(name="payments.pay_out_due")
def pay_out_due() -> int:
    """Transfer successful campaigns' money to their organizations once the holding period is over."""
    from webapp.payments import batches

    return batches.pay_out_due()


periodic("payments.pay_out_due", 3600)


@celery.task(name="payments.record_late_settlements")
def record_late_settlements() -> tuple[int, int]:
    """Paid pledges whose balance transaction was not ready when their events came: read them again."""
    from webapp.payments import settlements

    result = settlements.record_missing()
    db.session.commit()
    return result


periodic("payments.record_late_settlements", 900)


@celery.task(name="payments.renew_recurring")
def renew_recurring() -> dict:
    """Monthly and yearly gifts whose period has come: charged off-session, at most once per period."""
    from webapp.payments import batches

    return batches.renew_due().__dict__


@celery.task(name="payments.chase_recurring")
def chase_recurring() -> tuple[int, int, int]:
    """Renewals waiting for the supporter: reminders, then a pause; and the notices before yearly renewals."""
    from webapp.payments.recurring import services as recurring

    reminded, paused = recurring.chase()
    db.session.commit()
    notices = recurring.send_yearly_notices()
    db.session.commit()
    return reminded, paused, notices


@celery.task(name="payments.recheck_recurring")
def recheck_recurring() -> dict:
    """Renewals by bank debit still `processing` after PROCESSING_RECHECK_DAYS: ask Stripe again."""
    from webapp.payments import batches

    return batches.recheck_recurring()


periodic("payments.renew_recurring", 600)
periodic("payments.recheck_recurring", 6 * 3600)
periodic("payments.chase_recurring", 3600)
