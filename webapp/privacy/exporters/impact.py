"""The impact part: listings as a campaign's beneficiary (by the account's address), and confirmation requests."""
from __future__ import annotations

from webapp.accounts.models import User
from webapp.impact.services.privacy import records_of
from webapp.privacy.registry import exporter, row


@exporter("impact")
def export_impact(user: User) -> dict[str, list]:
    return {kind: [row(**r) for r in rows] for kind, rows in records_of(user.id, user.email or "").items()}
