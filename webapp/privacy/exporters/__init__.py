"""The registry of exporters: each domain contributes a function listing its records about a member.

An exporter takes the member and returns {record kind: rows}, each row a flat dict of plain values
(str, int, bool, None, dates, enums, Money are turned into text by `plain`). A new domain adds a
module here (or, if it sits above privacy, calls `exporter` itself) and its records join both the
JSON document and the ZIP of CSV files without touching anything else.
"""
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


def registered() -> list[tuple[str, Exporter]]:
    load_builtin()
    return list(_EXPORTERS)


def load_builtin() -> None:
    """Import the exporters of the domains below privacy (each module registers itself on import)."""
    from webapp.privacy.exporters import accounts, campaigns, mutual_aid, organizations, payments  # noqa: F401


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
