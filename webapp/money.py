"""The Money value type, the currency table, parsing and formatting used everywhere."""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import pycountry
from babel.numbers import NumberFormatError, format_currency, get_currency_precision, parse_decimal

from flask_babel import gettext as _

from webapp.errors import InvalidMoney, UnsupportedCurrency

# CLDR (which Babel ships) follows ISO 4217 for the minor unit of almost every currency; where it
# records cash usage instead, ISO 4217 wins because processors and banks count in ISO units.
_ISO_EXPONENT_OVERRIDES = {"HUF": 2}

#: Amounts above this many major units are refused as input, whatever the currency: a typo guard.
MAX_DIGITS = 13


def is_known_currency(code: str) -> bool:
    return isinstance(code, str) and len(code) == 3 and pycountry.currencies.get(alpha_3=code.upper()) is not None


def exponent(currency: str) -> int:
    """Number of decimal places of the currency's minor unit (XOF 0, EUR 2, TND 3)."""
    code = currency.upper()
    if not is_known_currency(code):
        raise UnsupportedCurrency(f"Unknown currency {currency!r}")
    return _ISO_EXPONENT_OVERRIDES.get(code, get_currency_precision(code))


@dataclass(frozen=True, slots=True)
class Money:
    """An integer count of a currency's minor unit, never a float."""

    amount: int  #: minor units (cents, centimes, millimes; francs CFA have none)
    currency: str  #: ISO 4217 code, upper case

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise InvalidMoney(f"Money amounts are integers of minor units, got {self.amount!r}")
        if not is_known_currency(self.currency) or self.currency != self.currency.upper():
            raise UnsupportedCurrency(f"Unknown currency {self.currency!r}")

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency.upper())

    @classmethod
    def from_decimal(cls, value: Decimal, currency: str, *, rounding: str | None = None) -> Money:
        """Major units to Money. Without a rounding mode, extra decimals are an error."""
        code = currency.upper()
        exp = exponent(code)
        quantum = Decimal(1).scaleb(-exp)
        if rounding is None:
            if value != value.quantize(quantum, rounding=ROUND_HALF_UP):
                raise InvalidMoney(_decimals_message(code, exp))
            quantized = value.quantize(quantum)
        else:
            quantized = value.quantize(quantum, rounding=rounding)
        return cls(int(quantized.scaleb(exp)), code)

    @classmethod
    def parse(cls, text: str, currency: str, locale: str = "en") -> Money:
        """Parse what a person typed, in their locale, for this currency."""
        code = (currency or "").upper()
        if not is_known_currency(code):
            raise UnsupportedCurrency(_("%(code)s is not a currency we know.", code=currency))
        raw = (text or "").strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "")
        if not raw:
            raise InvalidMoney(_("Enter an amount."))
        value = _parse_number(raw, locale)
        if not value.is_finite():
            raise InvalidMoney(_("Enter an amount as a number."))
        if value <= 0:
            raise InvalidMoney(_("The amount must be greater than zero."))
        if value.adjusted() >= MAX_DIGITS:
            raise InvalidMoney(_("That amount is too large."))
        return cls.from_decimal(value, code)

    # -- arithmetic ---------------------------------------------------------------------------
    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise InvalidMoney(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    def __bool__(self) -> bool:
        return self.amount != 0

    # -- reading ------------------------------------------------------------------------------
    @property
    def exponent(self) -> int:
        return exponent(self.currency)

    def to_decimal(self) -> Decimal:
        return Decimal(self.amount).scaleb(-self.exponent)

    def input_value(self) -> str:
        """The amount as a plain number for a form field ("25000", "12.50")."""
        return f"{self.to_decimal():f}"

    def format(self, locale: str = "en") -> str:
        text = format_currency(self.to_decimal(), self.currency, locale=locale, currency_digits=True)
        # CLDR's currency spacing, which Babel does not apply: a symbol of letters ("F CFA", "MAD")
        # never touches the digits ("F CFA 25,000", not "F CFA25,000").
        return _LETTER_THEN_DIGIT.sub("\u00a0", text)

    def percent_of(self, other: Money) -> int:
        """Whole percent of another amount, rounded down; 0 when the other is zero."""
        self._same(other)
        if other.amount <= 0:
            return 0
        return self.amount * 100 // other.amount

    def __str__(self) -> str:
        return f"{self.to_decimal():f} {self.currency}"


_LETTER_THEN_DIGIT = re.compile(r"(?<=[^\W\d_])(?=[\d])|(?<=\d)(?=[^\W\d_])")


def _decimals_message(code: str, exp: int) -> str:
    if exp == 0:
        return _("%(code)s amounts take no decimals.", code=code)
    return _("%(code)s amounts take at most %(n)d decimals.", code=code, n=exp)


def _parse_number(raw: str, locale: str) -> Decimal:
    try:
        return parse_decimal(raw, locale=locale, strict=True)
    except (NumberFormatError, ValueError):
        pass
    # A plain machine number ("1234.50") is accepted in every locale.
    try:
        return Decimal(raw)
    except InvalidOperation:
        raise InvalidMoney(_("Enter an amount as a number, for example 25000 or 12.50.")) from None
