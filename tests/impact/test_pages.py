"""What the campaign page, the transparency page and the exports show of indicators and confirmations."""
from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal

import pytest
from flask import url_for

from tests.factories import CampaignFactory, IndicatorFactory, IndicatorValueFactory
from tests.impact.test_confirmations import ask_and_send, token_of
from webapp.extensions import cache, db
from webapp.impact.models import ConfirmationAnswer


def answer_all(app, requests, answers):
    client = app.test_client()
    for request, data in zip(requests, answers):
        assert client.post(url_for("impact.confirm", token=token_of(request)), data=data).status_code == 200


def test_counts_are_shown_beside_the_value_and_who_said_it_is_not(app, campaign, value, people, sms):
    requests = ask_and_send(value)
    answer_all(app, requests, [
        {"verdict": "confirm", "comment": "I saw the wells.", "signed_name": "Kossi"},
        {"verdict": "confirm"},
        {"verdict": "doubt", "comment": "Ours is dry."},
    ])
    html = app.test_client().get(url_for("campaigns.show", slug=campaign.slug)).get_data(as_text=True)

    assert "Confirmed by 2 of 4 asked; 1 doubts it." in html
    assert "Confirmed by 2 of 2 beneficiaries asked; 1 doubts it." not in html  # per group, from its own counts
    assert "48 households" in html and "From 10 to 120 households" in html
    assert "“I saw the wells.” — Kossi" in html, "a person who signed is named beside their comment"
    assert "“Ours is dry.” — unsigned" in html
    for contact in ("+22997000001", "kossi@example.org", "member@example.org", "guest@example.org"):
        assert contact not in html


def test_the_per_group_lines_count_each_group(app, campaign, value, people, sms):
    requests = ask_and_send(value)  # ordered: the two beneficiaries, the member, the backer
    answer_all(app, requests[:3], [{"verdict": "confirm"}, {"verdict": "doubt"}, {"verdict": "confirm"}])
    html = app.test_client().get(url_for("campaigns.show", slug=campaign.slug)).get_data(as_text=True)
    assert "Confirmed by 1 of 2 beneficiaries asked; 1 doubts it." in html
    assert "Confirmed by 1 of 1 members asked." in html
    assert "Confirmed by 0 of 1 backers asked." in html


def test_the_transparency_page_shows_the_indicators(app, campaign, value, people, sms):
    answer_all(app, ask_and_send(value)[:1], [{"verdict": "confirm"}])
    html = app.test_client().get(url_for("money.transparency", slug=campaign.slug)).get_data(as_text=True)
    assert "Confirmed by 1 of 4 asked." in html and "48 households" in html


def test_an_sdg_indicator_reads_its_target_in_the_visitors_language(app, campaign, indicator):
    client = app.test_client()
    english = client.get(url_for("campaigns.show", slug=campaign.slug)).get_data(as_text=True)
    assert "By 2030, achieve universal and equitable access to safe and affordable drinking water for all" in english
    french = app.test_client().get(url_for("campaigns.show", slug=campaign.slug), headers={"Accept-Language": "fr"})
    assert "assurer l’accès universel et équitable à l’eau potable" in french.get_data(as_text=True)


@pytest.fixture
def page_cache(app):
    saved = {name: app.config[name] for name in ("CACHE_TYPE", "PAGE_CACHE_SECONDS")}
    app.config.update(CACHE_TYPE="SimpleCache", PAGE_CACHE_SECONDS=300)
    cache.init_app(app, config={"CACHE_TYPE": "SimpleCache"})
    try:
        yield cache
    finally:
        cache.clear()
        app.config.update(saved)
        cache.init_app(app, config={"CACHE_TYPE": saved["CACHE_TYPE"]})


def test_an_answer_refreshes_the_cached_campaign_page(app, campaign, value, people, sms, page_cache):
    requests = ask_and_send(value)
    visitor = app.test_client()
    first = visitor.get(url_for("campaigns.show", slug=campaign.slug)).get_data(as_text=True)
    assert "Confirmed by 0 of 4 asked." in first
    assert "Confirmed by 0 of 4 asked." in visitor.get(url_for("campaigns.show", slug=campaign.slug)).get_data(as_text=True)

    answer_all(app, requests[:1], [{"verdict": "confirm"}])

    again = app.test_client().get(url_for("campaigns.show", slug=campaign.slug)).get_data(as_text=True)
    assert "Confirmed by 1 of 4 asked." in again, "the answer's commit replaced the campaign's cache version"


# -- exports --------------------------------------------------------------------------------------
def test_the_csv_export_lists_values_with_counts_and_neutralizes_formulas(app, org, campaign, value, people, sms):
    IndicatorFactory(campaign=campaign, custom=True, title="=HYPERLINK(\"http://evil\")", unit="+people")
    answer_all(app, ask_and_send(value)[:2], [{"verdict": "confirm"}, {"verdict": "doubt"}])
    response = app.test_client().get(url_for("impact.export_csv", slug=org.slug))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 2
    first, second = rows
    assert (first["value"], first["asked"], first["confirmed"], first["doubted"]) == ("48.00", "4", "1", "1")
    assert first["sdg_target"] == "6.1" and first["sdg_goal"] == "6"
    assert second["indicator"].startswith("'=") and second["unit"] == "'+people"
    assert second["value"] == "", "an indicator without values still has its row"


def test_the_json_export_holds_the_same_rows(app, org, campaign, value, people, sms):
    answer_all(app, ask_and_send(value)[:1], [{"verdict": "confirm"}])
    response = app.test_client().get(url_for("impact.export_json", slug=org.slug))
    document = json.loads(response.get_data(as_text=True))
    assert document["organization"]["slug"] == org.slug
    [row] = document["indicators"]
    assert row["campaign_slug"] == campaign.slug and row["value"] == "48.00" and row["confirmed"] == 1
    assert row["target"] == "120.00" and row["target_date"] == "2027-06-30"


def test_exports_leave_out_campaigns_that_are_not_public(app, org):
    draft = CampaignFactory(draft=True, organization=org, slug="secret-plan")
    IndicatorFactory(campaign=draft)
    document = json.loads(app.test_client().get(url_for("impact.export_json", slug=org.slug)).get_data(as_text=True))
    assert document["indicators"] == []


def test_exports_of_an_unknown_organization_are_404(app):
    assert app.test_client().get(url_for("impact.export_csv", slug="nobody")).status_code == 404


def test_the_impact_section_costs_the_same_queries_whatever_the_number_of_values(app, campaign, report):
    from tests.campaigns.helpers import counted_queries
    from tests.factories import ProgressReportFactory
    from webapp.impact.services.display import campaign_impact

    def cost() -> int:
        db.session.expire_all()
        with app.test_request_context(), counted_queries() as q:
            campaign_impact(campaign, "en")
        return q.count

    IndicatorValueFactory(indicator=IndicatorFactory(campaign=campaign), report=report)
    small = cost()
    for n in range(4):
        indicator = IndicatorFactory(campaign=campaign, custom=True, title=f"Outcome {n}")
        for _ in range(3):
            IndicatorValueFactory(indicator=indicator, report=ProgressReportFactory(campaign=campaign))
    assert cost() == small <= 7  # the campaign reloaded after expire_all, indicators, values and reports, three counts


def test_the_report_page_lists_its_values_with_their_counts(app, campaign, report, value, people, sms):
    answer_all(app, ask_and_send(value)[:1], [{"verdict": "confirm"}])
    html = app.test_client().get(url_for("progress_reports.show", slug=campaign.slug, report_id=report.id))
    text = html.get_data(as_text=True)
    assert "48 households" in text and "Confirmed by 1 of 4 asked." in text
