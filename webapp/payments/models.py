"""Pledges, the secrets their links carry, the exchange rates they were converted with, and the processor events already applied."""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Date, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.accounts.models import User
from webapp.campaigns.models import Campaign, RewardTier
from webapp.clock import utcnow
from webapp.extensions import db, str_enum
from webapp.money import Money


class PledgeStatus(enum.StrEnum):
    PENDING = "pending"  #: checkout open; a reward unit is held
    PROCESSING = "processing"  #: checkout done, a bank debit is on its way (async payment)
    COMMITTED = "committed"  #: payment method saved; charged only if the campaign succeeds
    PAID = "paid"  #: charged and confirmed by the processor
    FAILED = "failed"  #: declined or the debit bounced
    EXPIRED = "expired"  #: checkout abandoned or timed out
    CANCELLED = "cancelled"  #: the backer withdrew a committed pledge before the deadline
    REFUNDED = "refunded"  #: fully refunded
    NEEDS_ACTION = "needs_action"  #: the charge at success was declined or needs the backer to authenticate
    LAPSED = "lapsed"  #: needed action for 7 days and got none: never charged
    RELEASED = "released"  #: the campaign failed: the saved method is forgotten, nobody charged
    #: charged at success and the processor answered `processing` (a bank debit on its way): never charged again
    COLLECTING = "collecting"


#: Pledges whose money counts in a campaign's totals.
CONFIRMED_STATUSES = frozenset({PledgeStatus.COMMITTED, PledgeStatus.COLLECTING, PledgeStatus.NEEDS_ACTION,
                                PledgeStatus.PAID})
#: Pledges that hold (or have taken) a reward unit.
HOLDING_STATUSES = frozenset({PledgeStatus.PENDING, PledgeStatus.PROCESSING, PledgeStatus.COMMITTED,
                              PledgeStatus.COLLECTING, PledgeStatus.NEEDS_ACTION, PledgeStatus.PAID})


class ChargeTiming(enum.StrEnum):
    NOW = "now"  #: keep-it-all: charged at pledge time
    ON_SUCCESS = "on_success"  #: all-or-nothing, minimum-and-optimum: card saved, charged at success


class Pledge(db.Model):
    __tablename__ = "pledges"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("charge_amount > 0", name="charge_amount_positive"),
        CheckConstraint("refunded_amount >= 0 AND refunded_amount <= amount", name="refund_within_amount"),
        CheckConstraint("tip_amount >= 0", name="tip_not_negative"),
        Index("ix_pledges_campaign_status", "campaign_id", "status"),
        Index("ix_pledges_status_hold", "status", "hold_expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: public reference on receipts and in URLs; unguessable
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    #: one per rendered pledge form: a double-clicked submit finds the pledge it already made
    client_token: Mapped[str] = mapped_column(String(64), unique=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    tier_id: Mapped[int | None] = mapped_column(ForeignKey("reward_tiers.id"), index=True)
    #: None for a guest
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(10), default="en")
    display_name: Mapped[str | None] = mapped_column(String(80))
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    message: Mapped[str | None] = mapped_column(Text)
    status: Mapped[PledgeStatus] = mapped_column(str_enum(PledgeStatus), default=PledgeStatus.PENDING)
    charge_timing: Mapped[ChargeTiming] = mapped_column(str_enum(ChargeTiming))

    #: the pledge in the campaign's currency, minor units: what counts towards the goal
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    #: what the backer is charged, in the currency charged (the campaign's or the backer's own)
    charge_amount: Mapped[int] = mapped_column(BigInteger)
    charge_currency: Mapped[str] = mapped_column(String(3))
    #: charge_currency units per campaign currency unit, and the rates' date; None when no conversion
    fx_rate: Mapped[Decimal | None] = mapped_column(Numeric(24, 10))
    fx_date: Mapped[date | None] = mapped_column(Date)
    #: as reported by the processor once the money settles (its balance currency): the net, and the fee
    settled_amount: Mapped[int | None] = mapped_column(BigInteger)
    settled_fee: Mapped[int | None] = mapped_column(BigInteger)
    settled_currency: Mapped[str | None] = mapped_column(String(3))
    #: in the campaign's currency, minor units
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    disputed_at: Mapped[datetime | None]

    provider: Mapped[str] = mapped_column(String(20))
    checkout_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    #: the hosted page the backer is sent to; kept so a double-clicked submit lands on the same one
    checkout_url: Mapped[str | None] = mapped_column(String(2048))
    customer_id: Mapped[str | None] = mapped_column(String(255))
    payment_method_id: Mapped[str | None] = mapped_column(String(255))
    setup_intent_id: Mapped[str | None] = mapped_column(String(255), index=True)
    payment_intent_id: Mapped[str | None] = mapped_column(String(255), index=True)
    charge_id: Mapped[str | None] = mapped_column(String(255), index=True)
    #: why the processor refused, in its words, for the backer and support
    failure_reason: Mapped[str | None] = mapped_column(Text)

    #: off-session charge attempts made at success; part of each attempt's idempotency key
    charge_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    #: since when the money of a COLLECTING pledge has been on its way (the recheck job reads it after a while)
    collecting_since: Mapped[datetime | None]
    #: the last hosted page opened for the backer to complete the payment: expired before another opens
    completion_session_id: Mapped[str | None] = mapped_column(String(255))
    #: when the backer was first asked to complete the payment, and last reminded
    needs_action_since: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    #: an optional tip to the platform on top of the pledge, minor units of `currency`
    tip_amount: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    #: a reward unit is held until then while the checkout is open
    hold_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]

    campaign: Mapped[Campaign] = relationship()
    tier: Mapped[RewardTier | None] = relationship()
    user: Mapped[User | None] = relationship()

    @property
    def money(self) -> Money:
        return Money(self.amount, self.currency)

    @property
    def charge(self) -> Money:
        return Money(self.charge_amount, self.charge_currency)

    @property
    def refunded(self) -> Money:
        return Money(self.refunded_amount, self.currency)

    @property
    def settled(self) -> Money | None:
        if self.settled_amount is None or not self.settled_currency:
            return None
        return Money(self.settled_amount, self.settled_currency)

    @property
    def fee(self) -> Money | None:
        if self.settled_fee is None or not self.settled_currency:
            return None
        return Money(self.settled_fee, self.settled_currency)

    @property
    def public_name(self) -> str | None:
        return None if self.anonymous else (self.display_name or None)


class PledgeEvent(db.Model):
    """Each state change of a pledge, with what caused it."""

    __tablename__ = "pledge_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[PledgeStatus | None] = mapped_column(str_enum(PledgeStatus))
    to_status: Mapped[PledgeStatus] = mapped_column(str_enum(PledgeStatus))
    #: the processor event id, "backer", or "system"
    cause: Mapped[str] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class PledgeAccessToken(db.Model):
    """A secret that opens a pledge's pages (receipt, checkout return, completion), put in one link we sent.

    Only its SHA-256 is stored: the database alone opens no receipt. A pledge has one per link sent.
    """

    __tablename__ = "pledge_access_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id", ondelete="CASCADE"), index=True)
    #: hex SHA-256 of the token in the link
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: which link carried it: "checkout", "receipt", "refund", "outcome", "complete", "resend"
    purpose: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProcessedEvent(db.Model):
    """A processor event already applied: stored with its effect, so a redelivery changes nothing."""

    __tablename__ = "processed_events"
    __table_args__ = (UniqueConstraint("provider", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(255))
    event_type: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExchangeRate(db.Model):
    """How many units of a currency one euro buys on a date, and who said so."""

    __tablename__ = "exchange_rates"
    __table_args__ = (
        UniqueConstraint("rate_date", "currency"),
        CheckConstraint("units_per_euro > 0", name="rate_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rate_date: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3), index=True)
    units_per_euro: Mapped[Decimal] = mapped_column(Numeric(24, 10))
    #: "ecb", or the name of the imported CSV source
    source: Mapped[str] = mapped_column(String(40))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)


class RefundStatus(enum.StrEnum):
    REQUESTED = "requested"  #: asked of the processor, not yet confirmed
    SUCCEEDED = "succeeded"  #: the processor confirmed it (charge.refunded)
    FAILED = "failed"


class Refund(db.Model):
    """An organizer's or admin's refund of a pledge, in full or in part, with the reason given."""

    __tablename__ = "refunds"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),
                      CheckConstraint("(pledge_id IS NULL) <> (recurring_charge_id IS NULL)", name="one_payment"))

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the pledge refunded, or else the period of a recurring gift
    pledge_id: Mapped[int | None] = mapped_column(ForeignKey("pledges.id"), index=True)
    recurring_charge_id: Mapped[int | None] = mapped_column(ForeignKey("recurring_charges.id"), index=True)
    #: minor units of the currency the payment is booked in (the pledge's campaign's, the gift's)
    amount: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[RefundStatus] = mapped_column(str_enum(RefundStatus), default=RefundStatus.REQUESTED)
    processor_refund_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    pledge: Mapped[Pledge | None] = relationship()
    requested_by: Mapped[User] = relationship()

    @property
    def money(self) -> Money:
        if self.pledge is not None:
            return Money(self.amount, self.pledge.currency)
        from webapp.payments.recurring.models import RecurringCharge

        return Money(self.amount, db.session.get(RecurringCharge, self.recurring_charge_id).booked_money.currency)


class ConnectedAccount(db.Model):
    """An organization's account at the processor (Stripe Connect Express) that receives its payouts."""

    __tablename__ = "connected_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), unique=True)
    processor_account_id: Mapped[str] = mapped_column(String(255), unique=True)
    #: the country the account was created in (ISO 3166-1), passed to the processor explicitly
    country: Mapped[str | None] = mapped_column(String(2))
    #: "recipient" (cross-border: the only agreement Stripe pays abroad on) or "full" (same country)
    service_agreement: Mapped[str | None] = mapped_column(String(20))
    #: the processor's view, kept up to date from account.updated
    details_submitted: Mapped[bool] = mapped_column(default=False)
    payouts_enabled: Mapped[bool] = mapped_column(default=False)
    #: the `transfers` capability's status (unrequested, pending, inactive, active), from capability.updated
    #: and account.updated: transfers are sent only while it is active
    transfers_capability: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def can_receive_transfers(self) -> bool:
        return self.transfers_capability == "active"


class TransferStatus(enum.StrEnum):
    PENDING = "pending"  #: waiting for the holding period, the charge's settlement or the organization's account
    SENT = "sent"  #: the processor moved the money to the organization's account
    FAILED = "failed"
    #: nothing left to pass on: the charge was refunded or lost to a dispute, or its fees took it all
    NOTHING = "nothing"


class Transfer(db.Model):
    """What one charge of a successful campaign passes to the organization, once, net of fees and refunds.

    Sent in the currency the charge settled in (the platform's settlement currency), tied to the charge
    (`source_transaction`), in the campaign's transfer group; `campaign_amount` is the same money in the
    campaign's currency, as the ledger books it. Reversals (a later refund, a lost dispute) lower both.
    """

    __tablename__ = "transfers"
    __table_args__ = (
        UniqueConstraint("pledge_id"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint("platform_fee >= 0", name="platform_fee_not_negative"),
        CheckConstraint("reversed_amount >= 0 AND reversed_amount <= amount", name="reversed_within_amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    #: the pledge whose charge this transfer pays out (None: a whole-campaign transfer made before per-charge ones)
    pledge_id: Mapped[int | None] = mapped_column(ForeignKey("pledges.id"))
    #: the charge at the processor (`source_transaction`)
    source_charge_id: Mapped[str | None] = mapped_column(String(255))
    #: minor units of `currency`, the settlement currency: what leaves the platform's balance
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    #: the same money in the campaign's currency, as booked in the ledger
    campaign_amount: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    campaign_currency: Mapped[str | None] = mapped_column(String(3))
    #: the platform's share, campaign currency
    platform_fee: Mapped[int] = mapped_column(BigInteger, default=0)
    #: what reversals took back so far, in `currency` and in the campaign's currency
    reversed_amount: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    reversed_campaign_amount: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    status: Mapped[TransferStatus] = mapped_column(str_enum(TransferStatus), default=TransferStatus.PENDING)
    processor_transfer_id: Mapped[str | None] = mapped_column(String(255), index=True)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    @property
    def money(self) -> Money:
        return Money(self.amount, self.currency)

    @property
    def campaign_money(self) -> Money:
        return Money(self.campaign_amount, self.campaign_currency or self.currency)


class Installation(db.Model):
    """This installation's identity towards the processor: one row, created by the migration (or on first use).

    Its random prefix starts every idempotency key we send, so two installations sharing one
    processor account never send each other's keys.
    """

    __tablename__ = "installation"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    #: random, URL-safe; never changes once created
    key_prefix: Mapped[str] = mapped_column(String(40), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProcessorCustomer(db.Model):
    """A member's customer at the processor, created once and reused for all their pledges and saved methods."""

    __tablename__ = "processor_customers"
    __table_args__ = (UniqueConstraint("user_id", "provider"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(20))
    customer_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


#: dispute statuses by how far the case has gone: an older event never moves a dispute back
DISPUTE_STAGE = {"warning_needs_response": 1, "warning_under_review": 1, "needs_response": 2, "under_review": 2,
                 "warning_closed": 3, "won": 4, "lost": 4, "prevented": 4}


class Dispute(db.Model):
    """A backer's bank questioning a charge: an inquiry (no money moves) or a chargeback, and how it ended."""

    __tablename__ = "disputes"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),
                      CheckConstraint("(pledge_id IS NULL) <> (recurring_charge_id IS NULL)", name="one_payment"))

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the pledge disputed, or else the period of a recurring gift
    pledge_id: Mapped[int | None] = mapped_column(ForeignKey("pledges.id"), index=True)
    recurring_charge_id: Mapped[int | None] = mapped_column(ForeignKey("recurring_charges.id"), index=True)
    processor_dispute_id: Mapped[str] = mapped_column(String(255), unique=True)
    #: the processor's status, the furthest one seen (needs_response, under_review, won, lost, warning_*)
    status: Mapped[str] = mapped_column(String(40))
    #: the bank's reason as the processor names it (fraudulent, product_not_received, ...)
    reason: Mapped[str | None] = mapped_column(String(60))
    #: what is disputed, in the charge's currency, minor units
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: when the processor took the money back, and gave it back (a won chargeback)
    withdrawn_at: Mapped[datetime | None]
    reinstated_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    pledge: Mapped[Pledge | None] = relationship()

    @property
    def money(self) -> Money:
        return Money(self.amount, self.currency)

    @property
    def inquiry(self) -> bool:
        return self.status.startswith("warning_")

    @property
    def outcome(self) -> str:
        """open, won or lost for a chargeback; inquiry while an inquiry is open; closed when one ended without one."""
        if self.status in ("won", "lost"):
            return self.status
        if self.status in ("warning_closed", "prevented"):
            return "closed"
        return "inquiry" if self.inquiry else "open"
