"""What impact holds about a person with an account, for their data download and their account's erasure.

A beneficiary is listed by contact, not by account: a listing whose email address is the account's is theirs.
A listing by phone number alone cannot be tied to an account (accounts hold no phone): the organization
removes it when the person asks, which deletes the number at once.
"""
from __future__ import annotations

from sqlalchemy import delete, or_, select, update

from webapp.campaigns.models import Campaign
from webapp.extensions import db
from webapp.impact.models import Beneficiary, ConfirmationRequest
from webapp.impact.services.beneficiaries import forget_contact
from webapp.impact.services.confirmations import email_key


def _theirs(user_id: int, address: str):
    return or_(ConfirmationRequest.user_id == user_id, ConfirmationRequest.person_key == email_key(address),
               ConfirmationRequest.beneficiary_id.in_(
                   select(Beneficiary.id).where(Beneficiary.email == address).scalar_subquery()))


def records_of(user_id: int, address: str) -> dict[str, list[dict]]:
    address = (address or "").strip().lower()
    listed = db.session.execute(select(Beneficiary, Campaign.title).join(Campaign, Campaign.id == Beneficiary.campaign_id)
                                .where(Beneficiary.email == address).order_by(Beneficiary.id))
    asked = db.session.execute(select(ConfirmationRequest, Campaign.title)
                               .join(Campaign, Campaign.id == ConfirmationRequest.campaign_id)
                               .where(_theirs(user_id, address)).order_by(ConfirmationRequest.id))
    return {
        "impact_beneficiary_listings": [dict(campaign=title, email=b.email, phone=b.phone, language=b.locale,
                                             consent_on=b.consent_on) for b, title in listed],
        # what they answered is not here: answers are stored apart from who gave them, by design
        "impact_confirmation_requests": [dict(campaign=title, asked_as=r.audience, channel=r.channel,
                                              sent_at=r.sent_at, answered_on=r.answered_on) for r, title in asked],
    }


def forget(user_id: int, address: str) -> None:
    """Their listings as a beneficiary go (contacts deleted); their requests keep no address and no account.

    The requests stay, anonymous, so that "asked" still counts them; their answers were never linked to them."""
    address = (address or "").strip().lower()
    db.session.execute(update(ConfirmationRequest).where(_theirs(user_id, address))
                       .values(address=None, user_id=None), execution_options={"synchronize_session": False})
    forget_contact(Beneficiary.email == address)
    db.session.execute(delete(Beneficiary).where(Beneficiary.email == address, Beneficiary.phone.is_(None))
                       .execution_options(synchronize_session=False))
    db.session.execute(update(Beneficiary).where(Beneficiary.email == address).values(email=None)
                       .execution_options(synchronize_session=False))
