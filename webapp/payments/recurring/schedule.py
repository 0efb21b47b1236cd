"""When each period of a recurring support falls: dates in the supporter's time zone, one per month or year.

A period is named by its month ("2026-02") or year ("2026"). Its date is the anchor day in that
month, or the month's last day when the month is shorter (31 → 28 or 29 February → 31 March).
Walking period by period, never date by date, is what makes it impossible to skip or double a
month. Charges run at 10:00 local time: no time zone changes its clocks at that hour, so the
moment always exists and always falls on the period's local date.
"""
from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from webapp.payments.recurring.models import SupportInterval

CHARGE_TIME = time(10, 0)


def valid_timezone(name: str | None) -> bool:
    if not name or len(name) > 64:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return name in _zones()


_ZONES: set[str] = set()


def _zones() -> set[str]:
    if not _ZONES:
        _ZONES.update(available_timezones())
    return _ZONES


def period_of(day: date, interval: SupportInterval) -> str:
    return f"{day.year:04d}-{day.month:02d}" if interval == SupportInterval.MONTHLY else f"{day.year:04d}"


def following(period: str, interval: SupportInterval) -> str:
    """The next period's name."""
    if interval == SupportInterval.YEARLY:
        return f"{int(period) + 1:04d}"
    year, month = (int(part) for part in period.split("-"))
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return f"{year:04d}-{month:02d}"


def due_date(period: str, interval: SupportInterval, anchor_day: int, anchor_month: int) -> date:
    """The anchor day in the period's month (the month's last day when it is shorter)."""
    if interval == SupportInterval.YEARLY:
        year, month = int(period), anchor_month
    else:
        year, month = (int(part) for part in period.split("-"))
    return date(year, month, min(anchor_day, calendar.monthrange(year, month)[1]))


def charge_moment(day: date, timezone: str) -> datetime:
    """10:00 on that local date, as a naive UTC datetime (the application's convention)."""
    local = datetime.combine(day, CHARGE_TIME, tzinfo=ZoneInfo(timezone))
    return local.astimezone(UTC).replace(tzinfo=None)


def local_today(timezone: str, now: datetime) -> date:
    """The supporter's date at `now` (naive UTC)."""
    return now.replace(tzinfo=UTC).astimezone(ZoneInfo(timezone)).date()


def upcoming(period: str, interval: SupportInterval, anchor_day: int, anchor_month: int, timezone: str,
             count: int) -> list[tuple[str, date, datetime]]:
    """This period and the ones after it: (name, local date, UTC moment)."""
    out = []
    for _ in range(count):
        day = due_date(period, interval, anchor_day, anchor_month)
        out.append((period, day, charge_moment(day, timezone)))
        period = following(period, interval)
    return out
