"""The smallest charge in each currency: derived from the settlement currency (EUR here) and the day's rate.

Stripe refuses a charge that does not convert to at least the settlement currency's minimum (0.50 EUR)
with `amount_too_small`; the fake Stripe does the same, converting at *its* rate, which is 2 % less
favourable than ours here — the 5 % margin absorbs that. Each currency is pledged through the form at
its minimum (accepted by the form and by the fake, then paid) and one minor unit below (a form error).
"""
from __future__ import annotations

from decimal import Decimal

import pytest
from flask import url_for

from tests.payments.money_helpers import deliver
from tests.factories import RewardTierFactory
from tests.payments.support import count, fresh, live_campaign, load_rates, submit_pledge, text, the_pledge
from webapp.campaigns.models import FundingModel
from webapp.errors import ProviderError
from webapp.extensions import db
from webapp.money import Money
from webapp.payments import minimums
from webapp.payments.models import Pledge, PledgeStatus
from webapp.payments.providers.base import CheckoutRequest

#: our rates: units per euro
RATES = {"USD": "1.0825", "GBP": "0.8420", "JPY": "163.42", "CAD": "1.4650", "MAD": "10.8420", "NGN": "1750.00",
         "RWF": "1480.00"}
PEGGED = {"XOF": Decimal("655.957")}

#: currency, the minimum as typed, one minor unit below, the minimum in minor units
CASES = [
    ("EUR", "0.50", "0.49", 50),  # the settlement currency: Stripe's own minimum, no margin
    ("USD", "0.60", "0.59", 60),  # 0.50 EUR = 0.541 USD, +5 % = 0.568 -> 0.60
    ("GBP", "0.45", "0.44", 45),  # 0.442 -> 0.45 (Stripe's GBP minimum of 0.30 is not enough with EUR settlement)
    ("JPY", "90", "89", 90),  # 85.8 -> 90 (Stripe's 50 JPY would be refused)
    ("CAD", "0.80", "0.79", 80),  # 0.769 -> 0.80
    ("MAD", "6.00", "5.99", 600),  # 5.69 -> 6
    ("NGN", "950.00", "949.99", 95_000),  # 918.75 -> 950
    ("RWF", "800", "799", 800),  # 777 -> 800
    ("XOF", "350", "349", 350),  # the euro peg: 344.4 -> 350
]


@pytest.fixture
def eur_settlement(app, fake_stripe):
    """Our rates loaded; the fake settles in EUR at rates 2 % worse than ours (Stripe's own conversion)."""
    load_rates(**RATES)
    db.session.commit()
    assert app.config["STRIPE_SETTLEMENT_CURRENCY"] == "EUR"
    fake_stripe.settlement_currency = "eur"
    per_euro = {**{c: Decimal(v) for c, v in RATES.items()}, **PEGGED}
    fake_stripe.exchange_rates = {c.lower(): (Decimal(1) / v * Decimal("0.98")) for c, v in per_euro.items()}
    return fake_stripe


def test_the_minimum_is_the_settlement_minimum_converted_with_the_margin_and_rounded_up(app, eur_settlement):
    for currency, _typed, _below, minor in CASES:
        minimum = minimums.minimum_charge(currency)
        assert minimum.amount == Money(minor, currency), currency
        assert minimum.settlement == Money(50, "EUR")
        # worth at least the settlement minimum plus the margin, at our rate
        assert currency == "EUR" or minimum.in_settlement.amount >= 52, (currency, minimum.in_settlement)


@pytest.mark.parametrize("value, currency, expected", [
    (Decimal("344.38"), "XOF", 350), (Decimal("0.568"), "USD", 60), (Decimal("85.79"), "JPY", 90),
    (Decimal("918.75"), "NGN", 95_000), (Decimal("0.50"), "EUR", 50), (Decimal("1.7803"), "TND", 1_800),
    (Decimal("0.004"), "EUR", 1), (Decimal("3"), "XOF", 3), (Decimal("0.0012"), "TND", 10),
])
def test_friendly_ceiling_rounds_up_to_an_amount_a_person_types(value, currency, expected):
    assert minimums.friendly_ceiling(value, currency) == Money(expected, currency)


@pytest.mark.parametrize("currency, typed, below, minor", CASES)
def test_a_pledge_at_the_minimum_is_charged_and_one_unit_below_is_a_form_error(
        client, eur_settlement, currency, typed, below, minor):
    fake = eur_settlement
    campaign = live_campaign(currency, FundingModel.KEEP_IT_ALL)
    db.session.commit()

    form = text(client.get(url_for("payments.pledge", slug=campaign.slug)))
    shown = Money(minor, currency).format("en")
    assert f"At least {shown}" in form
    if currency != "EUR":
        approx = minimums.minimum_charge(currency).in_settlement.format("en")
        assert f"At least {shown} (≈ {approx})." in form

    refused = submit_pledge(client, campaign, below)
    assert refused.status_code == 400
    assert f"The smallest pledge here is {shown}" in text(refused)
    assert count(Pledge) == 0
    assert not [r for r in fake.requests if r.path == "/v1/checkout/sessions"]  # refused before asking Stripe

    accepted = submit_pledge(client, campaign, typed)
    assert accepted.status_code == 303, text(accepted)[:500]
    pledge = the_pledge(campaign)
    deliver(fake.complete_checkout(pledge.checkout_session_id, authenticate=True))
    pledge = fresh(pledge)
    assert (pledge.status, pledge.amount, pledge.charge_amount, pledge.charge_currency) == (
        PledgeStatus.PAID, minor, minor, currency)
    # Stripe converted it to at least its minimum in the settlement currency
    [txn] = [t for t in fake.balance_transactions if t["type"] == "charge"]
    assert txn["currency"] == "eur" and txn["amount"] >= 50


@pytest.mark.parametrize("currency, amount", [("XOF", 320), ("JPY", 80), ("USD", 53), ("NGN", 85_000)])
def test_the_fake_refuses_a_charge_below_the_settlement_minimum_as_stripe_does(
        app, eur_settlement, stripe_provider, caplog, currency, amount):
    """What the margin protects against: Stripe's amount_too_small for a charge worth under 0.50 EUR."""
    from datetime import timedelta

    from webapp.clock import utcnow

    with pytest.raises(ProviderError) as refused:
        stripe_provider.create_checkout(CheckoutRequest(
            pledge_id=1, reference="ref-small", mode="payment", charge=Money(amount, currency),
            email="afi@example.org", description="Pledge", terms=None, locale="en",
            success_url="http://harambee.test/ok", cancel_url="http://harambee.test/no",
            expires_at=utcnow() + timedelta(minutes=31), idempotency_key=f"small-{currency}"))
    [request] = [r for r in eur_settlement.requests if r.path == "/v1/checkout/sessions"]
    assert request.status == 400 and refused.value.code == "amount_too_small"
    assert caplog_text(caplog).count("Amount must convert to at least 0.50 EUR") == 1


def caplog_text(caplog) -> str:
    return "\n".join(r.getMessage() for r in caplog.records)


def test_paying_in_the_backers_currency_needs_that_currencys_minimum(client, eur_settlement):
    """350 XOF is a valid pledge, but 0.58 USD is under the USD minimum (0.60): the form says so."""
    campaign = live_campaign("XOF", FundingModel.KEEP_IT_ALL)
    db.session.commit()
    american = {"Accept-Language": "en-US"}
    form = text(client.get(url_for("payments.pledge", slug=campaign.slug), headers=american))
    assert "Paying in USD: At least $0.60" in form
    refused = submit_pledge(client, campaign, "350", pay_currency="USD", headers=american)
    assert refused.status_code == 400 and "In USD the smallest payment is $0.60." in text(refused)
    assert count(Pledge) == 0
    assert submit_pledge(client, campaign, "370", pay_currency="USD", headers=american).status_code == 303
    assert fresh(the_pledge(campaign)).charge == Money(61, "USD")  # 370 XOF = 0.6106 USD


def test_a_currency_without_a_rate_is_refused_with_a_clear_message(client, fake_stripe):
    """No KES rate loaded: we do not guess Stripe's minimum, we say why and ask nobody to pay."""
    campaign = live_campaign("KES", FundingModel.KEEP_IT_ALL)
    db.session.commit()
    form = client.get(url_for("payments.pledge", slug=campaign.slug))
    assert form.status_code == 200
    assert "We have no exchange rate for KES at the moment" in text(form)
    refused = submit_pledge(client, campaign, "500.00")
    assert refused.status_code == 400
    assert "We have no exchange rate for KES at the moment, so we cannot tell the smallest payment" in text(refused)
    assert count(Pledge) == 0 and not fake_stripe.requests


def test_the_settlement_currency_is_a_setting(app, eur_settlement):
    app.config["STRIPE_SETTLEMENT_CURRENCY"] = "USD"
    try:
        assert minimums.minimum_charge("USD").amount == Money(50, "USD")
        # 0.50 USD = 0.4619 EUR, +5 % = 0.485 -> 0.49; but EUR's own floor (0.50) holds
        assert minimums.minimum_charge("EUR").amount == Money(50, "EUR")
        # 0.50 USD in XOF: 303.0 +5 % = 318.1 -> 320
        assert minimums.minimum_charge("XOF").amount == Money(320, "XOF")
        app.config["STRIPE_SETTLEMENT_CURRENCY"] = "XOF"
        with pytest.raises(RuntimeError, match="not a currency Stripe settles in"):
            minimums.minimum_charge("EUR")
    finally:
        app.config["STRIPE_SETTLEMENT_CURRENCY"] = "EUR"


def test_a_settlement_currency_stripe_does_not_settle_in_stops_the_start():
    from config import TestConfig
    from webapp import create_app

    class Wrong(TestConfig):
        STRIPE_SETTLEMENT_CURRENCY = "XOF"

    with pytest.raises(RuntimeError, match="STRIPE_SETTLEMENT_CURRENCY=XOF is not a currency Stripe settles in"):
        create_app(Wrong)


# -- the amount the form starts with ----------------------------------------------------------------
# the round sum nearest to 10 EUR: 6,559.57 XOF → 7,000; 108.42 MAD → 100; 1,634.2 JPY → 1,500; 10.83 USD → 10
@pytest.mark.parametrize("currency, expected", [("XOF", 7_000), ("EUR", 1_000), ("MAD", 10_000), ("JPY", 1_500), ("USD", 1_000)])
def test_the_pledge_form_starts_at_a_round_sum_worth_about_ten_euros(client, currency, expected):
    """Issue 11: not the processor's minimum (350 XOF ≈ 0.53 EUR) but a round sum; a reward starts at its own minimum."""
    from tests.payments.support import standard_rates
    from webapp.payments.pledging import services

    standard_rates()
    campaign = live_campaign(currency)
    db.session.commit()
    assert services.suggested_pledge(campaign) == Money(expected, currency)
    reward = RewardTierFactory(campaign=campaign, minimum_amount=expected * 3)
    assert services.suggested_pledge(campaign, reward) == Money(expected * 3, currency)


@pytest.mark.parametrize("amount, unit, nearest", [(6_560, 1, 7_000), (1_082, 100, 1_000), (1_465, 100, 1_500),
                                                   (10_842, 100, 10_000), (1_634, 1, 1_500), (1_000, 100, 1_000),
                                                   (1_226, 100, 1_500), (1_224, 100, 1_000), (30, 100, 100),
                                                   (0, 1, 1), (7, 1, 7), (94_000, 1, 100_000)])
def test_suggestions_are_the_nearest_round_sum_by_ratio(amount, unit, nearest):
    from webapp.payments.pledging.services import round_nicely

    assert round_nicely(amount, unit) == nearest


@pytest.mark.parametrize("amount, unit, rounded", [(6_560, 1, 7_000), (10_842, 100, 15_000), (30, 100, 100),
                                                   (7_000, 1, 7_000), (0, 1, 1), (81_000, 1, 100_000)])
def test_suggestions_are_round_sums_of_at_least_one_unit(amount, unit, rounded):
    from webapp.payments.pledging.services import round_up_nicely

    assert round_up_nicely(amount, unit) == rounded
