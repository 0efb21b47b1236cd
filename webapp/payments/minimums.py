"""The smallest charge Stripe accepts in each currency, derived from the settlement currency and today's rate.

Stripe refuses (`amount_too_small`) a charge that does not convert to at least the minimum of the
platform's *settlement* currency (docs.stripe.com/currencies, "Minimum and maximum charge amounts":
"the amount must convert to at least the minimum amount in your settlement currency"). So the
minimum of a currency is not a constant: it is that settlement minimum converted at the current
rate, with a safety margin (Stripe converts at its own rate, not ours), rounded up to an amount a
person would type ("350 XOF", "0.60 USD"). Without a rate we refuse rather than guess.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from flask import current_app

from webapp.money import Money, exponent
from webapp.payments import currencies, fx
from webapp.payments.fx import RateUnavailable

#: Stripe's minimum charge per settlement currency, minor units (docs.stripe.com/currencies#minimum-and-maximum-charge-amounts)
SETTLEMENT_MINIMUMS: dict[str, int] = {
    "USD": 50, "AED": 200, "AUD": 50, "BGN": 100, "BRL": 50, "CAD": 50, "CHF": 50, "CZK": 1_500, "DKK": 250,
    "EUR": 50, "GBP": 30, "HKD": 400, "HUF": 17_500, "INR": 50, "JPY": 50, "MXN": 1_000, "MYR": 200, "NOK": 300,
    "NZD": 50, "PLN": 200, "RON": 200, "SEK": 300, "SGD": 50, "THB": 1_000,
}

__all__ = ["Minimum", "RateUnavailable", "SETTLEMENT_MINIMUMS", "check_settings", "friendly_ceiling", "minimum_charge",
           "settlement_currency", "settlement_minimum"]


@dataclass(frozen=True)
class Minimum:
    """The smallest charge in `amount.currency`, and what it is worth in the settlement currency."""

    amount: Money
    settlement: Money  #: the settlement currency's own minimum (what Stripe checks against)
    in_settlement: Money  #: `amount` converted to the settlement currency at our rate (≈, for display)


def check_settings(config) -> None:
    """At start-up: a settlement currency Stripe has a minimum for, and a margin that is not negative."""
    currency = config["STRIPE_SETTLEMENT_CURRENCY"]
    if currency not in SETTLEMENT_MINIMUMS:
        raise RuntimeError(f"STRIPE_SETTLEMENT_CURRENCY={currency} is not a currency Stripe settles in "
                           f"({', '.join(sorted(SETTLEMENT_MINIMUMS))})")
    if config["STRIPE_MINIMUM_MARGIN_PERCENT"] < 0:
        raise RuntimeError("STRIPE_MINIMUM_MARGIN_PERCENT cannot be negative")


def settlement_currency() -> str:
    check_settings(current_app.config)
    return current_app.config["STRIPE_SETTLEMENT_CURRENCY"]


def settlement_minimum() -> Money:
    currency = settlement_currency()
    return Money(SETTLEMENT_MINIMUMS[currency], currency)


def minimum_charge(currency: str) -> Minimum:
    """The smallest amount we let a backer be charged in `currency`; RateUnavailable without a rate."""
    floor = settlement_minimum()
    if currency == floor.currency:
        return Minimum(floor, floor, floor)
    rate = fx.quote(floor.currency, currency).rate
    margin = Decimal(100 + current_app.config["STRIPE_MINIMUM_MARGIN_PERCENT"]) / 100
    needed = friendly_ceiling(floor.to_decimal() * rate * margin, currency)
    # the currency's own floor (Stripe's minimum where it is itself a settlement currency) still holds
    own = Money(currencies.rule(currency).minimum, currency) if currency in currencies.RULES else needed
    amount = max(needed, own, key=lambda m: m.amount)
    in_settlement = fx.convert(amount, floor.currency).converted
    return Minimum(amount, floor, in_settlement)


def friendly_ceiling(value: Decimal, currency: str) -> Money:
    """Round up to two significant figures, or to a 5 in the second when the first digit is 5 or more.

    344.4 XOF -> 350, 0.568 USD -> 0.60, 85.8 JPY -> 90, 945 NGN -> 950; never finer than the
    currency's minor unit (tens of minor units for the three-decimal currencies).
    """
    if value <= 0:
        raise ValueError("a minimum is positive")
    exp = exponent(currency)
    magnitude = value.adjusted()  # floor(log10(value))
    mantissa = value.scaleb(-magnitude)
    step = Decimal(1).scaleb(magnitude - 1) * (5 if mantissa >= 5 else 1)
    smallest = Decimal(10 if currency in currencies.THREE_DECIMAL else 1).scaleb(-exp)
    step = max(step, smallest)
    units = (value / step).to_integral_value(rounding=ROUND_CEILING)
    return Money(int((units * step).scaleb(exp)), currency)
