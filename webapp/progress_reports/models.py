"""Progress reports on a campaign, their photos, the email sent for each to each backer, and backers' opt-outs.

A report is its own model rather than a kind of CampaignUpdate: it is emailed to backers (with a
delivery row per recipient and an opt-out per campaign), carries photos, and lists the expenses
paid since the previous report, through an association table:

    progress_report_expenses(report_id -> progress_reports.id ON DELETE CASCADE,
                             expense_id -> expenses.id, PRIMARY KEY (report_id, expense_id))

Progress reports sit above payments: they import expenses, never the other way.
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.accounts.models import User
from webapp.campaigns.models import Campaign
from webapp.clock import utcnow
from webapp.extensions import db, str_enum
from webapp.payments.expenses.models import Expense

#: the expenses a report tells about (paid since the previous report); deleting a report drops its links only
progress_report_expenses = Table(
    "progress_report_expenses", db.metadata,
    Column("report_id", ForeignKey("progress_reports.id", ondelete="CASCADE"), primary_key=True),
    Column("expense_id", ForeignKey("expenses.id"), primary_key=True),
    #: "which expenses has any report listed" looks up by expense
    Index("ix_progress_report_expenses_expense_id", "expense_id"),
)


class ProgressReport(db.Model):
    """What an organization did with the money, told to its backers and to everyone."""

    __tablename__ = "progress_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(120))
    #: Markdown as the organization wrote it
    body_md: Mapped[str] = mapped_column(Text)
    #: sanitized HTML rendered from body_md (webapp.markup, as campaign updates); the only form ever shown
    body_html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: when its deliveries were written (one per backer); None until the fan-out job has run
    fanned_out_at: Mapped[datetime | None]

    campaign: Mapped[Campaign] = relationship()
    author: Mapped[User | None] = relationship()
    photos: Mapped[list[ProgressReportPhoto]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="ProgressReportPhoto.position")
    expenses: Mapped[list[Expense]] = relationship(secondary=progress_report_expenses,
                                                   order_by=(Expense.spent_on, Expense.id))


class ProgressReportPhoto(db.Model):
    __tablename__ = "progress_report_photos"
    __table_args__ = (UniqueConstraint("report_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("progress_reports.id", ondelete="CASCADE"), index=True)
    #: storage key of the re-encoded JPEG (webapp.storage)
    key: Mapped[str] = mapped_column(String(255))
    #: 0-based order in which the photos were given
    position: Mapped[int]

    report: Mapped[ProgressReport] = relationship(back_populates="photos")


class DeliveryState(enum.StrEnum):
    QUEUED = "queued"
    #: claimed by a worker (claimed_at); taken back after the lease if that worker died
    SENDING = "sending"
    SENT = "sent"
    #: the backer unsubscribed from this campaign's reports after the report was fanned out
    SKIPPED = "skipped"
    FAILED = "failed"


class ReportDelivery(db.Model):
    """One report's email to one person: the unique (report, address) makes it at most one."""

    __tablename__ = "progress_report_deliveries"
    __table_args__ = (
        UniqueConstraint("report_id", "email"),
        Index("ix_progress_report_deliveries_state_claimed_at", "state", "claimed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("progress_reports.id", ondelete="CASCADE"))
    #: lower-cased address: the person, whether they pledged signed in or as a guest, once or several times
    email: Mapped[str] = mapped_column(String(254))
    #: the language the email is written in (the member's, else the one they pledged in)
    locale: Mapped[str] = mapped_column(String(10))
    state: Mapped[DeliveryState] = mapped_column(str_enum(DeliveryState), default=DeliveryState.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    failure_reason: Mapped[str | None] = mapped_column(String(500))


class ReportUnsubscribe(db.Model):
    """A backer who asked for no more progress reports of one campaign (by the link in a report's email)."""

    __tablename__ = "progress_report_unsubscribes"
    __table_args__ = (UniqueConstraint("campaign_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    #: lower-cased address
    email: Mapped[str] = mapped_column(String(254))
    at: Mapped[datetime] = mapped_column(default=utcnow)
