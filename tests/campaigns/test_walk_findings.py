"""Findings of the walk through the paths (issue 11) on the campaign and moderation pages."""
from __future__ import annotations

from datetime import date

from flask import url_for

from tests.campaigns.helpers import page_text
from tests.factories import CampaignFactory, RewardTierFactory
from webapp.extensions import db


def test_the_moderator_reviews_the_cover_and_the_tiers_as_the_public_will_see_them(moderator_client, org):
    campaign = CampaignFactory(submitted=True, organization=org, cover_key="covers/mill.jpg",
                               story_md="A **mill**.", story_html="<p>A <strong>mill</strong>.</p>")
    RewardTierFactory(campaign=campaign, title="A bag of flour", description="Five kilos of millet flour.",
                      minimum_amount=25_000, quantity_limit=40, delivery_month=date(2027, 3, 1))
    db.session.commit()
    response = moderator_client.get(url_for("moderation.review", slug=campaign.slug))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text = page_text(response)
    assert "covers/mill.jpg" in html  # the cover the public will see
    assert "A bag of flour" in text and "Five kilos of millet flour." in text  # the tier's description
    assert "25,000" in text or "25 000" in text or "25\u202f000" in text  # its minimum
    assert "40" in text and "limited to 40" in text  # its quantity
    assert "March 2027" in text  # its delivery month
    assert "<strong>mill</strong>" in html  # the story rendered
    assert f'href="{url_for("campaigns.show", slug=campaign.slug)}"' in html  # the preview


def test_the_update_form_sits_with_the_campaigns_editing_not_on_the_public_page(editor_client, org):
    campaign = CampaignFactory(organization=org, live=True, slug="live-mill")
    db.session.commit()
    post_url = url_for("manage.post_update", slug=campaign.slug)
    public = editor_client.get(url_for("campaigns.show", slug=campaign.slug)).get_data(as_text=True)
    assert f'action="{post_url}"' not in public
    assert url_for("manage.edit_campaign", slug=campaign.slug) + "#post-update" in public  # a way there
    editing = editor_client.get(url_for("manage.edit_campaign", slug=campaign.slug)).get_data(as_text=True)
    assert f'action="{post_url}"' in editing
    refused = editor_client.post(post_url, data={"title": "", "body": "News"})
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert f'action="{post_url}"' in html and 'id="update-title-errors"' in html
    assert 'id="story_md"' in html  # the editing page, with its form, not the public page


def test_a_finished_campaign_still_takes_updates_from_its_editing_page(editor_client, org):
    campaign = CampaignFactory(organization=org, succeeded=True, slug="done-mill")
    db.session.commit()
    editing = editor_client.get(url_for("manage.edit_campaign", slug=campaign.slug))
    assert editing.status_code == 200
    assert f'action="{url_for("manage.post_update", slug=campaign.slug)}"' in editing.get_data(as_text=True)


def _minimum_optimum(org, **kwargs):
    from webapp.campaigns.models import FundingModel

    return CampaignFactory(organization=org, funding_model=FundingModel.MINIMUM_OPTIMUM, goal_amount=2_000_000,
                           minimum_amount=500_000, **kwargs)


def test_a_minimum_and_optimum_campaign_charges_when_its_minimum_is_reached_and_says_so(app, org):
    from webapp.campaigns.labels import charge_terms

    with app.test_request_context("/"):
        terms = charge_terms(_minimum_optimum(org, live=True))
        all_or_nothing = charge_terms(CampaignFactory(organization=org, live=True))
    assert "reaches its minimum of" in terms and "500" in terms and "goal" not in terms
    assert "reaches its goal" in all_or_nothing


def test_an_ended_minimum_and_optimum_campaign_names_its_minimum(client, org):
    done = _minimum_optimum(org, succeeded=True, slug="done")
    failed = _minimum_optimum(org, failed=True, slug="failed")
    db.session.commit()
    text = page_text(client.get(url_for("campaigns.show", slug=done.slug)))
    assert "reached its minimum of" in text and "reached its goal" not in text
    text = page_text(client.get(url_for("campaigns.show", slug=failed.slug)))
    assert "without reaching its minimum of" in text and "reaching its goal" not in text


def test_the_pledge_receipt_email_of_a_minimum_and_optimum_campaign_names_its_minimum(app, org):
    from types import SimpleNamespace

    from flask import render_template

    campaign = _minimum_optimum(org, live=True)
    pledge = SimpleNamespace(money=campaign.minimum, tip_amount=0, charge_currency="XOF", currency="XOF",
                             tier=None, reference="H-1", status="committed")
    with app.test_request_context("/"):
        text = render_template("email/pledge_receipt.txt", campaign=campaign, pledge=pledge, link="http://x")
    assert "reaches its minimum of" in text and "reaches its goal" not in text


def test_the_organizations_logo_is_small_beside_its_name_not_a_square_under_its_description(client, org):
    import re
    from pathlib import Path

    org.logo_key = "logos/coop.png"
    org.description = "We grind millet together."
    db.session.commit()
    html = client.get(url_for("campaigns.organization", slug=org.slug)).get_data(as_text=True)
    heading = re.search(r'<header class="org-name">(.*?)</header>', html, re.S).group(1)
    assert "logos/coop.png" in heading and 'class="org-logo"' in heading and org.name in heading
    assert html.index("logos/coop.png") < html.index("We grind millet together.")
    css = (Path(__file__).resolve().parents[2] / "webapp" / "static" / "site.css").read_text()
    rule = re.search(r"\.org-logo\s*\{([^}]*)\}", css)
    assert rule and re.search(r"width:\s*3rem", rule.group(1)) and re.search(r"height:\s*3rem", rule.group(1))


def test_a_new_campaign_of_a_benin_organization_defaults_to_the_franc_cfa(app, editor, client):
    import re

    from tests.campaigns.helpers import sign_in
    from tests.factories import MembershipFactory, OrganizationFactory
    from webapp.organizations.models import OrgRole

    benin = OrganizationFactory(slug="coop-abomey", country="BJ")
    morocco = OrganizationFactory(slug="coop-fes", country="MA")
    nowhere = OrganizationFactory(slug="coop-harare", country="ZW")  # USD (and ZWG, unsupported)
    for org in (benin, morocco, nowhere):
        MembershipFactory(organization=org, user=editor, role=OrgRole.EDITOR)
    db.session.commit()
    sign_in(client, editor)

    def chosen(org) -> str:
        html = client.get(url_for("manage.new_campaign", org_slug=org.slug)).get_data(as_text=True)
        select = re.search(r'<select[^>]*id="currency".*?</select>', html, re.S).group(0)
        return re.search(r'<option selected value="(\w+)"|<option value="(\w+)" selected', select).group(0)

    assert "XOF" in chosen(benin)
    assert "MAD" in chosen(morocco)
    assert "USD" in chosen(nowhere)


def test_the_default_currency_falls_back_when_the_country_has_no_supported_currency(app):
    from webapp.campaigns.forms import default_currency

    with app.app_context():
        assert default_currency("BJ") == "XOF" and default_currency("CM") == "XAF"
        assert default_currency("CD") == app.config["SUPPORTED_CURRENCIES"][0]  # Congolese francs: not supported
        assert default_currency(None) == app.config["SUPPORTED_CURRENCIES"][0]


def test_the_outcome_emails_of_a_minimum_and_optimum_campaign_name_its_minimum(app, org, owner):
    from webapp.mail import render_email
    from webapp.money import Money

    campaign = _minimum_optimum(org, failed=True)
    with app.test_request_context("/"):
        backer = render_email("campaign_outcome_backer", "b@example.org", "en", campaign=campaign,
                              succeeded=False, charged_later=True, link="http://x")
        organizer = render_email("campaign_outcome_organizer", owner.email, "en", user=owner, campaign=campaign,
                                 succeeded=False, raised=Money(100_000, "XOF"), link="http://x")
        won = render_email("campaign_outcome_backer", "b@example.org", "en", campaign=campaign,
                           succeeded=True, charged_later=True, link="http://x")
    for message in (backer, organizer):
        assert "minimum of" in message.subject and "goal" not in message.subject
        assert "minimum" in message.text and "its goal" not in message.text
    assert "reached its minimum" in won.text and "reached its goal" not in won.text
