"""The fourth path, in a real browser: a diaspora member in Montréal supports a Benin association every month.

With the demo data `make run` loads: Youssef (the demo engineer in Québec) starts monthly support of
25 CAD for Association Ganvié Écotourisme on the sandbox's hosted page; the renewal job charges the
second month (the job itself, run as the worker runs it); he changes the card for all his gifts on the
sandbox's setup page, then cancels in one click, and the job charges nothing after. Each step is saved
to test-artifacts/<db>/e2e_test_recurring_support.py_.../NN-step.png.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from webapp import demo
from webapp.accounts.models import User
from webapp.extensions import db
from webapp.payments import batches
from webapp.payments.recurring import services as recurring
from webapp.payments.recurring.models import ChargeStatus, RecurringCharge, RecurringSupport, SupportState

pytestmark = pytest.mark.e2e
ORG = "ganvie-ecotourisme"
EMAIL = "engineer@harambee.test"


def sign_in(page: Page, email: str) -> None:
    page.goto("/account/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(demo.DEMO_PASSWORD)
    page.locator("main form button").click()
    expect(page.locator("header form[action$='/account/logout']")).to_be_visible()


def the_support(live_server) -> tuple[RecurringSupport, list[RecurringCharge], str | None]:
    with live_server.app.app_context():
        user = db.session.scalar(select(User).where(User.email == EMAIL))
        support = db.session.scalar(select(RecurringSupport).where(RecurringSupport.user_id == user.id))
        charges = list(db.session.scalars(select(RecurringCharge).where(RecurringCharge.support_id == support.id)
                                          .order_by(RecurringCharge.period)))
        method = recurring.saved_method(user.id)
        card = method.payment_method_id if method else None
        db.session.expunge_all()
        return support, charges, card


def run_renewal_job(live_server, at) -> batches.RenewalReport:
    with live_server.app.test_request_context():
        try:
            return batches.renew_due(at)
        finally:
            db.session.remove()


def test_a_diaspora_member_gives_monthly_in_cad_changes_the_card_then_cancels(page: Page, live_server, screenshot):
    with live_server.app.app_context():
        demo.load_all()
        db.session.commit()

    # 1. From the association's page, monthly support in Canadian dollars, in Toronto's time zone.
    sign_in(page, EMAIL)
    page.goto(f"/organizations/{ORG}")
    page.locator(f"a[href$='/organizations/{ORG}/support']").first.click()
    page.locator("#amount").fill("25")
    page.locator("#currency").select_option("CAD")
    page.locator("input[name=interval][value=monthly]").check()
    page.locator("#timezone").select_option("America/Toronto")
    screenshot("start")
    page.locator("main form button").click()

    # 2. The first month on the (sandbox) processor's page; the card is saved for the next ones.
    expect(page.locator("#card")).to_be_visible()
    screenshot("hosted-page")
    page.locator("#card").fill("4242 4242 4242 4242")
    page.locator("button[name=action][value=pay]").click()
    page.wait_for_url("**/support/mine**")
    support, charges, first_card = the_support(live_server)
    assert support.state == SupportState.ACTIVE and support.currency == "CAD" and support.amount == 2_500
    assert [c.status for c in charges] == [ChargeStatus.SUCCEEDED] and first_card
    page.reload()
    expect(page.locator(f"#support-{support.reference}")).to_contain_text("25,00")
    screenshot("my-support-first-month")

    # 3. A month later the renewal job charges the second month, off-session, once.
    due = support.next_charge_at + timedelta(minutes=1)
    assert run_renewal_job(live_server, due).charged == 1
    assert run_renewal_job(live_server, due).charged == 0
    support, charges, _ = the_support(live_server)
    assert [c.status for c in charges] == [ChargeStatus.SUCCEEDED, ChargeStatus.SUCCEEDED]
    page.reload()
    screenshot("my-support-second-month")

    # 4. A new card, once for all gifts, on the processor's setup page.
    page.locator("form[action$='/support/card'] button").click()
    expect(page.locator("#card")).to_be_visible()
    page.locator("#card").fill("4242 4242 4242 4242")  # the sandbox knows three test cards: a new one of the same
    page.locator("button[name=action][value=save]").click()
    page.wait_for_url("**/support/mine**")
    _, _, new_card = the_support(live_server)
    assert new_card != first_card and new_card.startswith("pm_sandbox_4242_")
    screenshot("card-changed")

    # 5. Cancel in one click: at once, and the job charges nothing after.
    page.locator(f"form[action$='/support/{support.reference}/cancel'] button").click()
    expect(page.locator(f"#support-{support.reference} .support-state")).to_contain_text("Annulé")  # in his French
    screenshot("cancelled")
    support, charges, _ = the_support(live_server)
    assert support.state == SupportState.CANCELLED
    for months in range(1, 4):
        assert run_renewal_job(live_server, due + timedelta(days=31 * months)).charged == 0
    assert len(the_support(live_server)[1]) == 2

    # 6. The association's editors see it on their recurring income; the statement lists it.
    page.goto("/support/statement/" + str(charges[0].paid_at.year))
    expect(page.locator("main")).to_contain_text("Ganvié")
    screenshot("statement")


def test_recurring_and_membership_pages_are_never_wider_than_a_phone(page: Page, live_server, screenshot):
    with live_server.app.app_context():
        demo.load_all()
        db.session.commit()
    too_wide: list[str] = []

    def check(url: str, name: str) -> None:
        for width in (390, 1280):
            page.set_viewport_size({"width": width, "height": 844 if width < 800 else 900})
            response = page.goto(url)
            assert response is not None and response.ok, url
            screenshot(f"{name}-{width}")
            scroll = page.evaluate("document.documentElement.scrollWidth")
            if scroll > width:
                too_wide.append(f"{url} is {scroll} px wide at {width} px")

    sign_in(page, EMAIL)
    page.goto(f"/organizations/{ORG}/support")
    page.locator("#amount").fill("25")
    page.locator("#currency").select_option("CAD")
    page.locator("main form button").click()
    page.locator("#card").fill("4242 4242 4242 4242")
    page.locator("button[name=action][value=pay]").click()
    page.wait_for_url("**/support/mine**")
    check("/support/mine", "my-support")
    check(f"/organizations/{ORG}/support", "start")
    check("/memberships/mine", "my-memberships")
    check(f"/organizations/{ORG}/transparency", "transparency")
    page.locator("header form[action$='/account/logout'] button").click()
    expect(page.locator("header form[action$='/account/logout']")).to_have_count(0)
    sign_in(page, "claire@harambee.test")  # the Lyon bakery's owner: its members, their cash dues
    check("/manage/organizations/scop-pain-lyon/members", "members")
    check("/manage/organizations/scop-pain-lyon/recurring", "income")
    check("/organizations/scop-pain-lyon/membership", "classes")
    check("/manage/organizations/scop-pain-lyon/recurring/payments", "payments")
    check("/manage/organizations/scop-pain-lyon/currency", "currency")
    with live_server.app.app_context():
        from webapp.membership.models import MembershipClass
        from webapp.organizations.models import Organization

        org_id = db.session.scalar(select(Organization.id).where(Organization.slug == "scop-pain-lyon"))
        class_id = db.session.scalar(select(MembershipClass.id).where(MembershipClass.organization_id == org_id))
    check(f"/manage/organizations/scop-pain-lyon/classes/{class_id}", "class")
    assert not too_wide, "\n".join(too_wide)
