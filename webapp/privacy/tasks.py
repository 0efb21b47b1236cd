"""Background job of privacy: the scheduled purge, a thin wrapper that commits around the service."""
from __future__ import annotations

import os

from webapp.extensions import db
from webapp.jobs import celery, periodic
from webapp.privacy.services import retention


@celery.task(name="privacy.purge_expired_data")
def purge_expired_data() -> dict[str, int]:
    counts = retention.purge_all()
    db.session.commit()
    return counts


periodic("privacy.purge_expired_data", int(os.environ.get("PRIVACY_PURGE_SECONDS", 6 * 3600)))
