"""Events follow the webhook endpoint's API version: one in another version is refused whole, loudly.

The app declares STRIPE_API_VERSION (the stripe library's pinned version); the fake Stripe labels
events with the endpoint's version (`event_api_version`, `event_in_version`).
"""
from __future__ import annotations

import json
import logging

import stripe

from tests.payments.money_helpers import deliver, entries, keep_it_all, started_pledge
from tests.payments.support import count, fresh, signature
from webapp.extensions import db
from webapp.payments import webhooks
from webapp.payments.models import PledgeEvent, PledgeStatus, ProcessedEvent

OTHER = "2025-03-31.basil"


def receive(evt: dict) -> tuple[int, str]:
    payload = json.dumps(evt).encode()
    return webhooks.receive(payload, signature(payload))


def test_the_app_expects_the_librarys_pinned_version(app):
    assert app.config["STRIPE_API_VERSION"] == stripe.api_version == "2026-10-28.endive"


def test_an_event_in_another_version_is_refused_logged_and_applied_later_in_the_right_one(
        app, client, fake_stripe, caplog):
    campaign = keep_it_all(goal=100_000)
    pledge = started_pledge(campaign, 2_500)
    events = fake_stripe.complete_checkout(pledge.checkout_session_id, authenticate=True)
    assert {e["api_version"] for e in events} == {app.config["STRIPE_API_VERSION"]}
    before = (count(ProcessedEvent), count(PledgeEvent), len(entries()))

    with caplog.at_level(logging.ERROR, logger="webapp.payments.webhooks.versions"):
        answers = [receive(fake_stripe.event_in_version(e, OTHER)) for e in events]
    assert all(status == 400 for status, _ in answers)
    assert "set the webhook endpoint's API version to 2026-10-28.endive" in answers[0][1]
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == len(events) and OTHER in errors[0].getMessage()
    # nothing half-applied: no event recorded (so Stripe's retry is applied), no state, no ledger entry
    assert (count(ProcessedEvent), count(PledgeEvent), len(entries())) == before
    assert fresh(pledge).status == PledgeStatus.PENDING

    deliver(events)  # Stripe's retries once the endpoint is on the expected version
    assert fresh(pledge).status == PledgeStatus.PAID and entries(kind="charge")


def test_an_extra_version_may_be_accepted_during_an_upgrade(app, client, fake_stripe):
    campaign = keep_it_all(goal=100_000)
    pledge = started_pledge(campaign, 2_500)
    fake_stripe.event_api_version = OTHER
    events = fake_stripe.complete_checkout(pledge.checkout_session_id, authenticate=True)
    app.config["STRIPE_EXTRA_EVENT_API_VERSIONS"] = [OTHER]
    try:
        assert all(receive(e)[0] == 200 for e in events)
    finally:
        app.config["STRIPE_EXTRA_EVENT_API_VERSIONS"] = []
    db.session.expire_all()
    assert fresh(pledge).status == PledgeStatus.PAID


def test_the_endpoint_answers_400_over_http(client, fake_stripe):
    from tests.payments.support import post_event

    created, withdrawn = fake_stripe.dispute(*_paid(fake_stripe))
    response = post_event(client, fake_stripe.event_in_version(created, OTHER))
    assert response.status_code == 400 and entries(kind="dispute") == []
    assert post_event(client, created).status_code == 200 and len(entries(kind="dispute")) == 1


def _paid(fake):
    from tests.payments.money_helpers import paid_pledge

    pledge = paid_pledge(fake, keep_it_all(goal=100_000), 2_500)
    db.session.commit()
    return (pledge.payment_intent_id,)
