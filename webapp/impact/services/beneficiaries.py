"""The people a campaign serves, listed by its organization with their consent, so they can be asked."""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select, update

from webapp import phones
from webapp.accounts.models import User
from webapp.campaigns.models import Campaign
from webapp.errors import DomainError
from webapp.extensions import db
from webapp.impact.models import Beneficiary, ConfirmationRequest
from webapp.impact.services.indicators import FieldError


def normalize_phone(text: str | None) -> str | None:
    """"+229 97 12-34-56" -> "+22997123456"; None when empty; a FieldError when it is no international number."""
    try:
        return phones.normalize(text)
    except ValueError:
        raise FieldError("phone", _("Give the number in international form, starting with + and the country code.")) \
            from None


def normalize_email(text: str | None) -> str | None:
    return (text or "").strip().lower() or None


def add(campaign: Campaign, actor: User, *, email: str | None, phone: str | None, locale: str,
        consent: bool, consent_on: date) -> Beneficiary:
    email, phone = normalize_email(email), normalize_phone(phone)
    if not email and not phone:
        raise FieldError("phone", _("Give a phone number or an email address."))
    if not consent:
        raise FieldError("consent", _("List a person only once they agreed to be contacted about this campaign."))
    if consent_on > date.today():
        raise FieldError("consent_on", _("Consent cannot be given in the future."))
    clash = [Beneficiary.email == email] if email else []
    clash += [Beneficiary.phone == phone] if phone else []
    for condition in clash:
        if db.session.scalar(select(Beneficiary.id).where(Beneficiary.campaign_id == campaign.id, condition)):
            raise FieldError("email" if condition is clash[0] and email else "phone",
                             _("This person is already on the list."))
    person = Beneficiary(campaign_id=campaign.id, email=email, phone=phone, locale=locale, consent_on=consent_on,
                         recorded_by_id=actor.id)
    db.session.add(person)
    db.session.flush()
    return person


def of_campaign(campaign: Campaign) -> list[Beneficiary]:
    return list(db.session.scalars(select(Beneficiary).where(Beneficiary.campaign_id == campaign.id)
                                   .order_by(Beneficiary.id)))


def remove(campaign: Campaign, beneficiary_id: int) -> None:
    """Off the list: no message goes to them any more; who was asked and what was answered stay counted."""
    person = db.session.scalar(select(Beneficiary).where(Beneficiary.id == beneficiary_id,
                                                         Beneficiary.campaign_id == campaign.id))
    if person is None:
        raise DomainError(_("This person is not on this campaign's list."))
    forget_contact(Beneficiary.id == person.id)
    db.session.delete(person)
    db.session.flush()


def mask(person: Beneficiary) -> str:
    """How the list shows a contact to the editors: enough to recognise it, not to copy it."""
    if person.phone:
        return person.phone[:4] + "…" + person.phone[-2:]
    local, _at, domain = (person.email or "").partition("@")
    return (local[:1] + "…@" + domain) if domain else "…"


def forget_contact(which) -> None:
    """Unsent requests to the beneficiaries `which` selects lose their address (they will not be sent)."""
    ids = select(Beneficiary.id).where(which).scalar_subquery()
    db.session.execute(update(ConfirmationRequest).where(ConfirmationRequest.beneficiary_id.in_(ids))
                       .values(address=None), execution_options={"synchronize_session": False})
