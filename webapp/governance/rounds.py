"""Rounds of a pooled fund: setting one up, proposals, and the moves of its state machine.

Opening the vote snapshots the roll (the organization's active members at that moment) and sends each
one a signed vote link; closing counts (webapp.governance.tally).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from webapp.accounts.models import User
from webapp.campaigns.models import Campaign
from webapp.clock import utcnow
from webapp.errors import DomainError, InvalidTransition, PermissionDenied
from webapp.extensions import db
from webapp.membership.models import MemberState, OrgMember
from webapp.money import Money
from webapp.organizations import services as organizations
from webapp.governance import ballots, funds, notices
from webapp.governance.models import AllocationRule, FundingRound, PooledFund, Proposal, RoundState, RoundVoter

S = RoundState

#: the state machine: every move a round may make
TRANSITIONS: dict[RoundState, set[RoundState]] = {
    S.DRAFT: {S.PROPOSALS},
    S.PROPOSALS: {S.VOTING},
    S.VOTING: {S.COUNTED, S.QUORUM_FAILED},
    S.COUNTED: set(),
    S.QUORUM_FAILED: set(),
}


class RoundRefused(DomainError):
    """The round step cannot be taken as asked; `field` names the form field at fault, when one is."""

    def __init__(self, message: str, field: str | None = None):
        self.field = field
        super().__init__(message)


def move(rnd: FundingRound, target: RoundState) -> None:
    if target not in TRANSITIONS[rnd.state]:
        raise InvalidTransition("round", rnd.state.value, target.value)
    rnd.state = target


@dataclass
class RoundSettings:
    title: str
    budget: Money
    rule: AllocationRule
    proposals_close_at: datetime
    voting_closes_at: datetime
    min_projects: int = 1
    max_projects: int | None = None
    min_share_percent: int = 0
    quorum_percent: int = 0
    reminder_hours: int | None = 24


def _check(settings: RoundSettings, fund: PooledFund) -> None:
    if not settings.title.strip():
        raise RoundRefused(_("Give the round a title."), "title")
    if settings.budget.currency != fund.currency:
        raise RoundRefused(_("The fund holds %(currency)s.", currency=fund.currency), "budget")
    if settings.budget.amount <= 0:
        raise RoundRefused(_("The budget must be greater than zero."), "budget")
    if settings.voting_closes_at <= settings.proposals_close_at:
        raise RoundRefused(_("Voting must close after proposals close."), "voting_closes_at")
    if settings.voting_closes_at <= utcnow():
        raise RoundRefused(_("Voting must close in the future."), "voting_closes_at")
    if settings.min_projects < 0 or (settings.max_projects is not None and settings.max_projects < settings.min_projects):
        raise RoundRefused(_("The maximum number of projects cannot be below the minimum."), "max_projects")
    for name in ("min_share_percent", "quorum_percent"):
        if not 0 <= getattr(settings, name) <= 100:
            raise RoundRefused(_("A share is between 0 and 100 per cent."), name)
    if settings.reminder_hours is not None and not 1 <= settings.reminder_hours <= 24 * 30:
        raise RoundRefused(_("Remind between 1 hour and 30 days before close."), "reminder_hours")


def create_round(fund: PooledFund, actor: User, settings: RoundSettings) -> FundingRound:
    organizations.require_editor(actor, fund.organization_id)
    _check(settings, fund)
    rnd = FundingRound(fund_id=fund.id, title=settings.title.strip()[:150], budget=settings.budget.amount,
                       currency=fund.currency, rule=settings.rule, proposals_close_at=settings.proposals_close_at,
                       voting_closes_at=settings.voting_closes_at, min_projects=settings.min_projects,
                       max_projects=settings.max_projects, min_share_percent=settings.min_share_percent,
                       quorum_percent=settings.quorum_percent, reminder_hours=settings.reminder_hours,
                       created_by_id=actor.id)
    db.session.add(rnd)
    db.session.flush()
    return rnd


def rounds_of(fund: PooledFund) -> list[FundingRound]:
    return list(db.session.scalars(select(FundingRound).where(FundingRound.fund_id == fund.id)
                                   .order_by(FundingRound.created_at.desc(), FundingRound.id.desc())))


def proposals_of(rnd: FundingRound) -> list[Proposal]:
    return list(db.session.scalars(select(Proposal).where(Proposal.round_id == rnd.id).order_by(Proposal.id)))


def active_member(user: User | None, org_id: int) -> OrgMember | None:
    """The user's membership if it is active today (state active, and its dates cover today)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    today = utcnow().date()
    return db.session.scalar(select(OrgMember).where(
        OrgMember.organization_id == org_id, OrgMember.user_id == user.id, OrgMember.state == MemberState.ACTIVE,
        or_(OrgMember.starts_on.is_(None), OrgMember.starts_on <= today),
        or_(OrgMember.ends_on.is_(None), OrgMember.ends_on >= today)))


def open_proposals(rnd: FundingRound, actor: User) -> None:
    organizations.require_editor(actor, rnd.fund.organization_id)
    move(rnd, S.PROPOSALS)
    db.session.flush()


def submit_proposal(rnd: FundingRound, actor: User, title: str, description: str, amount: Money,
                    campaign: Campaign | None = None) -> Proposal:
    """Members and the board submit while proposals are open; a proposal asks no more than the budget."""
    org_id = rnd.fund.organization_id
    if not organizations.can_edit(actor, org_id) and active_member(actor, org_id) is None:
        raise PermissionDenied(_("Only the organization's active members and its board submit proposals."))
    if rnd.state != S.PROPOSALS:
        raise RoundRefused(_("This round does not take proposals now."))
    if not (title or "").strip():
        raise RoundRefused(_("Give the proposal a title."), "title")
    if amount.currency != rnd.currency:
        raise RoundRefused(_("The round allocates %(currency)s.", currency=rnd.currency), "amount")
    if amount.amount <= 0 or amount.amount > rnd.budget:
        raise RoundRefused(_("A proposal asks more than zero and no more than the round's budget."), "amount")
    if campaign is not None and campaign.organization_id != org_id:
        raise RoundRefused(_("Choose one of the organization's campaigns."), "campaign")
    proposal = Proposal(round_id=rnd.id, title=title.strip()[:150], description=(description or "").strip()[:5000],
                        amount=amount.amount, campaign_id=campaign.id if campaign else None,
                        submitted_by_id=actor.id)
    db.session.add(proposal)
    db.session.flush()
    return proposal


def open_voting(rnd: FundingRound, actor: User | None) -> int:
    """Fix the roll (active members now), send each a vote link; returns the roll's size."""
    if actor is not None:
        organizations.require_editor(actor, rnd.fund.organization_id)
    rnd = db.session.scalar(select(FundingRound).where(FundingRound.id == rnd.id).with_for_update())
    if rnd.state == S.PROPOSALS:
        n = db.session.scalar(select(func.count()).select_from(Proposal).where(Proposal.round_id == rnd.id))
        if n == 0:
            raise RoundRefused(_("A round needs at least one proposal before voting opens."))
        if rnd.voting_closes_at <= utcnow():
            raise RoundRefused(_("The closing date of voting has passed; this round cannot open."))
        held = funds.balance(rnd.fund)
        if rnd.money > held:
            raise RoundRefused(_("The fund holds %(held)s, less than the round's budget.", held=held.format()))
    move(rnd, S.VOTING)
    rnd.voting_opened_at = utcnow()
    today = utcnow().date()
    members = list(db.session.execute(select(OrgMember.id, OrgMember.user_id).where(
        OrgMember.organization_id == rnd.fund.organization_id, OrgMember.state == MemberState.ACTIVE,
        or_(OrgMember.starts_on.is_(None), OrgMember.starts_on <= today),
        or_(OrgMember.ends_on.is_(None), OrgMember.ends_on >= today)).order_by(OrgMember.id)))
    voters = [RoundVoter(round_id=rnd.id, member_id=member_id, user_id=user_id) for member_id, user_id in members]
    db.session.add_all(voters)
    db.session.flush()
    for voter in voters:
        notices.send_vote_link(rnd, voter, ballots.vote_link(rnd, voter), reminder=False)
    return len(voters)


def roll_size(rnd: FundingRound) -> int:
    return db.session.scalar(select(func.count()).select_from(RoundVoter).where(RoundVoter.round_id == rnd.id)) or 0


def turnout(rnd: FundingRound) -> int:
    return db.session.scalar(select(func.count()).select_from(RoundVoter)
                             .where(RoundVoter.round_id == rnd.id, RoundVoter.voted.is_(True))) or 0


def quorum_needed(rnd: FundingRound, size: int) -> int:
    return -(-size * rnd.quorum_percent // 100)  # ceiling


def voter_of(rnd: FundingRound, user: User | None) -> RoundVoter | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(select(RoundVoter).where(RoundVoter.round_id == rnd.id, RoundVoter.user_id == user.id))


def due_to_close(now: datetime | None = None) -> list[int]:
    return list(db.session.scalars(select(FundingRound.id).where(FundingRound.state == S.VOTING,
                                                                 FundingRound.voting_closes_at <= (now or utcnow()))))
