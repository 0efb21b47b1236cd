"""The record that an account was erased: when, why, and when its placeholder was finally let go."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from webapp.clock import utcnow
from webapp.extensions import db, str_enum


class ErasureReason(enum.StrEnum):
    MEMBER = "member"  #: the member deleted their account
    UNVERIFIED = "unverified"  #: the address was never confirmed within the retention period


class AccountErasure(db.Model):
    """One erased account. Holds no personal data: only the placeholder user's id and dates."""

    __tablename__ = "account_erasures"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the placeholder; None once the placeholder row itself was deleted
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), unique=True)
    reason: Mapped[ErasureReason] = mapped_column(str_enum(ErasureReason, 20))
    erased_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    #: when the placeholder's remaining data was purged (its pledges detached, the row deleted if free)
    finalized_at: Mapped[datetime | None]
