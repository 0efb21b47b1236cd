"""The mutual-aid settings, with their defaults; each can be set in the app config or the environment."""
from __future__ import annotations

import os

from flask import Flask, current_app

DEFAULTS: dict[str, object] = {
    #: calls per delivery task
    "MUTUAL_AID_BATCH_SIZE": 200,
    #: at most this many emails or SMS of a batch are claimed, sent (one SMTP connection) and marked sent
    #: together: a worker killed while sending them sends those again once their lease passes
    "MUTUAL_AID_SEND_CHUNK": 100,
    #: messages per second each channel may send, across every worker (a token bucket in Redis)
    "MUTUAL_AID_EMAIL_PER_SECOND": 50.0,
    "MUTUAL_AID_SMS_PER_SECOND": 10.0,
    #: a delivery claimed longer ago than this by a worker that never finished is taken back
    "MUTUAL_AID_CLAIM_LEASE_SECONDS": 300,
    #: attempts per channel before a delivery is failed for good; the wait doubles each time
    "MUTUAL_AID_MAX_ATTEMPTS": 5,
    "MUTUAL_AID_RETRY_BASE_SECONDS": 30,
    #: where the token buckets live in Redis (several deployments may share one Redis)
    "MUTUAL_AID_RATE_KEY_PREFIX": "harambee:aid:rate:",
    #: "log" or "package.module:ClassName" of an SmsChannel
    "MUTUAL_AID_SMS_CHANNEL": "log",
    #: a proposed match nobody answers for this long expires and the request reopens
    "MUTUAL_AID_MATCH_EXPIRY_HOURS": 48,
    #: a request unchanged for this long is asked "do you still need help?"
    "MUTUAL_AID_NUDGE_AFTER_HOURS": 72,
    #: contact details of a closed event's posts are erased after this many days
    "MUTUAL_AID_PURGE_AFTER_DAYS": 90,
    #: offers plus requests one member may post per hour
    "MUTUAL_AID_POSTS_PER_HOUR": 10,
    "MUTUAL_AID_REPORTS_PER_HOUR": 20,
    #: probing limits (Flask-Limiter syntax), per account and per address, so that nobody pins a person down by
    #: posting at many chosen points or reloading suggestions: posts created (offers and requests) ...
    "MUTUAL_AID_POSTS_PER_ACCOUNT": "20 per day",
    "MUTUAL_AID_POSTS_PER_ADDRESS": "60 per day",
    #: ... and pages of suggestions seen (a request's offers, an offer's nearby requests)
    "MUTUAL_AID_SUGGESTIONS_PER_ACCOUNT": "60 per hour",
    "MUTUAL_AID_SUGGESTIONS_PER_ADDRESS": "200 per hour",
    #: how long the emergency fund campaign runs (campaigns run 60 days at most)
    "MUTUAL_AID_FUND_DAYS": 60,
    #: where links in calls point when a worker has no request to take the host from
    "MUTUAL_AID_PUBLIC_URL": "http://127.0.0.1:5000",
}


def init_settings(app: Flask) -> None:
    for key, default in DEFAULTS.items():
        if key in app.config:
            continue
        raw = os.environ.get(key)
        if raw is None:
            app.config[key] = default
        elif isinstance(default, bool):
            app.config[key] = raw.lower() in ("1", "true", "yes")
        elif isinstance(default, (int, float)):
            app.config[key] = type(default)(raw)
        else:
            app.config[key] = raw


def setting(key: str):
    return current_app.config.get(key, DEFAULTS[key])
