"""A payment method saved ahead of any pledge, through Stripe's setup mode (the fake server)."""
from __future__ import annotations

from sqlalchemy import select

from tests.factories import UserFactory
from webapp.extensions import db
from webapp.money import Money
from webapp.mutual_aid.models import StandingCommitment
from webapp.mutual_aid.services import commitments
from webapp.payments.models import Pledge


def _commitment(user) -> StandingCommitment:
    c = commitments.create_commitment(user, "BJ-LI", Money(5_000, "EUR"), Money(20_000, "EUR"))
    db.session.commit()
    return c


def test_saving_a_card_through_stripe_reaches_the_commitment(client, login, fake_stripe):
    user = UserFactory(email="stripe-saver@example.org")
    db.session.commit()
    commitment = _commitment(user)
    login(client, user)
    response = client.post(f"/aid/me/commitments/{commitment.id}/payment-method")
    assert response.status_code == 303
    session_id = db.session.get(StandingCommitment, commitment.id).checkout_session_id
    session = fake_stripe.objects[session_id]
    assert session["mode"] == "setup" and "Nothing is charged now" in session["custom_text"]["submit"]["message"]
    for event in fake_stripe.complete_checkout(session_id):
        body, headers = fake_stripe.webhook_request(event)
        assert client.post("/payments/webhooks/stripe", data=body, headers=headers).status_code == 200
    db.session.expire_all()
    saved = db.session.get(StandingCommitment, commitment.id)
    assert saved.payment_method_id and saved.customer_id == session["customer"]
    assert db.session.scalar(select(Pledge)) is None
