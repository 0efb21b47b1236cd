"""Celery entry point for the delivery tests: `celery -A tests.mutual_aid.worker_app worker`.

The test settings, with the database, broker and SMTP server the test gives in the environment
(TEST_DATABASE_URL, CELERY_BROKER_URL, AID_SMTP_PORT), and SMS written to the file AID_SMS_FILE
so that the test can count them across processes. MUTUAL_AID_* settings come from the
environment too (webapp.mutual_aid.settings).
"""
from __future__ import annotations

import fcntl
import os

from config import TestConfig
from webapp import create_app


class FileSms:
    """An SmsChannel that appends "reference<TAB>number" to a file, one line per message."""

    def send(self, number: str, text: str, *, reference: str) -> None:
        with open(os.environ["AID_SMS_FILE"], "a", encoding="utf-8") as out:
            fcntl.flock(out, fcntl.LOCK_EX)
            out.write(f"{reference}\t{number}\n")


SETTINGS = {
    "SQLALCHEMY_DATABASE_URI": os.environ["TEST_DATABASE_URL"],
    "CELERY_BROKER_URL": os.environ["CELERY_BROKER_URL"],
    "CELERY_VISIBILITY_TIMEOUT": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "600")),
    "MAIL_BACKEND": "smtp",
    "MAIL_SERVER": "127.0.0.1",
    "MAIL_PORT": int(os.environ.get("AID_SMTP_PORT", "25")),
    "MUTUAL_AID_SMS_CHANNEL": "tests.mutual_aid.worker_app:FileSms",
}

flask_app = create_app(type("DeliveryWorkerConfig", (TestConfig,), SETTINGS))
app = celery = flask_app.extensions["celery"]  # `celery -A` takes the attribute `app` first
if os.environ.get("AID_REDIS_PREFIX"):  # the test's own keys on the shared Redis database
    celery.conf.broker_transport_options = {**celery.conf.broker_transport_options,
                                            "global_keyprefix": os.environ["AID_REDIS_PREFIX"]}
