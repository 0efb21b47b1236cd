"""Beneficiaries are personal data: a member's download lists their listings and requests, erasure deletes them."""
from __future__ import annotations

from sqlalchemy import select

from tests.factories import BeneficiaryFactory
from tests.impact.test_confirmations import ask_and_send
from webapp.extensions import db
from webapp.impact.models import Beneficiary, ConfirmationRequest
from webapp.privacy.models import ErasureReason
from webapp.privacy.services import erasure, export


def test_the_download_lists_the_members_listing_and_requests_never_their_answers(value, people, sms, campaign):
    from tests.factories import UserFactory

    kossi = UserFactory(verified=True, email="kossi@example.org")  # the beneficiary listed by this address
    ask_and_send(value)
    data = export.gather(kossi).records
    [listing] = data["impact_beneficiary_listings"]
    assert (listing["email"], listing["campaign"], listing["consent_on"]) == (
        "kossi@example.org", campaign.title, people["by_email"].consent_on.isoformat())
    [asked] = data["impact_confirmation_requests"]
    assert asked["asked_as"] == "beneficiary" and asked["sent_at"]
    assert "verdict" not in str(data), "answers are not linked to anyone, so no one's download holds them"
    member = export.gather(people["active"]).records
    assert member["impact_beneficiary_listings"] == [] and len(member["impact_confirmation_requests"]) == 1


def test_erasing_an_account_deletes_its_listing_and_unlinks_its_requests(value, people, sms, campaign):
    from tests.factories import UserFactory

    kossi = UserFactory(verified=True, email="kossi@example.org")
    ama = UserFactory(verified=True, email="ama@example.org")
    BeneficiaryFactory(campaign=campaign, email="ama@example.org", phone="+22997000077")  # email and phone
    confirmations = ask_and_send(value)
    assert db.session.scalar(select(ConfirmationRequest.id).where(ConfirmationRequest.user_id == people["active"].id))
    erasure.erase_account(kossi, ErasureReason.MEMBER, tell_member=False)
    erasure.erase_account(ama, ErasureReason.MEMBER, tell_member=False)
    erasure.erase_account(people["active"], ErasureReason.MEMBER, tell_member=False)
    db.session.flush()

    assert db.session.scalar(select(Beneficiary).where(Beneficiary.email == "kossi@example.org")) is None
    both = db.session.scalar(select(Beneficiary).where(Beneficiary.phone == "+22997000077"))
    assert both.email is None, "a listing with a phone too keeps the phone (the organization's to remove)"
    assert db.session.scalar(select(ConfirmationRequest.id).where(
        ConfirmationRequest.user_id == people["active"].id)) is None
    assert db.session.scalar(select(db.func.count()).select_from(ConfirmationRequest)) == len(confirmations), \
        "who was asked still counts"
