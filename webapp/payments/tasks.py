"""Background jobs of the payments domain: thin wrappers around its services."""
from __future__ import annotations

from webapp.extensions import db
from webapp.jobs import celery, periodic
from webapp.payments import services


@celery.task(name="payments.release_expired_holds")
def release_expired_holds() -> int:
    released = services.release_expired_holds()
    db.session.commit()
    return released


periodic("payments.release_expired_holds", 60)
