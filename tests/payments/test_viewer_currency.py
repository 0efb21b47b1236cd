"""The viewer's currency: residence first among the guesses, an explicit choice above all, then browser, language."""
from __future__ import annotations

import re

import pytest
from flask import url_for

from tests.campaigns.helpers import sign_in
from tests.factories import UserFactory
from tests.payments.support import live_campaign, load_rates, pay, submit_pledge, text, tier
from webapp.extensions import db

#: 1 EUR = 1.5 CAD, 1.0825 USD, 10.842 MAD
RATES = dict(CAD="1.5000", USD="1.0825", MAD="10.8420")


def approximations(page: str) -> list[str]:
    """Every '≈ figure' the page shows."""
    return re.findall(r'<span class="approx"[^>]*>≈ ([^<]+?) <small>', page)


@pytest.fixture
def campaign():
    load_rates(**RATES)
    campaign = live_campaign("EUR", goal=10_000)  # €100
    tier(campaign, 2_000, title="A jar of argan oil")  # €20
    db.session.commit()
    return campaign


@pytest.fixture
def montreal(app):
    user = UserFactory(verified=True, email="youssef@example.org", locale="en", residence_country="CA")
    db.session.commit()
    client = app.test_client()
    sign_in(client, user)
    return client, user


def raise_twenty(app, campaign):
    backer = app.test_client()
    response = submit_pledge(backer, campaign, "20")
    assert response.status_code == 303, text(response)
    pay(backer, response)


def test_a_member_living_in_canada_reads_cad_on_home_campaign_and_pledge_pages(app, campaign, montreal):
    client, _user = montreal
    raise_twenty(app, campaign)
    home = text(client.get(url_for("campaigns.home")))
    assert "CA$150.00" in approximations(home)  # the goal on the card
    assert "CA$30.00" in approximations(home)  # the raised total on the card
    show = text(client.get(url_for("campaigns.show", slug=campaign.slug)))
    assert {"CA$150.00", "CA$30.00"} <= set(approximations(show))  # goal, raised, and the €20 tier (CA$30)
    assert "rate of Nov 27, 2026" in show
    assert show.count("CA$30.00") >= 2  # raised and the tier both read in CAD
    form = text(client.get(url_for("payments.pledge", slug=campaign.slug)))
    assert {"CA$150.00", "CA$30.00"} <= set(approximations(form)) and "rate of Nov 27, 2026" in form
    assert not any("US$" in a or a.startswith("$") for a in approximations(home + show + form))


def test_residence_beats_the_browser_and_the_language(client, campaign, montreal):
    member, _user = montreal
    page = text(member.get(url_for("campaigns.show", slug=campaign.slug), headers={"Accept-Language": "fr-FR"}))
    assert "CA$150.00" in approximations(page)  # not the browser's FR (euros: nothing to approximate)


def test_a_visitor_whose_browser_says_fr_ca_reads_cad(client, campaign):
    page = text(client.get(url_for("campaigns.show", slug=campaign.slug), headers={"Accept-Language": "fr-CA,fr;q=0.8"}))
    assert "150,00\u00a0$CA" in approximations(page)


def test_a_visitor_whose_browser_says_only_fr_reads_the_campaigns_euros_with_no_approximation(client):
    load_rates(**RATES)
    campaign = live_campaign("CAD", goal=15_000)  # CA$150 = €100
    db.session.commit()
    page = text(client.get(url_for("campaigns.show", slug=campaign.slug), headers={"Accept-Language": "fr"}))
    assert "100,00\u00a0€" in approximations(page)
    euro_page = text(client.get(url_for("campaigns.show", slug=live_campaign("EUR").slug),
                                headers={"Accept-Language": "fr"}))
    assert approximations(euro_page) == []  # the viewer's currency is the campaign's own: nothing to approximate


def test_an_explicit_choice_beats_residence_for_a_member(campaign, montreal):
    client, user = montreal
    assert client.post("/currency", data={"currency": "MAD"}).status_code == 302
    db.session.refresh(user)
    assert user.display_currency == "MAD"
    page = text(client.get(url_for("campaigns.show", slug=campaign.slug)))
    assert "MAD\u00a01,084.20" in approximations(page) or "MAD 1,084.20" in approximations(page)
    assert not any("CA$" in a for a in approximations(page))
    # clearing the choice goes back to the residence
    client.post("/currency", data={"currency": ""})
    assert "CA$150.00" in approximations(text(client.get(url_for("campaigns.show", slug=campaign.slug))))


def test_an_explicit_choice_beats_the_browser_for_a_visitor(client, campaign):
    client.post("/currency", data={"currency": "USD"})
    page = text(client.get(url_for("campaigns.show", slug=campaign.slug), headers={"Accept-Language": "fr-CA"}))
    assert any("108,25" in a for a in approximations(page)) and not any("$CA" in a for a in approximations(page))


def test_the_montreal_demo_members_read_cad(app, campaign):
    from webapp.demo import ACCOUNTS
    from webapp.mutual_aid.demo import PEOPLE

    people = [(row[0], row[3], row[4]) for row in ACCOUNTS] + [(row[0], row[2], row[3]) for row in PEOPLE]
    montrealers = [p for p in people if p[0] in ("engineer@harambee.test", "student@harambee.test")]
    assert len(montrealers) == 2
    for email, locale, country in montrealers:
        user = UserFactory(verified=True, email=email, locale=locale, residence_country=country)
        db.session.commit()
        client = app.test_client()
        sign_in(client, user)
        page = text(client.get(url_for("campaigns.show", slug=campaign.slug)))
        assert any("CA" in a and "150" in a for a in approximations(page)), (email, approximations(page))
