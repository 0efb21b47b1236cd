"""A supporter's recurring gift, each period's charge of it, and the one payment method all their gifts are charged on."""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import (BigInteger, CheckConstraint, Date, ForeignKey, Index, Numeric, SmallInteger, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.accounts.models import User
from webapp.campaigns.models import Campaign
from webapp.clock import utcnow
from webapp.extensions import db, str_enum
from webapp.money import Money
from webapp.organizations.models import Organization


class SupportInterval(enum.StrEnum):
    MONTHLY = "monthly"
    YEARLY = "yearly"


class SupportState(enum.StrEnum):
    PENDING = "pending"  #: the first payment's checkout is open: nothing taken yet
    ACTIVE = "active"  #: renewed by the scheduler on each period's date
    PAUSED = "paused"  #: the supporter paused it, or it needed them for too long: nothing is charged
    NEEDS_ACTION = "needs_action"  #: the last renewal was declined or needs the supporter to authenticate
    CANCELLED = "cancelled"  #: final: nothing is ever charged again


class ChargeStatus(enum.StrEnum):
    PENDING = "pending"  #: about to be asked of the processor (or its answer was lost: the next run asks it)
    SUCCEEDED = "succeeded"  #: the money is taken; booked in the ledger
    PROCESSING = "processing"  #: a bank debit on its way: never charged again for this period
    NEEDS_ACTION = "needs_action"  #: declined or needs authentication: the supporter completes it on-session
    ABANDONED = "abandoned"  #: the support was paused or cancelled before this period was paid: never charged


class RecurringSupport(db.Model):
    """A signed-in member's monthly or yearly gift; the schedule lives in the supporter's time zone."""

    __tablename__ = "recurring_supports"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("tip_amount >= 0", name="tip_not_negative"),
        CheckConstraint("anchor_day BETWEEN 1 AND 31", name="anchor_day_in_month"),
        CheckConstraint("anchor_month BETWEEN 1 AND 12", name="anchor_month_in_year"),
        Index("ix_recurring_supports_state_next", "state", "next_charge_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: public, unguessable; in the supporter's links
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    #: an ongoing campaign of that organization, or None for the organization itself
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), index=True)
    #: a pooled fund of that organization (webapp.governance) each period is booked into, or None
    pooled_fund_id: Mapped[int | None] = mapped_column(ForeignKey("pooled_funds.id"), index=True)
    #: what each period charges, minor units of `currency` (the currency the supporter chose)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    #: an optional tip to the platform charged with each period, minor units of `currency`
    tip_amount: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    #: the currency its money is booked in, fixed when it starts (a later change of the organization's currency
    #: leaves it as it is); None for gifts started before it was kept: the organization's (or campaign's) currency
    booked_in: Mapped[str | None] = mapped_column(String(3))
    interval: Mapped[SupportInterval] = mapped_column(str_enum(SupportInterval))
    #: the day of the month it renews on (31 renews on the last day of shorter months), and the month (yearly)
    anchor_day: Mapped[int] = mapped_column(SmallInteger)
    anchor_month: Mapped[int] = mapped_column(SmallInteger)
    #: IANA name (Europe/Paris, America/Toronto): the dates are the supporter's
    timezone: Mapped[str] = mapped_column(String(64))
    #: the supporter's language, for emails sent by the scheduler
    locale: Mapped[str] = mapped_column(String(10), default="en")
    state: Mapped[SupportState] = mapped_column(str_enum(SupportState), default=SupportState.PENDING)
    #: the period the next charge is for ("2026-12" monthly, "2026" yearly), its local date and its UTC moment
    next_period: Mapped[str] = mapped_column(String(7))
    next_charge_on: Mapped[date] = mapped_column(Date)
    next_charge_at: Mapped[datetime]
    #: the first payment's hosted page (and the last completion page opened)
    checkout_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    #: the processor's explanation of the last refusal, and its code
    failure_code: Mapped[str | None] = mapped_column(String(60))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    needs_action_since: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    #: the yearly period whose advance notice was sent (sent once per period)
    notice_sent_for: Mapped[str | None] = mapped_column(String(7))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    activated_at: Mapped[datetime | None]
    paused_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
    organization: Mapped[Organization] = relationship()
    campaign: Mapped[Campaign | None] = relationship()

    @property
    def money(self) -> Money:
        return Money(self.amount, self.currency)

    @property
    def tip(self) -> Money:
        return Money(self.tip_amount or 0, self.currency)

    @property
    def booked_currency(self) -> str:
        """What its money is booked in: fixed at its start; else the ongoing campaign's currency, or the organization's."""
        if self.booked_in:
            return self.booked_in
        return self.campaign.currency if self.campaign is not None else self.organization.currency


class RecurringCharge(db.Model):
    """One period of a recurring support, charged at most once: (support, period) is unique and names the payment."""

    __tablename__ = "recurring_charges"
    __table_args__ = (
        UniqueConstraint("support_id", "period"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("tip_amount >= 0", name="tip_not_negative"),
        CheckConstraint("refunded_amount >= 0", name="refunded_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    support_id: Mapped[int] = mapped_column(ForeignKey("recurring_supports.id"), index=True)
    #: "2026-12" (monthly) or "2026" (yearly)
    period: Mapped[str] = mapped_column(String(7))
    #: the local date the period was due
    due_on: Mapped[date] = mapped_column(Date)
    #: what this period charges, minor units of `currency` (the amount at the time it was due)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    #: the platform's tip charged with this period, minor units of `currency` (booked apart)
    tip_amount: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    #: booked-currency units per `currency` unit, and the rates' date, when booked converted; None otherwise
    fx_rate: Mapped[Decimal | None] = mapped_column(Numeric(24, 10))
    fx_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[ChargeStatus] = mapped_column(str_enum(ChargeStatus), default=ChargeStatus.PENDING)
    #: "checkout" for the first period (and completions), "renewal" for the scheduler's
    kind: Mapped[str] = mapped_column(String(20))
    provider: Mapped[str] = mapped_column(String(20))
    #: off-session attempts made; part of each attempt's idempotency key
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    payment_intent_id: Mapped[str | None] = mapped_column(String(255), index=True)
    charge_id: Mapped[str | None] = mapped_column(String(255), index=True)
    #: as the processor reports once the money settles (its balance currency): the net and the fee
    settled_amount: Mapped[int | None] = mapped_column(BigInteger)
    settled_fee: Mapped[int | None] = mapped_column(BigInteger)
    settled_currency: Mapped[str | None] = mapped_column(String(3))
    #: refunded so far, minor units of the booked currency (as a pledge's refunded_amount)
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    #: when the supporter's bank first disputed it
    disputed_at: Mapped[datetime | None]
    #: since when a bank debit has been on its way (the recheck job asks the processor after a while)
    processing_since: Mapped[datetime | None]
    failure_code: Mapped[str | None] = mapped_column(String(60))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    paid_at: Mapped[datetime | None]

    support: Mapped[RecurringSupport] = relationship()

    @property
    def money(self) -> Money:
        return Money(self.amount, self.currency)

    @property
    def tip(self) -> Money:
        return Money(self.tip_amount or 0, self.currency)

    @property
    def total(self) -> Money:
        """What the processor is asked for: the gift and the tip."""
        return Money(self.amount + (self.tip_amount or 0), self.currency)

    @property
    def fee(self) -> Money | None:
        if self.settled_fee is None or not self.settled_currency:
            return None
        return Money(self.settled_fee, self.settled_currency)

    def booked(self, money: Money) -> Money:
        """`money` (in the charge's currency) as the ledger booked it: at the charge's rate, rounded half up."""
        if self.fx_rate is None:
            return money
        return Money.from_decimal(money.to_decimal() * self.fx_rate, self.support.booked_currency,
                                  rounding=ROUND_HALF_UP)

    @property
    def booked_money(self) -> Money:
        return self.booked(self.money)

    @property
    def refunded(self) -> Money:
        return Money(self.refunded_amount or 0, self.booked_money.currency)


class SupporterMethod(db.Model):
    """The one payment method a supporter's recurring gifts are charged on: changing it changes it for all."""

    __tablename__ = "supporter_methods"
    __table_args__ = (UniqueConstraint("user_id", "provider"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(20))
    customer_id: Mapped[str] = mapped_column(String(255))
    payment_method_id: Mapped[str] = mapped_column(String(255))
    #: what the supporter recognizes it by ("visa", "4242"), when the processor said
    brand: Mapped[str | None] = mapped_column(String(30))
    last4: Mapped[str | None] = mapped_column(String(4))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
