"""Pooled funds, their rounds and proposals, the voter roll and the secret ballots.

Secrecy lives in the shape of two tables: `round_voters` (the roll: who may vote, and whether they
did) and `round_ballots` (what was voted). Neither names the other: a ballot has a random UUID key,
no member, no user and no timestamp; a roll row has flags and no ballot. See README, "Pooled funds
and rounds".
"""
from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.clock import utcnow
from webapp.extensions import db, str_enum
from webapp.money import Money
from webapp.organizations.models import Organization


class PooledFund(db.Model):
    """Money an organization sets apart for its members to allocate; its balance is the ledger's."""

    __tablename__ = "pooled_funds"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    currency: Mapped[str] = mapped_column(String(3))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organization: Mapped[Organization] = relationship()


class RoundState(enum.StrEnum):
    DRAFT = "draft"  #: the board is still setting it up
    PROPOSALS = "proposals"  #: members submit proposals
    VOTING = "voting"  #: the roll is fixed; members vote
    COUNTED = "counted"  #: closed and counted; allocations booked
    QUORUM_FAILED = "quorum_failed"  #: closed without enough ballots: nothing allocated


class AllocationRule(enum.StrEnum):
    GREEDY = "greedy"  #: most votes first, while the budget lasts (Decidim, Consul)
    EQUAL_SHARES = "equal_shares"  #: the Method of Equal Shares (proportional)


class FundingRound(db.Model):
    """One allocation of a pooled fund by its members' votes."""

    __tablename__ = "funding_rounds"
    __table_args__ = (
        CheckConstraint("budget > 0", name="budget_positive"),
        CheckConstraint("min_projects >= 0 AND (max_projects IS NULL OR max_projects >= min_projects)",
                        name="project_bounds"),
        CheckConstraint("min_share_percent BETWEEN 0 AND 100", name="share_percent"),
        CheckConstraint("quorum_percent BETWEEN 0 AND 100", name="quorum_percent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("pooled_funds.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(150))
    #: what the round allocates, minor units of the fund's currency
    budget: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    rule: Mapped[AllocationRule] = mapped_column(str_enum(AllocationRule), default=AllocationRule.GREEDY)
    state: Mapped[RoundState] = mapped_column(str_enum(RoundState), default=RoundState.DRAFT, index=True)
    #: announced dates; voting closes by itself at `voting_closes_at`
    proposals_close_at: Mapped[datetime]
    voting_closes_at: Mapped[datetime]
    #: a ballot holds between min and max projects (None: no maximum) and uses at least this share of the budget
    min_projects: Mapped[int] = mapped_column(Integer, default=1)
    max_projects: Mapped[int | None] = mapped_column(Integer)
    min_share_percent: Mapped[int] = mapped_column(Integer, default=0)
    #: share of the roll that must vote for the result to count (0: none)
    quorum_percent: Mapped[int] = mapped_column(Integer, default=0)
    #: hours before close when members who have not voted get one reminder (None: no reminder)
    reminder_hours: Mapped[int | None] = mapped_column(Integer)
    reminded_at: Mapped[datetime | None]
    voting_opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    #: at close: how many were on the roll and how many ballots were counted
    roll_size: Mapped[int | None] = mapped_column(Integer)
    ballots_counted: Mapped[int | None] = mapped_column(Integer)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    fund: Mapped[PooledFund] = relationship()

    @property
    def money(self) -> Money:
        return Money(self.budget, self.currency)

    @property
    def closed(self) -> bool:
        return self.state in (RoundState.COUNTED, RoundState.QUORUM_FAILED)


class Proposal(db.Model):
    """A project submitted to a round, with what it asks; a campaign's account receives the grant when named."""

    __tablename__ = "round_proposals"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("funding_rounds.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(150))
    description: Mapped[str] = mapped_column(Text, default="")
    #: minor units of the round's currency
    amount: Mapped[int] = mapped_column(BigInteger)
    #: the campaign that receives the grant (None: the fund's organization itself)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), index=True)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: set at count: the ballots that chose it, and whether the rule funded it
    votes: Mapped[int | None] = mapped_column(Integer)
    funded: Mapped[bool] = mapped_column(Boolean, default=False)

    round: Mapped[FundingRound] = relationship()

    @property
    def money(self) -> Money:
        return Money(self.amount, self.round.currency)


class RoundVoter(db.Model):
    """One line of a round's roll: an active member when voting opened. Flags only: nothing here leads to a ballot.

    No timestamp: the moment someone voted would let it be matched with a ballot."""

    __tablename__ = "round_voters"
    __table_args__ = (UniqueConstraint("round_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("funding_rounds.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("org_members.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: a ballot of theirs is in the box (changes replace it and leave this as it is)
    voted: Mapped[bool] = mapped_column(Boolean, default=False)
    #: their signed vote link was used (it works once)
    link_used: Mapped[bool] = mapped_column(Boolean, default=False)
    reminded: Mapped[bool] = mapped_column(Boolean, default=False)


def _ballot_id() -> str:
    return uuid.uuid4().hex


class Ballot(db.Model):
    """What one voter chose. Keyed by a random UUID, found by the hash of its receipt code; no member, no time."""

    __tablename__ = "round_ballots"

    #: random: the key says nothing about the order ballots came in
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=_ballot_id)
    round_id: Mapped[int] = mapped_column(ForeignKey("funding_rounds.id", ondelete="CASCADE"), index=True)
    #: SHA-256 of the receipt code (hex); the code itself is shown once to the voter and never stored
    receipt_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: the chosen proposals' ids, ascending, comma-separated
    choices: Mapped[str] = mapped_column(String(1000))

    @property
    def proposal_ids(self) -> list[int]:
        return [int(x) for x in self.choices.split(",") if x]

    @property
    def fingerprint(self) -> str:
        """What the published list shows: the start of the receipt's hash, enough to find one's ballot."""
        return self.receipt_hash[:12]
