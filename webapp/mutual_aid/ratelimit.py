"""Rates: per-channel send rates shared by every worker (a token bucket in Redis, or in memory without a
broker), and the limits on probing (posting at chosen points, reloading suggestions) per account and address."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from flask import current_app, render_template
from flask_babel import gettext as _
from flask_limiter import RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_login import current_user

from webapp.extensions import limiter
from webapp.mutual_aid.settings import setting

#: Takes a token if one is there; else returns how many seconds until the next one.
_LUA = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', now)
redis.call('EXPIRE', KEYS[1], 3600)
return tostring(wait)
"""


class MemoryBucket:
    """One process's bucket (the in-process demo, tests without Redis)."""

    def __init__(self, rate: float, burst: float):
        self.rate, self.burst = rate, burst
        self.tokens, self.at = burst, time.monotonic()
        self.lock = threading.Lock()

    def try_take(self) -> float:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
            self.at = now
            if self.tokens >= 1:
                self.tokens -= 1
                return 0.0
            return (1 - self.tokens) / self.rate


class RedisBucket:
    def __init__(self, client, key: str, rate: float, burst: float):
        self.client, self.key, self.rate, self.burst = client, key, rate, burst
        self.script = client.register_script(_LUA)

    def try_take(self) -> float:
        # Redis's clock, not ours: workers on several machines agree on it.
        seconds, micros = self.client.time()
        return float(self.script(keys=[self.key], args=[self.rate, self.burst, seconds + micros / 1e6]))


def acquire(channel: str, sleep: Callable[[float], None] = time.sleep) -> float:
    """Block until the channel may send one message; returns the seconds waited."""
    bucket = _bucket(channel)
    if bucket is None:
        return 0.0
    waited = 0.0
    while True:
        wait = bucket.try_take()
        if wait <= 0:
            return waited
        sleep(wait)
        waited += wait


def acquire_up_to(channel: str, most: int, sleep: Callable[[float], None] = time.sleep) -> int:
    """Block until the channel may send one message, then take what else is free now, up to `most` in all."""
    acquire(channel, sleep)
    bucket = _bucket(channel)
    if bucket is None:
        return most
    taken = 1
    while taken < most and bucket.try_take() <= 0:
        taken += 1
    return taken


def _bucket(channel: str):
    rate = float(current_app.config.get(f"MUTUAL_AID_{channel.upper()}_PER_SECOND") or 0)
    if rate <= 0:
        return None  # no limit
    buckets = current_app.extensions.setdefault("mutual_aid.buckets", {})
    key = (channel, rate)
    if key not in buckets:
        burst = max(1.0, rate)  # at most a second's worth at once
        broker = current_app.config.get("CELERY_BROKER_URL") or ""
        if broker.startswith(("redis://", "rediss://")):
            import redis

            prefix = current_app.config.get("MUTUAL_AID_RATE_KEY_PREFIX", "harambee:aid:rate:")
            buckets[key] = RedisBucket(redis.Redis.from_url(broker), f"{prefix}{channel}", rate, burst)
        else:
            buckets[key] = MemoryBucket(rate, burst)
    return buckets[key]


# -- probing limits (Flask-Limiter) -------------------------------------------------------------
# Distances are shown between grid cells only (places.py), so a probe learns nothing finer than a cell;
# these limits keep anyone from running many probes anyway. Every account and every address has its
# own budget, so a fresh account behind the same address shares the address's.
@dataclass(frozen=True)
class ProbeLimit:
    scope: str
    per_account: str  #: the setting holding the limit per account
    per_address: str  #: and per address
    methods: tuple[str, ...]
    counts: Callable  #: which responses use up the budget (the others are only checked)
    message: Callable[[], str]  #: what the 429 page says, in the member's language


POSTS = ProbeLimit(
    "aid-posts", "MUTUAL_AID_POSTS_PER_ACCOUNT", "MUTUAL_AID_POSTS_PER_ADDRESS", ("POST",),
    counts=lambda response: response.status_code < 400,
    message=lambda: _("You have posted the most offers and requests we allow for now from this account or this "
                      "connection. Please try again tomorrow; if this is an emergency, call the coordinator."))
SUGGESTIONS = ProbeLimit(
    "aid-suggestions", "MUTUAL_AID_SUGGESTIONS_PER_ACCOUNT", "MUTUAL_AID_SUGGESTIONS_PER_ADDRESS", ("GET",),
    counts=lambda response: response.status_code == 200,
    message=lambda: _("You have opened offers and requests the most times we allow in an hour from this account or "
                      "this connection. Please wait a little and try again."))


def _account_key() -> str:
    if current_user.is_authenticated:
        return f"aid-account:{current_user.id}"
    return f"aid-anonymous:{get_remote_address()}"


def _address_key() -> str:
    return f"aid-address:{get_remote_address()}"


def probe_limited(rule: ProbeLimit):
    """Decorate a view (under login_required) with the rule's limits; past them, a 429 page that says why."""

    def decorate(view):
        guarded = limiter.shared_limit(lambda: setting(rule.per_address), scope=f"{rule.scope}:address",
                                       key_func=_address_key, methods=list(rule.methods),
                                       deduct_when=rule.counts)(view)
        guarded = limiter.shared_limit(lambda: setting(rule.per_account), scope=f"{rule.scope}:account",
                                       key_func=_account_key, methods=list(rule.methods),
                                       deduct_when=rule.counts)(guarded)

        @wraps(view)
        def answer(*args, **kwargs):
            try:
                return guarded(*args, **kwargs)
            except RateLimitExceeded:
                return render_template("errors.html", code=429, message=rule.message()), 429

        return answer

    return decorate
