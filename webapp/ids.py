"""Ids and whole numbers from the outside world: one parser, one URL converter, both bounded.

`str.isdigit()` and `int()` disagree (a superscript ² is a digit to one and not to the other; an
Arabic-Indic ٣ is 3 to both), and a number past the database's integer range is an OverflowError
on SQLite and a DataError on PostgreSQL: either way a 500. Everything here reads ASCII digits only
and refuses what no row can have.
"""
from __future__ import annotations

import re

from werkzeug.routing import IntegerConverter, ValidationError

#: the largest primary key any table can hold (BIGINT / SQLite INTEGER)
MAX_ID = 2**63 - 1
#: the range of an Integer column (INTEGER on PostgreSQL)
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
#: the last page number a listing reads (an offset past any table, never an overflow)
MAX_PAGE = 10_000

_ASCII_ID = re.compile(r"[0-9]{1,19}")
_ASCII_INT = re.compile(r"-?[0-9]{1,19}")


def parse_id(value: object) -> int | None:
    """The id a query string or form value names, or None: ASCII digits only, 1..MAX_ID."""
    if not isinstance(value, str) or not _ASCII_ID.fullmatch(value):
        return None
    number = int(value)
    return number if 1 <= number <= MAX_ID else None


def parse_int(value: object, minimum: int, maximum: int) -> int | None:
    """A whole number written in ASCII digits (an optional minus), within [minimum, maximum], or None."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not _ASCII_INT.fullmatch(value):
        return None
    number = int(value)
    return number if minimum <= number <= maximum else None


class BoundedIntegerConverter(IntegerConverter):
    """Flask's `<int:...>`, ASCII digits only and within 1..MAX_ID unless the rule says otherwise,
    so an id no row can have is a 404 rather than an overflow in the database driver."""

    regex = r"[0-9]+"

    def __init__(self, map, fixed_digits: int = 0, min: int | None = 1, max: int | None = MAX_ID,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)

    def to_python(self, value: str):
        if len(value) > 20:  # never an int of a thousand digits
            raise ValidationError()
        return super().to_python(value)


def register(app) -> None:
    """Replace Flask's `int` converter; to be called before any blueprint adds its rules."""
    app.url_map.converters["int"] = BoundedIntegerConverter
