"""The processor's per-currency rules: decimals sent, each currency's own floor, our maximum pledge."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from webapp.errors import UnsupportedCurrency
from webapp.money import Money, exponent

# Stripe counts these in whole units (its "zero-decimal" list).
ZERO_DECIMAL = frozenset({"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND",
                          "VUV", "XAF", "XOF", "XPF"})
# Three-decimal currencies: Stripe takes the amount in thousandths but the last digit must be 0.
THREE_DECIMAL = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})


@dataclass(frozen=True)
class CurrencyRule:
    #: the currency's own floor, minor units: Stripe's minimum where the currency is one Stripe settles in,
    #: else one unit. The minimum a backer sees is derived from the settlement currency (payments.minimums).
    minimum: int
    maximum: int  #: largest pledge we accept, minor units (a typo and fraud guard)


#: Maximums are about 10,000 EUR, and never above Stripe's 8-digit amount limit (99,999,999).
RULES: dict[str, CurrencyRule] = {
    "EUR": CurrencyRule(50, 1_000_000),
    "USD": CurrencyRule(50, 1_100_000),
    "GBP": CurrencyRule(30, 900_000),
    "CAD": CurrencyRule(50, 1_500_000),
    "CHF": CurrencyRule(50, 1_000_000),
    "JPY": CurrencyRule(50, 1_600_000),
    "XOF": CurrencyRule(1, 6_500_000),
    "XAF": CurrencyRule(1, 6_500_000),
    "MAD": CurrencyRule(1, 11_000_000),
    "TND": CurrencyRule(10, 33_000_000),
    "KES": CurrencyRule(1, 99_999_999),
    "NGN": CurrencyRule(1, 99_999_999),
    "RWF": CurrencyRule(1, 14_000_000),
    "UGX": CurrencyRule(1, 40_000_000),
}


def rule(currency: str) -> CurrencyRule:
    try:
        return RULES[currency]
    except KeyError:
        raise UnsupportedCurrency(f"No payment rules for {currency}") from None


def processor_amount(money: Money) -> int:
    """The integer the processor expects for this amount."""
    if money.currency in THREE_DECIMAL and money.amount % 10:
        raise ValueError(f"{money} must end in 0 for the processor")
    return money.amount


def round_for_processor(money: Money) -> Money:
    """Round a three-decimal amount half up to the tens of minor units the processor accepts."""
    if money.currency not in THREE_DECIMAL:
        return money
    return Money((money.amount + 5) // 10 * 10, money.currency)


def processor_charge(value: Decimal, currency: str) -> Money:
    """An exact amount (major units) rounded once, half up, to what the processor charges.

    Rounding to the minor unit first and then to tens would round twice (2.0346 TND -> 2.035 -> 2.040).
    """
    step = Decimal(10 if currency in THREE_DECIMAL else 1)
    units = (value.scaleb(exponent(currency)) / step).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return Money(int(units * step), currency)
