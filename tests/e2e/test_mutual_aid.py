"""The third path, in a real browser: the demo coordinator activates a flood, and calls turn into matched help.

With the demo data `make run` loads: the coordinator declares a flood over Littoral and Atlantique
through the form and activates it after the confirmation page; near and diaspora members get
their calls (in-app, and by email to a real SMTP server on 127.0.0.1); the helper's sleeping
offer wakes up; the affected member posts a lodging request, accepts the suggested offer and sees
the helper's contact only once the helper accepted too; the nurse in Lyon gives to the emergency
fund through the sandbox checkout; the coordinator's page shows it all. Each step is saved to
test-artifacts/<db>/e2e_test_mutual_aid.py_.../NN-step.png.
"""
from __future__ import annotations

import re

import pytest

from tests.conftest import wait_until
from playwright.sync_api import Page, expect
from sqlalchemy import select

from webapp import demo
from webapp.extensions import db
from webapp.mutual_aid.models import Audience, DisasterEvent, Offer, OfferState, SolidarityCall

pytestmark = pytest.mark.e2e
PASSWORD = demo.DEMO_PASSWORD
EVENT = "Floods in Cotonou and Ganvié"
OFFER = "A dry room for a family of up to 4 in Akpakpa"  # the demo helper's sleeping offer
HELPER_PHONE = "+229 97 12 34 56"


def sign_in(page: Page, email: str) -> None:
    page.goto("/account/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button").click()
    expect(page.locator("header form[action$='/account/logout']")).to_be_visible()
    english = page.locator("header form.lang button[value=en]")
    if english.get_attribute("aria-current") != "true":  # demo accounts may speak French: read in English
        english.click()
        expect(page.locator("html")).to_have_attribute("lang", "en")


def sign_out(page: Page) -> None:
    page.locator("header form[action$='/account/logout'] button").click()
    page.wait_for_load_state()


def test_a_flood_is_activated_calls_go_out_and_a_family_is_matched_with_a_helper(
        page: Page, live_server, smtp_server, screenshot):
    with live_server.app.app_context():
        demo.load_all()
        db.session.commit()

    # 1. The coordinator declares the flood: regions from the picker, the relief association's fund.
    sign_in(page, "coordinator@harambee.test")
    page.get_by_role("link", name="Disaster events").click()
    page.get_by_role("link", name="Declare a disaster event").click()
    page.locator("#name").fill(EVENT)
    page.locator("#kind").select_option("flood")
    page.locator("#severity").select_option("severe")
    page.locator("#public_message").fill("The lagoon overflowed in Cotonou and Ganvié: families need shelter.")
    page.locator("#country").select_option("BJ")
    expect(page.locator("#regions option[value='BJ-LI']")).to_have_text("Littoral")
    page.locator("#regions").select_option(["BJ-LI", "BJ-AQ"])
    page.locator("#relief_organization_id").select_option(label="Entraide Littoral")
    page.locator("#fund_currency").select_option("XOF")
    page.locator("#fund_goal").fill("5 000 000")
    screenshot("event-form")
    page.get_by_role("button", name="Save the draft").click()
    expect(page.locator(".flash-success")).to_contain_text("saved as a draft")

    # 2. The confirmation page says who will be called; activation needs the box ticked.
    page.get_by_role("link", name="Activate…").click()
    # five near the area: the demo host (Hawa, in Cotonou) lives there too
    expect(page.locator("#reach")).to_contain_text("Near the area: 5")
    expect(page.locator("#reach")).to_contain_text("Diaspora: 2")
    screenshot("activation-confirmation")
    page.locator("#confirm").check()
    page.get_by_role("button", name="Activate and send the calls").click()
    expect(page.locator(".flash-success")).to_contain_text("7 solidarity calls are on their way, 1 sleeping offers")
    expect(page.locator("tr[data-audience=near][data-channel=inapp] td.sent")).to_have_text("5")
    expect(page.locator("tr[data-audience=diaspora][data-channel=email] td.sent")).to_have_text("2")
    screenshot("coordinator-after-activation")

    with live_server.app.app_context():
        event = db.session.scalar(select(DisasterEvent).where(DisasterEvent.name == EVENT))
        audiences = dict(db.session.execute(select(SolidarityCall.audience, db.func.count())
                                            .where(SolidarityCall.event_id == event.id)
                                            .group_by(SolidarityCall.audience)).all())
        woken = db.session.scalar(select(Offer).where(Offer.event_id == event.id))
        slug = event.slug
    assert audiences == {Audience.NEAR: 5, Audience.DIASPORA: 2}
    assert woken.title == OFFER and woken.state == OfferState.PUBLISHED
    # the calls (other mail may go out meanwhile: the demo's vote reminders, say)
    def calls_sent():
        return {m["To"]: m for m in list(smtp_server.messages) if str(m["Subject"]).startswith(EVENT)}

    wait_until(lambda: len(calls_sent()) >= 7, timeout=10)
    mails = calls_sent()
    assert set(mails) == {"coordinator@harambee.test", "kofi@harambee.test", "helper@harambee.test",
                          "affected@harambee.test", "nurse@harambee.test", "student@harambee.test",
                          "host@harambee.test"}
    assert "emergency fund" in smtp_server.text_of(mails["student@harambee.test"])
    sign_out(page)

    # 3. The affected member opens the call and asks for lodging; the woken offer is suggested.
    sign_in(page, "affected@harambee.test")
    page.get_by_role("link", name="Mutual aid").click()
    page.locator("#calls").get_by_role("link", name=EVENT).click()
    page.wait_for_url(re.compile(r"/calls/\d+$"))
    screenshot("call-for-the-affected-member")
    page.get_by_role("link", name="I am affected: ask for help").click()
    page.locator("#category").select_option("lodging")
    page.locator("#urgency").select_option("critical")
    page.locator("#household_size").fill("3")
    page.locator("#description").fill("Our house is under water; we are three, with a baby.")
    page.locator("#address").fill("Lot 12, Akpakpa Dodomey")
    page.locator("#contact_phone").fill("+229 96 44 55 66")
    screenshot("request-form")
    page.get_by_role("button", name="Post my request").click()
    suggestions = page.locator("#suggestions")
    expect(suggestions).to_contain_text(OFFER)
    expect(page.locator("main")).not_to_contain_text(HELPER_PHONE)
    screenshot("suggested-offers")
    suggestions.locator("tr", has_text=OFFER).get_by_role("button", name="Accept this offer").click()
    expect(page.locator("#contact-hidden")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text(HELPER_PHONE)
    expect(page.locator("main")).not_to_contain_text("helper@harambee.test")
    screenshot("waiting-for-the-helper")
    sign_out(page)

    # 4. The helper is told, accepts, and sees the family's address.
    sign_in(page, "helper@harambee.test")
    page.get_by_role("link", name="Mutual aid").click()
    page.locator("#notifications a", has_text="Someone asks for your offer").first.click()
    expect(page.locator("main")).not_to_contain_text("Akpakpa Dodomey")
    page.get_by_role("button", name="Accept").click()
    expect(page.locator("#contact")).to_contain_text("Lot 12, Akpakpa Dodomey")
    screenshot("helper-sees-the-family")
    sign_out(page)

    # 5. Only now does the family see the helper's contact.
    sign_in(page, "affected@harambee.test")
    page.get_by_role("link", name="Mutual aid").click()
    page.locator("#notifications a", has_text="is matched").first.click()
    expect(page.locator("#match-state")).to_have_text("matched")
    expect(page.locator("#contact")).to_contain_text(HELPER_PHONE)
    expect(page.locator("#contact")).to_contain_text("helper@harambee.test")
    screenshot("family-sees-the-helper")
    sign_out(page)

    # 6. The nurse in Lyon, whose home region is hit, gives to the emergency fund.
    sign_in(page, "nurse@harambee.test")
    page.get_by_role("link", name="Mutual aid").click()
    page.locator("#calls").get_by_role("link", name=EVENT).click()
    page.wait_for_url(re.compile(r"/calls/\d+$"))
    screenshot("call-for-the-diaspora")
    page.get_by_role("link", name="Give to the emergency fund").click()
    # the form starts in her euros; she gives in the fund's francs CFA
    page.locator("#amount_currency").select_option("XOF")
    page.locator("#amount").fill("25000")
    page.get_by_role("button", name="Continue to payment").click()
    page.locator("#card").fill("4242 4242 4242 4242")
    page.locator("#exp").fill("12/34")
    page.locator("#cvc").fill("123")
    page.get_by_role("button", name="Pay").click()
    expect(page).to_have_url(re.compile(r"/pledges/[\w-]+\?checkout=done$"))
    screenshot("pledge-receipt")
    sign_out(page)

    # 7. The coordinator's page: calls opened, the money, the request matched, the map.
    sign_in(page, "coordinator@harambee.test")
    page.goto(f"/aid/manage/events/{slug}")
    expect(page.locator("#raised")).to_contain_text("25,000")
    expect(page.locator("tr[data-audience=diaspora][data-channel=inapp] td.opened")).to_have_text("1")
    expect(page.locator("tr[data-audience=near][data-channel=inapp] td.opened")).to_have_text("1")
    expect(page.locator("tr[data-category=lodging]")).to_contain_text("matched: 1")
    expect(page.locator("#median")).not_to_have_text("—")
    expect(page.locator("svg rect[data-cell]")).to_have_count(1)
    screenshot("coordinator-page")
