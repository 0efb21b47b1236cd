"""The optional tip to the platform: off by default, never pre-filled, kept apart from the campaign's money."""
from __future__ import annotations

import re

from sqlalchemy import select

from tests.payments.support import fresh, live_campaign
from webapp.campaigns import services as campaigns
from webapp.campaigns.models import FundingModel
from webapp.extensions import db
from webapp.ledger import services as ledger
from webapp.payments.models import Pledge, PledgeStatus
from webapp.payments.providers.sandbox import SUCCEEDS


def _token(html: str) -> str:
    return re.search(r'id="client_token"[^>]*value="([^"]+)"', html).group(1)


def test_the_tip_field_is_empty_until_the_backer_fills_it(client):
    campaign = live_campaign("EUR", FundingModel.KEEP_IT_ALL)
    db.session.commit()
    html = client.get(f"/campaigns/{campaign.slug}/pledge").get_data(as_text=True)
    field = re.search(r'<input[^>]*id="tip"[^>]*>', html).group(0)
    assert 'value=""' in field or "value=" not in field


def test_a_tip_is_charged_with_the_pledge_but_booked_to_the_platform(client):
    campaign = live_campaign("EUR", FundingModel.KEEP_IT_ALL)
    db.session.commit()
    token = _token(client.get(f"/campaigns/{campaign.slug}/pledge").get_data(as_text=True))
    response = client.post(f"/campaigns/{campaign.slug}/pledge", data={
        "tier": "", "amount": "20", "tip": "2", "pay_currency": "EUR", "email": "t@example.org",
        "client_token": token})
    assert response.status_code == 303
    pledge = db.session.scalar(select(Pledge))
    assert (pledge.amount, pledge.tip_amount, pledge.charge_amount) == (2_000, 200, 2_200)
    checkout = response.headers["Location"].split("harambee.test", 1)[1]
    client.post(checkout, data={"card": SUCCEEDS, "action": "pay"})
    assert fresh(pledge).status == PledgeStatus.PAID
    assert campaigns.progress_of(campaign).raised.amount == 2_000  # the tip is not the campaign's
    assert ledger.balance(ledger.PLATFORM_REVENUE, "EUR").amount == 200


def test_a_tip_larger_than_the_pledge_is_refused(client):
    campaign = live_campaign("EUR", FundingModel.KEEP_IT_ALL)
    db.session.commit()
    token = _token(client.get(f"/campaigns/{campaign.slug}/pledge").get_data(as_text=True))
    response = client.post(f"/campaigns/{campaign.slug}/pledge", data={
        "tier": "", "amount": "5", "tip": "50", "pay_currency": "EUR", "email": "t@example.org",
        "client_token": token})
    assert response.status_code == 400
    assert "tip" in response.get_data(as_text=True).lower()
    assert db.session.scalar(select(Pledge)) is None
