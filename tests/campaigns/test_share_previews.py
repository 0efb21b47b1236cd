"""Links that travel: a campaign page carries Open Graph and Twitter card tags with absolute addresses from
PUBLIC_URL (never the request's Host), and a campaign without a cover gets a generated one (a 1200x630 PNG)."""
from __future__ import annotations

import io
from html.parser import HTMLParser

import pytest
from flask import url_for
from PIL import Image

from tests.factories import CampaignFactory, OrganizationFactory
from webapp.campaigns import covers
from webapp.extensions import db
from webapp.storage import get_storage

PUBLIC = "https://harambee.example/"


class Meta(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: dict[str, str] = {}
        self.images: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and (attrs.get("property") or attrs.get("name")):
            self.tags[attrs.get("property") or attrs["name"]] = attrs.get("content", "")
        if tag == "img":
            self.images.append(attrs.get("src", ""))


def meta_of(html: str) -> Meta:
    parser = Meta()
    parser.feed(html)
    return parser


@pytest.fixture
def public_url(app, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_URL", PUBLIC)
    return PUBLIC


@pytest.fixture
def campaign():
    org = OrganizationFactory(name="Union des femmes de Dassa", country="BJ")
    campaign = CampaignFactory(live=True, organization=org, slug="puits", title="Un puits pour Dassa-Zoumè")
    db.session.commit()
    return campaign


def png_of(key: str) -> Image.Image:
    image = Image.open(io.BytesIO(get_storage().read(key)))
    image.load()
    return image


def test_the_page_carries_open_graph_and_twitter_tags_absolute_from_public_url(client, campaign, public_url):
    # asked through another host the app serves: the tags still name the public one
    html = client.get("/campaigns/puits", base_url="http://localhost").get_data(as_text=True)
    tags = meta_of(html).tags

    assert tags["og:title"] == tags["twitter:title"] == "Un puits pour Dassa-Zoumè"
    assert tags["og:description"].startswith(campaign.summary)
    assert "1,000,000" in tags["og:description"] or "1 000 000" in tags["og:description"]
    assert tags["og:url"] == PUBLIC + "campaigns/puits"
    assert tags["og:image"].startswith(PUBLIC + "uploads/generated-covers/")
    assert tags["twitter:image"] == tags["og:image"]
    assert tags["twitter:card"] == "summary_large_image"
    assert (tags["og:image:width"], tags["og:image:height"]) == ("1200", "630")
    assert "localhost" not in tags["og:image"] + tags["og:url"]


def test_an_uploaded_cover_is_the_preview_image(client, campaign, public_url):
    campaign.cover_key = get_storage().save(b"jpeg bytes", "covers", "jpg")
    db.session.commit()

    tags = meta_of(client.get("/campaigns/puits").get_data(as_text=True)).tags

    assert tags["og:image"] == PUBLIC + "uploads/" + campaign.cover_key
    assert "og:image:width" not in tags


def test_the_tags_follow_the_page_language(client, campaign, public_url):
    tags = meta_of(client.get("/campaigns/puits", headers={"Accept-Language": "fr"}).get_data(as_text=True)).tags

    assert tags["og:locale"] == "fr_FR"
    assert "collectés sur" in tags["og:description"]


def test_a_campaign_without_a_cover_shows_its_generated_cover_a_1200_by_630_png(client, campaign):
    html = client.get("/campaigns/puits").get_data(as_text=True)
    key = covers.cover_key(campaign)

    assert get_storage().url(key) in meta_of(html).images
    image = png_of(key)
    assert image.format == "PNG" and image.size == (covers.WIDTH, covers.HEIGHT) == (1200, 630)
    served = client.get(get_storage().url(key))
    assert served.status_code == 200 and served.mimetype == "image/png"


def test_the_generated_cover_has_readable_text_on_its_background(campaign):
    image = png_of(covers.generated_cover(campaign)).convert("RGB")
    background = image.getpixel((5, 5))
    # the title's band holds text pixels of the text colour, far from the background
    band = image.crop((covers.MARGIN, covers.MARGIN, covers.WIDTH - covers.MARGIN, covers.MARGIN + 80))
    assert covers.TEXT in {colour for _count, colour in band.getcolors(maxcolors=1 << 20)}
    assert background != covers.TEXT


def test_the_generated_cover_is_cached_and_redrawn_only_when_what_it_shows_changes(app, campaign, monkeypatch,
                                                                                   tmp_path):
    from webapp.storage import LocalStorage

    monkeypatch.setitem(app.extensions, "harambee.storage", LocalStorage(tmp_path))
    drawn = []
    real = covers.draw_cover
    monkeypatch.setattr(covers, "draw_cover", lambda *a, **k: drawn.append(a) or real(*a, **k))

    first = covers.generated_cover(campaign)
    assert covers.generated_cover(campaign) == first
    campaign.title = "Deux puits pour Dassa-Zoumè"
    second = covers.generated_cover(campaign)

    assert second != first and len(drawn) == 2
    assert get_storage().exists(first) and get_storage().exists(second)


@pytest.mark.parametrize("title", ["A" * 120, "Un " * 40, "مشروع بئر للقرية", "汉字 " * 30])
def test_any_title_draws_within_the_image(title):
    image = Image.open(io.BytesIO(covers.draw_cover(title, "Coopérative " * 10)))

    assert image.size == (1200, 630)


def test_the_cover_key_of_a_draft_cannot_be_guessed_from_its_title(app, campaign, monkeypatch):
    key = covers.cover_key(campaign)
    monkeypatch.setitem(app.config, "SECRET_KEY", "another secret")

    assert covers.cover_key(campaign) != key


def test_a_progress_report_page_carries_its_own_preview(client, campaign, public_url):
    from webapp.progress_reports import services

    campaign.status = "succeeded"
    report = services.post_report(campaign, _editor(campaign), "Le puits est creusé", "Il donne **20 m³** par jour.", [])
    db.session.commit()

    tags = meta_of(client.get(f"/campaigns/puits/reports/{report.id}", base_url="http://localhost")
                   .get_data(as_text=True)).tags

    assert tags["og:title"].startswith("Le puits est creusé")
    assert tags["og:description"] == "Il donne 20 m³ par jour."
    assert tags["og:url"] == f"{PUBLIC}campaigns/puits/reports/{report.id}"
    assert tags["og:image"].startswith(PUBLIC + "uploads/generated-covers/")


def _editor(campaign):
    from tests.factories import MembershipFactory, UserFactory
    from webapp.organizations.models import OrgRole

    user = UserFactory(verified=True)
    MembershipFactory(organization=campaign.organization, user=user, role=OrgRole.EDITOR)
    return user
