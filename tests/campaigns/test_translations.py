"""Campaign content in several languages: who may translate, what a visitor reads, the switch, search,
sanitized translated stories and the review of a live campaign's translations."""
from __future__ import annotations

from flask import url_for

from tests.campaigns.helpers import page_text, sign_in
from tests.factories import CampaignFactory, UserFactory
from webapp.campaigns.models import CampaignRevision, CampaignTranslation, RevisionStatus
from webapp.extensions import db


def _translate(client, campaign, lang="fr", **over):
    data = {"title": "Un moulin à grain", "summary": "Moudre ensemble", "story_md": "Notre **histoire**", **over}
    return client.post(url_for("manage.edit_translation", slug=campaign.slug, language=lang), data=data)


def test_an_editor_translates_a_draft_and_a_stranger_cannot(app, org, editor_client):
    campaign = CampaignFactory(organization=org, draft=True, language="en")
    db.session.commit()
    assert _translate(editor_client, campaign).status_code == 302
    row = db.session.query(CampaignTranslation).filter_by(campaign_id=campaign.id).one()
    assert (row.language, row.title, row.story_html) == ("fr", "Un moulin à grain", "<p>Notre <strong>histoire</strong></p>\n")
    stranger = app.test_client()
    sign_in(stranger, UserFactory(verified=True))
    db.session.commit()
    assert _translate(stranger, campaign, title="Pirate").status_code == 403
    assert app.test_client().post(url_for("manage.edit_translation", slug=campaign.slug, language="fr")).status_code in (302, 401)


def test_no_translation_into_the_campaign_own_language(app, org, editor_client):
    campaign = CampaignFactory(organization=org, draft=True, language="en")
    db.session.commit()
    assert _translate(editor_client, campaign, lang="en").status_code == 404
    assert _translate(editor_client, campaign, lang="xx").status_code == 404


def test_a_translated_story_is_sanitized(app, org, editor_client):
    campaign = CampaignFactory(organization=org, draft=True, language="en")
    db.session.commit()
    _translate(editor_client, campaign, story_md="<script>alert(1)</script>[x](javascript:alert(1))")
    row = db.session.query(CampaignTranslation).filter_by(campaign_id=campaign.id).one()
    assert "<script" not in row.story_html and "href=\"javascript" not in row.story_html


def test_visitor_reads_their_language_else_the_original_and_can_switch(app, org):
    campaign = CampaignFactory(organization=org, live=True, language="en", title="A grain mill")
    db.session.add(CampaignTranslation(campaign_id=campaign.id, language="fr", title="Un moulin à grain",
                                       summary="Moudre", story_md="", story_html="<p>Histoire</p>"))
    db.session.commit()
    client = app.test_client()
    french = client.get(url_for("campaigns.show", slug=campaign.slug), headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Un moulin à grain" in french and 'lang="fr"' in french
    assert f'href="/campaigns/{campaign.slug}?lang=en"' in french
    english = client.get(url_for("campaigns.show", slug=campaign.slug, lang="en"),
                         headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<h1 dir="auto">A grain mill</h1>' in english
    spanish = client.get(url_for("campaigns.show", slug=campaign.slug), headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert '<h1 dir="auto">A grain mill</h1>' in spanish  # no Spanish translation: the original


def test_search_finds_a_campaign_by_its_translation(app, org):
    campaign = CampaignFactory(organization=org, live=True, language="en", title="A grain mill")
    db.session.add(CampaignTranslation(campaign_id=campaign.id, language="fr", title="Un moulin à grain",
                                       summary="Moudre", story_md="", story_html=""))
    db.session.commit()
    assert "A grain mill" in page_text(app.test_client().get(url_for("campaigns.home", q="moulin")))


def test_a_live_campaign_translation_waits_for_a_moderator(app, org, editor_client):
    campaign = CampaignFactory(organization=org, live=True, language="en", title="A grain mill")
    db.session.commit()
    assert _translate(editor_client, campaign).status_code == 302
    assert db.session.query(CampaignTranslation).filter_by(campaign_id=campaign.id).count() == 0
    revision = db.session.query(CampaignRevision).filter_by(campaign_id=campaign.id).one()
    assert revision.status == RevisionStatus.PENDING and "fr" in revision.after["translations"]


def test_a_new_campaign_is_written_in_its_organization_country_language_unless_chosen(app, org, editor_client):
    from tests.campaigns.helpers import campaign_form
    from webapp.campaigns.models import Campaign

    page = editor_client.get(url_for("manage.new_campaign", org_slug=org.slug)).get_data(as_text=True)
    assert '<option selected value="fr">' in page or 'value="fr" selected' in page  # Senegal: French
    assert editor_client.post(url_for("manage.new_campaign", org_slug=org.slug),
                              data=campaign_form(title="Chosen", slug="chosen", language="en")).status_code == 302
    assert db.session.query(Campaign).filter_by(slug="chosen").one().language == "en"
    editor_client.post(url_for("manage.new_campaign", org_slug=org.slug), data=campaign_form(title="Default", slug="default"))
    assert db.session.query(Campaign).filter_by(slug="default").one().language == "fr"


def test_editing_page_offers_a_translation_per_other_language(app, org, editor_client):
    campaign = CampaignFactory(organization=org, draft=True, language="fr")
    db.session.commit()
    page = editor_client.get(url_for("manage.edit_campaign", slug=campaign.slug)).get_data(as_text=True)
    for lang in ("en", "es", "pt"):
        assert url_for("manage.edit_translation", slug=campaign.slug, language=lang) in page
    assert url_for("manage.edit_translation", slug=campaign.slug, language="fr") not in page


def test_tiers_are_translated_with_the_campaign_and_read_in_that_language(app, org, editor_client):
    from webapp.campaigns.models import RewardTier

    campaign = CampaignFactory(organization=org, draft=True, language="en")
    tier = RewardTier(campaign=campaign, title="A bag of flour", description="Five kilos", minimum_amount=5000)
    db.session.add(tier)
    db.session.commit()
    response = _translate(editor_client, campaign, **{f"tier-{tier.id}-title": "Un sac de farine",
                                                       f"tier-{tier.id}-description": "Cinq kilos"})
    assert response.status_code == 302
    campaign.status = campaign.status.LIVE
    db.session.commit()
    page = app.test_client().get(url_for("campaigns.show", slug=campaign.slug),
                                 headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Un sac de farine" in page and "Cinq kilos" in page
    english = app.test_client().get(url_for("campaigns.show", slug=campaign.slug, lang="en"),
                                    headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "A bag of flour" in english and "Un sac de farine" not in english
    too_long = _translate(editor_client, campaign, **{f"tier-{tier.id}-title": "x" * 500})
    assert too_long.status_code == 409  # a live campaign's translation: refused before it reaches review


def test_the_moderator_reads_the_translations_of_a_submitted_campaign(app, org, moderator_client):
    campaign = CampaignFactory(organization=org, submitted=True, language="en")
    db.session.add(CampaignTranslation(campaign_id=campaign.id, language="fr", title="Un moulin à grain",
                                       summary="Moudre", story_md="", story_html="<p>Notre histoire</p>", tiers={}))
    db.session.commit()
    page = moderator_client.get(url_for("moderation.review", slug=campaign.slug)).get_data(as_text=True)
    assert "Un moulin à grain" in page and "Notre histoire" in page
