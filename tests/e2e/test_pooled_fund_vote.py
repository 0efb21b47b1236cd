"""Members decide together, in a real browser on a 390 px phone: the demo hometown association's round.

With the demo data `make run` loads (the Natifs de Ouidah, five members, a round in voting on three
proposals): Kofi votes signed in and gets his receipt code; Maria votes from the link in her email
without signing in; Afiavi, the board, votes and then closes the round; the result, with its counts, is
on the round's page, the grants are in the fund's ledger and on its page, and Kofi finds his ballot,
unchanged, in the published list with his receipt. Screenshots in test-artifacts/<db>/e2e_test_pooled_fund_vote.py_.../.
"""
from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect
from sqlalchemy import select

from webapp import demo
from webapp.extensions import db
from webapp.governance import funds, rounds
from webapp.governance.models import FundingRound, RoundState
from webapp.ledger.models import LedgerEntry
from webapp.money import Money

pytestmark = pytest.mark.e2e
PHONE = {"width": 390, "height": 844}


def sign_in(page: Page, email: str) -> None:
    page.goto("/account/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(demo.DEMO_PASSWORD)
    page.locator("main form button").click()
    expect(page.locator("header form[action$='/account/logout']")).to_be_visible()


def sign_out(page: Page) -> None:
    page.locator("header form[action$='/account/logout'] button").click()
    expect(page.locator("header form[action$='/account/logout']")).to_have_count(0)


def fits_and_passes_axe(page: Page, axe: Axe) -> None:
    scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll <= inner, f"{page.url} is {scroll}px wide on a {inner}px screen"
    serious = [v["id"] for v in axe.run(page).response["violations"] if v["impact"] in ("serious", "critical")]
    assert not serious, f"{page.url}: {serious}"


def choose(page: Page, titles: list[str]) -> None:
    for title in titles:
        page.locator("label.check", has_text=title).locator("input").check()


def test_members_vote_one_by_emailed_link_the_board_closes_and_the_grants_are_booked(
        page: Page, browser, live_server, screenshot, mail_outbox):
    axe = Axe()
    page.set_viewport_size(PHONE)
    with live_server.app.app_context():
        demo.load_all()
        db.session.commit()
        rnd = db.session.scalar(select(FundingRound))
        round_id, fund_id = rnd.id, rnd.fund_id
    puits, ecole, moulin = "Forage d'un puits", "Fournitures pour l'école", "Moulin à maïs"

    # 1. Kofi, signed in, chooses two projects within the budget; his receipt code is shown once.
    sign_in(page, "kofi@harambee.test")
    page.goto(f"/rounds/{round_id}")
    fits_and_passes_axe(page, axe)
    screenshot("round-open")
    choose(page, [puits, ecole])
    page.locator(f"form[action$='/rounds/{round_id}/vote'] button").click()
    receipt = page.locator("#receipt-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]{5}(-[A-Z2-7]{5}){3}", receipt)
    fits_and_passes_axe(page, axe)
    screenshot("receipt")
    sign_out(page)

    # 2. Maria never signs in: the link in her email opens her ballot; it works once.
    [invitation] = [m for m in mail_outbox if str(m["To"]) == "member@harambee.test"]
    link = re.search(r"https?://\S+/vote/\S+", invitation.get_body().get_content()).group(0)
    context = browser.new_context(base_url=live_server.url, viewport=PHONE)
    link_page = context.new_page()
    link_page.goto(link)
    expect(link_page.locator("header form[action$='/account/logout']")).to_have_count(0)
    fits_and_passes_axe(link_page, axe)
    shot = screenshot("kofi-signed-out")
    link_page.screenshot(path=str(shot.with_name(shot.stem + "-then-maria-votes-by-link.png")), full_page=True)
    choose(link_page, [ecole, moulin])
    link_page.locator("main form button").click()
    expect(link_page.locator("#receipt-code")).to_be_visible()
    again = link_page.goto(link)
    assert again.status == 410
    context.close()

    # 3. Afiavi, the board, finds the round from the association's page, votes and closes the round.
    sign_in(page, "nurse@harambee.test")
    page.goto("/organizations/ouidah-natifs")
    page.locator("a[href$='/organizations/ouidah-natifs/pooled-funds']").click()
    expect(page).to_have_url(re.compile(r"/organizations/ouidah-natifs/pooled-funds$"))
    page.wait_for_load_state()
    fits_and_passes_axe(page, axe)
    screenshot("funds-of-the-association")
    page.goto(f"/pooled-funds/{fund_id}/rounds/new")
    fits_and_passes_axe(page, axe)
    page.goto(f"/rounds/{round_id}")
    choose(page, [ecole, puits])
    page.locator(f"form[action$='/rounds/{round_id}/vote'] button").click()
    expect(page.locator("#receipt-code")).to_be_visible()
    page.goto(f"/rounds/{round_id}")
    page.locator(f"form[action$='/rounds/{round_id}/advance'] button").click()
    expect(page.locator("#round-result")).to_be_visible()
    fits_and_passes_axe(page, axe)
    screenshot("round-counted")

    # most votes first: the school (3) and the well (2) fill 900 000 of the 1 000 000; the mill (1) no longer fits
    with live_server.app.app_context():
        rnd = db.session.get(FundingRound, round_id)
        assert rnd.state == RoundState.COUNTED and (rnd.roll_size, rnd.ballots_counted) == (5, 3)
        result = {p.title.split(" ")[0]: (p.votes, p.funded) for p in rounds.proposals_of(rnd)}
        assert result == {"Forage": (2, True), "Fournitures": (3, True), "Moulin": (1, False)}
        grants = list(db.session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "pooled_grant")))
        assert sorted(g.amount for g in grants) == [300_000, 600_000]
        assert funds.balance(rnd.fund) == Money(600_000, "XOF")
    rows = page.locator("#proposals tbody tr")
    expect(rows).to_have_count(3)

    # 4. The fund's page shows the grants in its ledger, and what it holds now.
    page.goto(f"/pooled-funds/{fund_id}")
    expect(page.locator("#fund-ledger tbody tr")).to_have_count(3)  # money set apart, two grants
    expect(page.locator("#fund-ledger")).to_contain_text("Forage")
    expect(page.locator("#fund-balance")).to_contain_text("600")
    fits_and_passes_axe(page, axe)
    screenshot("fund-ledger")
    sign_out(page)

    # 5. Kofi finds his ballot, unchanged, among the published ones, with his receipt.
    page.goto(f"/rounds/{round_id}/ballots")
    expect(page.locator("#ballots tbody tr")).to_have_count(3)
    page.locator("#receipt").fill(receipt)
    page.locator("main form button").click()
    expect(page.locator("#found-ballot")).to_contain_text(puits)
    expect(page.locator("#found-ballot")).to_contain_text(ecole)
    fits_and_passes_axe(page, axe)
    screenshot("ballot-found")

    # 6. Kofi gets his vote links by SMS (the number he gave for his membership), and may give every month to
    #    the fund itself: both pages on the phone.
    sign_in(page, "kofi@harambee.test")
    page.goto("/memberships/mine")
    page.locator("details.member-contact summary").first.click()
    expect(page.locator("details.member-contact input[name=phone]").first).to_have_value("+22997000011")
    fits_and_passes_axe(page, axe)
    screenshot("membership-sms")
    page.goto(f"/pooled-funds/{fund_id}")
    page.locator("#give-monthly").click()
    expect(page.locator("p.pooled-target")).to_contain_text("Caisse de solidarité de Ouidah")
    fits_and_passes_axe(page, axe)
    screenshot("give-monthly-to-the-fund")
