"""The webhook endpoint: signatures on the raw body, each event applied once, in any order."""
from __future__ import annotations

import json
import time

import pytest
import stripe
from sqlalchemy import select

from tests.payments.support import (
    charge_obj,
    confirmed_sum,
    count,
    event,
    fresh,
    intent_obj,
    live_campaign,
    payload_of,
    pending_pledge,
    post_event,
    raised,
    session_obj,
    signature,
    state_of_everything,
    tier,
)
from webapp.campaigns.models import FundingModel, RewardTier
from webapp.extensions import db
from webapp.payments import webhooks
from webapp.payments.models import PledgeEvent, PledgeStatus, ProcessedEvent

P = PledgeStatus


@pytest.fixture
def campaign():
    c = live_campaign("EUR", FundingModel.KEEP_IT_ALL)
    db.session.commit()
    return c


@pytest.fixture
def pledge(campaign):
    return pending_pledge(campaign, 2_500)


def completed(pledge, **extra):
    return event("checkout.session.completed",
                 session_obj(pledge, status="complete", payment_status="paid",
                             payment_intent=f"pi_test_{pledge.reference}", **extra))


# -- refused deliveries ------------------------------------------------------------------------------
def _refused_writes_nothing(client, pledge, **post):
    before = state_of_everything()
    response = post_event(client, completed(pledge), **post)
    assert response.status_code == 400
    assert state_of_everything() == before
    assert count(ProcessedEvent) == 0
    assert fresh(pledge).status == P.PENDING
    return response


def test_a_delivery_without_signature_is_refused_and_writes_nothing(client, pledge):
    response = _refused_writes_nothing(client, pledge, sign=False)
    assert "missing" in response.get_json()["status"]


def test_a_delivery_signed_with_another_secret_is_refused_and_writes_nothing(client, pledge):
    _refused_writes_nothing(client, pledge, secret="whsec_somebody_else")


def test_a_tampered_body_is_refused_and_writes_nothing(client, pledge):
    genuine = completed(pledge)
    header = signature(payload_of(genuine))
    genuine["data"]["object"]["amount_total"] = 1  # changed after signing
    before = state_of_everything()
    response = post_event(client, genuine, header=header)
    assert response.status_code == 400
    assert state_of_everything() == before
    assert fresh(pledge).status == P.PENDING


@pytest.mark.parametrize("age", [301, 3_600])
def test_a_stale_signature_is_refused_even_when_the_mac_is_right(client, pledge, age):
    response = _refused_writes_nothing(client, pledge, timestamp=int(time.time()) - age)
    assert "tolerance" in response.get_json()["status"]


def test_a_signature_just_inside_the_tolerance_is_accepted(client, pledge):
    response = post_event(client, completed(pledge), timestamp=int(time.time()) - 290)
    assert response.status_code == 200
    assert fresh(pledge).status == P.PAID


@pytest.mark.parametrize("header", ["", "garbage", "t=notanumber,v1=abc", "t=123", "v1=abc"])
def test_malformed_signature_headers_are_refused(client, pledge, header):
    before = state_of_everything()
    response = post_event(client, completed(pledge), header=header)
    assert response.status_code == 400
    assert state_of_everything() == before


def test_a_signed_body_that_is_not_an_event_is_refused_and_writes_nothing(client, pledge):
    before = state_of_everything()
    response = post_event(client, b'{"id": "evt_1", "no_type": true}')
    assert response.status_code == 400
    response = post_event(client, b"not json at all")
    assert response.status_code == 400
    assert state_of_everything() == before


def test_the_endpoint_needs_no_csrf_token_but_only_accepts_post(app, client, pledge):
    assert client.get("/payments/webhooks/stripe").status_code == 405
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert post_event(client, completed(pledge)).status_code == 200
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


# -- the real library's signatures --------------------------------------------------------------------
def test_signatures_made_by_the_stripe_library_are_accepted(app, client, pledge):
    payload = payload_of(completed(pledge))
    header = stripe.WebhookSignature.generate_signature_header(
        payload.decode(), app.config["STRIPE_WEBHOOK_SECRET"])
    response = post_event(client, payload, header=header)
    assert response.status_code == 200, response.get_json()
    assert fresh(pledge).status == P.PAID


def test_stripe_library_signatures_with_another_secret_are_refused(client, pledge):
    payload = payload_of(completed(pledge))
    header = stripe.WebhookSignature.generate_signature_header(payload.decode(), "whsec_not_ours")
    assert post_event(client, payload, header=header).status_code == 400
    assert fresh(pledge).status == P.PENDING


def test_our_signatures_pass_the_stripe_library_verifier(app):
    payload = b'{"id": "evt_x", "type": "ping"}'
    header = webhooks.sign(payload, app.config["STRIPE_WEBHOOK_SECRET"])
    assert stripe.WebhookSignature.verify_header(payload, header, app.config["STRIPE_WEBHOOK_SECRET"], 300)


def test_a_header_with_several_signatures_is_accepted_when_one_matches(app, client, pledge):
    """Stripe sends one v1 per active secret while a secret is being rolled."""
    payload = payload_of(completed(pledge))
    ours = signature(payload)
    timestamp = ours.split(",")[0]
    old = signature(payload, secret="whsec_old").split(",")[1]
    header = f"{timestamp},{old},{ours.split(',')[1]},v0=ignored"
    assert post_event(client, payload, header=header).status_code == 200
    assert fresh(pledge).status == P.PAID


# -- once and only once -------------------------------------------------------------------------------
def test_a_valid_event_is_applied_and_recorded(client, campaign, pledge):
    evt = completed(pledge)
    response = post_event(client, evt)
    assert response.status_code == 200
    assert fresh(pledge).status == P.PAID
    stored = db.session.scalars(select(ProcessedEvent)).all()
    assert [(e.event_id, e.event_type, e.provider) for e in stored] == [
        (evt["id"], "checkout.session.completed", "sandbox")]
    assert raised(campaign) == 2_500


def test_a_redelivered_event_is_acknowledged_and_changes_nothing(client, campaign, pledge, smtp_server):
    evt = completed(pledge)
    assert post_event(client, evt).status_code == 200
    after_first = state_of_everything()
    assert len(smtp_server.messages) == 1  # the receipt

    again = post_event(client, evt)  # same id, signed anew (Stripe re-signs every attempt)
    assert again.status_code == 200
    assert state_of_everything() == after_first
    assert count(ProcessedEvent) == 1
    assert count(PledgeEvent, PledgeEvent.to_status == P.PAID) == 1
    assert raised(campaign) == 2_500
    assert len(smtp_server.messages) == 1  # no second receipt


def test_a_paid_checkout_is_applied_in_eight_statements_and_its_redelivery_in_one(client, campaign, pledge):
    """bench/webhooks.py measures it at scale; here it must not grow back: the event recorded (which is its
    dedup check), the pledge locked with what its receipt names, its token, event and row, the match check
    and the two ledger entries (charge and fee)."""
    from sqlalchemy import event as sqlalchemy_event

    sent = []

    def record(_conn, _cursor, statement, *_rest):
        sent.append(statement.split(None, 3)[:3])

    evt = completed(pledge)
    sqlalchemy_event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert post_event(client, evt).get_json()["status"] == "ok"
        applied = len(sent)
        assert post_event(client, evt).get_json()["status"] == "already processed"
    finally:
        sqlalchemy_event.remove(db.engine, "before_cursor_execute", record)

    assert applied <= 8, sent[:applied]
    assert len(sent) - applied == 1, sent[applied:]
    assert fresh(pledge).status == P.PAID and fresh(pledge).settled_fee is not None
    assert raised(campaign) == 2_500


def test_the_same_change_through_two_different_events_counts_once(client, campaign, pledge, smtp_server):
    """checkout.session.completed and payment_intent.succeeded both say "paid": one transition, one receipt."""
    assert post_event(client, completed(pledge)).status_code == 200
    assert post_event(client, event("payment_intent.succeeded", intent_obj(pledge))).status_code == 200
    assert count(ProcessedEvent) == 2
    assert count(PledgeEvent, PledgeEvent.pledge_id == pledge.id) == 2  # created, then paid
    assert raised(campaign) == 2_500
    assert len(smtp_server.messages) == 1


def test_an_unknown_event_type_is_acknowledged_and_recorded(client, pledge):
    before = state_of_everything()
    evt = event("customer.created", {"id": "cus_123", "object": "customer"})
    response = post_event(client, evt)
    assert response.status_code == 200
    pledges, events, _ = state_of_everything()
    assert (pledges, events) == before[:2]
    stored = db.session.scalar(select(ProcessedEvent))
    assert (stored.event_id, stored.event_type) == (evt["id"], "customer.created")


def test_an_event_about_a_pledge_we_do_not_have_is_acknowledged(client, pledge):
    stranger = {"id": "cs_somebody_else", "object": "checkout.session", "mode": "payment",
                "payment_status": "paid", "metadata": {}}
    assert post_event(client, event("checkout.session.completed", stranger)).status_code == 200
    assert fresh(pledge).status == P.PENDING
    assert count(ProcessedEvent) == 1


# -- order ----------------------------------------------------------------------------------------
def test_payment_succeeded_before_checkout_completed_pays_once(client, campaign, pledge):
    assert post_event(client, event("payment_intent.succeeded", intent_obj(pledge))).status_code == 200
    assert fresh(pledge).status == P.PAID
    assert post_event(client, completed(pledge)).status_code == 200
    assert fresh(pledge).status == P.PAID
    assert count(PledgeEvent, PledgeEvent.pledge_id == pledge.id, PledgeEvent.to_status == P.PAID) == 1
    assert raised(campaign) == 2_500
    assert confirmed_sum(campaign.id) == (2_500, 1)


def test_checkout_expired_after_completed_does_not_undo_the_payment(client, campaign):
    limited = tier(campaign, 2_000, limit=5)
    pledge = pending_pledge(campaign, 2_500, tier=limited)
    assert post_event(client, completed(pledge)).status_code == 200
    assert post_event(client, event("checkout.session.expired", session_obj(pledge, status="expired"))).status_code == 200
    assert fresh(pledge).status == P.PAID
    assert raised(campaign) == 2_500
    db.session.expire_all()
    assert db.session.get(RewardTier, limited.id).units_claimed == 1  # the unit stays taken


def test_a_late_failure_does_not_fail_a_paid_pledge(client, campaign, pledge):
    assert post_event(client, completed(pledge)).status_code == 200
    failed = intent_obj(pledge, status="requires_payment_method",
                        last_payment_error={"code": "card_declined", "message": "Your card was declined."})
    assert post_event(client, event("payment_intent.payment_failed", failed)).status_code == 200
    assert post_event(client, event("checkout.session.async_payment_failed", session_obj(pledge))).status_code == 200
    assert fresh(pledge).status == P.PAID
    assert raised(campaign) == 2_500


def test_a_declined_attempt_during_the_checkout_leaves_the_pledge_open(client, pledge):
    """The backer may try another card: only the checkout's end decides."""
    failed = intent_obj(pledge, status="requires_payment_method",
                        last_payment_error={"code": "card_declined", "message": "Your card was declined."})
    assert post_event(client, event("payment_intent.payment_failed", failed)).status_code == 200
    assert fresh(pledge).status == P.PENDING
    assert post_event(client, completed(pledge)).status_code == 200
    assert fresh(pledge).status == P.PAID


def test_a_bank_debit_is_processing_then_paid_or_failed(client, campaign):
    paid, bounced = pending_pledge(campaign, 3_000), pending_pledge(campaign, 4_000)
    for pledge in (paid, bounced):
        unpaid = event("checkout.session.completed",
                       session_obj(pledge, status="complete", payment_status="unpaid",
                                   payment_intent=f"pi_test_{pledge.reference}"))
        assert post_event(client, unpaid).status_code == 200
        assert fresh(pledge).status == P.PROCESSING
    assert raised(campaign) == 0  # not confirmed yet
    post_event(client, event("checkout.session.async_payment_succeeded",
                             session_obj(paid, payment_intent=f"pi_test_{paid.reference}")))
    post_event(client, event("checkout.session.async_payment_failed", session_obj(bounced)))
    assert (fresh(paid).status, fresh(bounced).status) == (P.PAID, P.FAILED)
    assert raised(campaign) == 3_000
    # the bounced debit's late "completed" cannot revive it
    post_event(client, completed(bounced))
    assert fresh(bounced).status == P.FAILED
    assert raised(campaign) == 3_000


def test_setup_mode_commits_the_pledge_in_any_order(client):
    campaign = live_campaign("EUR", FundingModel.ALL_OR_NOTHING)
    db.session.commit()
    first, second = pending_pledge(campaign, 5_000), pending_pledge(campaign, 6_000)

    def setup_completed(p):
        return event("checkout.session.completed",
                     session_obj(p, status="complete", payment_status="no_payment_required",
                                 setup_intent=f"seti_test_{p.reference}"))

    def setup_succeeded(p):
        return event("setup_intent.succeeded", {"id": f"seti_test_{p.reference}", "object": "setup_intent",
                                                "customer": "cus_1", "payment_method": "pm_1",
                                                "metadata": {"pledge_id": str(p.id)}})

    post_event(client, setup_completed(first))
    post_event(client, setup_succeeded(first))
    post_event(client, setup_succeeded(second))
    post_event(client, setup_completed(second))
    for p in (first, second):
        p = fresh(p)
        assert p.status == P.COMMITTED
        assert p.setup_intent_id == f"seti_test_{p.reference}" and p.payment_method_id == "pm_1"
    assert raised(campaign) == 11_000
    assert count(PledgeEvent, PledgeEvent.to_status == P.COMMITTED) == 2


# -- refunds and disputes ---------------------------------------------------------------------------
def test_partial_then_full_refunds_lower_the_total_once_each(client, campaign, pledge):
    post_event(client, completed(pledge))
    post_event(client, event("payment_intent.succeeded", intent_obj(pledge)))
    partial = event("charge.refunded", charge_obj(pledge, amount_refunded=1_000))
    assert post_event(client, partial).status_code == 200
    assert post_event(client, partial).status_code == 200  # redelivered
    assert (fresh(pledge).status, fresh(pledge).refunded_amount) == (P.PAID, 1_000)
    assert raised(campaign) == 1_500

    full = event("charge.refunded", charge_obj(pledge, amount_refunded=2_500))
    post_event(client, full)
    assert (fresh(pledge).status, fresh(pledge).refunded_amount) == (P.REFUNDED, 2_500)
    assert raised(campaign) == 0
    # the earlier partial refund, delivered late as a new event, cannot lower the refund
    post_event(client, event("charge.refunded", charge_obj(pledge, amount_refunded=1_000)))
    assert (fresh(pledge).status, fresh(pledge).refunded_amount) == (P.REFUNDED, 2_500)
    assert confirmed_sum(campaign.id) == (0, 0)


def test_a_dispute_marks_the_pledge_without_moving_money_twice(client, campaign, pledge):
    post_event(client, completed(pledge))
    post_event(client, event("payment_intent.succeeded", intent_obj(pledge)))
    dispute = event("charge.dispute.created", {"id": "dp_1", "object": "dispute", "charge": f"ch_test_{pledge.reference}",
                                               "payment_intent": f"pi_test_{pledge.reference}", "amount": 2_500})
    assert post_event(client, dispute).status_code == 200
    disputed = fresh(pledge)
    assert disputed.disputed_at is not None and disputed.status == P.PAID
    first_seen = disputed.disputed_at
    post_event(client, event("charge.dispute.created", {"id": "dp_1", "object": "dispute",
                                                         "charge": f"ch_test_{pledge.reference}"}))
    assert fresh(pledge).disputed_at == first_seen


def test_the_receipt_of_a_paid_pledge_records_the_settlement(client, pledge):
    post_event(client, completed(pledge))
    paid = fresh(pledge)
    # the sandbox's simulated fee: 1.5 % + 0.25
    assert (paid.settled_amount, paid.settled_fee, paid.settled_currency) == (2_500 - 62, 62, "EUR")


def test_a_full_refund_delivered_before_the_payment_ends_refunded(client, campaign, pledge):
    """After an outage Stripe retries in any order: the refund may come before the payment it refunds."""
    post_event(client, event("charge.refunded", charge_obj(pledge, amount_refunded=2_500)))
    assert fresh(pledge).status == P.PENDING and raised(campaign) == 0
    post_event(client, completed(pledge))
    post_event(client, event("payment_intent.succeeded", intent_obj(pledge)))
    refunded = fresh(pledge)
    assert (refunded.status, refunded.refunded_amount) == (P.REFUNDED, 2_500)
    assert raised(campaign) == 0 and confirmed_sum(campaign.id) == (0, 0)


def test_a_partial_refund_delivered_before_the_payment_still_counts(client, campaign, pledge):
    post_event(client, event("charge.refunded", charge_obj(pledge, amount_refunded=500)))
    post_event(client, event("payment_intent.succeeded", intent_obj(pledge)))
    assert (fresh(pledge).status, fresh(pledge).refunded_amount) == (P.PAID, 500)
    assert raised(campaign) == 2_000


def test_money_taken_after_the_hold_expired_still_counts_and_retakes_its_reward(client, campaign):
    # A webhook delayed by an outage: our hold ran out, but the processor did take the money.
    limited = tier(campaign, 2_000, limit=1)
    pledge = pending_pledge(campaign, 2_500, tier=limited)
    assert post_event(client, event("checkout.session.expired", session_obj(pledge, status="expired"))).status_code == 200
    assert fresh(pledge).status == P.EXPIRED
    assert post_event(client, completed(pledge)).status_code == 200
    assert fresh(pledge).status == P.PAID
    assert raised(campaign) == 2_500
    db.session.expire_all()
    assert db.session.get(RewardTier, limited.id).units_claimed == 1
    assert fresh(pledge).tier_id == limited.id


def test_money_taken_after_the_hold_expired_keeps_the_pledge_when_the_reward_sold_out(client, campaign):
    limited = tier(campaign, 2_000, limit=1)
    late = pending_pledge(campaign, 2_500, tier=limited)
    assert post_event(client, event("checkout.session.expired", session_obj(late, status="expired"))).status_code == 200
    other = pending_pledge(campaign, 2_500, tier=limited)  # took the released unit
    assert post_event(client, completed(other)).status_code == 200
    assert post_event(client, completed(late)).status_code == 200
    assert (fresh(late).status, fresh(late).tier_id) == (P.PAID, None)
    assert "sold out" in fresh(late).failure_reason
    db.session.expire_all()
    assert db.session.get(RewardTier, limited.id).units_claimed == 1  # never oversold
    assert raised(campaign) == 5_000
