"""Hosts (organizations that hold and pay out money for others) and each organization's payout route."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.accounts.models import User
from webapp.clock import utcnow
from webapp.extensions import db, str_enum
from webapp.organizations.models import Organization


class PayoutMethod(enum.StrEnum):
    BANK_TRANSFER = "bank_transfer"
    MOBILE_MONEY = "mobile_money"


class PayoutRouteKind(enum.StrEnum):
    CONNECT = "connect"  #: Stripe Connect transfers to the organization's own account
    HOST = "host"  #: a host receives the money and pays each approved expense


class RouteStatus(enum.StrEnum):
    REQUESTED = "requested"  #: waiting for the host's members
    ACCEPTED = "accepted"
    REFUSED = "refused"


class HostProfile(db.Model):
    """The host role of an organization, granted by an admin: where and how it pays, and its fee."""

    __tablename__ = "host_profiles"
    __table_args__ = (CheckConstraint("fee_basis_points >= 0 AND fee_basis_points <= 5000", name="fee_in_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), unique=True)
    #: ISO 3166-1 alpha-2 codes of the countries whose organizations it serves
    countries: Mapped[list] = mapped_column(JSON, default=list)
    #: ISO 4217 codes of the currencies it holds and pays in
    currencies: Mapped[list] = mapped_column(JSON, default=list)
    #: its fee on each payment it makes, in hundredths of a percent (150 = 1.5 %)
    fee_basis_points: Mapped[int] = mapped_column(default=0, server_default="0")
    #: PayoutMethod values it pays by
    methods: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    granted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)

    organization: Mapped[Organization] = relationship()
    granted_by: Mapped[User] = relationship()

    def serves(self, country: str, currency: str) -> bool:
        return self.active and country.upper() in self.countries and currency.upper() in self.currencies


class PayoutRoute(db.Model):
    """How an organization's money reaches it: Connect, or a host that accepted it."""

    __tablename__ = "payout_routes"
    __table_args__ = (CheckConstraint("kind != 'host' OR host_id IS NOT NULL", name="host_route_names_host"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), unique=True)
    kind: Mapped[PayoutRouteKind] = mapped_column(str_enum(PayoutRouteKind))
    #: the host's profile (host route only)
    host_id: Mapped[int | None] = mapped_column(ForeignKey("host_profiles.id"), index=True)
    status: Mapped[RouteStatus] = mapped_column(str_enum(RouteStatus), default=RouteStatus.REQUESTED)
    chosen_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    chosen_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]

    organization: Mapped[Organization] = relationship()
    host: Mapped[HostProfile | None] = relationship()

    @property
    def active(self) -> bool:
        return self.status == RouteStatus.ACCEPTED
