"""Impact checked from below, in a real browser at 390 px: the Ganvié association's organizer asks the people
concerned to confirm a reported value; a parent listed as a beneficiary opens the link from the SMS (read from
the SMS channel, as the mutual-aid tests do), signed out and without JavaScript, and confirms it in one tap; the
link then refuses a second use; the campaign page shows the count, and no one's number. Screenshots at each step
in test-artifacts/<db>/e2e_test_impact_confirm.py_.../NN-step.png; every page fits 390 px and passes axe."""
from __future__ import annotations

import itertools
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.conftest import ARTIFACTS, _artifact_name
from tests.impact.conftest import RecordingSms
from webapp import demo
from webapp.extensions import db

pytestmark = pytest.mark.e2e
WIDTH = 390
CAMPAIGN = "ganvie-school-kitchen"
OVERFLOWING = """() => [...document.querySelectorAll('body *')].filter(e => {
  const r = e.getBoundingClientRect();
  return (r.right > innerWidth + 1 || r.left < -1) && ![...e.children].some(c => {
    const q = c.getBoundingClientRect(); return q.right > innerWidth + 1 || q.left < -1; });
}).slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '') + ' "' +
  (e.textContent || '').trim().slice(0, 60) + '"')"""
LINK = re.compile(r"(https?://\S+/impact/confirm/\S+)")


def _fits_and_passes_axe(page: Page, axe: Axe) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH, page.url
    serious = [v["id"] for v in axe.run(page).response["violations"] if v["impact"] in ("serious", "critical")]
    assert not serious, f"{page.url}: {serious}"


def test_a_beneficiary_confirms_a_value_from_an_sms_link(page: Page, browser, live_server, screenshot, request):
    sms = RecordingSms()
    live_server.app.extensions["mutual_aid.sms"] = sms
    with live_server.app.app_context():
        demo.load_all()
        db.session.commit()
    axe = Axe()
    page.set_viewport_size({"width": WIDTH, "height": 844})

    # 1. Kofi, the association's organizer, opens the report's values and asks about the firewood figure.
    page.goto("/account/login")
    page.locator("#email").fill("kofi@harambee.test")
    page.locator("#password").fill(demo.DEMO_PASSWORD)
    page.locator("main form button").click()
    expect(page.locator("header form[action$='/account/logout']")).to_be_visible()
    english = page.locator("header form.lang button[value=en]")
    if english.get_attribute("aria-current") != "true":
        english.click()
        expect(english).to_have_attribute("aria-current", "true")
    page.goto(f"/campaigns/{CAMPAIGN}")
    page.get_by_role("link", name="Manage indicators").click()
    page.wait_for_url(re.compile(r"/impact$"))
    screenshot("organizer-indicators")
    _fits_and_passes_axe(page, axe)
    page.get_by_role("link", name="The school kitchen cooks").click()
    firewood = page.locator(".panel", has_text="Firewood burned each week")
    firewood.get_by_role("button", name="Ask them to confirm").click()
    expect(page.locator(".flash")).to_contain_text("people are being asked to confirm this value")
    screenshot("organizer-asked")
    _fits_and_passes_axe(page, axe)

    # 2. The SMS to the first listed parent carries the link.
    texts = [text for number, text, _ref in sms.sent if number == "+22997000101"]
    assert len(texts) == 1, sms.sent
    link = LINK.search(texts[0]).group(1)
    assert "170" in texts[0] and "Est-ce vrai ?" in texts[0]

    # 3. The parent opens it on a phone, signed out, without JavaScript: the page speaks the SMS's French.
    context = browser.new_context(viewport={"width": WIDTH, "height": 844}, java_script_enabled=False,
                                  locale="en-US", base_url=live_server.url)
    parent = context.new_page()
    try:
        parent.goto(link)
        # in French, the language the SMS was written in for this parent
        expect(parent.get_by_role("heading", name="Est-ce vrai ?")).to_be_visible()
        expect(parent.locator("html")).to_have_attribute("lang", "fr")
        expect(parent.locator(".figure")).to_contain_text("170 kg")
        _shot(parent, request, "parent-link")
        assert parent.evaluate("document.documentElement.scrollWidth") <= WIDTH
        parent.get_by_role("button", name="Oui, c’est vrai").click()
        expect(parent.get_by_role("heading", name="Merci")).to_be_visible()
        _shot(parent, request, "parent-thanks")

        # 4. The same link again is refused, with the reason.
        response = parent.goto(link)
        assert response.status == 409
        expect(parent.locator(".flash-error")).to_contain_text("Ce lien a déjà servi")
        _shot(parent, request, "parent-link-used")

        # 5. The campaign page shows the count beside the value, never the parent's number.
        parent.goto(f"/campaigns/{CAMPAIGN}#impact")
        section = parent.locator("#impact")
        value = section.locator(".indicator", has_text="Firewood burned each week")
        expect(value.locator(".confirmations").first).to_contain_text("Confirmé par 1 des 6 personnes sollicitées")  # 3 parents listed, 3 backers
        assert "+22997000101" not in parent.content()
        _shot(parent, request, "campaign-page-count")
        # the impact section fits the phone, and so does the whole French page: its budget lines, with their worth in
        # dollars "(taux du 27 nov. 2026)", once made it 414 px wide
        sticking_out = parent.evaluate(OVERFLOWING)
        assert not sticking_out, sticking_out
        assert section.evaluate("e => e.getBoundingClientRect().right") <= WIDTH
        assert parent.evaluate("document.documentElement.scrollWidth") <= WIDTH
    finally:
        context.close()
    page.goto(f"/campaigns/{CAMPAIGN}")
    _fits_and_passes_axe(page, axe)


_PARENT_SHOTS = itertools.count(51)  # after the organizer's (the `screenshot` fixture numbers from 01)


def _shot(tab: Page, request, name: str) -> None:
    folder = ARTIFACTS / _artifact_name(request)
    folder.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(folder / f"{next(_PARENT_SHOTS):02d}-{name}.png"), full_page=True)
