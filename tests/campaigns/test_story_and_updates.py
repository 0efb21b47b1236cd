"""Stories and updates are Markdown: what reaches the page carries no script, no event handler, no
javascript: link, however it is spelled."""
from __future__ import annotations

import pytest
from flask import url_for

from tests.campaigns.helpers import campaign_form, committed_count, elements_of, page_text, section
from tests.factories import CampaignFactory
from webapp.campaigns.models import Campaign, CampaignUpdate
from webapp.extensions import db

ATTACKS = [
    "<script>alert('story')</script>",
    "<ScRiPt>alert(1)</sCrIpT>",
    '<img src="x" onerror="alert(1)">',
    '<IMG SRC=x OnErRoR=alert(1)>',
    '<svg onload="alert(1)"></svg>',
    '<a href="javascript:alert(1)">raw html link</a>',
    "[plain](javascript:alert(1))",
    "[mixed case](JaVaScRiPt:alert(1))",
    "[spaced](  javascript:alert(1))",
    "[entity](&#106;avascript:alert(1))",
    "[hex entity](&#x6A;&#x61;vascript:alert(1))",
    "[named entity](javascript&colon;alert(1))",
    "[tab](java\tscript:alert(1))",
    "[percent](javascript%3Aalert(1))",
    "[vbscript](vbscript:msgbox(1))",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![image](javascript:alert(1))",
    '![image](x" onerror="alert(1))',
    "<javascript:alert(1)>",
    "[ref][x]\n\n[x]: javascript:alert(1)",
    '<iframe src="https://evil.example"></iframe>',
    '<p style="background:url(javascript:alert(1))">styled</p>',
]

DANGEROUS_TAGS = {"script", "iframe", "object", "embed", "svg", "math", "style", "form", "input", "base", "meta", "link"}
SAFE_SCHEMES = ("http://", "https://", "mailto:")


def assert_harmless(html: str) -> None:
    """No element a browser would run: checked on parsed tags and attributes, entities decoded."""
    for tag, attrs in elements_of(html):
        assert tag not in DANGEROUS_TAGS, f"<{tag}> in {html!r}"
        for name, value in attrs:
            assert not name.startswith("on"), f"{name}= on <{tag}> in {html!r}"
            assert name != "style", f"style= on <{tag}>"
            if name in ("href", "src", "action", "formaction", "xlink:href"):
                cleaned = "".join((value or "").split()).lower()
                assert cleaned.startswith(SAFE_SCHEMES) or not (":" in cleaned.split("/")[0]), \
                    f"{name}={value!r} on <{tag}>"


def story_of(response) -> str:
    return section(response.get_data(as_text=True), '<section class="story" dir="auto">', "</section>")


def test_the_checker_itself_catches_what_it_must():
    for bad in ['<script>x</script>', '<img src=x onerror=y>', '<a href="JavaScript:x">a</a>',
                '<a href="&#106;avascript:x">a</a>', '<a href=" java\tscript:x">a</a>']:
        with pytest.raises(AssertionError):
            assert_harmless(bad)
    assert_harmless('<p><a href="https://example.org" rel="nofollow">ok</a> <a href="/relative">ok</a></p>')


@pytest.mark.parametrize("attack", ATTACKS)
def test_a_story_renders_without_anything_that_runs(editor_client, org, attack):
    story = f"Our mill.\n\n{attack}\n\n**End of story.**"
    response = editor_client.post(url_for("manage.new_campaign", org_slug=org.slug),
                                  data=campaign_form(story_md=story))
    assert response.status_code == 302
    campaign = db.session.scalar(db.select(Campaign))

    page = editor_client.get(url_for("campaigns.show", slug=campaign.slug))

    assert page.status_code == 200
    story_html = story_of(page)
    assert "<strong>End of story.</strong>" in story_html  # the rest of the story survives
    assert_harmless(story_html)
    assert campaign.story_md == story  # the organizer's text is kept as written


def test_every_attack_in_one_story_leaves_a_harmless_page(editor_client, org):
    editor_client.post(url_for("manage.new_campaign", org_slug=org.slug),
                       data=campaign_form(story_md="\n\n".join(ATTACKS)))
    campaign = db.session.scalar(db.select(Campaign))

    page = editor_client.get(url_for("campaigns.show", slug=campaign.slug))

    assert_harmless(story_of(page))


def test_ordinary_markdown_keeps_its_formatting_and_safe_links(editor_client, org):
    story = "# Why\n\nWe *need* a [mill](https://example.org/mill).\n\n- millet\n- sorghum"
    editor_client.post(url_for("manage.new_campaign", org_slug=org.slug), data=campaign_form(story_md=story))
    campaign = db.session.scalar(db.select(Campaign))

    html = story_of(editor_client.get(url_for("campaigns.show", slug=campaign.slug)))

    assert "<h2>Why</h2>" in html  # the page's h1 is the title
    assert "<em>need</em>" in html
    assert '<a href="https://example.org/mill" rel="nofollow noopener noreferrer ugc">mill</a>' in html
    assert "<li>millet</li>" in html


# -- updates ------------------------------------------------------------------------------------
@pytest.fixture
def live(org):
    campaign = CampaignFactory(organization=org, live=True, slug="live-mill")
    db.session.commit()
    return campaign


def test_an_editor_posts_an_update_that_shows_sanitized_on_the_page(editor_client, editor, live):
    body = "The mill **arrived**!\n\n<script>alert(1)</script>\n\n[see](javascript:alert(1))"

    response = editor_client.post(url_for("manage.post_update", slug=live.slug),
                                  data={"title": "Good news <b>today</b>", "body": body})

    assert response.status_code == 302
    assert response.location.endswith("#updates")
    update = db.session.scalar(db.select(CampaignUpdate))
    assert (update.campaign_id, update.author_id, update.body_md) == (live.id, editor.id, body)
    page = editor_client.get(url_for("campaigns.show", slug=live.slug)).get_data(as_text=True)
    updates = section(page, '<section id="updates">', "</article>")
    assert "Good news &lt;b&gt;today&lt;/b&gt;" in updates
    assert "<strong>arrived</strong>" in updates
    assert_harmless(updates)
    # visitors see it too
    anonymous = page_text(editor_client.application.test_client().get(url_for("campaigns.show", slug=live.slug)))
    assert "The mill" in anonymous and "arrived" in anonymous


def test_an_update_on_a_draft_is_refused(editor_client, org):
    draft = CampaignFactory(organization=org)
    db.session.commit()

    response = editor_client.post(url_for("manage.post_update", slug=draft.slug), data={"title": "Hi", "body": "Too early"})

    assert response.status_code == 409
    assert "once the campaign is live" in page_text(response)
    assert committed_count(CampaignUpdate) == 0


@pytest.mark.parametrize("data", [{"title": "", "body": "x"}, {"title": "x", "body": ""}, {"title": "x" * 121, "body": "x"}])
def test_an_update_without_title_or_body_is_refused(editor_client, live, data):
    response = editor_client.post(url_for("manage.post_update", slug=live.slug), data=data)

    assert response.status_code == 400
    assert committed_count(CampaignUpdate) == 0
