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
