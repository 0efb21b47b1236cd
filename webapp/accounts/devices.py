"""Device cookies: a browser that signed in to an account is known to it, and gets past the lockouts
guessers cause (OWASP, "Slow Down Online Guessing Attacks with Device Cookies").

After a successful sign-in (or a password reset by the emailed link) the browser receives, for that
account, a long-lived cookie "USER|NONCE" signed with HMAC-SHA256. At sign-in:
- a valid device cookie for the submitted account: only that device's own failures count (a limit
  per nonce), so a guesser elsewhere cannot lock the owner out, and the per-address limit does not
  apply (a school or a cyber café full of guessers does not lock out a member's own browser);
- no (valid) device cookie: the account's lockout for unknown browsers and the per-address limit apply.
Each account has its own cookie, named after a keyed hash of its address (so the name tells nothing
and a shared browser keeps every account's cookie); a new nonce is issued at every sign-in.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import Response, current_app, g, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from webapp.accounts.models import User

COOKIE_PREFIX = "device_"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="harambee.device",
                                  signer_kwargs={"digest_method": hashlib.sha256})


def cookie_name(email: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, b"device-cookie-name:" + email.encode(), hashlib.sha256).hexdigest()
    return COOKIE_PREFIX + digest[:20]


def issue(response: Response, user: User) -> None:
    """Give this browser a new device cookie for `user` (a fresh nonce at every sign-in)."""
    value = _serializer().dumps({"u": user.id, "n": secrets.token_urlsafe(16)})
    cfg = current_app.config
    response.set_cookie(cookie_name(user.email), value, max_age=cfg["DEVICE_COOKIE_MAX_AGE"], httponly=True,
                        secure=bool(cfg.get("SESSION_COOKIE_SECURE")), samesite="Lax", path="/account/")


def trusted_nonce(email: str, user: User | None) -> str | None:
    """The nonce of this request's valid device cookie for the account `email` names, else None."""
    if user is None:
        return None
    raw = request.cookies.get(cookie_name(email))
    if not raw:
        return None
    try:
        data = _serializer().loads(raw, max_age=current_app.config["DEVICE_COOKIE_MAX_AGE"])
    except BadSignature:  # expired or tampered: an unknown browser
        return None
    if not isinstance(data, dict) or data.get("u") != user.id or not isinstance(data.get("n"), str):
        return None  # signed, but for another account
    return data["n"]


def for_login_request(email: str, find_user) -> str | None:
    """The trusted nonce for this sign-in request, looked up once per request (the limits ask several times)."""
    cache = g.setdefault("_device_nonce", {})
    if email not in cache:
        cache[email] = trusted_nonce(email, find_user(email) if email else None)
    return cache[email]
