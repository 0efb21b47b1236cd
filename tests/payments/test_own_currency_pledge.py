"""The pledge form in the backer's own currency (issue 11): a round sum in it when the campaign takes it, typed and
paid in it, counted for the campaign in the campaign's currency; the equivalent shown beside it."""
from __future__ import annotations

import re
from decimal import Decimal
from html import unescape

import pytest
from flask import url_for

from tests.campaigns.helpers import field_errors, sign_in
from tests.factories import RewardTierFactory, UserFactory
from tests.payments.support import count, fresh, live_campaign, load_rates, pay, submit_pledge, text, the_pledge
from webapp.campaigns.models import FundingModel
from webapp.extensions import db
from webapp.payments.models import Pledge, PledgeStatus

SUCCEEDS = "4242 4242 4242 4242"


@pytest.fixture
def montreal(app):
    """A member living in Montréal (her currency is CAD whatever her language), and CAD at 1.4650 per euro."""
    load_rates(CAD="1.4650")
    user = UserFactory(verified=True, email="nadia@example.org", residence_country="CA")
    db.session.commit()
    client = app.test_client()
    sign_in(client, user)
    return client


def _form(client, campaign, **args):
    response = client.get(url_for("payments.pledge", slug=campaign.slug, **args), headers={"Accept-Language": "fr"})
    assert response.status_code == 200
    return unescape(text(response))


def _selected(html: str, name: str) -> str:
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S)
    if select is None:
        return re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', html).group(1)
    return re.search(r'<option selected value="([^"]+)"|<option value="([^"]+)" selected', select.group(1)).group(1)


def _amount(html: str) -> str:
    return re.search(r'<input[^>]*name="amount"[^>]*value="([^"]*)"', html).group(1)


def test_a_backer_in_montreal_starts_at_a_round_sum_in_canadian_dollars_with_the_euro_equivalent(montreal):
    campaign = live_campaign("EUR", FundingModel.KEEP_IT_ALL)
    db.session.commit()
    html = _form(montreal, campaign)
    # 10 EUR is 14.65 CAD: the nearest round sum is 15 CAD, typed and paid in CAD
    assert _amount(html) in ("15,00", "15.00")
    assert _selected(html, "amount_currency") == "CAD" and _selected(html, "pay_currency") == "CAD"
    # 15 CAD / 1.4650 = 10.2389 EUR: what the campaign receives, approximately, with the rate's date
    equivalent = re.search(r'id="amount-equivalent"[^>]*>(.*?)</p>', html, re.S).group(1)
    assert "10,24" in equivalent and "€" in equivalent and "taux du" in equivalent
    # what the page's script needs to follow her typing: the day's rate from the campaign's currency to hers
    assert 'data-rate="1.465' in html and 'data-campaign="EUR" data-own="CAD"' in html


def test_the_round_sum_typed_in_dollars_is_charged_as_typed_and_counted_in_euros(montreal, smtp_server):
    campaign = live_campaign("EUR", FundingModel.KEEP_IT_ALL)
    db.session.commit()
    response = submit_pledge(montreal, campaign, "15", amount_currency="CAD", pay_currency="CAD")
    assert response.status_code == 303, text(response)
    pay(montreal, response, SUCCEEDS)
    pledge = fresh(the_pledge(campaign))
    assert (pledge.amount, pledge.currency) == (1_024, "EUR")  # 15 / 1.4650 = 10.2389, half up
    assert (pledge.charge_amount, pledge.charge_currency) == (1_500, "CAD")  # what she typed, not 10.24 × 1.465
    assert pledge.fx_rate == Decimal("1.4650") and pledge.status == PledgeStatus.PAID


def test_typed_in_dollars_and_paid_in_euros_charges_the_conversion(montreal):
    campaign = live_campaign("EUR", FundingModel.KEEP_IT_ALL)
    db.session.commit()
    response = submit_pledge(montreal, campaign, "15", amount_currency="CAD", pay_currency="EUR")
    assert response.status_code == 303, text(response)
    pledge = the_pledge(campaign)
    assert (pledge.amount, pledge.currency, pledge.charge_amount, pledge.charge_currency) == (1_024, "EUR", 1_024, "EUR")


def test_a_tip_in_the_campaigns_currency_is_added_converted_to_what_she_typed(montreal):
    campaign = live_campaign("EUR", FundingModel.KEEP_IT_ALL)
    db.session.commit()
    response = submit_pledge(montreal, campaign, "15", amount_currency="CAD", pay_currency="CAD", tip="2")
    assert response.status_code == 303, text(response)
    pledge = the_pledge(campaign)
    assert (pledge.amount, pledge.tip_amount, pledge.charge_amount) == (1_024, 200, 1_500 + 293)  # 2 × 1.465 = 2.93


def test_a_french_backer_pledges_to_a_franc_cfa_campaign_in_euros(app):
    campaign = live_campaign("XOF", FundingModel.KEEP_IT_ALL)
    db.session.commit()
    client = app.test_client()
    html = _form(client, campaign)  # French browser, no country: EUR
    assert _amount(html) == "10,00" and _selected(html, "amount_currency") == "EUR"  # typed the French way
    assert "6\u202f560" in re.search(r'id="amount-equivalent"[^>]*>(.*?)</p>', html, re.S).group(1)  # 10 × 655.957, fixed parity
    response = submit_pledge(client, campaign, "10", amount_currency="EUR", pay_currency="EUR", email="b@example.org",
                             headers={"Accept-Language": "fr"})
    assert response.status_code == 303, text(response)
    pledge = the_pledge(campaign)
    assert (pledge.amount, pledge.currency, pledge.charge_amount, pledge.charge_currency) == (6_560, "XOF", 1_000, "EUR")


def test_a_campaign_that_takes_only_its_currency_starts_in_it_and_refuses_another(montreal):
    campaign = live_campaign("EUR", FundingModel.KEEP_IT_ALL, accepts_backer_currency=False)
    db.session.commit()
    html = _form(montreal, campaign)
    assert _amount(html) in ("10,00", "10.00") and _selected(html, "amount_currency") == "EUR"
    assert "CAD" not in re.search(r'name="amount_currency"[^>]*>', html).group(0)
    response = submit_pledge(montreal, campaign, "15", amount_currency="CAD")
    assert response.status_code == 400 and field_errors(response, "amount_currency")
    assert count(Pledge) == 0


def test_a_reward_starts_at_its_minimum_in_the_campaigns_currency(montreal):
    campaign = live_campaign("EUR", FundingModel.KEEP_IT_ALL)
    reward = RewardTierFactory(campaign=campaign, minimum_amount=2_500)
    db.session.commit()
    html = _form(montreal, campaign, tier=reward.id)
    assert _amount(html) in ("25,00", "25.00") and _selected(html, "amount_currency") == "EUR"


def test_a_form_sent_back_shows_the_equivalent_of_what_was_typed_without_a_script(montreal):
    campaign = live_campaign("EUR", FundingModel.KEEP_IT_ALL)
    reward = RewardTierFactory(campaign=campaign, minimum_amount=5_000)
    db.session.commit()
    # 30 CAD is 20.48 EUR, below the reward's 50 EUR: refused next to the amount, with the equivalent
    response = submit_pledge(montreal, campaign, "30", amount_currency="CAD", pay_currency="CAD", tier=str(reward.id))
    assert response.status_code == 400 and field_errors(response, "amount")
    html = unescape(text(response))
    assert "20.48" in re.search(r'id="amount-equivalent"[^>]*>(.*?)</p>', html, re.S).group(1)


def test_a_three_decimal_amount_the_processor_cannot_charge_is_refused(app):
    load_rates(TND="3.3910")
    user = UserFactory(verified=True, email="tunis@example.org", residence_country="TN")
    db.session.commit()
    client = app.test_client()
    sign_in(client, user)
    campaign = live_campaign("EUR", FundingModel.KEEP_IT_ALL)
    db.session.commit()
    response = submit_pledge(client, campaign, "40.005", amount_currency="TND", pay_currency="TND")
    assert response.status_code == 400 and "TND" in " ".join(field_errors(response, "amount"))


def test_the_amount_field_writes_the_readers_decimal_sign(app):
    from webapp.forms import local_input_value
    from webapp.money import Money

    from flask_babel import force_locale

    for lang, written in (("fr", "10,50"), ("en", "10.50"), ("pt", "10,50"), ("ar", "10.50")):
        with app.test_request_context(), force_locale(lang):
            assert local_input_value(Money(1_050, "EUR")) == written
    with app.test_request_context(), force_locale("fr"):
        assert local_input_value(Money(25_000, "XOF")) == "25000" and local_input_value(Money(2_005, "TND")) == "2,005"
