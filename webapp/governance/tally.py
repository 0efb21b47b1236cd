"""Closing a round: the quorum, the count by the round's rule (pabutools), the grants booked in the ledger."""
from __future__ import annotations

import random
from fractions import Fraction

from pabutools.election import ApprovalBallot, ApprovalProfile, Cost_Sat, Instance, Project
from pabutools.rules import greedy_utilitarian_welfare, method_of_equal_shares
from sqlalchemy import delete, select

from webapp.accounts.models import User
from webapp.clock import utcnow
from webapp.errors import InvalidTransition
from webapp.extensions import db
from webapp.ledger import services as ledger
from webapp.organizations import services as organizations
from webapp.governance import funds, rounds
from webapp.governance.models import AllocationRule, Ballot, FundingRound, Proposal, RoundState


def allocate(rule: AllocationRule, budget: int, costs: dict[int, int], ballots: list[list[int]]) -> set[int]:
    """The funded proposals' ids. Costs and budget are minor units; a tie goes to the earlier proposal (lower id)."""
    # a project nobody chose is never funded (the library's greedy would add it when it fits)
    wanted = {pid for ballot in ballots for pid in ballot}
    projects = {pid: Project(f"{pid:012d}", cost) for pid, cost in costs.items() if pid in wanted}
    if not projects:
        return set()
    instance = Instance(projects.values(), budget_limit=budget)
    profile = ApprovalProfile([ApprovalBallot(projects[pid] for pid in ballot if pid in projects)
                               for ballot in ballots])
    if rule == AllocationRule.GREEDY:
        # with cost satisfaction, satisfaction per unit of cost is the number of approvals: most votes first
        chosen = greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat)
    else:
        # Equal Shares, its voters' budgets raised in steps of 1% while nothing more is bought ("Add1"),
        # then what is left spent greedily (the completion equalshares.net describes)
        step = Fraction(budget, len(ballots) * 100)
        chosen = method_of_equal_shares(instance, profile, sat_class=Cost_Sat, voter_budget_increment=step)
        chosen = greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat,
                                            initial_budget_allocation=list(chosen))
    return {int(project.name) for project in chosen}


def _shuffle_ballots(rnd: FundingRound) -> list[Ballot]:
    """Write the ballots again, in random order under fresh random keys: whatever order or transaction
    the database kept of the moments they were cast is gone from the table that stays."""
    old = list(db.session.scalars(select(Ballot).where(Ballot.round_id == rnd.id)))
    kept = [(b.receipt_hash, b.choices) for b in old]
    random.SystemRandom().shuffle(kept)
    db.session.execute(delete(Ballot).where(Ballot.round_id == rnd.id).execution_options(synchronize_session=False))
    for b in old:
        db.session.expunge(b)
    fresh = [Ballot(round_id=rnd.id, receipt_hash=h, choices=c) for h, c in kept]
    db.session.add_all(fresh)
    db.session.flush()
    return fresh


def close(rnd: FundingRound, actor: User | None) -> RoundState:
    """Close the vote and count it. Without a quorum nothing is allocated; otherwise the rule's choice is booked."""
    if actor is not None:
        organizations.require_editor(actor, rnd.fund.organization_id)
    rnd = db.session.scalar(select(FundingRound).where(FundingRound.id == rnd.id).with_for_update()
                            .execution_options(populate_existing=True))
    if rnd.state != RoundState.VOTING:
        raise InvalidTransition("round", rnd.state.value, RoundState.COUNTED.value)
    ballots = _shuffle_ballots(rnd)
    proposals = rounds.proposals_of(rnd)
    votes = {p.id: 0 for p in proposals}
    for ballot in ballots:
        for pid in ballot.proposal_ids:
            if pid in votes:
                votes[pid] += 1
    for p in proposals:
        p.votes, p.funded = votes[p.id], False
    size = rounds.roll_size(rnd)
    rnd.roll_size, rnd.ballots_counted, rnd.closed_at = size, len(ballots), utcnow()
    if len(ballots) < rounds.quorum_needed(rnd, size):
        rounds.move(rnd, RoundState.QUORUM_FAILED)
        db.session.flush()
        return rnd.state
    budget = min(rnd.budget, funds.balance(rnd.fund).amount)
    funded = allocate(rnd.rule, budget, {p.id: p.amount for p in proposals}, [b.proposal_ids for b in ballots])
    for p in proposals:
        if p.id in funded:
            p.funded = True
            book_grant(rnd, p)
    rounds.move(rnd, RoundState.COUNTED)
    db.session.flush()
    return rnd.state


def book_grant(rnd: FundingRound, proposal: Proposal) -> None:
    """The allocation as a grant: fund → the proposal's campaign (or the organization), once per proposal."""
    fund = rnd.fund
    credit = (ledger.campaign_account(proposal.campaign_id) if proposal.campaign_id
              else ledger.organization_account(fund.organization_id))
    ledger.book(key=f"pooled_grant:proposal:{proposal.id}", kind="pooled_grant", debit=funds.fund_account(fund.id),
                credit=credit, money=proposal.money, cause=f"round:{rnd.id}", campaign_id=proposal.campaign_id,
                memo=f"Grant from {fund.name}: {proposal.title}"[:200])


def funded_total(rnd: FundingRound) -> int:
    return sum(p.amount for p in rounds.proposals_of(rnd) if p.funded)


__all__ = ["allocate", "close", "InvalidTransition"]
