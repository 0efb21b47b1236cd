"""Expenses drawn against a campaign's budget lines, their receipts, every move of their state, and their payments."""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.accounts.models import User
from webapp.campaigns.models import BudgetLine, Campaign
from webapp.clock import utcnow
from webapp.extensions import db, str_enum
from webapp.money import Money


class ExpenseState(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    CHANGES_REQUESTED = "changes_requested"
    REJECTED = "rejected"
    APPROVED = "approved"
    PAID = "paid"


class PayeeKind(enum.StrEnum):
    SUPPLIER = "supplier"
    STAFF = "staff"
    MEMBER = "member"
    OTHER = "other"


class PaymentMethod(enum.StrEnum):
    BANK_TRANSFER = "bank_transfer"
    MOBILE_MONEY = "mobile_money"
    CASH = "cash"
    OTHER = "other"


class Expense(db.Model):
    __tablename__ = "expenses"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),
                      Index("ix_expenses_campaign_state", "campaign_id", "state"))

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    budget_line_id: Mapped[int] = mapped_column(ForeignKey("budget_lines.id"), index=True)
    #: minor units of the campaign's currency
    amount: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str] = mapped_column(String(300))
    #: when the cost was incurred (the invoice's date)
    spent_on: Mapped[date] = mapped_column(Date)
    payee_kind: Mapped[PayeeKind] = mapped_column(str_enum(PayeeKind))
    #: private: who is paid and how (name, account, phone); never shown publicly
    payee_details: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[ExpenseState] = mapped_column(str_enum(ExpenseState), default=ExpenseState.DRAFT)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    #: who sent it for approval last (nobody approves what they submitted)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: True once a host's member approved it with its receipts in hand
    checked_by_host: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    campaign: Mapped[Campaign] = relationship()
    budget_line: Mapped[BudgetLine] = relationship()
    receipts: Mapped[list[ExpenseReceipt]] = relationship(back_populates="expense", order_by="ExpenseReceipt.id")

    @property
    def money(self) -> Money:
        return Money(self.amount, self.campaign.currency)


class ExpenseReceipt(db.Model):
    """A receipt or invoice: private, stored through webapp.storage under the private/ prefix."""

    __tablename__ = "expense_receipts"

    id: Mapped[int] = mapped_column(primary_key=True)
    expense_id: Mapped[int] = mapped_column(ForeignKey("expenses.id", ondelete="CASCADE"), index=True)
    storage_key: Mapped[str] = mapped_column(String(255))
    #: application/pdf, image/jpeg (images are re-encoded to JPEG)
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int]
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    expense: Mapped[Expense] = relationship(back_populates="receipts")


class ExpenseTransition(db.Model):
    """Every move of an expense: who, when, why. An approval that waits for a second one stays `submitted`."""

    __tablename__ = "expense_transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    expense_id: Mapped[int] = mapped_column(ForeignKey("expenses.id", ondelete="CASCADE"), index=True)
    #: submit, approve, request_changes, reject, pay
    action: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[ExpenseState] = mapped_column(str_enum(ExpenseState))
    to_state: Mapped[ExpenseState] = mapped_column(str_enum(ExpenseState))
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)

    actor: Mapped[User] = relationship()


class ExpensePayment(db.Model):
    """How an approved expense was paid: by the host, or by a Connect organization from its own account."""

    __tablename__ = "expense_payments"
    __table_args__ = (CheckConstraint("amount_paid > 0", name="amount_paid_positive"),
                      CheckConstraint("rate > 0", name="rate_positive"))

    id: Mapped[int] = mapped_column(primary_key=True)
    expense_id: Mapped[int] = mapped_column(ForeignKey("expenses.id"), unique=True)
    method: Mapped[PaymentMethod] = mapped_column(str_enum(PaymentMethod))
    #: the bank's or the operator's reference
    reference: Mapped[str] = mapped_column(String(120))
    paid_on: Mapped[date] = mapped_column(Date)
    #: minor units of currency_paid
    amount_paid: Mapped[int] = mapped_column(BigInteger)
    currency_paid: Mapped[str] = mapped_column(String(3))
    #: units of currency_paid for one unit of the campaign's currency
    rate: Mapped[Decimal] = mapped_column(Numeric(18, 8))
    #: the host's fee on this payment, in minor units of the campaign's currency
    fee_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    #: private proof (a bank statement line, an operator's receipt)
    proof_key: Mapped[str | None] = mapped_column(String(255))
    proof_content_type: Mapped[str | None] = mapped_column(String(40))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    expense: Mapped[Expense] = relationship()
