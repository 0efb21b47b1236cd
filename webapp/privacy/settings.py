"""How long each kind of personal data is kept (the retention periods), and the purge's batch size.

The one place the periods live: README's "Your data" table repeats them. Each can be set in the app
config or the environment (a whole number of days).
"""
from __future__ import annotations

import os

from flask import Flask, current_app

DEFAULTS: dict[str, int] = {
    #: an account whose address was never confirmed is erased this long after sign-up
    "PRIVACY_UNVERIFIED_ACCOUNT_DAYS": 30,
    #: organization invitations never accepted (their emailed token expired long before) are deleted
    "PRIVACY_EXPIRED_INVITATION_DAYS": 30,
    #: contact details, address and exact point of a fulfilled or cancelled help request are erased
    "PRIVACY_CLOSED_REQUEST_CONTACT_DAYS": 30,
    #: in-app solidarity-call messages and the delivery errors of calls are deleted after this long
    "PRIVACY_DELIVERED_CALL_DAYS": 180,
    #: in-app notices about requests and matches, once read
    "PRIVACY_READ_NOTICE_DAYS": 180,
    #: login records (server-side sessions, when they are stored) are deleted after this long
    "PRIVACY_LOGIN_RECORD_DAYS": 90,
    #: a deleted account's placeholder: after this, the placeholder row goes where nothing refers to it,
    #: and its pledges are detached from it (they stay as money records without a member)
    "PRIVACY_DELETED_ACCOUNT_DAYS": 30,
    #: rows each kind of purge handles per run; the next run takes the rest
    "PRIVACY_PURGE_BATCH": 500,
    #: downloads of one's data per member per hour
    "PRIVACY_EXPORTS_PER_HOUR": 5,
}


def init_settings(app: Flask) -> None:
    for key, default in DEFAULTS.items():
        if key not in app.config:
            app.config[key] = int(os.environ.get(key, default))


def setting(key: str) -> int:
    return int(current_app.config.get(key, DEFAULTS[key]))
