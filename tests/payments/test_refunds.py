"""Refunds and disputes through the StripeProvider against the fake Stripe.

An organizer or an admin refunds a paid pledge in part or in full, with a reason; the backer is told;
the refund is final only once the processor's charge.refunded arrives. Nobody else may refund. A
dispute is recorded, booked and shown on the organizer's money page.
"""
from __future__ import annotations

from html import unescape

import pytest
from flask import url_for

from tests.campaigns.helpers import sign_in
from tests.factories import OrganizationFactory, UserFactory
from tests.payments.money_helpers import (
    committed_pledge,
    deliver,
    deliver_pending,
    entries,
    keep_it_all,
    all_or_nothing,
    ledger_sum,
    organizer_of,
    paid_pledge,
)
from tests.payments.support import count, fresh
from webapp.extensions import db
from webapp.organizations.models import OrgRole
from webapp.payments.models import PledgeStatus, Refund, RefundStatus

P = PledgeStatus


@pytest.fixture
def world(fake_stripe):
    campaign = keep_it_all(goal=100_000, title="Fournil coopératif")
    owner = organizer_of(campaign, email="owner@example.org")
    pledge = paid_pledge(fake_stripe, campaign, 2_500, email="afi@example.org")
    db.session.commit()
    return campaign, owner, pledge


def refund(client, pledge, amount: str, reason: str = "Delivery impossible to your country."):
    return client.post(url_for("money.refund", reference=pledge.reference), data={"amount": amount, "reason": reason})


def refund_calls(fake) -> list[dict]:
    return [r.params for r in fake.requests if r.method == "POST" and r.path == "/v1/refunds"]


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def test_an_organizer_refunds_part_then_the_rest_each_final_only_when_the_processor_confirms(
        client, world, fake_stripe, smtp_server):
    campaign, owner, pledge = world
    sign_in(client, owner)
    smtp_server.clear()

    response = refund(client, pledge, "10")

    assert response.status_code == 302 and response.location.endswith(url_for("money.dashboard", slug=campaign.slug))
    [call] = refund_calls(fake_stripe)
    assert (call["payment_intent"], call["amount"]) == (pledge.payment_intent_id, "1000")
    [asked] = db.session.scalars(db.select(Refund)).all()
    assert (asked.amount, asked.status, asked.reason) == (1_000, RefundStatus.REQUESTED,
                                                         "Delivery impossible to your country.")
    assert fresh(pledge).refunded_amount == 0 and ledger_sum("refund") == 0  # not final yet
    [told] = smtp_server.messages
    assert told["To"] == "afi@example.org" and "€10.00" in smtp_server.text_of(told)
    assert "Delivery impossible to your country." in smtp_server.text_of(told)

    deliver_pending(fake_stripe)  # charge.refunded, refund.created

    db.session.expire_all()
    assert fresh(pledge).refunded_amount == 1_000 and fresh(pledge).status == P.PAID
    assert db.session.get(Refund, asked.id).status == RefundStatus.SUCCEEDED
    assert ledger_sum("refund", campaign.id) == 1_000

    assert refund(client, pledge, "").status_code == 302  # empty: all that remains
    assert "amount" not in refund_calls(fake_stripe)[1]
    deliver_pending(fake_stripe)

    done = fresh(pledge)
    assert (done.status, done.refunded_amount) == (P.REFUNDED, 2_500)
    assert ledger_sum("refund", campaign.id) == 2_500
    assert {r.status for r in db.session.scalars(db.select(Refund))} == {RefundStatus.SUCCEEDED}
    assert fake_stripe.objects[done.charge_id]["amount_refunded"] == 2_500


def test_an_admin_can_refund_a_pledge_of_any_campaign(client, world, fake_stripe):
    _campaign, _owner, pledge = world
    sign_in(client, UserFactory(verified=True, admin=True))

    assert refund(client, pledge, "5").status_code == 302
    assert [c["amount"] for c in refund_calls(fake_stripe)] == ["500"]


@pytest.mark.parametrize("who", ["member", "editor_of_another_org", "moderator"])
def test_nobody_else_may_refund(client, world, fake_stripe, who):
    _campaign, _owner, pledge = world
    if who == "member":
        user = UserFactory(verified=True)
    elif who == "moderator":
        user = UserFactory(verified=True, moderator=True)
    else:
        user = UserFactory(verified=True)
        OrganizationFactory(editors=[user])
    db.session.commit()
    sign_in(client, user)

    assert refund(client, pledge, "5").status_code == 403
    assert refund_calls(fake_stripe) == [] and count(Refund) == 0


def test_an_editor_of_the_organization_may_refund(client, world, fake_stripe):
    campaign, _owner, pledge = world
    sign_in(client, organizer_of(campaign, role=OrgRole.EDITOR))
    assert refund(client, pledge, "5").status_code == 302


def test_more_than_is_left_is_refused_counting_refunds_still_awaiting_the_processor(client, world, fake_stripe):
    _campaign, owner, pledge = world
    sign_in(client, owner)
    assert refund(client, pledge, "20").status_code == 302  # asked, not yet confirmed

    refused = refund(client, pledge, "10")

    assert refused.status_code == 400 and "At most €5.00 can still be refunded." in text(refused)
    assert len(refund_calls(fake_stripe)) == 1 and count(Refund) == 1
    assert refund(client, pledge, "25.01").status_code == 400


@pytest.mark.parametrize("amount, reason, message", [
    ("5", "  ", "Give the reason for the refund"),
    ("5", "\x00", "Give the reason for the refund"),  # a NUL alone is no reason (and PostgreSQL refuses it)
    ("5", "x" * 2_001, "Keep the reason under 2000 characters."),
    ("0", "Duplicate", "The amount must be greater than zero."),
    ("abc", "Duplicate", "Enter an amount"),
])
def test_a_refund_needs_a_reason_and_a_positive_amount(client, world, fake_stripe, amount, reason, message):
    _campaign, owner, pledge = world
    sign_in(client, owner)
    response = refund(client, pledge, amount, reason)
    assert response.status_code == 400 and message in text(response)
    assert refund_calls(fake_stripe) == []


def test_a_pledge_not_yet_charged_cannot_be_refunded(client, fake_stripe):
    campaign = all_or_nothing(goal=100_000)
    owner = organizer_of(campaign)
    pledge = committed_pledge(fake_stripe, campaign, 2_000)
    sign_in(client, owner)

    response = refund(client, pledge, "")

    assert response.status_code == 400 and "Only a paid pledge can be refunded." in text(response)
    assert refund_calls(fake_stripe) == []


def test_a_dispute_is_recorded_booked_with_its_fee_and_shown_to_the_organizer_and_admins(client, world, fake_stripe):
    campaign, owner, pledge = world

    deliver(fake_stripe.dispute(pledge.payment_intent_id))

    disputed = fresh(pledge)
    assert disputed.disputed_at is not None
    [booked] = entries(kind="dispute")
    assert (booked.amount, booked.campaign_id, booked.processor_ref) == (2_500, campaign.id, disputed.charge_id)
    assert [e.amount for e in entries(key=f"dispute_fee:pledge:{pledge.id}")] == [1_500]
    for viewer in (owner, UserFactory(verified=True, admin=True)):
        db.session.commit()
        sign_in(client, viewer)
        page = text(client.get(url_for("money.dashboard", slug=campaign.slug)))
        assert "disputed" in page
        assert "<th>Disputes</th><td>−\u00a0€25.00</td>" in page.replace("\n", "")  # a no-break space: the sign stays with its amount

    # The processor refuses to refund a charged-back payment: nothing is recorded
    sign_in(client, owner)
    response = refund(client, pledge, "5")
    assert response.status_code == 502 and count(Refund) == 0


def test_a_partial_refund_of_a_pledge_paid_in_another_currency_is_settled_for_what_was_asked(
        client, fake_stripe):
    from tests.payments.support import load_rates
    from webapp.clock import utcnow
    from webapp.payments import refunds

    load_rates(utcnow().date(), USD="1.0825")
    campaign = keep_it_all(goal=100_000, accepts_backer_currency=True)
    owner = organizer_of(campaign)
    pledge = paid_pledge(fake_stripe, campaign, 2_500, pay_currency="USD")
    assert (pledge.charge_amount, pledge.charge_currency) == (2_706, "USD")  # 25 EUR at 1.0825, half up
    sign_in(client, owner)

    assert refund(client, pledge, "10").status_code == 302
    [call] = refund_calls(fake_stripe)
    assert call["amount"] == "1083"  # 10/25 of 27.06 USD is 10.824: rounded up, never short
    deliver_pending(fake_stripe)

    pledge = fresh(pledge)
    assert pledge.refunded_amount == 1_000
    assert [r.status for r in db.session.scalars(db.select(Refund))] == [RefundStatus.SUCCEEDED]
    assert refunds.refundable(pledge).amount == 1_500
    assert refund(client, pledge, "").status_code == 302  # the rest, all that remains at the processor
    deliver_pending(fake_stripe)
    assert fresh(pledge).status == P.REFUNDED
    assert fake_stripe.objects[pledge.charge_id]["amount_refunded"] == 2_706
