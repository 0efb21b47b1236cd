"""Background jobs of the campaigns domain: thin wrappers around its services."""
from __future__ import annotations

from webapp.campaigns import services
from webapp.extensions import db
from webapp.jobs import celery, periodic


@celery.task(name="campaigns.launch_due")
def launch_due() -> int:
    launched = services.launch_due_campaigns()
    db.session.commit()
    return launched


periodic("campaigns.launch_due", 60)
