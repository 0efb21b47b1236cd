"""Campaigns, their reward tiers, updates, the record of every state change and every revision of their content."""
from __future__ import annotations

import enum
from datetime import date, datetime, timedelta

from sqlalchemy import true as sa_true
from sqlalchemy import false as sa_false
from sqlalchemy import JSON, BigInteger, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.accounts.models import User
from webapp.clock import utcnow
from webapp.extensions import db, str_enum
from webapp.money import Money
from webapp.organizations.models import Organization


class FundingModel(enum.StrEnum):
    ALL_OR_NOTHING = "all_or_nothing"
    KEEP_IT_ALL = "keep_it_all"
    MINIMUM_OPTIMUM = "minimum_optimum"


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    LIVE = "live"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Category(enum.StrEnum):
    AGRICULTURE = "agriculture"
    EDUCATION = "education"
    HEALTH = "health"
    ENVIRONMENT = "environment"
    HOUSING = "housing"
    CULTURE = "culture"
    TOURISM = "tourism"
    CRAFTS = "crafts"
    WATER = "water"
    EMERGENCY = "emergency"
    COMMUNITY = "community"


class Campaign(db.Model):
    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint("goal_amount > 0", name="goal_positive"),
        CheckConstraint(
            "minimum_amount IS NULL OR (minimum_amount > 0 AND minimum_amount <= goal_amount)",
            name="minimum_within_goal",
        ),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_campaigns_status_ends_at", "status", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    #: unique in the whole site; part of the public address
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(120))
    summary: Mapped[str] = mapped_column(String(200))
    #: Markdown as the organizer wrote it
    story_md: Mapped[str] = mapped_column(Text, default="")
    #: sanitized HTML rendered from story_md; the only form ever shown
    story_html: Mapped[str] = mapped_column(Text, default="")
    cover_key: Mapped[str | None] = mapped_column(String(255))
    #: the language title, summary, story, tiers and updates are written in (a code of config LANGUAGES);
    #: translations into the others are CampaignTranslation rows
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    category: Mapped[Category] = mapped_column(str_enum(Category), index=True)
    #: ISO 3166-1 alpha-2 code of the territory the campaign serves
    country: Mapped[str] = mapped_column(String(2), index=True)
    #: ISO 3166-2 code, optional
    region: Mapped[str | None] = mapped_column(String(10), index=True)
    #: the goal (the optimum for minimum-and-optimum campaigns), in minor units of `currency`
    goal_amount: Mapped[int] = mapped_column(BigInteger)
    #: the success threshold of minimum-and-optimum campaigns, minor units
    minimum_amount: Mapped[int | None] = mapped_column(BigInteger)
    #: ISO 4217
    currency: Mapped[str] = mapped_column(String(3))
    funding_model: Mapped[FundingModel] = mapped_column(str_enum(FundingModel))
    #: backers may pay in their own currency (converted at the day's rate) where the processor allows it
    accepts_backer_currency: Mapped[bool] = mapped_column(default=True, server_default=sa_true())
    status: Mapped[CampaignStatus] = mapped_column(str_enum(CampaignStatus), default=CampaignStatus.DRAFT)
    #: open-ended: besides one-off pledges, it takes monthly and yearly support (payments.recurring)
    ongoing: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    #: the pooled fund this (ongoing, keep-it-all) campaign gives to: its pledges are booked into the fund's
    #: account, not the campaign's, and nothing is paid out for it (governance.funds.set_giving_campaign)
    pooled_fund_id: Mapped[int | None] = mapped_column(ForeignKey("pooled_funds.id", ondelete="SET NULL"),
                                                       unique=True)
    #: UTC; the campaign goes live at this moment once approved
    starts_at: Mapped[datetime]
    #: UTC; the deadline
    ends_at: Mapped[datetime]
    #: the last reason a moderator gave when asking for changes
    moderation_note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    launched_at: Mapped[datetime | None]

    organization: Mapped[Organization] = relationship()
    tiers: Mapped[list[RewardTier]] = relationship(
        back_populates="campaign", cascade="all, delete-orphan", order_by="RewardTier.minimum_amount"
    )
    translations: Mapped[list[CampaignTranslation]] = relationship(
        cascade="all, delete-orphan", order_by="CampaignTranslation.language", lazy="selectin"
    )

    @property
    def goal(self) -> Money:
        return Money(self.goal_amount, self.currency)

    @property
    def minimum(self) -> Money | None:
        return None if self.minimum_amount is None else Money(self.minimum_amount, self.currency)

    @property
    def success_threshold(self) -> Money:
        """What must be raised for the campaign to succeed."""
        if self.funding_model == FundingModel.MINIMUM_OPTIMUM and self.minimum is not None:
            return self.minimum
        return self.goal

    @property
    def end_date(self) -> date:
        """The last day of the campaign, as the organizer chose it (ends_at is the moment after it)."""
        return (self.ends_at - timedelta(microseconds=1)).date()

    @property
    def is_public(self) -> bool:
        return self.status in PUBLIC_STATUSES

    def __repr__(self) -> str:
        return f"<Campaign {self.slug} {self.status}>"


PUBLIC_STATUSES = frozenset({CampaignStatus.LIVE, CampaignStatus.SUCCEEDED, CampaignStatus.FAILED})


class RewardTier(db.Model):
    __tablename__ = "reward_tiers"
    __table_args__ = (
        CheckConstraint("minimum_amount > 0", name="minimum_positive"),
        CheckConstraint("quantity_limit IS NULL OR quantity_limit > 0", name="quantity_positive"),
        CheckConstraint("units_claimed >= 0 AND (quantity_limit IS NULL OR units_claimed <= quantity_limit)",
                        name="units_within_limit"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    #: minor units of the campaign's currency
    minimum_amount: Mapped[int] = mapped_column(BigInteger)
    #: None means unlimited
    quantity_limit: Mapped[int | None]
    #: first day of the estimated delivery month
    delivery_month: Mapped[date | None] = mapped_column(Date)
    #: units held by open checkouts or taken by pledges; moved only by a conditional UPDATE
    units_claimed: Mapped[int] = mapped_column(default=0, server_default="0")

    @property
    def units_left(self) -> int | None:
        return None if self.quantity_limit is None else max(0, self.quantity_limit - self.units_claimed)

    campaign: Mapped[Campaign] = relationship(back_populates="tiers")

    @property
    def minimum(self) -> Money:
        return Money(self.minimum_amount, self.campaign.currency)


class CampaignTransition(db.Model):
    """One state change of a campaign: who moved it, when, and why."""

    __tablename__ = "campaign_transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[CampaignStatus] = mapped_column(str_enum(CampaignStatus))
    to_status: Mapped[CampaignStatus] = mapped_column(str_enum(CampaignStatus))
    #: None when the system moved it (a scheduled launch or close)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)

    actor: Mapped[User | None] = relationship()


class CampaignUpdate(db.Model):
    """News an organizer posts for backers and visitors."""

    __tablename__ = "campaign_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(120))
    body_md: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User] = relationship()
    translations: Mapped[list[CampaignUpdateTranslation]] = relationship(
        cascade="all, delete-orphan", order_by="CampaignUpdateTranslation.language", lazy="selectin"
    )


class CampaignTranslation(db.Model):
    """The campaign's title, summary, story and reward tiers in another language than its own (Campaign.language).

    story_html is rendered and sanitized from story_md exactly as the original story (webapp.markup).
    """

    __tablename__ = "campaign_translations"
    __table_args__ = (UniqueConstraint("campaign_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(120))
    summary: Mapped[str] = mapped_column(String(200))
    story_md: Mapped[str] = mapped_column(Text, default="")
    story_html: Mapped[str] = mapped_column(Text, default="")
    #: the reward tiers' text: {str(tier id): {"title": …, "description": …}}; a tier without an entry reads as written
    tiers: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CampaignUpdateTranslation(db.Model):
    """An update's title and body in another language than its campaign's own."""

    __tablename__ = "campaign_update_translations"
    __table_args__ = (UniqueConstraint("update_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    update_id: Mapped[int] = mapped_column(ForeignKey("campaign_updates.id", ondelete="CASCADE"), index=True)
    #: the update's campaign: a write here changes that campaign's cached page (webapp.pagecache)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(120))
    body_md: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RevisionStatus(enum.StrEnum):
    #: waiting for a moderator; the public page still shows the approved content
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    #: taken back by the organizers before a decision
    WITHDRAWN = "withdrawn"
    #: a minor correction (webapp/campaigns/diffing.py: is_minor) applied at once, without review
    DIRECT = "direct"


class CampaignRevision(db.Model):
    """A change to what backers read of an approved campaign: proposed, then decided, or applied at once.

    `before` and `after` are whole snapshots of the reviewed content (revisions.snapshot), so the
    history says exactly what was public and what replaced it.
    """

    __tablename__ = "campaign_revisions"
    __table_args__ = (
        # One revision under review per campaign: further edits update it.
        Index("uq_campaign_revisions_one_pending", "campaign_id", unique=True,
              sqlite_where=text("status = 'pending'"), postgresql_where=text("status = 'pending'")),
        CheckConstraint("version > 0", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    status: Mapped[RevisionStatus] = mapped_column(str_enum(RevisionStatus), default=RevisionStatus.PENDING)
    #: the public content when the revision was opened
    before: Mapped[dict] = mapped_column(JSON)
    #: the content proposed (or applied, for a direct correction)
    after: Mapped[dict] = mapped_column(JSON)
    #: bumped by every further edit; a decision names the version the moderator saw
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    #: ids of everyone who edited it: none of them may decide it
    contributor_ids: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    #: the moderator's reason (required to refuse)
    reason: Mapped[str | None] = mapped_column(Text)

    campaign: Mapped[Campaign] = relationship()
    proposed_by: Mapped[User] = relationship(foreign_keys=[proposed_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class BudgetLine(db.Model):
    """One line of a campaign's budget: what the money is for, and whether the minimum needs it."""

    __tablename__ = "budget_lines"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    #: what the money buys or pays ("Grain mill", "Two months of a miller's wage")
    title: Mapped[str] = mapped_column(String(120))
    #: minor units of the campaign's currency
    amount: Mapped[int] = mapped_column(BigInteger)
    #: needed to reach the minimum (True) or only for the optimum (False)
    required: Mapped[bool] = mapped_column(default=True, server_default=sa_true())
    position: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    campaign: Mapped[Campaign] = relationship()

    @property
    def money(self) -> Money:
        return Money(self.amount, self.campaign.currency)
