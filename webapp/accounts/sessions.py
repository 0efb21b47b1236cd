"""Server-side records of signed-in sessions: opened at sign-in, checked on every request, ended on sign-out.

Flask's session is a signed cookie: without a record on the server, a copy taken before "sign out"
would keep working. Each sign-in opens a UserSession whose random key the cookie (and the remember-me
cookie) carries through `User.get_id()`; the user loader accepts a cookie only while its record is
open. These functions flush; the views commit.
"""
from __future__ import annotations

import hmac
import re
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from webapp.accounts.models import User, UserSession, hash_session_key
from webapp.clock import utcnow
from webapp.extensions import db

#: last_seen_at is written when it is older than this, not on every request
TOUCH_EVERY = timedelta(minutes=5)

hash_key = hash_session_key


def open_session(user: User, user_agent: str | None = None) -> UserSession:
    """A new session for `user` (its key is then what `user.get_id()` carries)."""
    key = UserSession.open(user, device=device_summary(user_agent))
    return db.session.scalar(select(UserSession).where(UserSession.key_hash == hash_key(key)))


def _idle_limit() -> timedelta:
    return timedelta(seconds=int(current_app.config["REMEMBER_COOKIE_DURATION"]))


def load(session_id: str) -> tuple[User, UserSession] | None:
    """The user and open session record named by what Flask-Login stored ("user:password:key")."""
    user_id, fingerprint, key = _parts(session_id)
    if not key:
        return None  # no record: a cookie from before server-side sessions, or a forged one
    record = db.session.scalar(
        select(UserSession).options(joinedload(UserSession.user))
        .where(UserSession.key_hash == hash_key(key), UserSession.revoked_at.is_(None))
    )
    if record is None or str(record.user_id) != user_id or record.last_seen_at < utcnow() - _idle_limit():
        return None
    user = record.user
    if not hmac.compare_digest(fingerprint, user.password_fingerprint):
        return None
    user._session_key = key
    return user, record


def _parts(session_id: str | None) -> tuple[str, str, str]:
    user_id, _sep, rest = (session_id or "").partition(":")
    fingerprint, _sep, key = rest.partition(":")
    return user_id, fingerprint, key


def needs_touch(record: UserSession) -> bool:
    return record.last_seen_at < utcnow() - TOUCH_EVERY


def touch(record_id: int) -> None:
    db.session.execute(update(UserSession).where(UserSession.id == record_id).values(last_seen_at=utcnow()))


def end(user: User) -> None:
    """End the session `user` was signed in with (signing out)."""
    key = user._session_key
    if key:
        db.session.execute(update(UserSession).where(UserSession.key_hash == hash_key(key),
                                                     UserSession.revoked_at.is_(None)).values(revoked_at=utcnow()))
    user._session_key = None


def end_one(user: User, session_id: int) -> UserSession | None:
    """End one of `user`'s sessions; None when it is not theirs (or does not exist)."""
    record = db.session.get(UserSession, session_id)
    if record is None or record.user_id != user.id:
        return None
    if record.revoked_at is None:
        record.revoked_at = utcnow()
    if user._session_key and record.key_hash == hash_key(user._session_key):
        user._session_key = None
    return record


def end_all(user: User, *, keep_current: bool = False) -> int:
    """End every session of `user` (sign out everywhere, a password reset), or every one but the current."""
    query = update(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    if keep_current and user._session_key:
        query = query.where(UserSession.key_hash != hash_key(user._session_key))
    else:
        user._session_key = None
    return db.session.execute(query.values(revoked_at=utcnow())).rowcount


def active_sessions(user: User) -> list[UserSession]:
    """The member's open sessions, the most recently seen first (a member has a handful)."""
    return list(db.session.scalars(
        select(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None),
                                  UserSession.last_seen_at >= utcnow() - _idle_limit())
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    ))


def is_current(user: User, record: UserSession) -> bool:
    return bool(user._session_key) and record.key_hash == hash_key(user._session_key)


_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("SamsungBrowser/", "Samsung Internet"), ("Firefox/", "Firefox"),
             ("FxiOS/", "Firefox"), ("CriOS/", "Chrome"), ("Chrome/", "Chrome"), ("Chromium/", "Chromium"),
             ("Safari/", "Safari"))
_SYSTEMS = (("Android", "Android"), ("iPhone", "iOS"), ("iPad", "iPadOS"), ("CrOS", "ChromeOS"),
            ("Windows", "Windows"), ("Mac OS X", "macOS"), ("Macintosh", "macOS"), ("Linux", "Linux"))


def device_summary(user_agent: str | None) -> str | None:
    """"Firefox on Linux": enough for a member to recognise a device, without storing the whole header."""
    ua = user_agent or ""
    browser = next((name for token, name in _BROWSERS if token in ua), None)
    system = next((name for token, name in _SYSTEMS if token in ua), None)
    if browser and system:
        return f"{browser} · {system}"
    return browser or system or (re.sub(r"[^\w./ -]", "", ua)[:60] or None)
