"""Every language of LANGUAGES, on a 390 px phone: the main pages of the three paths (backing a campaign, mutual aid,
running a campaign) fit the screen, say their language and direction in <html lang dir>, and axe-core finds no
serious or critical accessibility violation, and the console shows no error (a blocked script or style, a missing
favicon or any other asset that answers 404, an uncaught exception).

One browser, one context per language, the pages in a loop. The Arabic pages (right to left) and the French ones are
saved to test-artifacts/<db>/e2e_test_languages.py_every_language/{ar,fr}-NN-page.png, to be looked at.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from babel import Locale
from playwright.sync_api import BrowserContext, Page

from config import Config
from tests.conftest import ARTIFACTS
from tests.e2e.test_narrow_screens import PASSWORD, SQUEEZED, _flood_with_everything

pytestmark = pytest.mark.e2e
WIDTH = 390
#: the axe-core impacts that fail the test; "minor" and "moderate" findings are reported only
SERIOUS = ("serious", "critical")
#: the languages whose pages are kept as screenshots: right to left, and the French of most organizers
SCREENSHOTS = ("ar", "fr")


#: the innermost elements that stick out of the screen (to the right, or to the left in a right-to-left page)
_OVERFLOWING = """() => [...document.querySelectorAll('body *')].filter(e => {
  const r = e.getBoundingClientRect();
  return (r.right > innerWidth + 1 || r.left < -1) && ![...e.children].some(c => {
    const q = c.getBoundingClientRect(); return q.right > innerWidth + 1 || q.left < -1; });
}).slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '') + ' "' +
  (e.textContent || '').trim().slice(0, 60) + '"')"""


def _direction(lang: str) -> str:
    return "rtl" if Locale.parse(lang).character_order == "right-to-left" else "ltr"


def _pages(made: dict[str, str], lang: str) -> list[tuple[str | None, str, str]]:
    """(who is signed in, name, URL): the main pages of each path, in the order a person meets them; the pooled funds,
    impact and recurring ones after them."""
    kitchen, ganvie = made["kitchen"], made["ganvie"]
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
        ("kofi@harambee.test", "round-ballot", f"/rounds/{made['round-voting']}"),
        ("kofi@harambee.test", "report-values", f"/manage/campaigns/{kitchen}/reports/{made['kitchen-report']}/values"),
        ("kofi@harambee.test", "org-currency", f"/manage/organizations/{ganvie}/currency"),
        ("kofi@harambee.test", "recurring-payments", f"/manage/organizations/{ganvie}/recurring/payments"),
        ("kofi@harambee.test", "recurring-income", f"/manage/organizations/{ganvie}/recurring"),
        ("kofi@harambee.test", "impact-manage", f"/manage/campaigns/{kitchen}/impact"),
        ("kofi@harambee.test", "beneficiaries", f"/manage/campaigns/{kitchen}/impact/beneficiaries"),
        ("claire@harambee.test", "membership-class", f"/manage/organizations/{made['class-org']}/classes/{made['class']}"),
        ("claire@harambee.test", "members", f"/manage/organizations/{made['class-org']}/members"),
        ("nurse@harambee.test", "org-funds", f"/organizations/{made['fund-org']}/pooled-funds"),
        ("nurse@harambee.test", "round-new", f"/pooled-funds/{made['fund']}/rounds/new"),
        ("engineer@harambee.test", "my-support", "/support/mine"),
        ("engineer@harambee.test", "my-memberships", "/memberships/mine"),
        # signed out, the budget is also shown in the visitor's currency, at the day's rate
        (None, "campaign-indicators", f"/campaigns/{kitchen}"),
        (None, "pooled-fund", f"/pooled-funds/{made['fund']}"),
        (None, "round-result", f"/rounds/{made['round-closed']}"),
        (None, "receipt-lookup", f"/rounds/{made['round-closed']}/ballots"),
        # last: opened signed out, the link's page speaks its message's language and keeps it for the visit
        (None, "confirm-link", made[f"confirm-{lang}"]),
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
    errors: list[str] = []
    where = f"[{lang}] signing in"
    page = context.new_page()
    # any console error fails: what the Content-Security-Policy blocked, a resource that answered 404 or 500
    # ("Failed to load resource"), an exception no script caught
    page.on("console", lambda message: errors.append(f"{where}: console {message.type}: {message.text}"
                                                     f" ({message.location.get('url', '')})")
            if message.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"{where}: uncaught {exc}"))
    signed_in = None
    for n, (who, name, url) in enumerate(pages, 1):
        if who != signed_in:
            if signed_in:
                _sign_out(page)
            if who:
                _sign_in(page, who, lang)
            signed_in = who
        where = f"[{lang}] {name} ({url})"
        response = page.goto(url)
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
        squeezed = page.evaluate(SQUEEZED)
        if squeezed:
            problems.append(f"{where}: text squeezed into a narrow column: {squeezed}")
        problems += [f"{where}: {v}" for v in _violations(axe, page)]
        if lang in SCREENSHOTS:
            page.screenshot(path=str(shots / f"{lang}-{n:02d}-{name}.png"), full_page=True)
    if signed_in:
        _sign_out(page)
    page.close()
    return problems + errors


def test_every_language_fits_a_phone_says_its_direction_and_passes_axe(browser, live_server, smtp_server):
    with live_server.app.app_context():
        made = _flood_with_everything()
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
            problems += _check_language(context, lang, _pages(made, lang), shots, axe)
        finally:
            context.close()
    for lang in SCREENSHOTS:
        assert sorted(shots.glob(f"{lang}-*.png")), f"no {lang} screenshot was saved"
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)
