"""Match funds: an institution's budget, the campaigns it takes part in, and the match of each pledge."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.campaigns.models import Campaign
from webapp.clock import utcnow
from webapp.extensions import db, str_enum
from webapp.money import Money
from webapp.payments.models import Pledge


class MatchFund(db.Model):
    """An institution's money that tops up citizens' pledges by a rule, within a budget."""

    __tablename__ = "match_funds"
    __table_args__ = (
        CheckConstraint("budget > 0", name="budget_positive"),
        CheckConstraint("ratio_numerator > 0 AND ratio_denominator > 0", name="ratio_positive"),
        CheckConstraint("cap_per_pledge IS NULL OR cap_per_pledge > 0", name="cap_per_pledge_positive"),
        CheckConstraint("cap_per_campaign IS NULL OR cap_per_campaign > 0", name="cap_per_campaign_positive"),
        CheckConstraint("ends_on >= starts_on", name="period_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    #: the institution as it wants to be named: "Ville de Lyon", "Fondation Agir"
    institution: Mapped[str] = mapped_column(String(120))
    manager_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    #: minor units of `currency`
    budget: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    #: each unit pledged is matched by numerator/denominator units (1/1, 1/2, 2/1)
    ratio_numerator: Mapped[int] = mapped_column(default=1)
    ratio_denominator: Mapped[int] = mapped_column(default=1)
    cap_per_pledge: Mapped[int | None] = mapped_column(BigInteger)
    cap_per_campaign: Mapped[int | None] = mapped_column(BigInteger)
    #: eligibility; empty means any (comma-separated codes)
    categories: Mapped[str] = mapped_column(String(400), default="")
    countries: Mapped[str] = mapped_column(String(400), default="")
    regions: Mapped[str] = mapped_column(String(400), default="")
    funding_models: Mapped[str] = mapped_column(String(100), default="")
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def budget_money(self) -> Money:
        return Money(self.budget, self.currency)


class MatchApplicationStatus(enum.StrEnum):
    APPLIED = "applied"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class MatchFundCampaign(db.Model):
    """A campaign that applied to a fund, or that the fund chose."""

    __tablename__ = "match_fund_campaigns"
    __table_args__ = (UniqueConstraint("fund_id", "campaign_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("match_funds.id"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    status: Mapped[MatchApplicationStatus] = mapped_column(str_enum(MatchApplicationStatus))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    fund: Mapped[MatchFund] = relationship()
    campaign: Mapped[Campaign] = relationship()


class Match(db.Model):
    """The part of one pledge a fund matches; its amount shrinks (never grows) when the pledge is refunded."""

    __tablename__ = "matches"
    __table_args__ = (
        UniqueConstraint("pledge_id"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("match_funds.id"), index=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    #: what the fund adds now, minor units of the fund's (= campaign's) currency; 0 once given back
    amount: Mapped[int] = mapped_column(BigInteger)
    #: what it first added, for the statement
    original_amount: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    fund: Mapped[MatchFund] = relationship()
    pledge: Mapped[Pledge] = relationship()
