"""Who may open a pledge's pages: its backer signed in, or whoever holds the secret of a link we sent.

A pledge's reference is printed on receipts and given to the processor; it names a pledge but opens
nothing (issue 9: a funder's statement listed references, which opened backers' receipts and let a
GET cancel a pending checkout). Each link we send (the checkout's return, every email) carries a
random token of its own, stored only as its SHA-256. Links sent before tokens existed carry none:
their page asks the backer to sign in, or to have a new link emailed to the pledge's address.
These functions flush, never commit.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import url_for
from sqlalchemy import select

from webapp.clock import utcnow
from webapp.extensions import db
from webapp.payments.models import Pledge, PledgeAccessToken

#: 32 random bytes, URL-safe: 43 characters
TOKEN_BYTES = 32
#: a new link by email, at most once in this interval per pledge (the address is the backer's inbox)
RESEND_INTERVAL = timedelta(minutes=10)
#: no reference is longer (token_urlsafe(12) is 16 characters); longer text is no pledge's
MAX_REFERENCE_LENGTH = 32


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def mint(pledge_id: int, purpose: str) -> str:
    """A new secret for one link about this pledge; only its hash is stored."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    # No flush of its own: it goes with the unit of work's next flush (autoflush before any query that
    # could look for it), one multi-row INSERT with the other tokens minted meanwhile.
    db.session.add(PledgeAccessToken(pledge_id=pledge_id, token_hash=_digest(token), purpose=purpose[:20]))
    return token


def link(pledge: Pledge, purpose: str, endpoint: str = "payments.receipt", token: str | None = None, **query) -> str:
    """The absolute URL of a pledge's page carrying a secret (a new one unless given)."""
    return url_for(endpoint, reference=pledge.reference, token=token or mint(pledge.id, purpose), _external=True,
                   **query)


def by_reference(reference: str) -> Pledge | None:
    if not isinstance(reference, str) or not 0 < len(reference) <= MAX_REFERENCE_LENGTH:
        return None
    return db.session.scalar(select(Pledge).where(Pledge.reference == reference))


def token_opens(pledge: Pledge, token: object) -> bool:
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        return False
    return db.session.scalar(select(PledgeAccessToken.id).where(
        PledgeAccessToken.pledge_id == pledge.id, PledgeAccessToken.token_hash == _digest(token))) is not None


def is_backer(user, pledge: Pledge) -> bool:
    """The account that made the pledge; for a guest's pledge, an account with its address verified."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if pledge.user_id is not None:
        return pledge.user_id == user.id
    return user.email_verified_at is not None and user.email.strip().lower() == pledge.email.strip().lower()


def may_send_new_link(pledge: Pledge) -> bool:
    """False while a link asked for by the page was sent less than RESEND_INTERVAL ago."""
    since = utcnow() - RESEND_INTERVAL
    return db.session.scalar(select(PledgeAccessToken.id).where(
        PledgeAccessToken.pledge_id == pledge.id, PledgeAccessToken.purpose == "resend",
        PledgeAccessToken.created_at > since).limit(1)) is None


def send_new_link(pledge: Pledge) -> bool:
    """Email a fresh receipt link to the address the pledge was made with; False if one went out just now."""
    from webapp.mail import queue_email

    if not may_send_new_link(pledge):
        return False
    queue_email("pledge_link", pledge.email, pledge.locale, pledge=pledge, campaign=pledge.campaign,
                link=link(pledge, "resend"))
    return True
