"""CSV files a spreadsheet opens safely: a cell that would run as a formula is neutralized."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable

#: what a spreadsheet reads as the start of a formula (and tab/CR, which some strip before reading)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value: object) -> object:
    """A text cell a spreadsheet would run as a formula starts with ' instead (CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(header: list[str], rows: Iterable[Iterable[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else neutralize(v) for v in row])
    return out.getvalue()
