"""The second path end to end with the real `stripe` library against the fake Stripe server.

The same flow as the sandbox's browser test: a French visitor pledges 25,000 XOF through the pledge
form, pays on the (fake) hosted page, and Stripe's signed events reach our webhook endpoint.
"""
from __future__ import annotations

import re

from sqlalchemy import select

from tests.payments.support import fresh, live_campaign, raised
from webapp.campaigns.models import FundingModel
from webapp.extensions import db
from webapp.payments.models import Pledge, PledgeStatus

P = PledgeStatus
FR = {"Accept-Language": "fr-FR,fr;q=0.9"}


def _pledge_through_the_form(client, campaign, amount: str, email: str) -> tuple[Pledge, str]:
    html = client.get(f"/campaigns/{campaign.slug}/pledge", headers=FR).get_data(as_text=True)
    token = re.search(r'id="client_token"[^>]*value="([^"]+)"', html).group(1)
    response = client.post(f"/campaigns/{campaign.slug}/pledge", headers=FR, data={
        "tier": "", "amount": amount, "pay_currency": campaign.currency, "email": email,
        "display_name": "Afiavi", "client_token": token})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    pledge = db.session.scalar(select(Pledge).where(Pledge.email == email))
    return pledge, response.headers["Location"]


def _deliver(client, fake, events) -> None:
    for event in events:
        body, headers = fake.webhook_request(event)
        assert client.post("/payments/webhooks/stripe", data=body, headers=headers).status_code == 200


def test_a_french_visitor_pledges_25000_xof_through_stripe_checkout(client, fake_stripe, smtp_server):
    campaign = live_campaign("XOF", FundingModel.KEEP_IT_ALL)
    db.session.commit()
    pledge, location = _pledge_through_the_form(client, campaign, "25 000", "afiavi@example.org")
    session = fake_stripe.objects[pledge.checkout_session_id]
    assert location == session["url"]  # the backer goes to Stripe's hosted page
    assert (session["mode"], session["currency"], session["amount_total"]) == ("payment", "xof", 25000)

    _deliver(client, fake_stripe, fake_stripe.complete_checkout(pledge.checkout_session_id))

    paid = fresh(pledge)
    assert paid.status == P.PAID
    assert paid.settled_fee is not None and paid.settled_amount + paid.settled_fee == 25_000
    assert raised(campaign) == 25_000
    receipt = smtp_server.wait_for(1)[0]
    assert receipt["To"] == "afiavi@example.org"
    text = smtp_server.text_of(receipt)
    assert "25" in text and "F" in text and campaign.title in text
    assert "Merci" in text  # in the backer's language


def test_a_declined_card_on_stripe_leaves_no_confirmed_pledge(client, fake_stripe):
    campaign = live_campaign("XOF", FundingModel.KEEP_IT_ALL)
    db.session.commit()
    pledge, _ = _pledge_through_the_form(client, campaign, "25000", "declined@example.org")
    _deliver(client, fake_stripe, fake_stripe.complete_checkout(pledge.checkout_session_id, card="4000000000009995"))
    assert fresh(pledge).status == P.PENDING  # the hosted page lets the backer try another card
    assert fresh(pledge).failure_reason  # the processor's words, kept for the backer and support
    _deliver(client, fake_stripe, fake_stripe.expire_session(pledge.checkout_session_id))
    assert fresh(pledge).status == P.EXPIRED
    assert raised(campaign) == 0


def test_an_all_or_nothing_pledge_saves_the_card_through_stripe_and_is_committed(client, fake_stripe):
    campaign = live_campaign("EUR", FundingModel.ALL_OR_NOTHING)
    db.session.commit()
    pledge, _ = _pledge_through_the_form(client, campaign, "40", "nurse@example.org")
    session = fake_stripe.objects[pledge.checkout_session_id]
    assert session["mode"] == "setup" and session["customer"]
    assert "goal" in session["custom_text"]["submit"]["message"] or "objectif" in session["custom_text"]["submit"]["message"]
    _deliver(client, fake_stripe, fake_stripe.complete_checkout(pledge.checkout_session_id))
    committed = fresh(pledge)
    assert committed.status == P.COMMITTED
    assert committed.payment_method_id and committed.customer_id == session["customer"]
    assert raised(campaign) == 4_000
