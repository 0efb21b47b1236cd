"""Recurring support through the fake Stripe: the first period on Checkout (method saved for later), renewals
off-session by the job, at most once per period; what needs the supporter; cancelling."""
from __future__ import annotations

from datetime import timedelta

from tests.payments.money_helpers import deliver, deliver_pending
from tests.payments.recurring.helpers import (
    OTHER_CARD,
    after_due,
    association,
    booked,
    fees,
    charges,
    renewal_key,
    renewal_keys,
    start_gift,
    supporter,
)
from webapp.extensions import db
from webapp.ledger import services as ledger
from webapp.payments import batches
from webapp.payments.recurring import schedule
from webapp.payments.recurring import services as recurring
from webapp.payments.recurring.models import SupportState

S = SupportState


def checkout_requests(fake):
    return [r for r in fake.requests if r.method == "POST" and r.path == "/v1/checkout/sessions"]


def test_the_first_period_is_paid_on_checkout_and_saves_the_card_for_off_session_renewals(fake_stripe):
    user, org = supporter(), association()
    support = start_gift(fake_stripe, user, org)

    [request] = checkout_requests(fake_stripe)
    assert request.validated and request.params["mode"] == "payment"
    assert request.params["payment_intent_data"]["setup_future_usage"] == "off_session"
    assert request.params["customer"].startswith("cus_")
    assert support.state == S.ACTIVE
    first = schedule.period_of(support.created_at.date(), support.interval)
    assert charges(support) == {first: "succeeded"}
    assert support.next_period == schedule.following(first, support.interval)
    method = recurring.saved_method(user.id)
    assert fake_stripe.objects[method.payment_method_id]["customer"] == method.customer_id
    assert booked(support) == [(f"charge:recurring:{support.id}:{first}", 2_500, "CAD")]
    assert ledger.balance(ledger.organization_account(org.id), "CAD").amount == 2_500 - fees(support)


def test_the_job_charges_the_second_month_once_however_often_it_runs(fake_stripe):
    support = start_gift(fake_stripe, supporter(), association())
    second = support.next_period
    due = after_due(support)

    assert batches.renew_due(due).charged == 1
    assert batches.renew_due(due).charged == 0
    assert batches.renew_due(due + timedelta(days=3)).charged == 0
    deliver_pending(fake_stripe)  # payment_intent.succeeded confirms what the job recorded

    assert charges(support)[second] == "succeeded"
    assert renewal_keys(fake_stripe) == {renewal_key(support, second): 1}
    assert len(booked(support)) == 2
    db.session.refresh(support)
    assert support.next_period == schedule.following(second, support.interval)
    [intent] = [o for o in fake_stripe.objects.values() if o["object"] == "payment_intent"
                and o["metadata"].get("recurring_period") == second]
    assert intent["amount"] == 2_500 and intent["currency"] == "cad"


def test_a_worker_killed_between_the_answer_and_the_commit_never_charges_the_period_twice(fake_stripe, monkeypatch):
    support = start_gift(fake_stripe, supporter(), association())
    second, due = support.next_period, after_due(support)

    class WorkerKilled(BaseException):
        pass

    real_paid = recurring.paid

    def die(*args, **kwargs):
        raise WorkerKilled

    monkeypatch.setattr(recurring, "paid", die)
    try:
        batches.renew_due(due)
    except WorkerKilled:
        db.session.rollback()
    monkeypatch.setattr(recurring, "paid", real_paid)
    assert charges(support).get(second) is None  # the commit never happened
    fake_stripe.forget_idempotency_keys()  # days later: Stripe no longer remembers the key

    assert batches.renew_due(due).charged == 1

    intents = [o for o in fake_stripe.objects.values() if o["object"] == "payment_intent"
               and o["metadata"].get("recurring_period") == second]
    assert len(intents) == 1  # found by asking first, not made again
    assert renewal_keys(fake_stripe) == {renewal_key(support, second): 1}
    assert charges(support)[second] == "succeeded" and len(booked(support)) == 2
    deliver_pending(fake_stripe)
    assert len(booked(support)) == 2


def test_a_lost_response_is_asked_again_with_the_same_key(fake_stripe):
    support = start_gift(fake_stripe, supporter(), association())
    second, due = support.next_period, after_due(support)
    fake_stripe.lose_next_responses_to("POST", "/v1/payment_intents")

    batches.renew_due(due)  # the provider's retry sends the same key
    batches.renew_due(due)

    assert renewal_keys(fake_stripe) == {renewal_key(support, second): 2}
    assert charges(support)[second] == "succeeded"
    assert fake_stripe.count("payment_intent") == 2  # the checkout's and this one


def test_authentication_on_renewal_asks_the_supporter_in_their_language_then_they_complete_it(
        fake_stripe, outbox):
    user = supporter(locale="fr")
    support = start_gift(fake_stripe, user, association())
    second = support.next_period
    first_card = recurring.saved_method(user.id).payment_method_id
    fake_stripe.fail_card(first_card, "authentication_required")

    assert batches.renew_due(after_due(support)).needs_action == 1
    db.session.refresh(support)
    assert support.state == S.NEEDS_ACTION and support.next_period == second
    mail = outbox.last(to=user.email)
    assert "confirmer ce paiement" in mail.body and "/support/" in mail.body

    url = recurring.open_checkout(support, "http://harambee.test/support/mine", "http://harambee.test/")
    db.session.commit()
    assert url
    deliver(fake_stripe.complete_checkout(support.checkout_session_id, OTHER_CARD))
    db.session.expire_all()
    support = db.session.get(type(support), support.id)
    assert support.state == S.ACTIVE and charges(support)[second] == "succeeded"
    assert support.next_period == schedule.following(second, support.interval)
    new_method = recurring.saved_method(user.id)
    assert new_method.payment_method_id != first_card  # the new card, for all gifts

    assert batches.renew_due(after_due(support)).charged == 1  # charged on the new card


def test_an_expired_card_is_explained_and_the_gift_pauses_after_the_configured_days(fake_stripe, outbox, app):
    user = supporter(locale="en")
    support = start_gift(fake_stripe, user, association())
    fake_stripe.fail_card(recurring.saved_method(user.id).payment_method_id, "expired_card",
                          message="Your card has expired.")
    due = after_due(support)
    batches.renew_due(due)
    db.session.refresh(support)
    assert support.state == S.NEEDS_ACTION and support.failure_code == "expired_card"
    assert "Your card has expired." in outbox.last(to=user.email).body

    hours = app.config["RECURRING_REMINDER_HOURS"]
    assert recurring.chase(support.needs_action_since + timedelta(hours=hours + 1)) == (1, 0)
    days = app.config["RECURRING_PAUSE_AFTER_DAYS"]
    assert recurring.chase(support.needs_action_since + timedelta(days=days, minutes=1)) == (0, 1)
    db.session.commit()
    db.session.refresh(support)
    assert support.state == S.PAUSED
    assert "paused" in outbox.last(to=user.email).subject
    fake_stripe.fail_card(recurring.saved_method(user.id).payment_method_id, None)
    assert batches.renew_due(due + timedelta(days=90)).charged == 0  # a paused gift is never charged


def test_cancelled_at_once_and_nothing_charged_after(fake_stripe):
    user = supporter()
    support = start_gift(fake_stripe, user, association())
    recurring.cancel(support, user)
    db.session.commit()
    before = fake_stripe.count("payment_intent")

    for months in range(1, 14):
        batches.renew_due(after_due(support) + timedelta(days=31 * months))

    assert fake_stripe.count("payment_intent") == before
    assert len(booked(support)) == 1


def test_a_yearly_gift_gets_its_notice_once_before_renewing(fake_stripe, outbox, app):
    from webapp.payments.recurring.models import SupportInterval

    user = supporter(locale="en")
    support = start_gift(fake_stripe, user, association(), interval=SupportInterval.YEARLY, amount=12_000)
    days = app.config["RECURRING_YEARLY_NOTICE_DAYS"]
    early = support.next_charge_at - timedelta(days=days + 1)
    assert recurring.send_yearly_notices(early) == 0
    inside = support.next_charge_at - timedelta(days=days - 1)
    assert recurring.send_yearly_notices(inside) == 1
    assert recurring.send_yearly_notices(inside + timedelta(hours=1)) == 0
    db.session.commit()
    assert "renews on" in outbox.last(to=user.email).subject


def test_a_declined_renewal_needs_the_supporter_and_is_never_retried_behind_their_back(fake_stripe, outbox):
    user = supporter(locale="en")
    support = start_gift(fake_stripe, user, association())
    fake_stripe.fail_card(recurring.saved_method(user.id).payment_method_id, "card_declined",
                          decline_code="generic_decline")
    due = after_due(support)
    assert batches.renew_due(due).needs_action == 1
    assert "Your bank declined the payment." in outbox.last(to=user.email).body
    before = fake_stripe.count("payment_intent")
    for hours in (1, 24, 72):
        batches.renew_due(due + timedelta(hours=hours))
    assert fake_stripe.count("payment_intent") == before  # only the supporter's completion pays it now


def test_paused_months_are_never_charged_and_resuming_renews_from_the_next_date(fake_stripe):
    user = supporter()
    support = start_gift(fake_stripe, user, association())
    recurring.pause(support, user)
    db.session.commit()
    later = after_due(support) + timedelta(days=62)
    assert batches.renew_due(later).charged == 0
    recurring.resume(support, user, now=later)
    db.session.commit()
    db.session.refresh(support)
    # no catching up on the paused months: the first date not yet past, on the supporter's calendar
    assert support.state == S.ACTIVE and support.next_charge_on >= schedule.local_today(support.timezone, later)
    assert support.next_charge_on - schedule.local_today(support.timezone, later) <= timedelta(days=31)
    assert batches.renew_due(support.next_charge_at + timedelta(minutes=1)).charged == 1
    assert len(booked(support)) == 2
