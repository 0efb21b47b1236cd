"""The current time, in naive UTC as stored in the database; one place for tests to move it."""
from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
