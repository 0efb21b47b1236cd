"""A disaster event's page carries Open Graph and Twitter card tags, in the page's language, every address absolute
from PUBLIC_URL (never the request's Host): the event's name, its message with the fund's raised of goal, its
fund's cover."""
from __future__ import annotations

import pytest

from tests.campaigns.test_share_previews import meta_of
from webapp.extensions import db
from webapp.mutual_aid.models import DisasterEvent

PUBLIC = "https://harambee.example/"


@pytest.fixture
def public_url(app, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_URL", PUBLIC)
    return PUBLIC


def test_an_event_page_carries_share_tags_absolute_from_public_url(client, active_event, public_url):
    html = client.get(f"/aid/events/{active_event.slug}", base_url="http://localhost").get_data(as_text=True)
    parser = meta_of(html)
    tags = parser.tags

    assert tags["og:title"] == tags["twitter:title"] == "Floods in Cotonou"
    assert tags["og:description"].startswith("The lagoon overflowed: families need shelter.")
    assert "5,000,000" in tags["og:description"] or "5 000 000" in tags["og:description"]
    assert tags["og:url"] == PUBLIC + f"aid/events/{active_event.slug}"
    assert tags["og:image"].startswith(PUBLIC + "uploads/") and tags["twitter:image"] == tags["og:image"]
    assert tags["twitter:card"] == "summary_large_image" and tags["og:locale"] == "en_US"
    assert "localhost" not in "".join(tags.values())


def test_the_tags_follow_the_pages_language(client, active_event, public_url):
    html = client.get(f"/aid/events/{active_event.slug}", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    tags = meta_of(html).tags

    assert tags["og:locale"] == "fr_FR"
    assert "collecté" in tags["og:description"] or "collectés" in tags["og:description"]


def test_an_event_without_a_fund_still_carries_its_tags_without_an_image(client, active_event, public_url):
    db.session.get(DisasterEvent, active_event.id).fund_campaign_id = None
    db.session.commit()

    tags = meta_of(client.get(f"/aid/events/{active_event.slug}").get_data(as_text=True)).tags

    assert tags["og:url"] == PUBLIC + f"aid/events/{active_event.slug}"
    assert tags["og:description"] == "The lagoon overflowed: families need shelter."
    assert "og:image" not in tags and tags["twitter:card"] == "summary"
