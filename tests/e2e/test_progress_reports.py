"""The Lyon bakery posts a progress report with a photo from a 390 px phone without JavaScript; a backer gets
it by email in French and unsubscribes in one click from the link, signed out. Screenshots at each step."""
from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from tests.factories import PledgeFactory
from webapp import demo
from webapp.campaigns.models import Campaign
from webapp.extensions import db
from webapp.payments.models import PledgeStatus
from webapp.progress_reports import services
from webapp.progress_reports.demo import OVEN_GIFTS

pytestmark = pytest.mark.e2e


def _photo(tmp_path):
    path = tmp_path / "oven.jpg"
    Image.new("RGB", (1600, 1200), (180, 90, 30)).save(path, format="JPEG")
    return path


def _fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url


def test_a_report_posted_from_a_phone_reaches_a_backer_who_unsubscribes_signed_out(
        browser, live_server, smtp_server, tmp_path, request):
    with live_server.app.app_context():
        demo.load_all()
        oven = db.session.scalar(select(Campaign).where(Campaign.slug == "pain-partage-oven"))
        PledgeFactory(campaign=oven, user=None, email="lucie@example.org", locale="fr", status=PledgeStatus.PAID)
        db.session.commit()
        campaign_id = oven.id
    from tests.conftest import ARTIFACTS, _artifact_name

    folder = ARTIFACTS / _artifact_name(request)
    folder.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(base_url=live_server.url, locale="fr-FR", java_script_enabled=False,
                                  viewport={"width": 390, "height": 844})
    page = context.new_page()
    shots = iter(range(1, 100))

    def shot(name):
        page.screenshot(path=str(folder / f"{next(shots):02d}-{name}.png"), full_page=True)
        _fits(page, 390)

    try:
        page.goto("/account/login")
        page.locator("#email").fill("claire@harambee.test")
        page.locator("#password").fill(demo.DEMO_PASSWORD)
        page.locator("main form button").click()
        expect(page.locator("header form[action$='/account/logout']")).to_be_visible()
        page.goto("/campaigns/pain-partage-oven")
        shot("campaign-before")
        page.get_by_role("link", name="Publier un rapport d’avancement").click()
        expect(page.locator("#title")).to_be_visible()
        shot("form")
        page.locator("#title").fill("Le four cuit son premier mois de pain")
        page.locator("#body").fill("Le **four** est installé. La moitié du bois d’avant suffit.")
        page.locator("#photos").set_input_files(str(_photo(tmp_path)))
        page.get_by_role("button", name="Publier et l’envoyer aux contributeurs").click()
        expect(page.locator("h1")).to_have_text("Le four cuit son premier mois de pain")
        expect(page.locator(".report-photos img")).to_have_count(1)
        shot("report")
        page.goto("/campaigns/pain-partage-oven")
        expect(page.locator("#progress-reports")).to_contain_text("Le four cuit son premier mois de pain")
        shot("campaign-after")

        # every backer gets it: Lucie and the demo's six neighbours among them
        wanted = {"lucie@example.org", *(f"voisin{n + 1}@lyon.example" for n in range(len(OVEN_GIFTS)))}
        for count in range(len(wanted), 40):
            messages = smtp_server.wait_for(count, timeout=15)
            if wanted <= {m["To"] for m in messages}:
                break
        message = next(m for m in messages if m["To"] == "lucie@example.org")
        text = smtp_server.text_of(message)
        assert "a publié un rapport d’avancement" in text
        link = re.search(r"/reports/unsubscribe/\S+", text).group(0)

        stranger = browser.new_context(base_url=live_server.url, locale="fr-FR", java_script_enabled=False,
                                       viewport={"width": 390, "height": 844})
        page = stranger.new_page()
        page.goto(link)
        shot("unsubscribe")
        page.get_by_role("button", name="Se désabonner").click()
        expect(page.locator("main")).to_contain_text("Vous ne recevrez plus")
        shot("unsubscribed")
        stranger.close()
    finally:
        context.close()
    with live_server.app.app_context():
        assert services.is_unsubscribed(campaign_id, "lucie@example.org")
