"""Impact: a campaign's indicators, the values progress reports give them, the people listed to confirm them,
the requests sent to those people, and what they answered.

Who answered is kept apart from what they answered: a `ConfirmationRequest` (one per person and value) records
that someone was asked and whether they used their link; a `ConfirmationAnswer` records the verdict, the
comment and, only if they chose to sign, a name, with no column that points back to the request or the person.
The request's `answered_on` is what makes a link single use.
"""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.campaigns.models import Campaign
from webapp.clock import utcnow
from webapp.extensions import db, str_enum
from webapp.progress_reports.models import ProgressReport

#: figures are kept with two decimals (a share in percent, litres per day, a number of people)
FIGURE = Numeric(14, 2)


class IndicatorSource(enum.StrEnum):
    #: one of the Sustainable Development Goals' targets (webapp/impact/data/sdg.json)
    SDG = "sdg"
    #: one of the common outcomes of the social and solidarity economy (webapp/impact/catalog.py)
    CATALOG = "catalog"
    #: written by the organization
    CUSTOM = "custom"


class Audience(enum.StrEnum):
    """Who is asked: the order is the order of precedence when one person is several of them."""

    BENEFICIARY = "beneficiary"
    MEMBER = "member"
    BACKER = "backer"


class Verdict(enum.StrEnum):
    CONFIRM = "confirm"
    DOUBT = "doubt"
    #: neither: a comment only
    COMMENT = "comment"


class Channel(enum.StrEnum):
    EMAIL = "email"
    SMS = "sms"


class Indicator(db.Model):
    """A measured outcome a campaign declares, with where it starts, where it aims and by when."""

    __tablename__ = "impact_indicators"
    __table_args__ = (
        CheckConstraint("source != 'sdg' OR sdg_target IS NOT NULL", name="sdg_has_target"),
        CheckConstraint("source != 'catalog' OR catalog_key IS NOT NULL", name="catalog_has_key"),
        CheckConstraint("source != 'custom' OR title IS NOT NULL", name="custom_has_title"),
        #: discovery filters campaigns by goal
        Index("ix_impact_indicators_sdg_goal_campaign_id", "sdg_goal", "campaign_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the campaign's page shows it (webapp.pagecache invalidates it when this row changes)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    source: Mapped[IndicatorSource] = mapped_column(str_enum(IndicatorSource))
    #: the SDG (1-17) the indicator serves, from its target; None for an outcome that names no target
    sdg_goal: Mapped[int | None]
    #: the SDG target's code, "6.1" or "17.a"
    sdg_target: Mapped[str | None] = mapped_column(String(8))
    #: the catalog outcome's key ("jobs_created")
    catalog_key: Mapped[str | None] = mapped_column(String(40))
    #: the organization's own words; for an SDG target or a catalog outcome, shown instead of its title when given
    title: Mapped[str | None] = mapped_column(String(160))
    #: what a figure counts ("households", "%", "litres a day")
    unit: Mapped[str] = mapped_column(String(40))
    baseline: Mapped[Decimal] = mapped_column(FIGURE)
    target: Mapped[Decimal] = mapped_column(FIGURE)
    #: when the target should be reached
    target_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    campaign: Mapped[Campaign] = relationship()
    values: Mapped[list[IndicatorValue]] = relationship(
        back_populates="indicator", cascade="all, delete-orphan", passive_deletes=True,
        order_by="IndicatorValue.measured_on")


class IndicatorValue(db.Model):
    """The figure a progress report gives an indicator."""

    __tablename__ = "impact_values"
    __table_args__ = (UniqueConstraint("report_id", "indicator_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("impact_indicators.id", ondelete="CASCADE"), index=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("progress_reports.id", ondelete="CASCADE"), index=True)
    #: the indicator's campaign, repeated so that a write here refreshes the campaign's cached page
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    value: Mapped[Decimal] = mapped_column(FIGURE)
    measured_on: Mapped[date] = mapped_column(Date)
    #: how it was measured, in a sentence
    note: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: when the organization last asked the people concerned; None until then
    asked_at: Mapped[datetime | None]

    indicator: Mapped[Indicator] = relationship(back_populates="values")
    report: Mapped[ProgressReport] = relationship()


class Beneficiary(db.Model):
    """A person a campaign serves, listed by its organization so they can be asked; no name, one contact.

    Minimal data: an email address or a phone number (at least one), the language to write in, and the day
    the organization recorded the person's consent to be contacted for this. Deleting the row (the
    organization's list, or the person's account erasure for a matching address) clears the address of any
    request not yet sent; the requests themselves stay, so the count of people asked does not change.
    """

    __tablename__ = "impact_beneficiaries"
    __table_args__ = (
        CheckConstraint("email IS NOT NULL OR phone IS NOT NULL", name="has_contact"),
        UniqueConstraint("campaign_id", "email"),
        UniqueConstraint("campaign_id", "phone"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    #: lower-cased
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    #: E.164-like: "+" and digits only
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    #: the language messages to them are written in
    locale: Mapped[str] = mapped_column(String(10))
    #: the day the person agreed to be listed and contacted (told the organization, on paper or aloud)
    consent_on: Mapped[date] = mapped_column(Date)
    #: the editor who recorded the consent
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    campaign: Mapped[Campaign] = relationship()


class ConfirmationRequest(db.Model):
    """One person asked about one value: the link's single use is `answered_on`, set once."""

    __tablename__ = "impact_requests"
    __table_args__ = (UniqueConstraint("value_id", "person_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    value_id: Mapped[int] = mapped_column(ForeignKey("impact_values.id", ondelete="CASCADE"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    audience: Mapped[Audience] = mapped_column(str_enum(Audience))
    #: who the person is, once per value whatever they are: "beneficiary:<id>", "user:<id>" or "email:<sha256>"
    person_key: Mapped[str] = mapped_column(String(80))
    #: the listed beneficiary (None once they are off the list: the request stays, so "asked" stays true)
    beneficiary_id: Mapped[int | None] = mapped_column(ForeignKey("impact_beneficiaries.id", ondelete="SET NULL"),
                                                       index=True)
    #: the member or backer's account, when they have one
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    #: where the link goes, kept only until it is sent (then None: the person's contact is not copied here)
    address: Mapped[str | None] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(10))
    #: random (16 hex digits, short for SMS), part of the signed link: a link names one request and nothing else
    nonce: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    #: the day the link was used (a day, not a time: see ConfirmationAnswer); a second use is refused
    answered_on: Mapped[date | None] = mapped_column(Date)

    value: Mapped[IndicatorValue] = relationship()


class ConfirmationAnswer(db.Model):
    """What someone asked said about a value, with no way back to who they are (unless they signed)."""

    __tablename__ = "impact_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    value_id: Mapped[int] = mapped_column(ForeignKey("impact_values.id", ondelete="CASCADE"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    #: the group the person was asked as (counts are shown per group)
    audience: Mapped[Audience] = mapped_column(str_enum(Audience))
    verdict: Mapped[Verdict] = mapped_column(str_enum(Verdict))
    comment: Mapped[str | None] = mapped_column(String(500))
    #: the name they chose to sign with, shown beside their comment; None for most
    signed_name: Mapped[str | None] = mapped_column(String(80))
    #: the day only, as on the request: an exact time on both would join them
    answered_on: Mapped[date] = mapped_column(Date)
