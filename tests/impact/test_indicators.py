"""Declaring indicators (SDG targets, catalog outcomes, the organization's own), the SDG data, values per report,
the beneficiaries' list, and discovery's filter by goal."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from flask import url_for
from sqlalchemy import select

from tests.factories import CampaignFactory, IndicatorFactory
from webapp.extensions import db
from webapp.impact import sdg
from webapp.impact.models import Beneficiary, Indicator, IndicatorSource, IndicatorValue

FORM = {"source": "sdg", "sdg_target": "6.1", "catalog_key": "", "title": "", "unit": "households",
        "baseline": "0", "target": "1 200", "target_date": "2027-12-31"}


def test_the_sdg_data_has_17_goals_and_169_targets_in_the_four_un_languages():
    goals = sdg.goals()
    assert [g.number for g in goals] == list(range(1, 18))
    targets = [t for g in goals for t in g.targets]
    assert len(targets) == 169
    assert [t.code for t in sdg.goal(6).targets] == ["6.1", "6.2", "6.3", "6.4", "6.5", "6.6", "6.a", "6.b"]
    for t in targets:
        assert set(t.titles) == {"en", "fr", "es", "ar"}, t.code
    for g in goals:
        assert set(g.shorts) == {"en", "fr", "es", "ar", "pt"} and set(g.titles) == {"en", "fr", "es", "ar"}
    assert sdg.goal(6).short("pt") == "Água potável e saneamento"
    assert sdg.target("6.1").title("pt") == sdg.target("6.1").title("en"), "targets fall back to English in pt"
    assert sdg.target("6.1").title("ar").startswith("تحقيق")
    assert sdg.target("99.1") is None and sdg.goal(18) is None


def test_an_editor_declares_an_sdg_indicator(signed_in, editor, campaign):
    client = signed_in(editor)
    response = client.post(url_for("impact.manage", slug=campaign.slug), data=FORM)
    assert response.status_code == 302
    indicator = db.session.scalar(select(Indicator))
    assert (indicator.source, indicator.sdg_goal, indicator.sdg_target, indicator.target) == (
        IndicatorSource.SDG, 6, "6.1", Decimal("1200"))


def test_a_catalog_outcome_brings_its_unit_and_goal(signed_in, editor, campaign):
    client = signed_in(editor)
    data = {**FORM, "source": "catalog", "catalog_key": "jobs_created", "unit": ""}
    assert client.post(url_for("impact.manage", slug=campaign.slug), data=data).status_code == 302
    indicator = db.session.scalar(select(Indicator))
    assert (indicator.unit, indicator.sdg_goal, indicator.sdg_target) == ("jobs", 8, None)


def test_an_indicator_of_our_own_needs_its_title(signed_in, editor, campaign):
    client = signed_in(editor)
    data = {**FORM, "source": "custom", "sdg_target": ""}
    response = client.post(url_for("impact.manage", slug=campaign.slug), data=data)
    assert response.status_code == 400 and "Say what the indicator measures." in response.get_data(as_text=True)
    data["title"] = "Families with a tap at home"
    assert client.post(url_for("impact.manage", slug=campaign.slug), data=data).status_code == 302
    assert db.session.scalar(select(Indicator.sdg_goal)) is None


def test_bad_indicator_input_is_a_400_with_the_reason_beside_the_field(signed_in, editor, campaign):
    client = signed_in(editor)
    cases = [({"sdg_target": "6.9"}, "Choose one of the SDG targets."),
             ({"source": "catalog", "catalog_key": "nonsense"}, "Choose one of the common outcomes."),
             ({"target": "lots"}, "Give a number"),
             ({"baseline": "1e999"}, "too large"),
             ({"target": "1.234"}, "At most two decimals."),
             ({"source": "everything"}, "Not a valid choice"),
             ({"target_date": "tomorrow"}, "This field is required."),
             ({"unit": ""}, "Say what the figures count")]
    for change, message in cases:
        response = client.post(url_for("impact.manage", slug=campaign.slug), data={**FORM, **change})
        assert response.status_code == 400, change
        assert message in response.get_data(as_text=True), change
    assert db.session.scalar(select(Indicator.id)) is None


def test_an_indicator_with_values_cannot_be_removed(signed_in, editor, campaign, value, indicator):
    client = signed_in(editor)
    response = client.post(url_for("impact.remove_indicator", slug=campaign.slug, indicator_id=indicator.id))
    assert response.status_code == 409
    fresh = IndicatorFactory(campaign=campaign)
    db.session.commit()
    assert client.post(url_for("impact.remove_indicator", slug=campaign.slug, indicator_id=fresh.id)).status_code == 302
    assert db.session.get(Indicator, fresh.id) is None


def test_a_report_gives_values_and_bad_ones_are_refused(signed_in, editor, campaign, report, indicator):
    client = signed_in(editor)
    url = url_for("impact.report_values", slug=campaign.slug, report_id=report.id)
    future = (date.today() + timedelta(days=2)).isoformat()
    for data, message in (({f"value_{indicator.id}": "many", f"measured_on_{indicator.id}": "2026-11-01"}, "Give a number"),
                          ({f"value_{indicator.id}": "40", f"measured_on_{indicator.id}": future}, "in the future"),
                          ({f"value_{indicator.id}": "40", f"measured_on_{indicator.id}": "soon"}, "Give the date")):
        response = client.post(url, data=data)
        assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert client.post(url, data={f"value_{indicator.id}": "40,5", f"measured_on_{indicator.id}": "2026-11-01",
                                  f"note_{indicator.id}": "Counted house by house"}).status_code == 302
    recorded = db.session.scalar(select(IndicatorValue))
    assert (recorded.value, recorded.note, recorded.campaign_id) == (Decimal("40.5"), "Counted house by house", campaign.id)


def test_another_campaigns_report_is_404(signed_in, editor, campaign, org):
    from tests.factories import ProgressReportFactory

    other = ProgressReportFactory(campaign=CampaignFactory(succeeded=True, organization=org))
    client = signed_in(editor)
    assert client.get(url_for("impact.report_values", slug=campaign.slug, report_id=other.id)).status_code == 404


def test_a_beneficiary_is_listed_with_consent_and_minimal_data(signed_in, editor, campaign):
    client = signed_in(editor)
    url = url_for("impact.beneficiary_list", slug=campaign.slug)
    base = {"phone": "+229 97 12-34-56", "email": "", "locale": "fr", "consent": "y",
            "consent_on": date.today().isoformat()}
    for change, message in (({"consent": ""}, "only once they agreed"),
                            ({"phone": "97123456"}, "international form"),
                            ({"phone": ""}, "Give a phone number or an email address."),
                            ({"email": "not an address", "phone": ""}, "Invalid email address"),
                            ({"consent_on": (date.today() + timedelta(days=1)).isoformat()}, "in the future"),
                            ({"locale": "xx"}, "Not a valid choice")):
        response = client.post(url, data={**base, **change})
        assert response.status_code == 400, change
        assert message in response.get_data(as_text=True), change
    assert client.post(url, data=base).status_code == 302
    person = db.session.scalar(select(Beneficiary))
    assert (person.phone, person.email, person.consent_on, person.recorded_by_id) == (
        "+22997123456", None, date.today(), editor.id)
    again = client.post(url, data=base)
    assert again.status_code == 400 and "already on the list" in again.get_data(as_text=True)
    listing = client.get(url).get_data(as_text=True)
    assert "+22997123456" not in listing and "+229…56" in listing, "the list masks the number"


def test_removing_a_beneficiary_deletes_the_contact_and_keeps_the_count(signed_in, editor, campaign, value, people, sms):
    from tests.impact.test_confirmations import ask_and_send
    from webapp.impact.models import ConfirmationRequest

    ask_and_send(value)
    client = signed_in(editor)
    person = people["by_phone"]
    response = client.post(url_for("impact.remove_beneficiary", slug=campaign.slug, beneficiary_id=person.id))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Beneficiary, person.id) is None
    assert db.session.scalar(select(db.func.count()).select_from(ConfirmationRequest)) == 4


def test_discovery_filters_by_sdg_goal(app, org):
    water = CampaignFactory(live=True, organization=org, slug="water-for-all", title="Water for all")
    jobs = CampaignFactory(live=True, organization=org, slug="bakery-jobs", title="Bakery jobs")
    CampaignFactory(live=True, organization=org, slug="no-indicator", title="A quiet campaign")
    IndicatorFactory(campaign=water)
    IndicatorFactory(campaign=jobs, source=IndicatorSource.CATALOG, catalog_key="jobs_created", sdg_goal=8,
                     sdg_target=None, unit="jobs")
    db.session.commit()
    client = app.test_client()

    six = client.get(url_for("campaigns.home", sdg="6")).get_data(as_text=True)
    assert "Water for all" in six and "Bakery jobs" not in six and "A quiet campaign" not in six
    assert '<option value="6" selected>' in six
    eight = client.get(url_for("campaigns.home", sdg="8")).get_data(as_text=True)
    assert "Bakery jobs" in eight and "Water for all" not in eight
    for ignored in ("99", "abc", "٦", "0"):
        everything = client.get(url_for("campaigns.home", sdg=ignored))
        assert everything.status_code == 200
        assert "A quiet campaign" in everything.get_data(as_text=True), ignored
