"""Casting, changing and finding ballots; signed vote links; reminders to those who have not voted.

The one link between a person and a ballot is the receipt code: generated at the vote, shown once,
emailed to the voter, and stored only as a hash on the ballot. Nothing is logged here: a log line
naming a voter next to a ballot would undo the secret.
"""
from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select, update

from webapp.accounts.models import User
from webapp.clock import utcnow
from webapp.errors import DomainError
from webapp.extensions import db
from webapp.mail import queue_email
from webapp.public_url import public_url
from webapp.governance.models import Ballot, FundingRound, Proposal, RoundState, RoundVoter
from webapp.governance import notices


class VoteRefused(DomainError):
    """A vote the rules refuse; `status` is the HTTP answer that fits (409 already voted, 410 closed...)."""

    def __init__(self, message: str, status: int = 409):
        self.status = status
        super().__init__(message)


# -- receipts ----------------------------------------------------------------------------------
def new_receipt() -> str:
    """About 100 bits, in groups a person can copy: XXXXX-XXXXX-XXXXX-XXXXX."""
    raw = base64.b32encode(secrets.token_bytes(13)).decode().rstrip("=")[:20]
    return "-".join(raw[i:i + 5] for i in range(0, 20, 5))


def normalize_receipt(code: str) -> str:
    clean = "".join(ch for ch in (code or "").upper() if ch.isalnum())
    return "-".join(clean[i:i + 5] for i in range(0, len(clean), 5))


def receipt_hash(round_id: int, code: str) -> str:
    return hashlib.sha256(f"harambee.receipt:{round_id}:{normalize_receipt(code)}".encode()).hexdigest()


def ballot_by_receipt(rnd: FundingRound, code: str) -> Ballot | None:
    if not normalize_receipt(code):
        return None
    return db.session.scalar(select(Ballot).where(Ballot.round_id == rnd.id,
                                                  Ballot.receipt_hash == receipt_hash(rnd.id, code)))


# -- the rules a ballot follows --------------------------------------------------------------
def check_choices(rnd: FundingRound, proposal_ids: list[int]) -> list[int]:
    """Decidim's budgets: between min and max projects, within the budget, using at least the minimum share."""
    chosen = sorted(set(proposal_ids))
    amounts = dict(db.session.execute(select(Proposal.id, Proposal.amount).where(Proposal.round_id == rnd.id)).all())
    if any(pid not in amounts for pid in chosen):
        raise VoteRefused(_("One of the chosen projects is not in this round."), 400)
    if len(chosen) < max(rnd.min_projects, 1):
        raise VoteRefused(_("Choose at least %(n)d projects.", n=max(rnd.min_projects, 1)), 400)
    if rnd.max_projects is not None and len(chosen) > rnd.max_projects:
        raise VoteRefused(_("Choose at most %(n)d projects.", n=rnd.max_projects), 400)
    total = sum(amounts[pid] for pid in chosen)
    if total > rnd.budget:
        raise VoteRefused(_("Your choice costs more than the round's budget."), 400)
    if total * 100 < rnd.budget * rnd.min_share_percent:
        raise VoteRefused(_("Your choice must use at least %(p)d%% of the budget.", p=rnd.min_share_percent), 400)
    return chosen


def _voting_open(rnd: FundingRound, now: datetime | None = None) -> FundingRound:
    """The round, read again under a shared lock: the close (which locks it for update) waits for the votes
    in flight, and a vote that comes after the close sees it closed; nothing slips in uncounted."""
    rnd = db.session.scalar(select(FundingRound).where(FundingRound.id == rnd.id).with_for_update(read=True)
                            .execution_options(populate_existing=True))
    if rnd.state != RoundState.VOTING or (now or utcnow()) >= rnd.voting_closes_at:
        raise VoteRefused(_("Voting in this round is closed."), 410)
    return rnd


# -- casting and changing --------------------------------------------------------------------
def cast(rnd: FundingRound, voter: RoundVoter | None, proposal_ids: list[int], *, by_link: bool = False) -> str:
    """The voter's first ballot: marks them as having voted and stores the ballot apart; returns the receipt.

    One conditional UPDATE decides who votes: of two concurrent first votes by one member, one wins."""
    if voter is None or voter.round_id != rnd.id:
        raise VoteRefused(_("You are not on this round's voter roll: only members active when voting opened vote."),
                          403)
    rnd = _voting_open(rnd)
    chosen = check_choices(rnd, proposal_ids)
    values = {"voted": True, "link_used": True} if by_link else {"voted": True}
    won = db.session.execute(update(RoundVoter).where(RoundVoter.id == voter.id, RoundVoter.voted.is_(False))
                             .values(**values).execution_options(synchronize_session=False)).rowcount
    if won != 1:
        raise VoteRefused(_("You have already voted in this round. To change your ballot, use your receipt code."))
    code = new_receipt()
    db.session.add(Ballot(round_id=rnd.id, receipt_hash=receipt_hash(rnd.id, code),
                          choices=",".join(str(pid) for pid in chosen)))
    db.session.flush()
    user = db.session.get(User, voter.user_id)
    db.session.expire(voter)
    queue_email("round_vote_counted", user.email, user.locale, rnd=rnd, org=rnd.fund.organization, receipt=code,
                change_link=public_url("governance.change_ballot", round_id=rnd.id),
                ballots_link=public_url("governance.ballots", round_id=rnd.id), secret=True)
    return code


def change(rnd: FundingRound, code: str, proposal_ids: list[int]) -> Ballot:
    """Replace the ballot whose receipt this is; whoever holds the receipt may, until voting closes."""
    rnd = _voting_open(rnd)
    ballot = db.session.scalar(select(Ballot).where(Ballot.round_id == rnd.id,
                                                    Ballot.receipt_hash == receipt_hash(rnd.id, code))
                               .with_for_update()) if normalize_receipt(code) else None
    if ballot is None:
        raise VoteRefused(_("No ballot of this round has this receipt code. Check it and try again."), 404)
    ballot.choices = ",".join(str(pid) for pid in check_choices(rnd, proposal_ids))
    db.session.flush()
    return ballot


def published(rnd: FundingRound) -> list[Ballot]:
    """The counted ballots, once the round is closed, in the order of their random keys."""
    if not rnd.closed:
        return []
    return list(db.session.scalars(select(Ballot).where(Ballot.round_id == rnd.id).order_by(Ballot.id)))


# -- signed vote links -----------------------------------------------------------------------
def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="harambee.round-vote")


def vote_link(rnd: FundingRound, voter: RoundVoter) -> str:
    token = _serializer().dumps({"r": rnd.id, "v": voter.id, "e": int(rnd.voting_closes_at.timestamp())})
    return public_url("governance.vote_by_link", token=token)


def voter_from_link(token: str) -> tuple[FundingRound, RoundVoter]:
    """The round and roll line a link names; refused when forged (400), expired or used (410)."""
    try:
        data = _serializer().loads(token)
        rnd = db.session.get(FundingRound, int(data["r"]))
        voter = db.session.get(RoundVoter, int(data["v"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        raise VoteRefused(_("This vote link is not valid. Use the link from your email as it was sent."), 400) from None
    if rnd is None or voter is None or voter.round_id != rnd.id:
        raise VoteRefused(_("This vote link is not valid. Use the link from your email as it was sent."), 400)
    if rnd.state != RoundState.VOTING or utcnow() >= rnd.voting_closes_at:
        raise VoteRefused(_("This vote link has expired: voting in this round is closed."), 410)
    if voter.link_used or voter.voted:
        raise VoteRefused(_("This vote link has already been used. To change your ballot, use your receipt code."),
                          410)
    return rnd, voter


# -- reminders ---------------------------------------------------------------------------------
def rounds_to_remind(now: datetime | None = None) -> list[int]:
    now = now or utcnow()
    rows = db.session.execute(select(FundingRound.id, FundingRound.voting_closes_at, FundingRound.reminder_hours)
                              .where(FundingRound.state == RoundState.VOTING, FundingRound.reminded_at.is_(None),
                                     FundingRound.reminder_hours.is_not(None), FundingRound.voting_closes_at > now))
    return [rid for rid, closes, hours in rows if now >= closes - timedelta(hours=hours)]


def send_reminders(round_id: int, now: datetime | None = None) -> int:
    """One reminder, with their vote link, to each member of the roll who has not voted; safe to run twice."""
    rnd = db.session.scalar(select(FundingRound).where(FundingRound.id == round_id).with_for_update())
    if rnd is None or rnd.reminded_at is not None or rnd.state != RoundState.VOTING:
        return 0
    sent = 0
    for voter in db.session.scalars(select(RoundVoter).where(RoundVoter.round_id == rnd.id,
                                                             RoundVoter.voted.is_(False),
                                                             RoundVoter.reminded.is_(False))):
        notices.send_vote_link(rnd, voter, vote_link(rnd, voter), reminder=True)
        voter.reminded = True
        sent += 1
    rnd.reminded_at = now or utcnow()
    db.session.flush()
    return sent

