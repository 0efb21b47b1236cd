"""Every language of LANGUAGES, on a 390 px phone: the main pages of the three paths (backing a campaign, mutual aid,
running a campaign) fit the screen, say their language and direction in <html lang dir>, and axe-core finds no
serious or critical accessibility violation.

One browser, one context per language, the pages in a loop. The Arabic pages (right to left) are saved to
test-artifacts/<db>/e2e_test_languages.py_.../ar-NN-page.png, to be looked at.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from babel import Locale
from playwright.sync_api import BrowserContext, Page

from config import Config
from tests.conftest import ARTIFACTS
from tests.e2e.test_narrow_screens import PASSWORD, _flood_with_everything

pytestmark = pytest.mark.e2e
WIDTH = 390
#: the axe-core impacts that fail the test; "minor" and "moderate" findings are reported only
SERIOUS = ("serious", "critical")


#: the innermost elements that stick out of the screen (to the right, or to the left in a right-to-left page)
_OVERFLOWING = """() => [...document.querySelectorAll('body *')].filter(e => {
  const r = e.getBoundingClientRect();
  return (r.right > innerWidth + 1 || r.left < -1) && ![...e.children].some(c => {
    const q = c.getBoundingClientRect(); return q.right > innerWidth + 1 || q.left < -1; });
}).slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '') + ' "' +
  (e.textContent || '').trim().slice(0, 60) + '"')"""


def _direction(lang: str) -> str:
    return "rtl" if Locale.parse(lang).character_order == "right-to-left" else "ltr"


def _pages(made: dict[str, str]) -> list[tuple[str | None, str, str]]:
    """(who is signed in, name, URL): the main pages of each path, in the order a person meets them."""
    return [
        (None, "home", "/"),
        (None, "discovery", "/?q=&category=&sort=ending"),
        (None, "campaign", f"/campaigns/{made['campaign']}"),
        (None, "pledge-form", f"/campaigns/{made['campaign']}/pledge"),
        (None, "sign-in", "/account/login"),
        (None, "aid-event", f"/aid/events/{made['event']}"),
        ("affected@harambee.test", "help-request", f"/aid/requests/{made['request']}"),
        ("nurse@harambee.test", "my-pledges", "/pledges/mine"),
        ("nurse@harambee.test", "receipt", f"/pledges/{made['receipt']}"),
        ("kofi@harambee.test", "money-page", f"/manage/campaigns/{made['campaign']}/money"),
    ]


def _sign_in(page: Page, email: str, lang: str) -> None:
    page.goto("/account/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button").click()
    page.wait_for_selector("header form[action$='/account/logout']")
    # a member's saved language wins over the browser's: choose this one, as the picker in the header does
    page.locator(f"header form.lang button[value='{lang}']").click()
    page.wait_for_load_state()


def _sign_out(page: Page) -> None:
    page.locator("header form[action$='/account/logout'] button").click()
    page.wait_for_load_state()


def _violations(axe: Axe, page: Page) -> list[str]:
    results = axe.run(page)
    found = []
    for violation in results.response["violations"]:
        if violation["impact"] in SERIOUS:
            targets = ", ".join(str(node["target"]) for node in violation["nodes"][:3])
            found.append(f"{violation['impact']} {violation['id']} ({violation['help']}): {targets}")
    return found


def _check_language(context: BrowserContext, lang: str, pages, shots: Path, axe: Axe) -> list[str]:
    problems: list[str] = []
    blocked: list[str] = []
    page = context.new_page()
    page.on("console", lambda message: blocked.append(message.text)
            if "Content Security Policy" in message.text else None)
    signed_in = None
    for n, (who, name, url) in enumerate(pages, 1):
        if who != signed_in:
            if signed_in:
                _sign_out(page)
            if who:
                _sign_in(page, who, lang)
            signed_in = who
        response = page.goto(url)
        where = f"[{lang}] {name} ({url})"
        if response is None or not response.ok:
            problems.append(f"{where}: HTTP {response.status if response else 'no answer'}")
            continue
        html_lang = page.evaluate("document.documentElement.lang")
        html_dir = page.evaluate("document.documentElement.dir")
        if (html_lang, html_dir) != (lang, _direction(lang)):
            problems.append(f"{where}: <html lang={html_lang!r} dir={html_dir!r}>, not {lang!r} {_direction(lang)!r}")
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if scroll > inner:
            problems.append(f"{where}: {scroll} px wide on a {inner} px screen, past it: {page.evaluate(_OVERFLOWING)}")
        problems += [f"{where}: {v}" for v in _violations(axe, page)]
        if _direction(lang) == "rtl":
            page.screenshot(path=str(shots / f"{lang}-{n:02d}-{name}.png"), full_page=True)
    if signed_in:
        _sign_out(page)
    page.close()
    problems += [f"[{lang}] the Content-Security-Policy blocked: {b}" for b in blocked]
    return problems


def test_every_language_fits_a_phone_says_its_direction_and_passes_axe(browser, live_server, smtp_server):
    with live_server.app.app_context():
        made = _flood_with_everything()
    pages = _pages(made)
    shots = ARTIFACTS / "e2e_test_languages.py_every_language"
    shots.mkdir(parents=True, exist_ok=True)
    axe = Axe()
    problems: list[str] = []
    assert "ar" in Config.LANGUAGES
    for lang in Config.LANGUAGES:
        context = browser.new_context(base_url=live_server.url, locale=lang,
                                      viewport={"width": WIDTH, "height": 844})
        context.set_default_timeout(10_000)
        try:
            problems += _check_language(context, lang, pages, shots, axe)
        finally:
            context.close()
    assert sorted(shots.glob("ar-*.png")), "no Arabic screenshot was saved"
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)
