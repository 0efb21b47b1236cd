"""Standing commitments with a payment method saved in advance: setup mode now, one click at the disaster."""
from __future__ import annotations

from sqlalchemy import select

from tests.factories import UserFactory
from webapp.extensions import db
from webapp.money import Money
from webapp.mutual_aid.models import StandingCommitment
from webapp.mutual_aid.services import commitments
from webapp.payments.models import Pledge, PledgeStatus
from webapp.payments.providers.sandbox import AUTHENTICATE, SUCCEEDS


def _commitment(user) -> StandingCommitment:
    c = commitments.create_commitment(user, "BJ-LI", Money(5_000, "EUR"), Money(20_000, "EUR"))
    db.session.commit()
    return c


def test_saving_a_card_charges_nothing_and_records_the_method(client, login):
    user = UserFactory(email="nurse@example.org")
    db.session.commit()
    commitment = _commitment(user)
    login(client, user)
    response = client.post(f"/aid/me/commitments/{commitment.id}/payment-method")
    assert response.status_code == 303
    page = response.headers["Location"].split("harambee.test", 1)[1]
    assert "Nothing is charged now" in client.get(page).get_data(as_text=True)
    assert client.post(page, data={"card": SUCCEEDS, "action": "save"}).status_code == 302
    db.session.expire_all()
    saved = db.session.get(StandingCommitment, commitment.id)
    assert saved.payment_method_id.startswith("pm_sandbox_4242") and saved.customer_id
    assert db.session.scalar(select(Pledge)) is None  # nothing charged, no pledge


def test_a_saved_card_is_charged_at_once_on_confirmation(app):
    from webapp.payments.pledging import saved_methods

    user = UserFactory(email="engineer@example.org")
    db.session.commit()
    commitment = _commitment(user)
    commitments.method_saved(commitments.owner_key(commitment), "cus_x", f"pm_sandbox_{SUCCEEDS[-4:]}_abc")
    db.session.commit()
    from tests.payments.support import live_campaign
    from webapp.campaigns.models import FundingModel
    from webapp.payments.pledging import services as payments

    fund = live_campaign("EUR", FundingModel.KEEP_IT_ALL)
    db.session.commit()
    request = payments.PledgeRequest(campaign=fund, tier=None, amount=Money(5_000, "EUR"), pay_currency="EUR",
                                     email=user.email, user=user, display_name=user.name, anonymous=False,
                                     message=None, locale="fr", client_token="commitment-test-token-0001")
    pledge = saved_methods.charge_saved_method(request, "cus_x", commitment.payment_method_id)
    db.session.commit()
    assert pledge.status == PledgeStatus.PAID


def test_a_saved_card_that_needs_authentication_leaves_the_checkout_open(app):
    from tests.payments.support import live_campaign
    from webapp.campaigns.models import FundingModel
    from webapp.payments.pledging import saved_methods
    from webapp.payments.pledging import services as payments

    user = UserFactory(email="asks@example.org")
    fund = live_campaign("EUR", FundingModel.KEEP_IT_ALL)
    db.session.commit()
    request = payments.PledgeRequest(campaign=fund, tier=None, amount=Money(5_000, "EUR"), pay_currency="EUR",
                                     email=user.email, user=user, display_name=user.name, anonymous=False,
                                     message=None, locale="fr", client_token="commitment-test-token-0002")
    pledge = saved_methods.charge_saved_method(request, "cus_y", f"pm_sandbox_{AUTHENTICATE[-4:]}_abc")
    db.session.commit()
    assert pledge.status == PledgeStatus.PENDING and pledge.checkout_url  # the member completes it on-session
    assert pledge.failure_reason

