"""The pages with tables, on a 390 px phone and a 1,280 px screen: never wider than the screen, every button reachable.

With the demo data and a flood that is active (its calls sent, a family's request with a suggested offer, a
reported offer, pledges from abroad in every state, their receipt and the organizer's money page), each page is loaded at both widths, in the language of
the demo account that reads it, and saved to test-artifacts/<db>/e2e_test_narrow_screens.py_.../NN-page-width.png.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.factories import PledgeFactory
from webapp import demo
from webapp.accounts.models import User
from webapp.campaigns.models import Campaign
from webapp.extensions import db
from webapp.money import Money
from webapp.mutual_aid.models import EventKind, HelpCategory, Offer, Severity, Urgency
from webapp.mutual_aid.services import events, moderation, posts
from webapp.organizations.models import Organization
from webapp.payments.models import ChargeTiming, PledgeStatus

pytestmark = pytest.mark.e2e
PASSWORD = demo.DEMO_PASSWORD
WIDTHS = (390, 1280)


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def _flood_with_everything() -> dict[str, str]:
    """An active flood with its calls out, a request with a suggestion, a report; pledges in every state."""
    demo.load_all()
    db.session.commit()
    coordinator = _user("coordinator@harambee.test")
    relief = db.session.scalar(select(Organization).where(Organization.name == "Entraide Littoral"))
    event = events.create_event(coordinator, events.EventDraft(
        name="Floods in Cotonou and Ganvié", kind=EventKind.FLOOD, severity=Severity.SEVERE, starts_on=date.today(),
        relief_organization_id=relief.id, public_message="The lagoon overflowed in Cotonou and Ganvié.",
        region_codes=("BJ-LI", "BJ-AQ"), centre_latitude=6.3654, centre_longitude=2.4183, radius_km=40,
        fund_goal=Money(5_000_000, "XOF")))
    events.activate(event, coordinator)
    db.session.commit()
    from webapp.mutual_aid.tasks import dispatch_calls

    dispatch_calls(event.id)  # the calls go out (in-app, and by email to the SMTP server on loopback)
    affected = _user("affected@harambee.test")
    request = posts.post_request(event, affected, posts.RequestDetails(
        category=HelpCategory.LODGING, urgency=Urgency.CRITICAL, household_size=3,
        description="Our house is under water; we are three, with a baby of four months.",
        place=posts.Place(6.3654, 2.4183, "BJ-LI"), address="Lot 12, Akpakpa Dodomey",
        contact_phone="+229 96 44 55 66"))
    offer = db.session.scalar(select(Offer).where(Offer.event_id == event.id))
    moderation.report(_user("kofi@harambee.test"), offer=offer,
                      reason="This offer asks for money before anyone can visit the room, which is not help.")
    nurse = _user("nurse@harambee.test")
    campaign = db.session.scalar(select(Campaign).where(Campaign.currency == "XOF").order_by(Campaign.id))
    pledges = {}
    for i, status in enumerate(PledgeStatus):
        pledges[status] = PledgeFactory(campaign=campaign, user=nurse, email=nurse.email, locale=nurse.locale, status=status,
                      charge_timing=ChargeTiming.ON_SUCCESS, amount=65_596 + i, currency=campaign.currency,
                      charge_amount=10_000 + i, charge_currency="EUR", fx_rate=Decimal("0.0015244902"),
                      fx_date=date(2026, 11, 27), refunded_amount=65_596 + i if status == PledgeStatus.REFUNDED else 0)
    db.session.commit()
    return {"event": event.slug, "request": str(request.id), "campaign": campaign.slug,
            "receipt": pledges[PledgeStatus.COMMITTED].reference}


def sign_in(page: Page, email: str) -> None:
    page.goto("/account/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button").click()
    expect(page.locator("header form[action$='/account/logout']")).to_be_visible()


def sign_out(page: Page) -> None:
    page.locator("header form[action$='/account/logout'] button").click()
    page.wait_for_load_state()


def _check_width(page: Page, screenshot, url: str, name: str, too_wide: list[str]) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 844 if width < 800 else 900})
        response = page.goto(url)
        assert response is not None and response.ok, url
        screenshot(f"{name}-{width}")
        scroll = page.evaluate("document.documentElement.scrollWidth")
        if scroll > width:
            too_wide.append(f"{url} is {scroll} px wide at {width} px")


def test_no_page_is_wider_than_a_phone(page: Page, live_server, smtp_server, screenshot):
    with live_server.app.app_context():
        made = _flood_with_everything()
    slug = made["event"]
    too_wide: list[str] = []

    sign_in(page, "coordinator@harambee.test")
    _check_width(page, screenshot, f"/aid/manage/events/{slug}", "coordinator-event", too_wide)
    _check_width(page, screenshot, f"/aid/manage/events/{slug}/report", "coordinator-report", too_wide)
    _check_width(page, screenshot, f"/aid/manage/events/{slug}/calls", "calls", too_wide)
    sign_out(page)

    sign_in(page, "moderator@harambee.test")
    _check_width(page, screenshot, "/aid/moderation/", "moderation-queue", too_wide)
    sign_out(page)

    sign_in(page, "nurse@harambee.test")
    _check_width(page, screenshot, "/pledges/mine", "my-pledges", too_wide)
    _check_width(page, screenshot, f"/pledges/{made['receipt']}", "receipt", too_wide)
    sign_out(page)

    sign_in(page, "kofi@harambee.test")  # the campaign's organizer: its money page lists every backer
    _check_width(page, screenshot, f"/manage/campaigns/{made['campaign']}/money", "money-page", too_wide)
    sign_out(page)

    sign_in(page, "affected@harambee.test")
    _check_width(page, screenshot, f"/aid/requests/{made['request']}", "request", too_wide)
    accept = page.locator("#suggestions button", has_text="Accept").or_(
        page.locator("#suggestions button", has_text="Accepter")).first
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 844 if width < 800 else 900})
        page.goto(f"/aid/requests/{made['request']}")
        expect(accept).to_be_visible()
        # scrolled down to the button, never sideways: a person on a phone does not look for it to the right
        top = accept.evaluate("b => b.getBoundingClientRect().top + window.scrollY - 100")
        page.evaluate("y => window.scrollTo(0, y)", top)
        assert page.evaluate("window.scrollX") == 0
        box = accept.bounding_box()
        assert box is not None
        if not (0 <= box["x"] and box["x"] + box["width"] <= width):
            too_wide.append(f"the accept button is at {box} at {width} px")
    assert not too_wide, "\n".join(too_wide)
