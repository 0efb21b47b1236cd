"""Exchange rates: `flask fx import` of ECB XML and CSV files, and conversions at their rounding edges."""
from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from flask import g
from sqlalchemy import select

from tests.payments.support import count, load_rates
from webapp.extensions import db
from webapp.money import Money
from webapp.payments import currencies, fx
from webapp.payments.models import ExchangeRate

ECB_XML = """<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
  <gesmes:subject>Reference rates</gesmes:subject>
  <gesmes:Sender><gesmes:name>European Central Bank</gesmes:name></gesmes:Sender>
  <Cube>
    <Cube time="2026-11-27">
      <Cube currency="USD" rate="1.0825"/>
      <Cube currency="JPY" rate="163.42"/>
      <Cube currency="GBP" rate="0.8391"/>
    </Cube>
    <Cube time="2026-11-26">
      <Cube currency="USD" rate="1.0790"/>
      <Cube currency="JPY" rate="162.10"/>
      <Cube currency="GBP" rate="0.8402"/>
    </Cube>
  </Cube>
</gesmes:Envelope>
"""

EXTRA_CSV = """date,currency,units_per_euro
# rates the ECB does not publish
2026-11-27,MAD,10.8420
2026-11-27,TND,3.3910
2026-11-27,XOF,600
2026-11-27,EUR,2
"""


def rates() -> dict[tuple[date, str], tuple[Decimal, str]]:
    db.session.expire_all()
    return {(r.rate_date, r.currency): (r.units_per_euro, r.source)
            for r in db.session.scalars(select(ExchangeRate))}


def forget_cached_rates() -> None:
    g.pop("fx_cache", None)  # conversions cache rates per request


@pytest.fixture
def files(tmp_path):
    xml, csv = tmp_path / "eurofxref-hist.xml", tmp_path / "extra.csv"
    xml.write_text(ECB_XML)
    csv.write_text(EXTRA_CSV)
    return xml, csv


def fx_import(app, *paths):
    return app.test_cli_runner().invoke(args=["fx", "import", *map(str, paths)])


# -- import -----------------------------------------------------------------------------------------
def test_flask_fx_import_loads_ecb_xml_and_csv(app, files):
    result = fx_import(app, *files)
    assert result.exit_code == 0, result.output
    assert "eurofxref-hist.xml: 6 rates stored" in result.output
    assert "extra.csv: 2 rates stored" in result.output
    stored = rates()
    assert stored[(date(2026, 11, 27), "USD")] == (Decimal("1.0825"), "ecb")
    assert stored[(date(2026, 11, 26), "JPY")] == (Decimal("162.10"), "ecb")
    assert stored[(date(2026, 11, 27), "MAD")] == (Decimal("10.8420"), "extra.csv")
    # the euro itself and the pegged francs CFA are never stored: the peg is not a market rate
    assert not any(currency in ("EUR", "XOF") for _, currency in stored)
    assert len(stored) == 8
    db.session.rollback()  # what the command committed is really there
    assert count(ExchangeRate) == 8


def test_reimporting_replaces_the_rate_of_the_same_day(app, files, tmp_path):
    assert fx_import(app, *files).exit_code == 0
    corrected = tmp_path / "corrected.csv"
    corrected.write_text("2026-11-27,MAD,10.9000\n2026-11-28,MAD,10.95\n")
    result = fx_import(app, corrected)
    assert result.exit_code == 0, result.output
    stored = rates()
    assert stored[(date(2026, 11, 27), "MAD")] == (Decimal("10.9000"), "corrected.csv")
    assert stored[(date(2026, 11, 28), "MAD")] == (Decimal("10.95"), "corrected.csv")
    assert count(ExchangeRate, ExchangeRate.currency == "MAD") == 2
    assert fx_import(app, files[0]).exit_code == 0  # the same file twice: no duplicate rows
    assert count(ExchangeRate) == 9


@pytest.mark.parametrize("name, content, message", [
    ("broken.xml", "<gesmes:Envelope><Cube>", "not an ECB rates file"),
    ("empty.xml", '<Envelope xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref"/>', "holds no rates"),
    ("negative.xml", ECB_XML.replace('rate="163.42"', 'rate="-1"'), "is not a positive rate"),
    ("bad-date.csv", "2026-11-27,MAD,10.84\n27/11/2026,TND,3.39\n", "line 2: '27/11/2026' is not a date"),
    ("short.csv", "2026-11-27,MAD\n", "line 1: expected date,currency,units_per_euro"),
    ("zero.csv", "2026-11-27,MAD,0\n", "line 1: '0' is not a positive rate"),
    ("words.csv", "2026-11-27,MAD,ten\n", "is not a positive rate"),
    ("header-only.csv", "date,currency,units_per_euro\n", "holds no rates"),
])
def test_a_bad_file_is_refused_with_a_clear_error_and_nothing_is_stored(app, files, tmp_path, name, content, message):
    bad = tmp_path / name
    bad.write_text(content)
    # a good file first: the whole import is one transaction, so it is not stored either
    result = fx_import(app, files[1], bad)
    assert result.exit_code == 1
    assert message in result.output and name in result.output
    assert "Traceback" not in result.output
    db.session.rollback()
    assert count(ExchangeRate) == 0


def test_a_missing_file_is_refused(app, tmp_path):
    result = fx_import(app, tmp_path / "nowhere.xml")
    assert result.exit_code == 2 and "does not exist" in result.output
    assert count(ExchangeRate) == 0


def test_the_shipped_snapshot_files_import(app):
    from pathlib import Path

    data = Path(app.config["FX_SNAPSHOT"]).parent
    result = fx_import(app, data / "rates-snapshot.xml", data / "rates-extra.csv")
    assert result.exit_code == 0, result.output
    assert count(ExchangeRate, ExchangeRate.currency == "USD") == 1


# -- conversion -------------------------------------------------------------------------------------
@pytest.fixture
def usd_mad():
    load_rates(date(2026, 11, 26), USD="1.0790")
    load_rates(date(2026, 11, 27), USD="1.0825", MAD="10.8420", JPY="163.42", TND="3.3910")


def test_conversion_rounds_half_up_at_half_a_minor_unit(usd_mad):
    # 2.00 EUR x 1.0825 = 2.165 USD exactly
    assert fx.convert(Money(200, "EUR"), "USD").converted == Money(217, "USD")
    assert fx.convert(Money(200, "EUR"), "USD", rounding=ROUND_HALF_EVEN).converted == Money(216, "USD")
    # just under and over the half
    assert fx.convert(Money(199, "EUR"), "USD").converted == Money(215, "USD")   # 2.154175
    assert fx.convert(Money(201, "EUR"), "USD").converted == Money(218, "USD")   # 2.175825
    # zero-decimal: 25.00 EUR x 163.42 = 4,085.5 JPY
    assert fx.convert(Money(2_500, "EUR"), "JPY").converted == Money(4_086, "JPY")


def test_the_cfa_franc_peg_needs_no_rate_and_has_no_date():
    assert count(ExchangeRate) == 0
    conversion = fx.convert(Money(50_000, "EUR"), "XOF")  # 500 EUR = 327,978.5 XOF
    assert conversion.converted == Money(327_979, "XOF")
    assert conversion.quote.rate == Decimal("655.957") and conversion.quote.pegged
    back = fx.convert(Money(655_957, "XOF"), "EUR")
    assert back.converted == Money(100_000, "EUR") and back.quote.rate_date is None
    assert fx.convert(Money(25_000, "XOF"), "EUR").converted == Money(3_811, "EUR")  # 38.1122...
    # the two CFA francs are at par
    assert fx.convert(Money(12_345, "XAF"), "XOF").converted == Money(12_345, "XOF")


def test_cross_rates_go_through_the_euro_and_keep_the_older_date(usd_mad):
    conversion = fx.convert(Money(10_000, "USD"), "MAD")  # 100 USD = 100 x 10.842 / 1.0825 MAD
    assert conversion.converted == Money(100_157, "MAD")  # 1,001.5704...
    assert conversion.quote.rate == Decimal("10.8420") / Decimal("1.0825")
    assert conversion.quote.rate_date == date(2026, 11, 27)
    via_peg = fx.convert(Money(100_000, "XOF"), "USD")  # 100,000 / 655.957 x 1.0825 = 165.0261...
    assert via_peg.converted == Money(16_503, "USD")
    assert via_peg.quote.rate_date == date(2026, 11, 27)


def test_the_latest_rate_on_or_before_a_date_is_used(usd_mad):
    assert fx.quote("EUR", "USD").rate_date == date(2026, 11, 27)
    forget_cached_rates()
    older = fx.quote("EUR", "USD", on=date(2026, 11, 26))
    assert (older.rate, older.rate_date) == (Decimal("1.0790"), date(2026, 11, 26))
    assert fx.quote("EUR", "USD", on=date(2026, 12, 25)).rate == Decimal("1.0825")
    with pytest.raises(fx.RateUnavailable):
        fx.quote("EUR", "USD", on=date(2026, 11, 25))
    with pytest.raises(fx.RateUnavailable):
        fx.quote("EUR", "KES")


def test_three_decimal_charges_are_rounded_once_to_ten_minor_units(usd_mad):
    # 0.60 EUR x 3.391 = 2.0346 TND: 2.030, not 2.035 rounded again to 2.040
    assert currencies.processor_charge(Decimal("0.60") * Decimal("3.3910"), "TND") == Money(2_030, "TND")
    # 5.00 EUR x 3.391 = 16.955 TND: the half goes up
    assert currencies.processor_charge(Decimal("16.955"), "TND") == Money(16_960, "TND")
    assert currencies.processor_charge(Decimal("16.9549"), "TND") == Money(16_950, "TND")
    assert currencies.processor_charge(Decimal("4085.5"), "JPY") == Money(4_086, "JPY")
    assert currencies.processor_charge(Decimal("2.165"), "USD") == Money(217, "USD")
    with pytest.raises(ValueError):
        currencies.processor_amount(Money(2_005, "TND"))
    assert currencies.processor_amount(Money(2_010, "TND")) == 2_010


def test_the_processor_rules_cover_the_currencies_we_offer(app):
    for currency in ("EUR", "USD", "XOF", "JPY", "MAD", "TND"):
        rule = currencies.rule(currency)
        assert 0 < rule.minimum < rule.maximum
    assert {"XOF", "XAF", "JPY", "RWF", "UGX"} <= currencies.ZERO_DECIMAL
    assert {"BHD", "JOD", "KWD", "OMR", "TND"} == currencies.THREE_DECIMAL


def test_approximations_keep_the_latest_rate_a_while_and_charges_never_do(app, usd_mad):
    """FX_DISPLAY_CACHE_SECONDS: display conversions reuse the latest rate in this process; convert() reads it."""
    app.config["FX_DISPLAY_CACHE_SECONDS"] = 300
    fx._display_rates.clear()
    try:
        assert fx.try_convert(Money(10_000, "USD"), "MAD").converted == Money(100_157, "MAD")
        forget_cached_rates()
        db.session.execute(ExchangeRate.__table__.update().where(ExchangeRate.currency == "USD")
                           .values(units_per_euro=Decimal("2")))  # a write the display cache does not hear
        assert fx.try_convert(Money(10_000, "USD"), "MAD").converted == Money(100_157, "MAD")  # kept
        forget_cached_rates()
        assert fx.convert(Money(10_000, "USD"), "MAD").converted == Money(54_210, "MAD")  # charges read the table
        fx.import_rates([(date(2026, 11, 27), "USD", Decimal("2"))], "test")  # an import forgets the kept rates
        forget_cached_rates()
        assert fx.try_convert(Money(10_000, "USD"), "MAD").converted == Money(54_210, "MAD")
    finally:
        app.config["FX_DISPLAY_CACHE_SECONDS"] = 0
        fx._display_rates.clear()
