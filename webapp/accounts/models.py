"""Member accounts, roles and the regions a member lives in and comes from."""
from __future__ import annotations

import enum
import hashlib
import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.clock import utcnow
from webapp.extensions import db, str_enum


class Role(enum.StrEnum):
    MEMBER = "member"
    MODERATOR = "moderator"
    COORDINATOR = "coordinator"
    FUNDER = "funder"  #: an institution's account: creates and runs match funds
    ADMIN = "admin"


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("latitude IS NULL OR (latitude BETWEEN -90 AND 90)", name="latitude_range"),
        CheckConstraint("longitude IS NULL OR (longitude BETWEEN -180 AND 180)", name="longitude_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: stored lower-cased so that uniqueness ignores case
    email: Mapped[str] = mapped_column(String(254), unique=True)
    #: werkzeug scrypt hash; never the password
    password_hash: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(120))
    #: preferred language, one of the configured LANGUAGES; None means "follow the browser"
    locale: Mapped[str | None] = mapped_column(String(10))
    #: preferred display currency (ISO 4217); None means "follow the locale"
    display_currency: Mapped[str | None] = mapped_column(String(3))
    role: Mapped[Role] = mapped_column(
        str_enum(Role, 20),
        default=Role.MEMBER,
    )
    #: ISO 3166-1 alpha-2 code of the country of residence
    residence_country: Mapped[str | None] = mapped_column(String(2))
    #: ISO 3166-2 code of the region of residence
    residence_region: Mapped[str | None] = mapped_column(String(10), index=True)
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    email_verified_at: Mapped[datetime | None]
    #: a suspended account can no longer sign in
    suspended_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    origin_regions: Mapped[list[OriginRegion]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="OriginRegion.region_code"
    )

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    #: the key of the server-side session (UserSession) this object was signed in with; not a column
    _session_key = None  # type: str | None

    def get_id(self) -> str:
        """What Flask-Login keeps in the session and the remember-me cookie: the user, the password
        (a new password ends every other session) and the key of a server-side session record, so that
        signing out there ends every copy of the cookie. Opens a record when this object has none (a
        `login_user` that did not go through webapp.accounts.sessions.sign_in)."""
        key = self._session_key or UserSession.open(self)
        return f"{self.id}:{self.password_fingerprint}:{key}"

    @property
    def password_fingerprint(self) -> str:
        return hashlib.sha256(self.password_hash.encode()).hexdigest()[:16]

    @property
    def is_active(self) -> bool:  # Flask-Login refuses sessions of inactive users
        return self.suspended_at is None

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    def has_role(self, *roles: Role) -> bool:
        return self.role == Role.ADMIN or self.role in roles

    @property
    def is_moderator(self) -> bool:
        return self.has_role(Role.MODERATOR)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class OriginRegion(db.Model):
    """A region a member comes from: how Harambee reaches the diaspora."""

    __tablename__ = "origin_regions"
    __table_args__ = (UniqueConstraint("user_id", "region_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: ISO 3166-2 code
    region_code: Mapped[str] = mapped_column(String(10), index=True)

    user: Mapped[User] = relationship(back_populates="origin_regions")


def hash_session_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class UserSession(db.Model):
    """One signed-in browser: the cookie holds a random key, the database only its hash."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: SHA-256 of the key the browser holds; the key itself is never stored
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: written at most every few minutes (webapp.accounts.sessions.TOUCH_EVERY)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: "Firefox on Linux", read from the User-Agent at sign-in
    device: Mapped[str | None] = mapped_column(String(120))
    #: set when the member signed out, ended it from the profile, or changed the password
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()

    @classmethod
    def open(cls, user: User, device: str | None = None) -> str:
        """Record a new session of `user` and return its key (which `user.get_id()` then carries)."""
        if user.id is None:
            db.session.flush()
        key = secrets.token_urlsafe(32)
        now = utcnow()
        db.session.add(cls(user_id=user.id, key_hash=hash_session_key(key), device=device,
                           created_at=now, last_seen_at=now))
        db.session.flush()
        user._session_key = key
        return key
