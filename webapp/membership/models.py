"""Membership classes, an organization's members (one person, one membership per organization) and dues paid in cash."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.accounts.models import User
from webapp.clock import utcnow
from webapp.extensions import db, str_enum
from webapp.money import Money
from webapp.organizations.models import Organization
from webapp.payments.recurring.models import RecurringSupport, SupportInterval


class Admission(enum.StrEnum):
    OPEN = "open"  #: whoever joins is a member once the first dues are paid (at once when free)
    APPROVAL = "approval"  #: an editor approves or refuses each request


class MemberState(enum.StrEnum):
    PENDING = "pending"  #: asked to join (approval) or first dues not yet paid
    ACTIVE = "active"
    LAPSED = "lapsed"  #: dues unpaid (the support paused or cancelled) or the period ended
    RESIGNED = "resigned"  #: left of their own will
    REFUSED = "refused"  #: an editor refused the request


class MembershipClass(db.Model):
    """A kind of membership an organization offers: its dues (or none) and how one is admitted."""

    __tablename__ = "membership_classes"
    __table_args__ = (
        UniqueConstraint("organization_id", "name"),
        CheckConstraint("dues_amount IS NULL OR dues_amount > 0", name="dues_positive"),
        CheckConstraint("(dues_amount IS NULL) = (dues_interval IS NULL)", name="dues_have_an_interval"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    #: None: free; else minor units of `currency`, every `dues_interval`
    dues_amount: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    dues_interval: Mapped[SupportInterval | None] = mapped_column(str_enum(SupportInterval))
    admission: Mapped[Admission] = mapped_column(str_enum(Admission), default=Admission.OPEN)
    #: closed classes take no new members; their members stay
    open_to_new: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organization: Mapped[Organization] = relationship()

    @property
    def dues(self) -> Money | None:
        return None if self.dues_amount is None else Money(self.dues_amount, self.currency)


class OrgMember(db.Model):
    """A person who belongs to an organization: one per person and organization, with its dates (a vote, later)."""

    __tablename__ = "org_members"
    __table_args__ = (
        UniqueConstraint("organization_id", "user_id"),
        CheckConstraint("channel IN ('email', 'sms', 'both')", name="channel_known"),
        CheckConstraint("channel = 'email' OR phone IS NOT NULL", name="sms_needs_phone"),
        CheckConstraint("phone IS NULL OR phone_consent_at IS NOT NULL", name="phone_with_consent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("membership_classes.id"), index=True)
    state: Mapped[MemberState] = mapped_column(str_enum(MemberState), default=MemberState.PENDING)
    #: the recurring support that pays the dues (None: free, or paid in cash)
    support_id: Mapped[int | None] = mapped_column(ForeignKey("recurring_supports.id"), unique=True)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: the first day as a member, and the last day the dues paid cover (None: open-ended)
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resigned_at: Mapped[datetime | None]
    #: a mobile number in E.164 (+22997123456) for vote links and reminders by SMS, with the member's consent
    phone: Mapped[str | None] = mapped_column(String(16))
    #: when the member agreed to get messages on that number, and who entered it (the member or an editor)
    phone_consent_at: Mapped[datetime | None]
    phone_entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: how the member gets vote links and reminders: "email", "sms" or "both"
    channel: Mapped[str] = mapped_column(String(5), default="email", server_default="email")

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    membership_class: Mapped[MembershipClass] = relationship()
    organization: Mapped[Organization] = relationship()
    support: Mapped[RecurringSupport | None] = relationship()


class CashDues(db.Model):
    """Dues handed over in cash, recorded by one editor and confirmed by another: unverified money until then."""

    __tablename__ = "cash_dues"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("confirmed_by_id IS NULL OR confirmed_by_id <> recorded_by_id", name="two_editors"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("org_members.id", ondelete="CASCADE"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    paid_on: Mapped[date] = mapped_column(Date)
    #: the last day these dues cover
    covers_until: Mapped[date] = mapped_column(Date)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None]

    member: Mapped[OrgMember] = relationship()

    @property
    def money(self) -> Money:
        return Money(self.amount, self.currency)
