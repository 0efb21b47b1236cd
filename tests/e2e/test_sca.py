"""Strong customer authentication at the close, in a real browser, with the StripeProvider and the fake Stripe.

Two backers saved a card on an all-or-nothing campaign; one of them used 4000 0027 6000 3184, whose
bank asks for authentication on every charge. The moderator fast-forwards the campaign past its
deadline (the development-only button), the first card is charged off-session and the second is not:
its backer receives the "complete your payment" email (a real SMTP server on 127.0.0.1), opens the
link, goes to the fake Stripe's hosted page, is asked to authenticate, does so, and the pledge ends
paid. The public transparency page then shows what the ledger holds. Each step is saved to
test-artifacts/<db>/e2e_test_sca.py_.../NN-step.png.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.factories import PASSWORD, UserFactory
from tests.payments.conftest import _fake_stripe_server, fake_stripe  # noqa: F401  (the fake Stripe fixtures)
from tests.payments.money_helpers import AUTH_CARD, OK_CARD, all_or_nothing, organizer_of
from tests.payments.support import pending_pledge
from webapp.extensions import db
from webapp.ledger import services as ledger
from webapp.payments.models import Pledge, PledgeStatus
from webapp.payments.views.organizer import statement

pytestmark = pytest.mark.e2e
TITLE = "A solar bread oven for Ouidah"


def _sign_in(page: Page, email: str) -> None:
    page.goto("/account/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("header form[action$='/account/logout']")).to_be_visible()


def test_a_backer_whose_bank_asks_for_authentication_completes_the_payment_in_the_browser(
        page: Page, live_server, fake_stripe, smtp_server, screenshot):
    app = live_server.app
    fake_stripe.webhook_url = live_server.url_for("payments.stripe_webhook")
    with app.test_request_context():
        campaign = all_or_nothing(goal=2_000, title=TITLE, slug="four-solaire")
        organizer_of(campaign, locale="en", email="organizer@example.org")
        UserFactory(verified=True, moderator=True, locale="en", email="moderator@example.org")
        db.session.commit()
        kofi = pending_pledge(campaign, 1_500, email="kofi@example.org")
        afiavi = pending_pledge(campaign, 1_000, email="afiavi@example.org")
        sessions = kofi.checkout_session_id, afiavi.checkout_session_id
        afiavi_id = afiavi.id
    # Both save their card on the hosted page (Afiavi authenticates once, as her bank asks).
    assert fake_stripe.deliver(fake_stripe.complete_checkout(sessions[0], OK_CARD)) == [200, 200]
    assert fake_stripe.deliver(fake_stripe.complete_checkout(sessions[1], AUTH_CARD, authenticate=True)) == [200, 200]

    # 1. The moderator fast-forwards the campaign past its deadline.
    _sign_in(page, "moderator@example.org")
    page.goto("/campaigns/four-solaire")
    screenshot("campaign-before-the-deadline")
    page.get_by_role("button", name="Fast-forward past the deadline").click()
    expect(page.locator(".flash-success")).to_contain_text("Closed: 1 charged, 1 need the backer, 0 released.")
    screenshot("closed-and-collected")
    assert set(fake_stripe.deliver(fake_stripe.take_events())) == {200}  # Stripe's events for the charges
    page.locator("header form[action$='/account/logout'] button").click()
    expect(page.locator("header form[action$='/account/logout']")).to_have_count(0)

    # 2. Afiavi's email asks her to complete the payment.
    messages = smtp_server.wait_for(4)
    [ask] = [m for m in messages if m["To"] == "afiavi@example.org" and m["Subject"].startswith("Complete")]
    assert ask["Subject"] == f"Complete your payment to “{TITLE}”"
    # the link carries its own secret: the pledge's reference alone opens nothing (issue 9)
    link = re.search(r"http://127\.0\.0\.1:\d+/pledges/\S+/complete\?token=\S+", smtp_server.text_of(ask)).group(0)

    # 3. She opens the link and goes to the processor's page to pay while present.
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Complete your payment")
    screenshot("complete-your-payment")
    page.get_by_role("button", name="Complete the payment").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Fake Stripe Checkout")
    expect(page.get_by_test_id("amount")).to_have_text("1000 EUR (minor units)")

    # 4. Her bank asks for authentication; she authenticates and pays.
    page.get_by_label("Card number").fill("4000 0027 6000 3184")
    page.get_by_role("button", name="Pay").click()
    expect(page.get_by_test_id("error")).to_have_text("Your bank asks you to authenticate this payment.")
    screenshot("bank-asks-to-authenticate")
    page.get_by_label("Card number").fill("4000 0027 6000 3184")
    page.get_by_label("Complete authentication").check()
    page.get_by_role("button", name="Pay").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you! Your pledge is confirmed.")
    screenshot("paid")

    with app.test_request_context():
        paid = db.session.get(Pledge, afiavi_id)
        assert paid.status == PledgeStatus.PAID and paid.payment_intent_id
        statuses = sorted(p.status for p in db.session.scalars(select(Pledge)))
        assert statuses == [PledgeStatus.PAID, PledgeStatus.PAID]
        figures = statement(paid.campaign)
        assert figures["gross"].amount == 2_500
        held = ledger.balance(ledger.campaign_account(paid.campaign_id), "EUR")
        assert figures["net"] == held and held.amount == 2_500 - figures["fees"].amount
        gross, net = figures["gross"].format("en"), held.format("en")

    # 5. The public transparency page shows what the ledger holds.
    page.goto("/campaigns/four-solaire/transparency")
    aside = page.locator("aside")
    expect(aside.locator("tr", has_text="Received from backers")).to_contain_text(gross)
    expect(aside.locator("tr", has_text="Held for the organization")).to_contain_text(net)
    screenshot("transparency")
