"""Organizations, their members (owners and editors) and pending invitations."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.accounts.models import User
from webapp.clock import utcnow
from webapp.extensions import db, str_enum


class LegalForm(enum.StrEnum):
    COOPERATIVE = "cooperative"
    ASSOCIATION = "association"
    MUTUAL = "mutual"
    FOUNDATION = "foundation"
    SOCIAL_ENTERPRISE = "social_enterprise"
    INFORMAL_GROUP = "informal_group"


class OrgRole(enum.StrEnum):
    OWNER = "owner"
    EDITOR = "editor"


class Organization(db.Model):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    legal_form: Mapped[LegalForm] = mapped_column(str_enum(LegalForm))
    #: ISO 3166-1 alpha-2
    country: Mapped[str] = mapped_column(String(2))
    #: ISO 3166-2, optional
    region: Mapped[str | None] = mapped_column(String(10))
    description: Mapped[str] = mapped_column(Text, default="")
    website: Mapped[str | None] = mapped_column(String(255))
    #: storage key of the re-encoded logo
    logo_key: Mapped[str | None] = mapped_column(String(255))
    #: the currency its own (recurring) income is booked in; a gift in another currency is converted
    currency: Mapped[str] = mapped_column(String(3), default="EUR", server_default="EUR")
    #: supporters may give in their own currency (converted at the day's rate), as campaigns allow for pledges
    accepts_supporter_currency: Mapped[bool] = mapped_column(default=True, server_default=sa_true())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="organization", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Organization {self.slug}>"


class Membership(db.Model):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("organization_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[OrgRole] = mapped_column(str_enum(OrgRole))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organization: Mapped[Organization] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship()


class Invitation(db.Model):
    """An owner's invitation, by email, to become an editor of the organization."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[OrgRole] = mapped_column(str_enum(OrgRole), default=OrgRole.EDITOR)
    invited_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    accepted_at: Mapped[datetime | None]
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    organization: Mapped[Organization] = relationship()
    invited_by: Mapped[User] = relationship(foreign_keys=[invited_by_id])
