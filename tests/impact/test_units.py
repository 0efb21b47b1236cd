"""A common outcome's unit reads in the reader's language and number, whatever language the organizer declared it in."""
from __future__ import annotations

from decimal import Decimal

from flask import url_for
from flask_babel import force_locale

from tests.factories import IndicatorFactory, IndicatorValueFactory
from webapp.extensions import db
from webapp.impact.models import IndicatorSource
from webapp.impact.services.indicators import unit_of


def _jobs(unit: str):
    return IndicatorFactory(source=IndicatorSource.CATALOG, sdg_goal=8, sdg_target=None, catalog_key="jobs_created",
                            unit=unit, target=Decimal("2"))


def test_a_catalog_unit_declared_in_french_reads_in_english_and_counts_one_job(app):
    indicator = _jobs("emplois")  # a French organizer declared it: the catalog's unit, in French
    with app.test_request_context("/"):
        with force_locale("en"):
            assert unit_of(indicator, Decimal("1")) == "job"
            assert unit_of(indicator, Decimal("240")) == "jobs"
            assert unit_of(indicator) == "jobs"
        with force_locale("fr"):
            assert unit_of(indicator, 1) == "emploi"
            assert unit_of(indicator, Decimal("2.5")) == "emplois"


def test_a_unit_the_organizer_wrote_is_kept_as_written(app):
    indicator = _jobs("postes à plein temps")
    sdg = IndicatorFactory(unit="households")
    with app.test_request_context("/"), force_locale("en"):
        assert unit_of(indicator, 1) == "postes à plein temps"
        assert unit_of(sdg, 1) == "households"


def test_the_campaign_page_says_1_emploi_in_french_not_1_jobs(app):
    value = IndicatorValueFactory(indicator=_jobs("jobs"), value=Decimal("1"))
    db.session.commit()
    slug = value.indicator.campaign.slug
    with app.test_request_context("/"):
        url = url_for("campaigns.show", slug=slug)
    french = app.test_client().get(url, headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "1 emploi" in french and "1 jobs" not in french and "2 emplois" in french


def test_the_beneficiaries_page_names_each_ones_language_not_its_code(signed_in, editor, campaign, people):
    client = signed_in(editor)
    client.post("/language", data={"lang": "fr"})
    html = client.get(f"/manage/campaigns/{campaign.slug}/impact/beneficiaries").get_data(as_text=True)
    assert '<bdi lang="fr">Français</bdi>' in html and '<bdi lang="en">English</bdi>' in html
    assert ">fr<" not in html and ">en<" not in html
