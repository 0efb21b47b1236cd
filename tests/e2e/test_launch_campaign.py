"""The first path, in a real browser: a newcomer launches a campaign and the demo moderator puts it live.

Everything goes through the pages a person sees (sign-up, organization and campaign forms, the
moderation queue); the only shortcut is loading the demo data, which `make run` does too. Each step
is saved to test-artifacts/<db>/e2e_test_launch_campaign.py_.../NN-step.png.
"""
from __future__ import annotations

import re
from datetime import date

import pytest
from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import select

from webapp import demo
from webapp.campaigns.models import Campaign, CampaignStatus
from webapp.extensions import db

pytestmark = pytest.mark.e2e

NEWCOMER = {"name": "Inès Agbodjan", "email": "ines.agbodjan@example.org", "password": "lagune-de-cotonou-2026"}
ORG_NAME = "Coopérative des pêcheurs de So-Ava"
TITLE = "Solar fish dryers for So-Ava"
TIERS = [
    # title, description, minimum as typed, quantity, how the campaign page shows the minimum
    ("A thank-you card from the lake", "Written by the children of the fishers' families.", "5000", "", "5,000"),
    ("A kilo of smoked fish", "Dried in the new solar dryers and sent to you.", "25 000", "50", "25,000"),
]
#: English words of the campaign page's chrome that must all be translated once the visitor picks French
ENGLISH_CHROME = ["Rewards", "Back this campaign", "Updates", "The organization", "or more", "days left",
                  "raised of", "Estimated delivery", "Choose this reward", "Where the money goes"]


def _month_ahead(months: int) -> str:
    today = date.today()
    index = today.year * 12 + today.month - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _cover_image(tmp_path) -> str:
    """A real 1200x675 JPEG (a lagoon at dusk, roughly), made with Pillow."""
    image = Image.new("RGB", (1200, 675))
    for y in range(675):
        shade = int(60 + 150 * y / 675)
        image.paste((shade, int(shade * 0.8), 200 - shade // 3), (0, y, 1200, y + 1))
    path = tmp_path / "so-ava-cover.jpg"
    image.save(path, "JPEG", quality=85)
    return str(path)


def _sign_out(page: Page) -> None:
    page.locator("header form[action$='/account/logout'] button").click()
    page.wait_for_load_state()


def test_a_newcomer_launches_a_campaign_that_the_demo_moderator_puts_live(
        page: Page, live_server, screenshot, tmp_path):
    with live_server.app.app_context():
        demo.load_all()  # the demo moderator and the demo campaigns, as `make run` loads them
        db.session.commit()

    # 1. The home page, as a stranger sees it.
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Support the social and solidarity economy")
    screenshot("home-before")

    # 2. Sign up through the header's button.
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Your name").fill(NEWCOMER["name"])
    page.get_by_label("Email").fill(NEWCOMER["email"])
    page.get_by_label("Password", exact=True).fill(NEWCOMER["password"])
    page.get_by_label("Repeat the password").fill(NEWCOMER["password"])
    screenshot("signup-form")
    page.get_by_role("button", name="Sign up").click()
    expect(page.locator(".flash-success")).to_contain_text("Welcome to Harambee")
    # Signing up does not sign in (the answer must not tell whether the address had an account): sign in.
    page.get_by_label("Email").fill(NEWCOMER["email"])
    page.get_by_label("Password").fill(NEWCOMER["password"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("header")).to_contain_text(NEWCOMER["name"])
    screenshot("signed-up")

    # 3. Create the organization, in Benin, region Atlantique (the region list follows the country).
    page.get_by_role("link", name="My organizations").click()
    page.wait_for_url("**/dashboard")
    screenshot("dashboard-empty")
    page.get_by_role("link", name="Create an organization").click()
    page.get_by_label("Name of the organization").fill(ORG_NAME)
    page.get_by_label("Legal form").select_option("cooperative")
    page.locator("#country").select_option("BJ")
    expect(page.locator("#region option[value='BJ-AQ']")).to_have_text("Atlantique")
    page.locator("#region").select_option("BJ-AQ")
    page.get_by_label("What does your organization do?").fill(
        "Forty fishing families of the So-Ava lagoon who smoke and sell their catch together.")
    screenshot("organization-form")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash-success")).to_contain_text("Your organization is created")
    expect(page.get_by_role("heading", level=1)).to_have_text(ORG_NAME)
    expect(page.locator("main")).to_contain_text("Atlantique, Benin")
    screenshot("organization-created")

    # 4. Write the campaign: XOF, a cover image, then save the draft.
    page.get_by_role("link", name="New campaign").click()
    expect(page.locator("#country")).to_have_value("BJ")  # the organization's territory is the default
    expect(page.locator("#region")).to_have_value("BJ-AQ")
    page.locator("#title").fill(TITLE)
    page.locator("#summary").fill("Dry the catch with the sun instead of burning mangrove wood.")
    page.locator("#story_md").fill(
        "## Why\n\nSmoking fish burns **two tonnes** of mangrove wood a month.\n\n"
        "## What the money pays for\n\n- six solar dryers\n- training for forty families\n")
    page.locator("#cover").set_input_files(_cover_image(tmp_path))
    page.locator("#category").select_option("environment")
    page.locator("#currency").select_option("XOF")
    page.locator("#funding_model").select_option("keep_it_all")
    page.locator("#goal").fill("2 500 000")
    screenshot("campaign-form")
    page.get_by_role("button", name="Save the draft").click()
    expect(page.locator(".flash-success")).to_contain_text("Draft saved")
    expect(page.locator("main img[alt='Current cover']")).to_be_visible()
    screenshot("draft-saved")

    # 5. Two reward tiers, through the "Add a reward tier" form.
    for title, description, minimum, quantity, _shown in TIERS:
        tier_form = page.locator("form", has=page.get_by_role("heading", name="Add a reward tier"))
        tier_form.locator("[name=title]").fill(title)
        tier_form.locator("[name=description]").fill(description)
        tier_form.locator("[name=minimum]").fill(minimum)
        tier_form.locator("[name=quantity_limit]").fill(quantity)
        tier_form.locator("[name=delivery_month]").fill(_month_ahead(3))
        tier_form.get_by_role("button", name="Add the tier").click()
        expect(page.locator(".flash-success")).to_contain_text("Reward tier added")
    tiers = page.locator("#tiers .tier")
    expect(tiers).to_have_count(2)
    for index, (title, _d, _m, _q, shown) in enumerate(TIERS):
        expect(tiers.nth(index)).to_contain_text(title)
        expect(tiers.nth(index)).to_contain_text(shown)
    screenshot("tiers-added")

    # 6. Submit it for review.
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator(".flash-success")).to_contain_text("Submitted. A moderator will review your campaign")
    expect(page.locator("main")).to_contain_text("Only its organization and the moderators can see this page.")
    screenshot("submitted")
    with live_server.app.app_context():
        campaign = db.session.scalar(select(Campaign).where(Campaign.title == TITLE))
        assert campaign.status == CampaignStatus.SUBMITTED and campaign.currency == "XOF"
        assert campaign.goal_amount == 2_500_000 and campaign.region == "BJ-AQ" and campaign.cover_key
        slug = campaign.slug

    # Not live yet: the home page does not list it.
    _sign_out(page)
    page.goto("/")
    expect(page.locator("main")).not_to_contain_text(TITLE)

    # 7. The demo moderator signs in (her account speaks French) and approves it from the queue.
    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("Email").fill("moderator@harambee.test")
    page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
    page.locator("main form button").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.locator("header a[href='/moderation/']").click()
    queue_row = page.locator("tr", has_text=TITLE)
    expect(queue_row).to_contain_text(ORG_NAME)
    screenshot("moderation-queue")
    queue_row.get_by_role("link", name=TITLE).click()
    expect(page.locator("aside")).to_contain_text(TIERS[1][0])
    screenshot("moderation-review")
    page.locator("button[name=decision][value=approve]").click()
    expect(page.locator(".flash-success")).to_contain_text(TITLE)
    expect(page.locator("main table")).not_to_contain_text(TITLE)  # the queue is done with it
    screenshot("approved")
    with live_server.app.app_context():
        campaign = db.session.scalar(select(Campaign).where(Campaign.slug == slug))
        assert campaign.status == CampaignStatus.LIVE and campaign.launched_at is not None
    _sign_out(page)

    # 8. A visitor finds it on the home page.
    page.goto("/")
    card = page.locator("article.card", has_text=TITLE)
    expect(card).to_be_visible()
    expect(card).to_contain_text(ORG_NAME)
    expect(card.locator("img")).to_be_visible()
    screenshot("home-with-the-campaign")

    # 9. Its page, in English.
    card.get_by_role("link", name=TITLE).click()
    expect(page).to_have_url(re.compile(rf"/campaigns/{slug}$"))
    main = page.locator("main")
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(main).to_contain_text("Atlantique, Benin")
    expect(main.locator(".story h2").first).to_have_text("Why")
    expect(main).to_contain_text("2,500,000")
    for title, _d, _m, _q, shown in TIERS:
        expect(main.locator(".tier", has_text=title)).to_contain_text(f"{shown} or more")
    expect(page.get_by_role("link", name="Back this campaign")).to_be_visible()
    screenshot("campaign-page-en")

    # 10. The same page in French, through the header's language buttons.
    page.locator("header button[name=lang][value=fr]").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page).to_have_url(re.compile(rf"/campaigns/{slug}$"))  # the switch stays on the page
    expect(main).to_contain_text("Contreparties")
    expect(main).to_contain_text("Atlantique, Bénin")
    expect(page.get_by_role("link", name="Soutenir cette campagne")).to_be_visible()
    expect(main).to_contain_text("2\u202f500\u202f000\u00a0F\u202fCFA")  # French grouping, symbol after
    expect(main.locator(".tier", has_text=TIERS[1][0])).to_contain_text("25\u202f000\u00a0F\u202fCFA ou plus")
    french_text = main.inner_text()
    untranslated = [words for words in ENGLISH_CHROME if words in french_text]
    assert not untranslated, f"English left on the French campaign page: {untranslated}"
    screenshot("campaign-page-fr")
