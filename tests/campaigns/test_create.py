"""Creating a campaign through the form: the success path, and every bad input refused next to its field
with nothing written."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from flask import url_for
from PIL import Image

from tests.campaigns.helpers import campaign_form, committed_count, count, field_errors, sign_in, today
from tests.factories import CampaignFactory, OrganizationFactory, UserFactory
from webapp.campaigns.models import Campaign, CampaignStatus, FundingModel
from webapp.extensions import db


def new_campaign_url(org) -> str:
    return url_for("manage.new_campaign", org_slug=org.slug)


def png_bytes(size=(64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(out, format="PNG")
    return out.getvalue()


def test_new_campaign_form_is_offered_to_an_editor_with_the_organization_country(editor_client, org):
    response = editor_client.get(new_campaign_url(org))

    assert response.status_code == 200
    assert 'name="goal"' in response.get_data(as_text=True)


def test_editor_creates_a_draft_with_a_cover(editor_client, editor, org):
    data = campaign_form(cover=(io.BytesIO(png_bytes()), "mill.png"))

    response = editor_client.post(new_campaign_url(org), data=data, content_type="multipart/form-data")

    assert response.status_code == 302
    campaign = db.session.scalar(db.select(Campaign))
    assert response.location == url_for("manage.edit_campaign", slug=campaign.slug)
    assert campaign.status == CampaignStatus.DRAFT
    assert campaign.slug == "a-grain-mill-for-ndiaganiao"
    assert campaign.organization_id == org.id and campaign.created_by_id == editor.id
    assert (campaign.goal_amount, campaign.currency) == (1_500_000, "XOF")
    assert campaign.region == "SN-TH"
    assert campaign.story_html == "<p>We are raising money for a <strong>mill</strong>.</p>\n"
    assert campaign.starts_at.date() == today()
    # the end date is the last day of the campaign: it ends at the following midnight (UTC)
    assert campaign.ends_at.date() == today() + timedelta(days=30)
    assert campaign.cover_key and campaign.cover_key.endswith(".jpg")
    assert editor_client.get(url_for("storage.upload", key=campaign.cover_key)).status_code == 200


def test_french_amounts_are_read_in_french(editor_client, org):
    data = campaign_form(currency="EUR", goal="12 345,50", funding_model="minimum_optimum", minimum="5 000")

    response = editor_client.post(new_campaign_url(org), data=data, headers={"Accept-Language": "fr"})

    assert response.status_code == 302
    campaign = db.session.scalar(db.select(Campaign))
    assert (campaign.goal_amount, campaign.minimum_amount, campaign.currency) == (1_234_550, 500_000, "EUR")
    assert campaign.funding_model == FundingModel.MINIMUM_OPTIMUM


def test_tnd_goal_takes_three_decimals(editor_client, org):
    response = editor_client.post(new_campaign_url(org), data=campaign_form(currency="TND", goal="12500.125"))

    assert response.status_code == 302
    assert db.session.scalar(db.select(Campaign.goal_amount)) == 12_500_125


def test_a_taken_title_gets_a_numbered_address(editor_client, org):
    CampaignFactory(slug="a-grain-mill-for-ndiaganiao")

    response = editor_client.post(new_campaign_url(org), data=campaign_form())

    assert response.status_code == 302
    assert count(Campaign, Campaign.slug == "a-grain-mill-for-ndiaganiao-2") == 1


def test_a_sixty_day_campaign_is_accepted(editor_client, org):
    data = campaign_form(end_date=(today() + timedelta(days=59)).isoformat())

    assert editor_client.post(new_campaign_url(org), data=data).status_code == 302


# -- refusals: 400, the message next to the field, nothing written ---------------------------
def _refused(client, org, data, field, message, **kwargs):
    db.session.commit()
    before = count(Campaign)
    response = client.post(new_campaign_url(org), data=data, **kwargs)
    assert response.status_code == 400, (response.status_code, response.location)
    errors = field_errors(response, field)
    assert any(message in e for e in errors), f"{field} errors: {errors}"
    assert committed_count(Campaign) == before
    return response


@pytest.mark.parametrize("goal, message", [
    ("-5000", "The amount must be greater than zero."),
    ("0", "The amount must be greater than zero."),
    ("1e30", "That amount is too large."),
    ("99999999999999", "That amount is too large."),
    ("25000.5", "XOF amounts take no decimals."),
    ("abc", "Enter an amount as a number"),
    ("NaN", "Enter an amount as a number."),
    ("", "This field is required."),
])
def test_bad_goal_is_refused_next_to_the_goal(editor_client, org, goal, message):
    _refused(editor_client, org, campaign_form(goal=goal), "goal", message)


def test_eur_goal_with_three_decimals_is_refused(editor_client, org):
    _refused(editor_client, org, campaign_form(currency="EUR", goal="100.005"), "goal",
             "EUR amounts take at most 2 decimals.")


def test_tnd_goal_with_four_decimals_is_refused(editor_client, org):
    _refused(editor_client, org, campaign_form(currency="TND", goal="1.0001"), "goal",
             "TND amounts take at most 3 decimals.")


@pytest.mark.parametrize("currency", ["BRL", "XYZ", "eur", ""])
def test_a_currency_outside_the_list_is_refused(editor_client, org, currency):
    _refused(editor_client, org, campaign_form(currency=currency, goal="1000"), "currency", "")


def test_end_before_start_is_refused(editor_client, org):
    data = campaign_form(start_date=(today() + timedelta(days=10)).isoformat(),
                         end_date=(today() + timedelta(days=5)).isoformat())
    _refused(editor_client, org, data, "end_date", "The end must come after the start.")


def test_a_sixty_one_day_campaign_is_refused(editor_client, org):
    data = campaign_form(end_date=(today() + timedelta(days=60)).isoformat())
    _refused(editor_client, org, data, "end_date", "this one runs 61")


def test_an_end_date_in_the_past_is_refused(editor_client, org):
    data = campaign_form(start_date=(today() - timedelta(days=20)).isoformat(),
                         end_date=(today() - timedelta(days=1)).isoformat())
    _refused(editor_client, org, data, "end_date", "The end date has already passed.")


@pytest.mark.parametrize("field, value", [("start_date", "31/12/2030"), ("end_date", "tomorrow")])
def test_a_malformed_date_is_refused(editor_client, org, field, value):
    _refused(editor_client, org, campaign_form(**{field: value}), field, "")


def test_an_address_already_taken_chosen_explicitly_is_refused(editor_client, org):
    CampaignFactory(slug="mill-2030")
    _refused(editor_client, org, campaign_form(slug="mill-2030"), "slug",
             "Another campaign already uses this address.")


@pytest.mark.parametrize("slug", ["Mill 2030", "mill--2030", "-mill", "moulin-à-grain"])
def test_an_address_with_other_characters_is_refused(editor_client, org, slug):
    response = editor_client.post(new_campaign_url(org), data=campaign_form(slug=slug))
    assert response.status_code == 400
    assert field_errors(response, "slug")
    assert committed_count(Campaign) == 0


def test_a_file_that_is_not_an_image_is_refused(editor_client, org):
    data = campaign_form(cover=(io.BytesIO(b"%PDF-1.4 not an image at all"), "cover.jpg"))
    _refused(editor_client, org, data, "cover", "This file is not an image we can read.",
             content_type="multipart/form-data")


def test_an_image_over_the_size_limit_is_refused(editor_client, org, app):
    limit = app.config["MAX_IMAGE_BYTES"]
    big = png_bytes()
    big += b"\0" * (limit + 1 - len(big))  # a real PNG, padded past the limit
    data = campaign_form(cover=(io.BytesIO(big), "big.png"))
    _refused(editor_client, org, data, "cover", "The image is too large", content_type="multipart/form-data")


def test_a_request_over_the_body_limit_is_refused_with_413(editor_client, org, app):
    data = campaign_form(cover=(io.BytesIO(b"\0" * (app.config["MAX_CONTENT_LENGTH"] + 1)), "huge.png"))

    response = editor_client.post(new_campaign_url(org), data=data, content_type="multipart/form-data")

    assert response.status_code == 413
    assert committed_count(Campaign) == 0


@pytest.mark.parametrize("field, length", [("title", 121), ("summary", 201)])
def test_overlong_title_or_summary_is_refused(editor_client, org, field, length):
    _refused(editor_client, org, campaign_form(**{field: "x" * length}), field, "")


@pytest.mark.parametrize("field, length", [("title", 120), ("summary", 200)])
def test_title_and_summary_at_their_limit_are_accepted(editor_client, org, field, length):
    response = editor_client.post(new_campaign_url(org), data=campaign_form(**{field: "x" * length}))
    assert response.status_code == 302


@pytest.mark.parametrize("region", ["MA-12", "FR-IDF", "SN-XX", "dakar"])
def test_a_region_outside_the_country_is_refused(editor_client, org, region):
    _refused(editor_client, org, campaign_form(country="SN", region=region), "region",
             "Choose a region of the chosen country.")


def test_an_unknown_country_is_refused(editor_client, org):
    _refused(editor_client, org, campaign_form(country="ZZ", region=""), "country", "Choose a country")


def test_a_minimum_above_the_optimum_is_refused(editor_client, org):
    data = campaign_form(funding_model="minimum_optimum", goal="1 000 000", minimum="1 000 001")
    _refused(editor_client, org, data, "minimum", "The minimum cannot be more than the optimum.")


def test_minimum_and_optimum_without_a_minimum_is_refused(editor_client, org):
    data = campaign_form(funding_model="minimum_optimum", minimum="")
    _refused(editor_client, org, data, "minimum", "Minimum-and-optimum campaigns need a minimum.")


def test_a_minimum_with_decimals_in_francs_cfa_is_refused(editor_client, org):
    data = campaign_form(funding_model="minimum_optimum", minimum="1000.5")
    _refused(editor_client, org, data, "minimum", "XOF amounts take no decimals.")


@pytest.mark.parametrize("field, value", [("category", "weapons"), ("funding_model", "pyramid")])
def test_tampered_choices_are_refused(editor_client, org, field, value):
    _refused(editor_client, org, campaign_form(**{field: value}), field, "")


def test_a_member_of_another_organization_cannot_create_a_campaign_here(app, org):
    outsider = UserFactory()
    OrganizationFactory(owner=outsider)
    client = app.test_client()
    sign_in(client, outsider)

    response = client.post(new_campaign_url(org), data=campaign_form())

    assert response.status_code == 403
    assert committed_count(Campaign) == 0


def test_a_nul_character_in_a_text_field_never_breaks_the_form(editor_client, org):
    response = editor_client.post(new_campaign_url(org), data=campaign_form(title="Mill\x00", story_md="A\x00B"))

    assert response.status_code in (302, 400)
