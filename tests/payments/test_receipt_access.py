"""A pledge's reference names it and opens nothing (issue 9).

A funder's statement listed each pledge's reference, which opened the backer's receipt to anyone and let
a GET cancel a pending checkout. Now a pledge's pages open for its backer signed in, or with the secret
token of a link we sent (the checkout's return URLs, every email), stored hashed; state changes are POSTs
with CSRF; statements carry a row number; and an old link without a token asks the backer to sign in or
to have a new link emailed to the pledge's address.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import url_for
from sqlalchemy import select

from tests.campaigns.helpers import sign_in
from tests.factories import UserFactory
from tests.payments.money_helpers import fund
from tests.payments.support import (
    checkout_path,
    event,
    fresh,
    live_campaign,
    pay,
    payload_of,
    pending_pledge,
    session_obj,
    signature,
    submit_pledge,
    text,
    the_pledge,
    tier,
)
from webapp.accounts.models import Role
from webapp.campaigns.models import FundingModel, RewardTier
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.payments import webhooks
from webapp.payments.models import PledgeAccessToken, PledgeStatus
from webapp.payments.pledging import access

P = PledgeStatus
LOCKED = "Open your pledge"
_PER_RESPONSE = re.compile(r'(nonce="[^"]*"|name="csrf_token" value="[^"]*")')


def _page(response) -> str:
    return _PER_RESPONSE.sub("", response.get_data(as_text=True))


@pytest.fixture
def campaign():
    c = live_campaign("EUR", FundingModel.KEEP_IT_ALL, slug="four-a-pain")
    db.session.commit()
    return c


def paid_pledge(campaign, amount: int = 2_500, **kwargs):
    pledge = pending_pledge(campaign, amount, **kwargs)
    payload = payload_of(event("checkout.session.completed", session_obj(
        pledge, status="complete", payment_status="paid", payment_intent=f"pi_test_{pledge.reference}")))
    assert webhooks.receive(payload, signature(payload))[0] == 200
    return fresh(pledge)


def receipt_link(pledge) -> str:
    link = access.link(pledge, "receipt")
    db.session.commit()
    return link


def local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


# -- the reference alone ------------------------------------------------------------------------------------
def test_a_reference_alone_opens_nothing_and_looks_like_an_unknown_one(app, campaign):
    pledge = paid_pledge(campaign, email="backer@example.org")
    stranger = app.test_client()
    known = stranger.get(url_for("payments.receipt", reference=pledge.reference))
    unknown = stranger.get(url_for("payments.receipt", reference="no-such-pledge0"))
    wrong_token = stranger.get(url_for("payments.receipt", reference=pledge.reference, token="x" * 43))

    assert known.status_code == unknown.status_code == wrong_token.status_code == 404
    assert LOCKED in text(known) and "2.50" not in text(known) and "25.00" not in text(known)
    assert campaign.title not in text(known) and "backer@example.org" not in text(known)
    assert _page(known).replace(pledge.reference, "REF") == _page(unknown).replace("no-such-pledge0", "REF")
    for page in ("payments.checkout_cancelled", "money.complete_payment"):
        assert stranger.get(url_for(page, reference=pledge.reference)).status_code == 404


def test_another_signed_in_user_cannot_open_it_either(client, campaign):
    pledge = paid_pledge(campaign)
    sign_in(client, UserFactory(verified=True, role=Role.ADMIN))
    assert client.get(url_for("payments.receipt", reference=pledge.reference)).status_code == 404


# -- the link's token ----------------------------------------------------------------------------------------
def test_the_emailed_link_opens_the_receipt_then_drops_the_token_from_the_address(app, campaign):
    pledge = paid_pledge(campaign)
    link = receipt_link(pledge)
    browser = app.test_client()

    opened = browser.get(local(link))
    assert opened.status_code == 303 and opened.location == f"/pledges/{pledge.reference}"
    page = browser.get(opened.location)
    assert page.status_code == 200 and "Thank you! Your pledge is confirmed." in text(page)
    assert page.headers["Referrer-Policy"] == "no-referrer"
    # another browser with the bare reference still sees nothing
    assert app.test_client().get(opened.location).status_code == 404


def test_tokens_are_stored_only_as_their_hash(campaign):
    pledge = paid_pledge(campaign)
    token = parse_qs(urlsplit(receipt_link(pledge)).query)["token"][0]
    stored = db.session.scalars(select(PledgeAccessToken.token_hash)
                                .where(PledgeAccessToken.pledge_id == pledge.id)).all()
    assert hashlib.sha256(token.encode()).hexdigest() in stored and token not in stored
    assert len(token) >= 43  # 32 random bytes


def test_a_token_opens_only_its_own_pledge(app, campaign):
    mine, other = paid_pledge(campaign), paid_pledge(campaign)
    token = parse_qs(urlsplit(receipt_link(mine)).query)["token"][0]
    response = app.test_client().get(url_for("payments.receipt", reference=other.reference, token=token))
    assert response.status_code == 404


def test_the_checkout_return_urls_carry_a_token_that_opens_the_pledge_in_another_browser(app, client, campaign):
    reward = tier(campaign, 2_000, limit=3)
    db.session.commit()
    checkout = checkout_path(submit_pledge(client, campaign, "25", tier=str(reward.id)))
    paid = pay(client, checkout)
    success = urlsplit(paid.location)
    assert success.path == f"/pledges/{the_pledge(campaign).reference}" and "token" in parse_qs(success.query)

    phone = app.test_client()  # the bank's app opened the return URL in another browser
    page = phone.get(local(paid.location), follow_redirects=True)
    assert page.status_code == 200 and "Thank you! Your pledge is confirmed." in text(page)


def test_the_browser_that_made_the_pledge_sees_its_receipt(client, campaign):
    response = submit_pledge(client, campaign, "25")
    pay(client, response)
    page = client.get(url_for("payments.receipt", reference=the_pledge(campaign).reference))
    assert page.status_code == 200 and "Thank you! Your pledge is confirmed." in text(page)


# -- the backer signed in ------------------------------------------------------------------------------------
def test_the_signed_in_backer_opens_their_pledge_without_a_link(client, campaign):
    backer = UserFactory(verified=True)
    pledge = paid_pledge(campaign, user=backer)
    sign_in(client, backer)
    assert client.get(url_for("payments.receipt", reference=pledge.reference)).status_code == 200


def test_a_guest_pledge_opens_for_the_account_whose_verified_address_made_it(client, campaign):
    pledge = paid_pledge(campaign, email="awa@example.org")
    account = UserFactory(verified=False, email="awa@example.org")
    sign_in(client, account)
    assert client.get(url_for("payments.receipt", reference=pledge.reference)).status_code == 404
    account.email_verified_at = utcnow()
    db.session.commit()
    assert client.get(url_for("payments.receipt", reference=pledge.reference)).status_code == 200


# -- leaving the checkout: a GET changes nothing ---------------------------------------------------------------
def test_the_cancel_return_url_shows_a_button_and_changes_nothing(app, campaign):
    reward = tier(campaign, 2_000, limit=1)
    db.session.commit()
    pledge = pending_pledge(campaign, 2_500, tier=reward)
    browser = app.test_client()
    cancel_url = local(access.link(pledge, "checkout", "payments.checkout_cancelled"))
    db.session.commit()

    landed = browser.get(cancel_url, follow_redirects=True)
    assert landed.status_code == 200 and "Give up this pledge now" in text(landed)
    assert fresh(pledge).status == P.PENDING
    assert db.session.get(RewardTier, reward.id).units_claimed == 1

    stranger = app.test_client()
    refused = stranger.post(url_for("payments.abandon_checkout", reference=pledge.reference))
    assert refused.status_code == 404 and fresh(pledge).status == P.PENDING

    given_up = browser.post(url_for("payments.abandon_checkout", reference=pledge.reference))
    assert given_up.status_code == 303
    assert fresh(pledge).status == P.EXPIRED
    db.session.expire_all()
    assert db.session.get(RewardTier, reward.id).units_claimed == 0


def test_the_old_get_that_cancelled_a_checkout_cancels_nothing(app, campaign):
    pledge = pending_pledge(campaign, 2_500)
    app.test_client().get(url_for("payments.checkout_cancelled", reference=pledge.reference))
    assert fresh(pledge).status == P.PENDING


@pytest.fixture
def csrf_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)


def test_giving_up_a_checkout_needs_the_pages_csrf_token(app, campaign, csrf_on):
    pledge = pending_pledge(campaign, 2_500)
    browser = app.test_client()
    page = browser.get(local(access.link(pledge, "checkout", "payments.checkout_cancelled")), follow_redirects=True)
    db.session.commit()
    forged = browser.post(url_for("payments.abandon_checkout", reference=pledge.reference))
    assert forged.status_code == 400 and fresh(pledge).status == P.PENDING
    csrf_token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    browser.post(url_for("payments.abandon_checkout", reference=pledge.reference), data={"csrf_token": csrf_token})
    assert fresh(pledge).status == P.EXPIRED


# -- the funder's statement -------------------------------------------------------------------------------
def test_nothing_in_a_funders_statement_opens_a_receipt(app, client, campaign):
    manager = UserFactory(verified=True, role=Role.FUNDER)
    f = fund(campaign, manager=manager)
    pledges = [paid_pledge(campaign, 1_000 + i) for i in range(3)]
    sign_in(client, manager)
    rows = list(csv.reader(io.StringIO(client.get(url_for("funds.statement", fund_id=f.id)).get_data(as_text=True))))

    cells = {cell for row in rows[1:] for cell in row}
    assert [row[2] for row in rows[1:]] == ["1", "2", "3"]
    assert not {p.reference for p in pledges} & cells
    for cell in cells:
        assert client.get(url_for("payments.receipt", reference=cell)).status_code == 404


# -- links in emails sent before tokens existed ------------------------------------------------------------------
def test_an_old_link_asks_to_sign_in_or_to_email_a_new_link(app, campaign, smtp_server):
    pledge = paid_pledge(campaign, email="afi@example.org")
    db.session.commit()
    smtp_server.clear()
    browser = app.test_client()

    old = browser.get(f"/pledges/{pledge.reference}")  # what emails sent before this change hold
    assert old.status_code == 404
    assert "Email me a new link" in text(old) and "Sign in" in text(old)

    asked = browser.post(url_for("payments.send_link", reference=pledge.reference))
    assert asked.status_code == 303
    [message] = smtp_server.wait_for(1)
    assert message["To"] == "afi@example.org"
    link = re.search(r"http://harambee\.test/pledges/\S+", smtp_server.text_of(message)).group(0)
    assert browser.get(local(link), follow_redirects=True).status_code == 200

    # asked again at once: no second email (the backer's inbox is not a target); the same answer
    again = browser.post(url_for("payments.send_link", reference=pledge.reference))
    unknown = browser.post(url_for("payments.send_link", reference="no-such-pledge0"))
    assert again.status_code == unknown.status_code == 303 and again.location == unknown.location
    db.session.commit()
    assert len(smtp_server.messages) == 1


def test_asking_for_new_links_is_limited_per_address(app, campaign):
    browser = app.test_client()
    answers = [browser.post(url_for("payments.send_link", reference=f"guess-{n:04d}")).status_code for n in range(12)]
    assert answers[:10] == [303] * 10 and answers[10:] == [429, 429]
