"""Exchange rates: importing the ECB's euro reference rates and other sources, and converting amounts."""
from __future__ import annotations

import csv
import io
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask import current_app, g, has_app_context
from sqlalchemy import select

from webapp.errors import DomainError
from webapp.extensions import db
from webapp.money import Money, is_known_currency
from webapp.payments.models import ExchangeRate

#: The CFA francs are pegged to the euro; no market rate applies.
PEGGED = {"XOF": Decimal("655.957"), "XAF": Decimal("655.957")}
ECB_NS = "{http://www.ecb.int/vocabulary/2002-08-01/eurofxref}"


class RateUnavailable(DomainError):
    pass


class RateFileInvalid(DomainError):
    pass


@dataclass(frozen=True)
class Quote:
    """How much one unit of `base` is worth in `quote`, and on which date (None: a fixed peg)."""

    base: str
    quote: str
    rate: Decimal
    rate_date: date | None

    @property
    def pegged(self) -> bool:
        return self.rate_date is None


@dataclass(frozen=True)
class Conversion:
    original: Money
    converted: Money
    quote: Quote


# -- import -------------------------------------------------------------------------------------
def parse_ecb_xml(data: bytes) -> list[tuple[date, str, Decimal]]:
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise RateFileInvalid(f"not an ECB rates file: {exc}") from None
    rows = []
    for day in root.iter(f"{ECB_NS}Cube"):
        when = day.get("time")
        if not when:
            continue
        rate_date = date.fromisoformat(when)
        for cube in day:
            rows.append((rate_date, cube.get("currency", ""), _decimal(cube.get("rate", ""))))
    if not rows:
        raise RateFileInvalid("the file holds no rates")
    return rows


def parse_csv(data: bytes) -> list[tuple[date, str, Decimal]]:
    """Lines of `date,currency,units_per_euro`; a header line is allowed."""
    rows = []
    for line_no, row in enumerate(csv.reader(io.StringIO(data.decode("utf-8-sig"))), start=1):
        if not row or row[0].strip().lower() in ("date", "") or row[0].startswith("#"):
            continue
        if len(row) != 3:
            raise RateFileInvalid(f"line {line_no}: expected date,currency,units_per_euro")
        try:
            rate_date = date.fromisoformat(row[0].strip())
        except ValueError:
            raise RateFileInvalid(f"line {line_no}: {row[0]!r} is not a date (YYYY-MM-DD)") from None
        rows.append((rate_date, row[1].strip().upper(), _decimal(row[2], line_no)))
    if not rows:
        raise RateFileInvalid("the file holds no rates")
    return rows


def _decimal(text: str, line_no: int | None = None) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        value = Decimal(0)
    if not value.is_finite() or value <= 0:
        where = f"line {line_no}: " if line_no else ""
        raise RateFileInvalid(f"{where}{text!r} is not a positive rate")
    return value


def import_rates(rows: list[tuple[date, str, Decimal]], source: str) -> int:
    """Store rates, replacing any of the same date and currency; returns how many were stored."""
    stored = 0
    existing = {
        (r.rate_date, r.currency): r
        for r in db.session.scalars(select(ExchangeRate).where(
            ExchangeRate.rate_date.in_({d for d, _, _ in rows})))
    }
    for rate_date, currency, value in rows:
        if not is_known_currency(currency) or currency == "EUR" or currency in PEGGED:
            continue
        row = existing.get((rate_date, currency))
        if row is None:
            db.session.add(ExchangeRate(rate_date=rate_date, currency=currency, units_per_euro=value, source=source))
        else:
            row.units_per_euro, row.source = value, source
        stored += 1
    db.session.flush()
    _display_rates.clear()  # this process shows the new rates at once; others within FX_DISPLAY_CACHE_SECONDS
    return stored


def import_file(data: bytes, filename: str) -> int:
    if filename.lower().endswith(".xml") or data.lstrip().startswith(b"<"):
        return import_rates(parse_ecb_xml(data), "ecb")
    return import_rates(parse_csv(data), filename.rsplit("/", 1)[-1][:40])


# -- conversion ---------------------------------------------------------------------------------
#: the latest rate of each currency, for display only (try_convert), kept FX_DISPLAY_CACHE_SECONDS in
#: this process: rates change once a day and every approximation names its rate's date. Charges never
#: read it. currency -> (expires at, row)
_display_rates: dict[str, tuple[float, object]] = {}


_UNKNOWN = object()  # not in _display_rates (a currency without any rate is kept too, as None)


def _display_rate(currency: str):
    seconds = current_app.config.get("FX_DISPLAY_CACHE_SECONDS", 0) if has_app_context() else 0
    if not seconds:
        return _UNKNOWN, 0
    found = _display_rates.get(currency)
    return (found[1] if found and found[0] > time.monotonic() else _UNKNOWN), seconds


def _per_euro(currency: str, on: date | None, display: bool = False) -> tuple[Decimal, date | None]:
    if currency == "EUR":
        return Decimal(1), None
    if currency in PEGGED:
        return PEGGED[currency], None
    cache = _cache()
    key = (currency, on)
    if key not in cache:
        row, seconds = _display_rate(currency) if display and on is None else (_UNKNOWN, 0)
        if row is _UNKNOWN:
            q = select(ExchangeRate.units_per_euro, ExchangeRate.rate_date).where(ExchangeRate.currency == currency)
            if on is not None:
                q = q.where(ExchangeRate.rate_date <= on)
            row = db.session.execute(q.order_by(ExchangeRate.rate_date.desc()).limit(1)).first()
            if seconds:  # a currency without a rate too: every page would ask again
                _display_rates[currency] = (time.monotonic() + seconds, tuple(row) if row is not None else None)
        cache[key] = row
    row = cache[key]
    if row is None:
        raise RateUnavailable(f"no exchange rate for {currency}")
    return Decimal(row[0]), row[1]


def _cache() -> dict:
    if not has_app_context():
        return {}
    if "fx_cache" not in g:
        g.fx_cache = {}
    return g.fx_cache


def quote(base: str, target: str, on: date | None = None, display: bool = False) -> Quote:
    """Units of `target` per unit of `base`, through the euro, with the older of the two rates' dates."""
    if base == target:
        return Quote(base, target, Decimal(1), None)
    base_rate, base_date = _per_euro(base, on, display)
    target_rate, target_date = _per_euro(target, on, display)
    dates = [d for d in (base_date, target_date) if d is not None]
    return Quote(base, target, target_rate / base_rate, min(dates) if dates else None)


def convert(money: Money, target: str, on: date | None = None, rounding: str = ROUND_HALF_UP) -> Conversion:
    """Convert with an explicit rounding to the target's minor unit (half up unless told)."""
    q = quote(money.currency, target, on)
    converted = Money.from_decimal(money.to_decimal() * q.rate, target, rounding=rounding)
    return Conversion(money, converted, q)


def try_convert(money: Money, target: str | None) -> Conversion | None:
    """A conversion for display, or None when there is nothing to show or no rate."""
    if not target or target == money.currency:
        return None
    try:
        q = quote(money.currency, target, display=True)
        return Conversion(money, Money.from_decimal(money.to_decimal() * q.rate, target, rounding=ROUND_HALF_UP), q)
    except (RateUnavailable, DomainError):
        return None
