"""A campaign's title in the reader's language wherever it is named to them (issue 11): the pledge page, My pledges,
the receipt page, the emails (in the recipient's language), the share tags and the processor's checkout."""
from __future__ import annotations

from html import unescape

import pytest
from flask import url_for

from tests.campaigns.helpers import sign_in
from tests.factories import CampaignFactory, PledgeFactory, UserFactory
from webapp.campaigns.models import CampaignTranslation
from webapp.campaigns.translations import title_in
from webapp.extensions import db
from webapp.mail import render_email

ORIGINAL, FRENCH = "A grain mill for Ouidah", "Un moulin à grain pour Ouidah"


@pytest.fixture()
def translated(app):
    campaign = CampaignFactory(live=True, language="en", title=ORIGINAL)
    db.session.add(CampaignTranslation(campaign_id=campaign.id, language="fr", title=FRENCH, summary="Moudre ensemble",
                                       story_md="", story_html="<p>Histoire</p>"))
    db.session.commit()
    return campaign


def _page(client, path, lang):
    response = client.get(path, headers={"Accept-Language": lang})
    assert response.status_code == 200, path
    return unescape(response.get_data(as_text=True))


def test_the_title_is_the_translation_of_the_readers_language_else_the_original(app, translated):
    with app.test_request_context():
        assert title_in(translated, "fr") == FRENCH
        assert title_in(translated, "es") == ORIGINAL and title_in(translated, "en") == ORIGINAL


@pytest.mark.parametrize("lang, shown, hidden", [("fr", FRENCH, ORIGINAL), ("es", ORIGINAL, FRENCH)])
def test_the_pledge_page_my_pledges_and_the_receipt_name_the_campaign_in_the_backers_language(
        app, translated, lang, shown, hidden):
    backer = UserFactory(verified=True, locale=lang)
    pledge = PledgeFactory(campaign=translated, user=backer, email=backer.email, locale=lang, currency="EUR")
    db.session.commit()
    client = app.test_client()
    sign_in(client, backer)
    for path in (url_for("payments.pledge", slug=translated.slug), url_for("payments.mine"),
                 url_for("payments.receipt", reference=pledge.reference)):
        html = _page(client, path, lang)
        assert shown in html and hidden not in html, path


@pytest.mark.parametrize("template", ["pledge_receipt", "pledge_refunded", "campaign_outcome_backer"])
def test_emails_name_the_campaign_in_the_recipients_language(app, translated, template):
    french = PledgeFactory(campaign=translated, locale="fr", currency="EUR")
    spanish = PledgeFactory(campaign=translated, locale="es", currency="EUR")
    db.session.commit()
    with app.test_request_context(headers={"Accept-Language": "es"}):  # whoever triggers it, the recipient reads
        mails = {p.locale: render_email(template, p.email, p.locale, pledge=p, campaign=translated, succeeded=True,
                                        amount=p.money, link="http://localhost/x", charged_later=False)
                 for p in (french, spanish)}
    assert FRENCH in mails["fr"].subject and FRENCH in mails["fr"].text and ORIGINAL not in mails["fr"].text
    assert ORIGINAL in mails["es"].subject and FRENCH not in mails["es"].text


def test_share_tags_carry_the_title_and_summary_of_the_pages_language(app, translated):
    client = app.test_client()
    french = _page(client, url_for("campaigns.show", slug=translated.slug), "fr")
    assert f'<meta property="og:title" content="{FRENCH}">' in french
    assert f'<meta name="twitter:title" content="{FRENCH}">' in french
    assert '<meta property="og:description" content="Moudre ensemble — ' in french
    english = _page(client, url_for("campaigns.show", slug=translated.slug), "en")
    assert f'<meta property="og:title" content="{ORIGINAL}">' in english


def test_the_processors_checkout_describes_the_pledge_in_the_backers_language(app, translated):
    from tests.payments.support import checkout_path, submit_pledge, text

    translated.funding_model = "keep_it_all"
    translated.currency = "EUR"
    db.session.commit()
    client = app.test_client()
    response = submit_pledge(client, translated, "20", email="b@example.org", headers={"Accept-Language": "fr"})
    assert response.status_code == 303, text(response)
    assert FRENCH in unescape(text(client.get(checkout_path(response), headers={"Accept-Language": "fr"})))


def test_a_translated_reward_is_named_in_the_backers_language_too(app, translated):
    from tests.factories import RewardTierFactory

    tier = RewardTierFactory(campaign=translated, title="A bag of flour", description="Five kilos", minimum_amount=500)
    db.session.flush()
    row = translated.translations[0]
    row.tiers = {str(tier.id): {"title": "Un sac de farine", "description": "Cinq kilos"}}
    backer = UserFactory(verified=True, locale="fr")
    pledge = PledgeFactory(campaign=translated, tier=tier, user=backer, email=backer.email, locale="fr", currency="EUR")
    db.session.commit()
    client = app.test_client()
    sign_in(client, backer)
    for path in (url_for("payments.pledge", slug=translated.slug), url_for("payments.mine"),
                 url_for("payments.receipt", reference=pledge.reference)):
        html = _page(client, path, "fr")
        assert "Un sac de farine" in html and "A bag of flour" not in html, path
    assert "Cinq kilos" in _page(client, url_for("payments.pledge", slug=translated.slug), "fr")
    with app.test_request_context():
        mail = render_email("pledge_receipt", pledge.email, "fr", pledge=pledge, campaign=translated, link="http://x")
    assert "Un sac de farine" in mail.text and "A bag of flour" not in mail.text
