"""Money: integer minor units, parsing what people type per currency and locale, formatting, arithmetic."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webapp.errors import InvalidMoney, UnsupportedCurrency
from webapp.money import MAX_DIGITS, Money, exponent

NNBSP, NBSP = "\u202f", "\xa0"


def spaces_normalised(text: str) -> str:
    return text.replace(NNBSP, " ").replace(NBSP, " ")


# -- the minor unit of each currency ------------------------------------------------------------
@pytest.mark.parametrize("currency, digits", [("XOF", 0), ("JPY", 0), ("EUR", 2), ("USD", 2), ("MAD", 2),
                                              ("TND", 3), ("HUF", 2)])
def test_exponent_is_the_iso_minor_unit(currency, digits):
    assert exponent(currency) == digits


# -- parsing: what is accepted ------------------------------------------------------------------
@pytest.mark.parametrize("text, currency, locale, amount", [
    ("25000", "XOF", "fr", 25_000),
    ("25 000", "XOF", "fr", 25_000),
    ("25\u202f000", "XOF", "fr", 25_000),  # what Babel itself writes in French
    ("12.345", "TND", "en", 12_345),
    ("12,345", "TND", "fr", 12_345),
    ("12.50", "EUR", "en", 1_250),
    ("12,50", "EUR", "fr", 1_250),
    ("12.5", "EUR", "en", 1_250),
    ("1 234,50", "EUR", "fr", 123_450),
    ("1\xa0234,50", "EUR", "fr", 123_450),
    ("1,234.50", "EUR", "en", 123_450),
    ("1234.50", "EUR", "fr", 123_450),  # a plain machine number is read in every locale
    ("  40  ", "USD", "en", 4_000),
    ("1000", "JPY", "en", 1_000),
    ("250", "mad", "en", 25_000),  # the currency code is not case-sensitive
])
def test_parse_reads_amounts_in_the_currency_and_locale(text, currency, locale, amount):
    assert Money.parse(text, currency, locale) == Money(amount, currency.upper())


# -- parsing: what is refused, with a message a person understands ------------------------------
@pytest.mark.parametrize("text, currency, locale, message", [
    ("25000.5", "XOF", "en", "XOF amounts take no decimals."),
    ("25 000,5", "XOF", "fr", "XOF amounts take no decimals."),
    ("1000.5", "JPY", "en", "JPY amounts take no decimals."),
    ("1.0001", "TND", "en", "TND amounts take at most 3 decimals."),
    ("12.345", "EUR", "en", "EUR amounts take at most 2 decimals."),
    ("-5", "EUR", "en", "The amount must be greater than zero."),
    ("-0.01", "EUR", "en", "The amount must be greater than zero."),
    ("0", "XOF", "en", "The amount must be greater than zero."),
    ("0.00", "EUR", "en", "The amount must be greater than zero."),
    ("1e30", "EUR", "en", "That amount is too large."),
    ("1" + "0" * MAX_DIGITS, "XOF", "en", "That amount is too large."),
    ("NaN", "EUR", "en", "Enter an amount as a number."),
    ("Infinity", "EUR", "en", "Enter an amount as a number."),
    ("abc", "EUR", "en", "Enter an amount as a number, for example 25000 or 12.50."),
    ("12 euros", "EUR", "en", "Enter an amount as a number, for example 25000 or 12.50."),
    ("", "EUR", "en", "Enter an amount."),
    ("   ", "EUR", "en", "Enter an amount."),
])
def test_parse_refuses_bad_amounts_with_a_clear_message(text, currency, locale, message):
    with pytest.raises(InvalidMoney) as refused:
        Money.parse(text, currency, locale)
    assert str(refused.value) == message


def test_the_largest_accepted_amount_is_just_under_the_typo_guard():
    largest = "9" * MAX_DIGITS
    assert Money.parse(largest, "XOF") == Money(int(largest), "XOF")


@pytest.mark.parametrize("currency", ["XYZ", "EURO", "", "€"])
def test_parse_refuses_an_unknown_currency(currency):
    with pytest.raises(UnsupportedCurrency):
        Money.parse("10", currency, "en")


# -- the value type -----------------------------------------------------------------------------
@pytest.mark.parametrize("amount", [12.5, 12.0, True, False, Decimal("12"), "12", None])
def test_money_never_holds_anything_but_an_int(amount):
    with pytest.raises(InvalidMoney):
        Money(amount, "EUR")


@pytest.mark.parametrize("currency", ["eur", "XYZ", "", "EURO"])
def test_money_refuses_an_unknown_or_lower_case_currency(currency):
    with pytest.raises(UnsupportedCurrency):
        Money(100, currency)


def test_same_currency_arithmetic_and_comparison():
    assert Money(1_250, "EUR") + Money(250, "EUR") == Money(1_500, "EUR")
    assert Money(1_250, "EUR") - Money(250, "EUR") == Money(1_000, "EUR")
    assert Money(1, "EUR") < Money(2, "EUR") <= Money(2, "EUR")
    assert Money(3, "EUR") > Money(2, "EUR") >= Money(2, "EUR")
    assert Money(250, "XOF").percent_of(Money(1_000, "XOF")) == 25
    assert Money(250, "XOF").percent_of(Money(0, "XOF")) == 0
    assert not Money.zero("EUR")


@pytest.mark.parametrize("operation", [
    lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a < b, lambda a, b: a <= b,
    lambda a, b: a > b, lambda a, b: a >= b, lambda a, b: a.percent_of(b),
])
def test_arithmetic_across_currencies_is_refused(operation):
    with pytest.raises(InvalidMoney):
        operation(Money(1_000, "EUR"), Money(1_000, "XOF"))


@pytest.mark.parametrize("other", [5, 5.0, Decimal("5")])
def test_arithmetic_with_a_bare_number_is_refused(other):
    with pytest.raises(TypeError):
        Money(1_000, "EUR") + other


def test_same_amount_in_two_currencies_is_not_equal():
    assert Money(1_000, "EUR") != Money(1_000, "XOF")


# -- formatting ---------------------------------------------------------------------------------
@pytest.mark.parametrize("money, locale, expected", [
    (Money(25_000, "XOF"), "fr", "25 000 F CFA"),
    (Money(25_000, "XOF"), "en", "F CFA 25,000"),  # CLDR currency spacing: letters never touch digits
    (Money(123_450, "EUR"), "fr", "1 234,50 €"),
    (Money(123_450, "EUR"), "en", "€1,234.50"),
    (Money(12_345, "TND"), "fr", "12,345 TND"),
    (Money(12_345, "TND"), "en", "TND 12.345"),
    (Money(123_450, "MAD"), "en", "MAD 1,234.50"),
    (Money(1_000, "JPY"), "fr", "1 000 JPY"),
    (Money(1_000, "JPY"), "en", "¥1,000"),
])
def test_format_follows_the_locale_and_the_currency_digits(money, locale, expected):
    assert spaces_normalised(money.format(locale)) == expected


def test_french_francs_cfa_use_a_narrow_no_break_space_between_thousands():
    assert Money(25_000, "XOF").format("fr").startswith(f"25{NNBSP}000")


@pytest.mark.parametrize("money, expected", [
    (Money(25_000, "XOF"), "25000"), (Money(1_250, "EUR"), "12.50"), (Money(5, "EUR"), "0.05"),
    (Money(12_345, "TND"), "12.345"), (Money(1_000, "JPY"), "1000"),
])
def test_input_value_is_a_plain_number_for_form_fields(money, expected):
    assert money.input_value() == expected


# -- round trip ---------------------------------------------------------------------------------
ROUND_TRIP_CURRENCIES = ["EUR", "USD", "XOF", "JPY", "MAD", "TND"]


@st.composite
def accepted_money(draw) -> Money:
    currency = draw(st.sampled_from(ROUND_TRIP_CURRENCIES))
    largest = 10 ** (MAX_DIGITS + exponent(currency)) - 1  # below the typo guard
    return Money(draw(st.integers(min_value=1, max_value=largest)), currency)


@given(money=accepted_money(), locale=st.sampled_from(["en", "fr"]))
def test_parse_reads_back_what_input_value_writes(money, locale):
    assert Money.parse(money.input_value(), money.currency, locale) == money


@given(money=accepted_money(), locale=st.sampled_from(["en", "fr"]))
def test_parse_reads_back_what_format_shows_without_its_symbol(money, locale):
    # What a person copies from the page (grouped, in their locale) is read back as the same amount.
    from babel.numbers import format_decimal

    shown = format_decimal(money.to_decimal(), locale=locale, decimal_quantization=False)
    assert Money.parse(shown, money.currency, locale) == money
