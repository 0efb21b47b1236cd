"""Standing commitments: "when a disaster is activated in region R, call me for up to AMOUNT"."""
from __future__ import annotations

from webapp.extensions import db
from webapp.mutual_aid.models import Audience, SolidarityCall, StandingCommitment


def commitment_for_call(call: SolidarityCall) -> StandingCommitment | None:
    if call.audience != Audience.COMMITTED or call.commitment_id is None:
        return None
    return db.session.get(StandingCommitment, call.commitment_id)
