"""Sandbox events arrive as Stripe's do: after the caller's commit, one transaction each; never on rollback."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from tests.payments.support import fresh, live_campaign
from webapp.campaigns.models import FundingModel
from webapp.extensions import db
from webapp.payments.models import Pledge, PledgeStatus, ProcessedEvent
from webapp.payments.providers import sandbox


def _pending_pledge(client) -> Pledge:
    campaign = live_campaign("EUR", FundingModel.KEEP_IT_ALL)
    db.session.commit()
    html = client.get(f"/campaigns/{campaign.slug}/pledge").get_data(as_text=True)
    token = re.search(r'id="client_token"[^>]*value="([^"]+)"', html).group(1)
    response = client.post(f"/campaigns/{campaign.slug}/pledge", data={
        "tier": "", "amount": "20", "pay_currency": "EUR", "email": "s@example.org", "client_token": token})
    assert response.status_code == 303
    pledge = db.session.scalar(select(Pledge))
    assert pledge.status == PledgeStatus.PENDING
    return pledge


def _processed() -> int:
    return db.session.scalar(select(func.count()).select_from(ProcessedEvent))


def test_sandbox_events_wait_for_the_callers_commit(client):
    pledge = _pending_pledge(client)

    sandbox.succeed(pledge, sandbox.SUCCEEDS)  # what the imitation hosted page does on a good card
    db.session.flush()
    assert _processed() == 0
    assert pledge.status == PledgeStatus.PENDING  # nothing applied inside the caller's unit of work

    db.session.commit()

    assert _processed() == 2  # checkout.session.completed and payment_intent.succeeded, one transaction each
    assert fresh(pledge).status == PledgeStatus.PAID


def test_a_rollback_drops_the_sandbox_events_it_queued(client):
    pledge = _pending_pledge(client)

    sandbox.succeed(pledge, sandbox.SUCCEEDS)
    db.session.rollback()
    db.session.commit()  # a later unit of work does not deliver what the rolled-back one queued

    assert _processed() == 0
    assert fresh(pledge).status == PledgeStatus.PENDING


def test_the_hosted_page_commits_then_the_events_are_applied(client):
    pledge = _pending_pledge(client)

    response = client.post(f"/sandbox/checkout/{pledge.checkout_session_id}",
                           data={"card": sandbox.SUCCEEDS, "action": "pay"})

    assert response.status_code == 302
    assert fresh(pledge).status == PledgeStatus.PAID
    assert _processed() == 2
