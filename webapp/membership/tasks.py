"""Background jobs of memberships: thin wrappers around its services."""
from __future__ import annotations

from webapp.extensions import db
from webapp.jobs import celery, periodic


@celery.task(name="membership.lapse_ended")
def lapse_ended() -> int:
    """Memberships past their end date whose dues are not renewed lapse by themselves."""
    from webapp.membership import services

    lapsed = services.lapse_ended()
    db.session.commit()
    return lapsed


periodic("membership.lapse_ended", 3600)
