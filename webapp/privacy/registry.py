"""The registry the domains' exporters join, and how their values become plain JSON/CSV values."""
from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

from webapp.accounts.models import User
from webapp.money import Money

Row = dict[str, object]
Exporter = Callable[[User], dict[str, list[Row]]]

#: (domain, exporter), in the order the export lists them
_EXPORTERS: list[tuple[str, Exporter]] = []


def exporter(domain: str) -> Callable[[Exporter], Exporter]:
    def register(fn: Exporter) -> Exporter:
        if all(existing is not fn for _d, existing in _EXPORTERS):
            _EXPORTERS.append((domain, fn))
        return fn

    return register


def plain(value: object) -> object:
    """A value as JSON and CSV can hold it."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Money):
        return str(value.to_decimal())
    if isinstance(value, float):
        return value
    return str(value)


def row(**values: object) -> Row:
    return {key: plain(value) for key, value in values.items()}
