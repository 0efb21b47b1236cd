"""Background jobs of rounds: reminders before voting closes, and closing rounds whose vote has ended."""
from __future__ import annotations

import logging

from webapp.errors import DomainError
from webapp.extensions import db
from webapp.governance import ballots, rounds, tally
from webapp.governance.models import FundingRound
from webapp.jobs import celery, periodic

log = logging.getLogger(__name__)


@celery.task(name="governance.remind_non_voters")
def remind_non_voters() -> int:
    """One reminder to each member of a roll who has not voted, `reminder_hours` before close; one commit per round."""
    sent = 0
    for round_id in ballots.rounds_to_remind():
        sent += ballots.send_reminders(round_id)
        db.session.commit()
    return sent


@celery.task(name="governance.close_due_rounds")
def close_due_rounds() -> int:
    closed = 0
    for round_id in rounds.due_to_close():
        try:
            tally.close(db.session.get(FundingRound, round_id), None)
        except DomainError:
            db.session.rollback()
            log.exception("round %s could not be closed", round_id)
            continue
        db.session.commit()
        closed += 1
    return closed


periodic("governance.remind_non_voters", 15 * 60)
periodic("governance.close_due_rounds", 5 * 60)
