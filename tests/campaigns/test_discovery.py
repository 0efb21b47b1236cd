"""The home page lists live campaigns only, filtered, searched, sorted and paged; odd query strings never
break it; and it costs the same number of queries whatever the number of campaigns, tiers and updates."""
from __future__ import annotations

import itertools
import re
from datetime import timedelta
from html import unescape

import pytest
from flask import url_for

from tests.campaigns.helpers import counted_queries, page_text
from tests.factories import (
    CampaignFactory,
    CampaignUpdateFactory,
    OrganizationFactory,
    RewardTierFactory,
)
from webapp.campaigns.models import CampaignStatus, Category
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.payments.models import ChargeTiming, Pledge, PledgeStatus

_refs = itertools.count(1)


def pledge(campaign, amount: int, status=PledgeStatus.PAID) -> Pledge:
    n = next(_refs)
    p = Pledge(reference=f"ref-{n}", client_token=f"token-{n}", campaign_id=campaign.id, email=f"backer{n}@example.org",
               status=status, charge_timing=ChargeTiming.NOW, amount=amount, currency=campaign.currency,
               charge_amount=amount, charge_currency=campaign.currency, provider="sandbox")
    db.session.add(p)
    db.session.flush()
    return p


def live(title, *, days_ago=1, **kwargs):
    launched = utcnow() - timedelta(days=days_ago)
    return CampaignFactory(live=True, title=title, starts_at=launched, launched_at=launched,
                           ends_at=kwargs.pop("ends_at", launched + timedelta(days=30)), **kwargs)


def titles(response) -> list[str]:
    """The campaign titles listed on a home page, in order."""
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return [unescape(t) for t in re.findall(r'<h3[^>]*><a href="/campaigns/[^"]+">(.*?)</a></h3>', html)]


def home(client, **params):
    return client.get(url_for("campaigns.home", **params))


def test_home_lists_live_campaigns_only(client):
    live("Live water tower")
    for status in ("draft", "submitted"):
        CampaignFactory(title=f"A {status} campaign", **{status: True})
    CampaignFactory(title="An approved campaign", status=CampaignStatus.APPROVED)
    CampaignFactory(title="A changes-requested campaign", status=CampaignStatus.CHANGES_REQUESTED)
    CampaignFactory(title="A succeeded campaign", succeeded=True)
    CampaignFactory(title="A failed campaign", failed=True)

    response = home(client)

    assert titles(response) == ["Live water tower"]
    assert "1 campaign" in page_text(response)


def test_filters_by_category_country_and_region(client):
    live("Millet in Thiès", category=Category.AGRICULTURE, country="SN", region="SN-TH")
    live("Well in Dakar", category=Category.WATER, country="SN", region="SN-DK")
    live("Argan in Souss", category=Category.AGRICULTURE, country="MA", region="MA-09")

    assert sorted(titles(home(client, category="agriculture"))) == ["Argan in Souss", "Millet in Thiès"]
    assert sorted(titles(home(client, country="SN"))) == ["Millet in Thiès", "Well in Dakar"]
    assert titles(home(client, country="sn", region="sn-dk")) == ["Well in Dakar"]
    assert titles(home(client, category="agriculture", country="SN")) == ["Millet in Thiès"]
    assert titles(home(client, category="health")) == []


def test_the_country_list_offers_only_countries_with_live_campaigns(client):
    live("Well in Dakar", country="SN")
    CampaignFactory(title="Draft in Benin", country="BJ")

    html = home(client).get_data(as_text=True)

    assert '<option value="SN"' in html
    assert '<option value="BJ"' not in html


def test_search_looks_in_title_and_summary_ignoring_case(client):
    live("Moulin à grain pour Ndiaganiao", summary="Un moulin partagé.")
    live("Water tower", summary="A TANK for the whole village")
    live("School benches", summary="Forty benches.")

    assert titles(home(client, q="MOULIN")) == ["Moulin à grain pour Ndiaganiao"]
    assert titles(home(client, q="tank")) == ["Water tower"]
    assert titles(home(client, q="  Benches ")) == ["School benches"]
    assert titles(home(client, q="nothing like this")) == []


def test_search_ignores_case_of_accented_letters(client, app):
    live("ÉCOLE de Ziguinchor", summary="Des bancs.")

    found = titles(home(client, q="école"))

    if db.engine.dialect.name == "sqlite":
        # SQLite's lower() folds ASCII letters only: a known limitation of the SQLite run, not of production.
        pytest.xfail("SQLite lower() does not fold É; PostgreSQL does")
    assert found == ["ÉCOLE de Ziguinchor"]


def test_sort_newest_ending_and_most_funded(client):
    old = live("Old", days_ago=10, ends_at=utcnow() + timedelta(days=2), goal_amount=100_000)
    mid = live("Middle", days_ago=5, ends_at=utcnow() + timedelta(days=20), goal_amount=100_000)
    new = live("New", days_ago=1, ends_at=utcnow() + timedelta(days=9), goal_amount=100_000)
    pledge(mid, 90_000)
    pledge(old, 10_000)
    pledge(new, 40_000)
    pledge(new, 5_000, status=PledgeStatus.FAILED)  # money that never came does not count

    assert titles(home(client)) == ["New", "Middle", "Old"]
    assert titles(home(client, sort="newest")) == ["New", "Middle", "Old"]
    assert titles(home(client, sort="ending")) == ["Old", "New", "Middle"]
    assert titles(home(client, sort="funded")) == ["Middle", "New", "Old"]


def test_most_funded_compares_percentages_not_amounts(client):
    small = live("Small goal", goal_amount=10_000)
    large = live("Large goal", goal_amount=10_000_000)
    pledge(small, 9_000)  # 90 %
    pledge(large, 1_000_000)  # 10 %, but more money

    assert titles(home(client, sort="funded")) == ["Small goal", "Large goal"]


def test_pages_of_twelve(client, app):
    assert app.config["PAGE_SIZE"] == 12
    for n in range(13):
        live(f"Campaign {n:02d}", days_ago=n + 1)

    first, second = home(client), home(client, page=2)

    assert titles(first) == [f"Campaign {n:02d}" for n in range(12)]
    assert titles(second) == ["Campaign 12"]
    assert "Page 2 of 2" in page_text(second)
    assert 'href="/?page=2"' in first.get_data(as_text=True)
    assert titles(home(client, page=99)) == []


@pytest.mark.parametrize("params", [
    {"page": "abc"}, {"page": "-1"}, {"page": "0"}, {"page": "99999999999999999999"}, {"page": "1e3"},
    {"sort": "evil"}, {"sort": "id; DROP TABLE campaigns"}, {"category": "nope"}, {"country": "ZZZ"},
    {"country": "'"}, {"region": "XX-YY-ZZ-WW"}, {"q": "%"}, {"q": "_"}, {"q": "'; --"}, {"q": "x" * 5000},
    {"q": "\x00"}, {"country": "\x00"}, {"region": "S\x00"}, {"category": ["agriculture", "water"]},
])
def test_odd_query_strings_never_break_the_home_page(client, params):
    live("Well in Dakar")

    response = home(client, **params)

    assert response.status_code in (200, 400), response.status_code


def test_bad_page_and_sort_fall_back_to_the_defaults(client):
    live("Only one")

    assert titles(home(client, page="abc", sort="evil", category="nope")) == ["Only one"]


# -- a fixed number of queries ------------------------------------------------------------------
def home_queries(client) -> int:
    db.session.commit()
    db.session.expunge_all()  # nothing served from the test's identity map
    with counted_queries() as queries:
        assert home(client).status_code == 200
    # the progress of every card comes from one aggregate over the pledges, joined to the page's campaigns
    reading_pledges = [s for s in queries.statements if "pledges" in s]
    assert len(reading_pledges) == 1 and "GROUP BY" in reading_pledges[0].upper()
    return queries.count


def make_live_campaigns(n: int):
    org = OrganizationFactory()
    for i in range(n):
        campaign = live(f"Campaign {i}", organization=org if i % 2 else OrganizationFactory(), days_ago=i % 7 + 1)
        RewardTierFactory.create_batch(2, campaign=campaign)
        pledge(campaign, 1_000 + i)


def test_home_page_query_count_does_not_grow_with_campaigns(client, app):
    make_live_campaigns(3)
    few = home_queries(client)

    make_live_campaigns(27)
    many = home_queries(client)

    assert many == few, f"{few} queries for 3 campaigns, {many} for 30"


def campaign_page_queries(client, slug) -> int:
    db.session.commit()
    db.session.expunge_all()
    with counted_queries() as queries:
        assert client.get(url_for("campaigns.show", slug=slug)).status_code == 200
    return queries.count


def test_campaign_page_query_count_does_not_grow_with_tiers_or_updates(client):
    campaign = live("Mill")
    slug = campaign.slug
    RewardTierFactory(campaign=campaign)
    CampaignUpdateFactory(campaign=campaign)
    pledge(campaign, 5_000)
    few = campaign_page_queries(client, slug)

    campaign = db.session.scalar(db.select(type(campaign)).where(type(campaign).slug == slug))
    RewardTierFactory.create_batch(19, campaign=campaign)
    CampaignUpdateFactory.create_batch(19, campaign=campaign)
    for amount in range(1, 30):
        pledge(campaign, amount * 100)
    many = campaign_page_queries(client, slug)

    assert many == few, f"{few} queries with 1 tier and 1 update, {many} with 20 and 20"


def test_campaign_page_shows_progress_from_confirmed_pledges(client):
    campaign = live("Mill", goal_amount=100_000, currency="XOF")
    pledge(campaign, 20_000)
    pledge(campaign, 5_000)
    pledge(campaign, 70_000, status=PledgeStatus.PENDING)  # not money yet

    text = page_text(client.get(url_for("campaigns.show", slug=campaign.slug), headers={"Accept-Language": "fr"}))
    text = text.replace("\u202f", " ").replace("\xa0", " ")

    assert "25 000 F CFA" in text
    assert "25%" in text or "25 %" in text
