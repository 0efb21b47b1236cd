"""Small helpers shared by the account and organization tests: links in emails, flashed text, the database."""
from __future__ import annotations

import re
from email.message import EmailMessage
from html import unescape

from sqlalchemy import func, select

from webapp.extensions import db

_LINK = re.compile(r"https?://\S+")


def body_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def link_in(message: EmailMessage, path_part: str) -> str:
    """The one absolute link in the email's plain-text body whose path contains `path_part`."""
    links = [link for link in _LINK.findall(body_of(message)) if path_part in link]
    assert len(links) == 1, f"expected one link with {path_part!r} in:\n{body_of(message)}"
    return links[0]


def text_of(response) -> str:
    """The response body as text with HTML entities decoded (apostrophes arrive as &#39;)."""
    return unescape(response.get_data(as_text=True))


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def fresh(obj):
    """Forget what the session holds and read `obj` back from the database (after a rollback of
    anything a failed request left unflushed or uncommitted)."""
    db.session.rollback()
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)


def sign_in(client, user) -> None:
    """Start a Flask-Login session for `user` without the (deliberately slow) scrypt check of the
    login form; for tests whose subject is not signing in.

    The session's server-side record is committed (with whatever the test flushed before), so that a
    request that rolls back (a refused form) does not take the session with it."""
    from webapp.accounts import sessions

    sessions.open_session(user, "test client")
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True


def backdate_tokens(monkeypatch, purpose: str, seconds: int) -> None:
    """Sign the tokens of one purpose (the itsdangerous salt, e.g. "harambee.reset") as if made
    `seconds` ago; other signatures, the session cookie's included, keep the real time."""
    from itsdangerous import TimestampSigner

    real = TimestampSigner.get_timestamp

    def get_timestamp(self):
        now = real(self)
        return now - seconds if self.salt == purpose.encode() else now

    monkeypatch.setattr(TimestampSigner, "get_timestamp", get_timestamp)
