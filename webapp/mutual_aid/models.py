"""Disaster events, solidarity calls and their deliveries, offers, requests, matches, reports and commitments."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.accounts.models import User
from webapp.clock import utcnow
from webapp.extensions import db, str_enum
from webapp.money import Money
from webapp.organizations.models import Organization


class EventKind(enum.StrEnum):
    FLOOD = "flood"
    EARTHQUAKE = "earthquake"
    STORM = "storm"
    WILDFIRE = "wildfire"
    DROUGHT = "drought"
    EPIDEMIC = "epidemic"
    OTHER = "other"


class Severity(enum.StrEnum):
    MINOR = "minor"
    MODERATE = "moderate"
    SEVERE = "severe"
    EXTREME = "extreme"


class EventState(enum.StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    RECOVERY = "recovery"
    CLOSED = "closed"


class Audience(enum.StrEnum):
    """Who a call is for; when a member falls in several, the first in PRIORITY wins."""

    NEAR = "near"
    COMMITTED = "committed"
    DIASPORA = "diaspora"


AUDIENCE_PRIORITY = (Audience.NEAR, Audience.COMMITTED, Audience.DIASPORA)


class CallState(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    OPENED = "opened"


class Channel(enum.StrEnum):
    INAPP = "inapp"
    EMAIL = "email"
    SMS = "sms"


class DeliveryState(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"  #: claimed by a worker; a stale claim is taken back after the lease
    SENT = "sent"
    FAILED = "failed"


class HelpCategory(enum.StrEnum):
    LODGING = "lodging"
    STORAGE = "storage"
    EQUIPMENT_LOAN = "equipment_loan"
    TRANSPORT = "transport"
    CLEANING_REPAIR = "cleaning_repair"
    SKILLS_MEDICAL = "skills_medical"
    SKILLS_LEGAL = "skills_legal"
    SKILLS_PSYCHOLOGICAL = "skills_psychological"
    SKILLS_TRANSLATION = "skills_translation"
    GOODS = "goods"
    OTHER = "other"


#: Categories whose capacity counts people: a request takes as many places as its household.
PER_PERSON = frozenset({HelpCategory.LODGING, HelpCategory.TRANSPORT})


class OfferState(enum.StrEnum):
    SLEEPING = "sleeping"  #: pre-registered; copied into a published offer when an event covers it
    PUBLISHED = "published"
    HIDDEN = "hidden"  #: by a moderator or coordinator
    CLOSED = "closed"


class Urgency(enum.StrEnum):
    CRITICAL = "critical"  #: today
    HIGH = "high"  #: within days
    NORMAL = "normal"


class RequestState(enum.StrEnum):
    OPEN = "open"
    PROPOSED = "proposed"
    MATCHED = "matched"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"


class MatchState(enum.StrEnum):
    PROPOSED = "proposed"
    MATCHED = "matched"
    FULFILLED = "fulfilled"
    DECLINED = "declined"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class ReportState(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class CommitmentState(enum.StrEnum):
    AWAITING_METHOD = "awaiting_method"  #: the member has not saved a payment method yet
    ACTIVE = "active"
    CANCELLED = "cancelled"


# -- events -------------------------------------------------------------------------------------
class DisasterEvent(db.Model):
    __tablename__ = "disaster_events"
    __table_args__ = (
        CheckConstraint("radius_km IS NULL OR (radius_km >= 1 AND radius_km <= 1000)", name="radius_range"),
        CheckConstraint("(centre_latitude IS NULL) = (centre_longitude IS NULL)", name="centre_complete"),
        CheckConstraint("radius_km IS NULL OR centre_latitude IS NOT NULL", name="radius_needs_centre"),
        CheckConstraint("centre_latitude IS NULL OR (centre_latitude BETWEEN -90 AND 90)", name="centre_lat_range"),
        CheckConstraint("centre_longitude IS NULL OR (centre_longitude BETWEEN -180 AND 180)",
                        name="centre_lon_range"),
        CheckConstraint("fund_goal_amount > 0", name="fund_goal_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: part of the public address
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[EventKind] = mapped_column(str_enum(EventKind))
    severity: Mapped[Severity] = mapped_column(str_enum(Severity))
    starts_on: Mapped[date] = mapped_column(Date)
    #: receives the emergency fund
    relief_organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    #: shown on the public page and in every call
    public_message: Mapped[str] = mapped_column(String(500))
    centre_latitude: Mapped[float | None]
    centre_longitude: Mapped[float | None]
    #: members living within this distance of the centre are "near", whatever their region
    radius_km: Mapped[int | None]
    #: the emergency fund's goal, minor units of fund_currency
    fund_goal_amount: Mapped[int] = mapped_column(BigInteger)
    fund_currency: Mapped[str] = mapped_column(String(3))
    state: Mapped[EventState] = mapped_column(str_enum(EventState), default=EventState.DRAFT)
    #: the keep-it-all campaign opened at activation
    fund_campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), unique=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    activated_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    #: when the contact details of its posts were erased (a while after closing)
    purged_at: Mapped[datetime | None]

    regions: Mapped[list[EventRegion]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="EventRegion.region_code"
    )
    relief_organization: Mapped[Organization] = relationship()

    @property
    def region_codes(self) -> list[str]:
        return [r.region_code for r in self.regions]

    @property
    def fund_goal(self) -> Money:
        return Money(self.fund_goal_amount, self.fund_currency)

    @property
    def takes_posts(self) -> bool:
        """Offers and requests can be posted while the event is active or in recovery."""
        return self.state in (EventState.ACTIVE, EventState.RECOVERY)

    def __repr__(self) -> str:
        return f"<DisasterEvent {self.slug} {self.state}>"


class EventRegion(db.Model):
    """One ISO 3166-2 region of an event's area."""

    __tablename__ = "disaster_event_regions"
    __table_args__ = (UniqueConstraint("event_id", "region_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("disaster_events.id", ondelete="CASCADE"))
    region_code: Mapped[str] = mapped_column(String(10), index=True)

    event: Mapped[DisasterEvent] = relationship(back_populates="regions")


class EventTransition(db.Model):
    """One state change of an event: who, when, why."""

    __tablename__ = "disaster_event_transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("disaster_events.id", ondelete="CASCADE"), index=True)
    from_state: Mapped[EventState] = mapped_column(str_enum(EventState))
    to_state: Mapped[EventState] = mapped_column(str_enum(EventState))
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)

    actor: Mapped[User] = relationship()


# -- solidarity calls ---------------------------------------------------------------------------
class SolidarityCall(db.Model):
    """The one message a member gets for an event, whatever the audiences they fall into."""

    __tablename__ = "solidarity_calls"
    __table_args__ = (
        UniqueConstraint("event_id", "user_id"),
        Index("ix_solidarity_calls_event_state", "event_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("disaster_events.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    audience: Mapped[Audience] = mapped_column(str_enum(Audience, 20))
    state: Mapped[CallState] = mapped_column(str_enum(CallState, 20), default=CallState.QUEUED)
    #: for the committed audience: the commitment that brought the member in
    commitment_id: Mapped[int | None] = mapped_column(ForeignKey("standing_commitments.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: the first channel's delivery
    sent_at: Mapped[datetime | None]
    opened_at: Mapped[datetime | None]
    #: the channel whose link the member followed first (in-app when they opened it on the site)
    opened_via: Mapped[Channel | None] = mapped_column(str_enum(Channel, 10))
    #: set when every channel failed
    failure_reason: Mapped[str | None] = mapped_column(Text)

    event: Mapped[DisasterEvent] = relationship()
    user: Mapped[User] = relationship()


class CallDelivery(db.Model):
    """A call on one channel; claimed by a conditional UPDATE before sending, so it is sent once."""

    __tablename__ = "call_deliveries"
    __table_args__ = (
        UniqueConstraint("call_id", "channel"),
        Index("ix_call_deliveries_event_channel_state", "event_id", "channel", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("solidarity_calls.id", ondelete="CASCADE"))
    #: the call's event, repeated so that a batch and the figures need no join
    event_id: Mapped[int] = mapped_column(ForeignKey("disaster_events.id", ondelete="CASCADE"))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, 10))
    state: Mapped[DeliveryState] = mapped_column(str_enum(DeliveryState, 10), default=DeliveryState.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    #: the last error, in the channel's words
    failure_reason: Mapped[str | None] = mapped_column(Text)
    #: when a worker took it; a claim older than the lease is taken back (worker crash)
    claimed_at: Mapped[datetime | None]
    #: not before this moment (retry backoff)
    retry_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]


class Notification(db.Model):
    """An in-app message; its text is rendered from `kind` and `params` in the reader's language."""

    __tablename__ = "aid_notifications"
    __table_args__ = (Index("ix_aid_notifications_user_read", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("disaster_events.id", ondelete="CASCADE"), index=True)
    #: the call this notification delivers in-app; unique so a redelivery adds nothing
    call_id: Mapped[int | None] = mapped_column(ForeignKey("solidarity_calls.id", ondelete="CASCADE"), unique=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("help_requests.id", ondelete="CASCADE"))
    match_id: Mapped[int | None] = mapped_column(ForeignKey("aid_matches.id", ondelete="CASCADE"))
    params: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]


class ChannelPreference(db.Model):
    """A member's opt-outs from the call channels, and the number SMS go to."""

    __tablename__ = "aid_channel_preferences"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    email_opted_out_at: Mapped[datetime | None]
    sms_opted_out_at: Mapped[datetime | None]
    #: E.164, e.g. +22997000000; no number, no SMS
    sms_number: Mapped[str | None] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


# -- offers, requests, matches ------------------------------------------------------------------
class Offer(db.Model):
    __tablename__ = "aid_offers"
    __table_args__ = (
        UniqueConstraint("event_id", "woken_from_id"),
        CheckConstraint("capacity >= 1 AND capacity <= 1000", name="capacity_range"),
        CheckConstraint("available_until IS NULL OR available_from IS NULL OR available_until >= available_from",
                        name="window_order"),
        CheckConstraint("state = 'sleeping' OR event_id IS NOT NULL", name="published_in_event"),
        Index("ix_aid_offers_event_state_category", "event_id", "state", "category"),
        Index("ix_aid_offers_sleeping_region", "state", "region_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: None while sleeping: a pre-registered offer belongs to no event until one covers it
    event_id: Mapped[int | None] = mapped_column(ForeignKey("disaster_events.id", ondelete="CASCADE"))
    #: the sleeping offer this one was published from; the sleeping one stays for the next event
    woken_from_id: Mapped[int | None] = mapped_column(ForeignKey("aid_offers.id", ondelete="SET NULL"))
    category: Mapped[HelpCategory] = mapped_column(str_enum(HelpCategory))
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    #: people for lodging and transport, units otherwise
    capacity: Mapped[int] = mapped_column(default=1)
    #: can be given from afar (translation, calling relatives): distance does not count
    remote: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    available_from: Mapped[date | None] = mapped_column(Date)
    available_until: Mapped[date | None] = mapped_column(Date)
    #: approximate point the helper gave; shown only as its grid cell
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    #: ISO 3166-2
    region_code: Mapped[str | None] = mapped_column(String(10))
    #: 0.1-degree grid cell (floor(lat*10), floor(lon*10)): the only location public pages show
    cell_lat: Mapped[int | None]
    cell_lon: Mapped[int | None]
    #: revealed to the counterpart of a match once both accepted; erased when the event is purged
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    contact_note: Mapped[str | None] = mapped_column(String(500))
    state: Mapped[OfferState] = mapped_column(str_enum(OfferState, 20), default=OfferState.PUBLISHED)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    hidden_at: Mapped[datetime | None]
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    event: Mapped[DisasterEvent | None] = relationship()


class HelpRequest(db.Model):
    __tablename__ = "help_requests"
    __table_args__ = (
        CheckConstraint("household_size >= 1 AND household_size <= 100", name="household_range"),
        Index("ix_help_requests_event_state_category", "event_id", "state", "category"),
        Index("ix_help_requests_requester_event", "requester_id", "event_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("disaster_events.id", ondelete="CASCADE"))
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    category: Mapped[HelpCategory] = mapped_column(str_enum(HelpCategory))
    urgency: Mapped[Urgency] = mapped_column(str_enum(Urgency, 20))
    household_size: Mapped[int] = mapped_column(default=1)
    #: shown to helpers; the form asks not to write an address here
    description: Mapped[str] = mapped_column(Text, default="")
    #: exact point: private until the requester and a helper both accepted a match
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    region_code: Mapped[str | None] = mapped_column(String(10))
    cell_lat: Mapped[int | None]
    cell_lon: Mapped[int | None]
    #: private, like the exact point
    address: Mapped[str | None] = mapped_column(String(300))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    state: Mapped[RequestState] = mapped_column(str_enum(RequestState, 20), default=RequestState.OPEN)
    #: an earlier request of the same person for the same need, still running
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("help_requests.id", ondelete="SET NULL"))
    hidden_at: Mapped[datetime | None]
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    state_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: the first time it was matched, for the median time to a match
    first_matched_at: Mapped[datetime | None]
    #: the last "still need help?" question
    nudged_at: Mapped[datetime | None]

    requester: Mapped[User] = relationship(foreign_keys=[requester_id])
    event: Mapped[DisasterEvent] = relationship()


class Match(db.Model):
    """An offer and a request that one side proposed; contact details are shown once both accepted."""

    __tablename__ = "aid_matches"
    __table_args__ = (
        UniqueConstraint("offer_id", "request_id"),
        Index("ix_aid_matches_state_expires", "state", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("disaster_events.id", ondelete="CASCADE"), index=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("aid_offers.id", ondelete="CASCADE"), index=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("help_requests.id", ondelete="CASCADE"), index=True)
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    accepted_by_helper_at: Mapped[datetime | None]
    accepted_by_requester_at: Mapped[datetime | None]
    state: Mapped[MatchState] = mapped_column(str_enum(MatchState, 20), default=MatchState.PROPOSED)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: a proposal nobody answers expires then, and the request reopens
    expires_at: Mapped[datetime]
    matched_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]

    offer: Mapped[Offer] = relationship()
    request: Mapped[HelpRequest] = relationship()

    @property
    def both_accepted(self) -> bool:
        return self.accepted_by_helper_at is not None and self.accepted_by_requester_at is not None


class Report(db.Model):
    """Someone flagged a post as abusive, false or dangerous."""

    __tablename__ = "aid_reports"
    __table_args__ = (
        CheckConstraint("(offer_id IS NULL) <> (request_id IS NULL)", name="one_post"),
        Index("ix_aid_reports_state", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("aid_offers.id", ondelete="CASCADE"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("help_requests.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(500))
    state: Mapped[ReportState] = mapped_column(str_enum(ReportState, 20), default=ReportState.OPEN)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: hidden, dismissed or suspended
    outcome: Mapped[str | None] = mapped_column(String(20))

    offer: Mapped[Offer | None] = relationship()
    request: Mapped[HelpRequest | None] = relationship()
    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id])


# -- standing commitments -----------------------------------------------------------------------
class StandingCommitment(db.Model):
    """"When a disaster is activated in this region, call me for up to this amount."""

    __tablename__ = "standing_commitments"
    __table_args__ = (
        CheckConstraint("max_amount > 0", name="max_positive"),
        CheckConstraint("yearly_cap_amount >= max_amount", name="cap_covers_max"),
        Index("ix_standing_commitments_region_state", "region_code", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: ISO 3166-2
    region_code: Mapped[str] = mapped_column(String(10))
    #: per event, minor units of `currency`
    max_amount: Mapped[int] = mapped_column(BigInteger)
    #: across every event of a calendar year, minor units of `currency`
    yearly_cap_amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    state: Mapped[CommitmentState] = mapped_column(str_enum(CommitmentState, 20),
                                                   default=CommitmentState.AWAITING_METHOD)
    #: the processor's setup-mode checkout that saves the payment method
    checkout_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    customer_id: Mapped[str | None] = mapped_column(String(255))
    payment_method_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()

    @property
    def max(self) -> Money:
        return Money(self.max_amount, self.currency)

    @property
    def yearly_cap(self) -> Money:
        return Money(self.yearly_cap_amount, self.currency)


class CommitmentConfirmation(db.Model):
    """A member confirmed their commitment for one event: the pledge it made to the emergency fund."""

    __tablename__ = "commitment_confirmations"
    __table_args__ = (
        UniqueConstraint("commitment_id", "event_id"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    commitment_id: Mapped[int] = mapped_column(ForeignKey("standing_commitments.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("disaster_events.id", ondelete="CASCADE"), index=True)
    #: minor units of the commitment's currency; counts towards the yearly cap unless the charge failed
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    pledge_id: Mapped[int | None] = mapped_column(ForeignKey("pledges.id", ondelete="SET NULL"))
    #: succeeded, processing, requires_action or failed, as the processor said
    charge_status: Mapped[str] = mapped_column(String(20))
    year: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
