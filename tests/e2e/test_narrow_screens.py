"""The pages with tables, on a 390 px phone and a 1,280 px screen: never wider than the screen, every button reachable.

With the demo data and a flood that is active (its calls sent, a family's request with a suggested offer, a
reported offer, pledges from abroad in every state, their receipt and the organizer's money page), each page is loaded at both widths, in the language of
the demo account that reads it, and saved to test-artifacts/<db>/e2e_test_narrow_screens.py_.../NN-page-width.png.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from config import Config
from tests.factories import PledgeFactory
from webapp import demo
from webapp.clock import utcnow
from webapp.impact import demo as impact_demo
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
    made = {"event": event.slug, "request": str(request.id), "campaign": campaign.slug,
            "receipt": pledges[PledgeStatus.COMMITTED].reference}
    made.update(_pooled_funds_impact_and_recurring())
    db.session.commit()
    return made


def _pooled_funds_impact_and_recurring() -> dict[str, str]:
    """The pages of the pooled funds, impact and recurring features, on the demo's data: the Ouidah fund and its round
    in voting, a second round closed and counted beside it (the demo has none), the Ganvié kitchen's report values and a
    confirmation link in each language, a paid month of Youssef's support of the Ganvié association."""
    from webapp.governance import ballots, rounds, tally
    from webapp.governance.models import AllocationRule, FundingRound, RoundState
    from webapp.impact.models import Beneficiary, ConfirmationRequest, Indicator, IndicatorValue
    from webapp.impact.services import confirmations
    from webapp.membership.models import MembershipClass
    from webapp.payments import fx
    from webapp.payments.recurring import services as recurring
    from webapp.payments.recurring.models import RecurringCharge, SupportInterval, SupportState

    voting = db.session.scalar(select(FundingRound).where(FundingRound.state == RoundState.VOTING))
    fund, board = voting.fund, _user("nurse@harambee.test")
    now = utcnow().replace(microsecond=0)
    closed = rounds.create_round(fund, board, rounds.RoundSettings(
        title="Projets 2026", budget=Money(500_000, "XOF"), rule=AllocationRule.GREEDY,
        proposals_close_at=now + timedelta(hours=1), voting_closes_at=now + timedelta(days=2)))
    rounds.open_proposals(closed, board)
    for title, amount in (("Réfection du toit de la maternité de Ouidah", 350_000),
                          ("Bourses pour trois apprenties couturières", 150_000),
                          ("Lampadaires solaires pour la place du marché", 400_000)):
        rounds.submit_proposal(closed, board, title, "", Money(amount, "XOF"))
    rounds.open_voting(closed, board)
    proposals = [p.id for p in rounds.proposals_of(closed)]
    for email, chosen in (("nurse@harambee.test", proposals[:2]), ("kofi@harambee.test", proposals[:1]),
                          ("member@harambee.test", proposals[2:])):
        ballots.cast(closed, rounds.voter_of(closed, _user(email)), chosen)
    tally.close(closed, board)

    kitchen = db.session.scalar(select(Campaign).where(Campaign.slug == impact_demo.SLUG))
    value = db.session.scalar(select(IndicatorValue).join(Indicator, Indicator.id == IndicatorValue.indicator_id)
                              .where(Indicator.campaign_id == kitchen.id, Indicator.sdg_target.is_not(None)))
    for lang in Config.LANGUAGES:  # a parent who reads each language: the link's page speaks the message's
        db.session.add(Beneficiary(campaign_id=kitchen.id, email=f"parent.{lang}@example.org", locale=lang,
                                   consent_on=date.today()))
    db.session.flush()
    confirmations.ask(value)
    links = {}
    for asked in db.session.scalars(select(ConfirmationRequest).join(
            Beneficiary, Beneficiary.id == ConfirmationRequest.beneficiary_id).where(
            ConfirmationRequest.value_id == value.id, Beneficiary.email.like("parent.%@example.org"),
            Beneficiary.email != "parent.ganvie@example.org")):
        links[f"confirm-{asked.locale}"] = f"/impact/confirm/{confirmations.token_for(asked)}"

    ganvie = kitchen.organization
    support = recurring.start(_user("engineer@harambee.test"), ganvie, Money(2_500, "CAD"), SupportInterval.MONTHLY,
                              "America/Toronto", "fr", now=utcnow())
    support.state = SupportState.ACTIVE
    rate = fx.quote("CAD", support.booked_currency)  # booked in the association's currency, at the day's rate
    db.session.add(RecurringCharge(support_id=support.id, period=support.next_period, due_on=support.next_charge_on,
                                   amount=2_500, currency="CAD", fx_rate=rate.rate, fx_date=rate.rate_date,
                                   kind="checkout", provider="sandbox", status="succeeded", paid_at=utcnow(),
                                   payment_intent_id="pi_sandbox_walk", charge_id="ch_sandbox_walk"))
    sharer = db.session.scalar(select(MembershipClass).where(MembershipClass.name == "Sociétaire"))
    return {"fund": str(fund.id), "fund-org": fund.organization.slug, "round-voting": str(voting.id), "round-closed": str(closed.id),
            "kitchen": kitchen.slug, "kitchen-report": str(value.report_id), "ganvie": ganvie.slug,
            "class-org": sharer.organization.slug, "class": str(sharer.id), **links}


def sign_in(page: Page, email: str) -> None:
    page.goto("/account/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button").click()
    expect(page.locator("header form[action$='/account/logout']")).to_be_visible()


def sign_out(page: Page) -> None:
    page.locator("header form[action$='/account/logout'] button").click()
    page.wait_for_load_state()


#: text squeezed into a column a few letters wide, one syllable a line, though the page is no wider than the screen
#: (what a neighbour that will not wrap does to it): the elements whose own text of 12 letters or more is laid out in
#: less than 4 em of width and over more than 4 lines
SQUEEZED = """() => [...document.querySelectorAll('main *')].filter(e => {
  const r = e.getBoundingClientRect(), em = parseFloat(getComputedStyle(e).fontSize);
  const own = [...e.childNodes].filter(n => n.nodeType === Node.TEXT_NODE).map(n => n.textContent).join('').trim();
  return own.length >= 12 && r.width < 4 * em && r.height > 4 * 1.2 * em;
}).slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '') + ' "' +
  (e.textContent || '').trim().slice(0, 60) + '" ' + Math.round(e.getBoundingClientRect().width) + ' px wide')"""


def _check_width(page: Page, screenshot, url: str, name: str, too_wide: list[str]) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 844 if width < 800 else 900})
        response = page.goto(url)
        assert response is not None and response.ok, url
        screenshot(f"{name}-{width}")
        scroll = page.evaluate("document.documentElement.scrollWidth")
        if scroll > width:
            too_wide.append(f"{url} is {scroll} px wide at {width} px")
        squeezed = page.evaluate(SQUEEZED)
        if squeezed:
            too_wide.append(f"{url} at {width} px squeezes text into a narrow column: {squeezed}")


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
    # a member of the Ouidah association, its round's ballot before him; the Ganvié association's organizer
    _check_width(page, screenshot, f"/rounds/{made['round-voting']}", "round-ballot", too_wide)
    _check_width(page, screenshot, f"/manage/campaigns/{made['kitchen']}/reports/{made['kitchen-report']}/values",
                 "report-values", too_wide)
    _check_width(page, screenshot, f"/manage/organizations/{made['ganvie']}/currency", "org-currency", too_wide)
    _check_width(page, screenshot, f"/manage/organizations/{made['ganvie']}/recurring/payments",
                 "recurring-payments", too_wide)
    sign_out(page)

    sign_in(page, "claire@harambee.test")  # the Lyon bakery's owner edits its members' class
    _check_width(page, screenshot, f"/manage/organizations/{made['class-org']}/classes/{made['class']}",
                 "membership-class", too_wide)
    sign_out(page)

    # signed out, its budget is also in the visitor's currency, at the day's rate
    _check_width(page, screenshot, f"/campaigns/{made['kitchen']}", "campaign-indicators", too_wide)
    _check_width(page, screenshot, f"/pooled-funds/{made['fund']}", "pooled-fund", too_wide)
    _check_width(page, screenshot, f"/rounds/{made['round-closed']}", "round-result", too_wide)
    _check_width(page, screenshot, f"/rounds/{made['round-closed']}/ballots", "receipt-lookup", too_wide)
    _check_width(page, screenshot, made["confirm-fr"], "confirm-link", too_wide)

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
