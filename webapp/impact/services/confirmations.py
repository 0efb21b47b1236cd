"""Asking the people concerned about a reported value, by a signed single-use link, and taking their answer.

A link carries the request's id and nonce, signed with the app's secret (itsdangerous) and dated: a
forged link fails the signature, an old one the age check (IMPACT_LINK_DAYS), and a used one the
request's `answered_on`, which one UPDATE sets only while it is still empty (two taps at once: one wins).
"""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select, update

from webapp.accounts.models import User
from webapp.campaigns.models import Campaign
from webapp.clock import utcnow
from webapp.errors import DomainError
from webapp.extensions import db
from webapp.impact.models import (Audience, Beneficiary, Channel, ConfirmationAnswer, ConfirmationRequest,
                                  IndicatorValue, Verdict)
from webapp.impact.services.indicators import format_figure, title_of
from webapp.membership.models import MemberState, OrgMember
from webapp.progress_reports.delivery import recipients as backers_of

SALT = "impact-confirmation"


class LinkRefused(DomainError):
    """A confirmation link that cannot be used, with the HTTP status that says why."""

    def __init__(self, message: str, status: int):
        self.status = status
        super().__init__(message)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def link_days() -> int:
    return int(current_app.config["IMPACT_LINK_DAYS"])


def token_for(request: ConfirmationRequest) -> str:
    return _serializer().dumps({"r": request.id, "n": request.nonce})


def open_link(token: str) -> ConfirmationRequest:
    """The request a link names, or LinkRefused: forged (400), expired (410), unknown (404), used (409)."""
    try:
        data = _serializer().loads(token, max_age=link_days() * 86400)
    except SignatureExpired:
        raise LinkRefused(_("This link has expired. Links to confirm a value work for %(days)d days.",
                            days=link_days()), 410) from None
    except BadSignature:
        raise LinkRefused(_("This link is not valid. Open the link exactly as you received it."), 400) from None
    if not isinstance(data, dict) or not isinstance(data.get("r"), int) or not isinstance(data.get("n"), str):
        raise LinkRefused(_("This link is not valid. Open the link exactly as you received it."), 400)
    request = db.session.get(ConfirmationRequest, data["r"])
    if request is None or not secrets.compare_digest(request.nonce, data["n"]):
        raise LinkRefused(_("This link no longer leads anywhere: the value it was about has been removed."), 404)
    if request.answered_on is not None:
        raise LinkRefused(_("This link has already been used: each person answers once about each value. "
                            "Thank you for your answer."), 409)
    return request


def answer(request: ConfirmationRequest, verdict: Verdict, comment: str | None, signed_name: str | None) -> None:
    """Record the answer once: the request is marked used in the same statement that checks it was not."""
    today = date.today()
    used = db.session.execute(
        update(ConfirmationRequest).where(ConfirmationRequest.id == request.id,
                                          ConfirmationRequest.answered_on.is_(None))
        .values(answered_on=today), execution_options={"synchronize_session": False})
    if used.rowcount != 1:
        raise LinkRefused(_("This link has already been used: each person answers once about each value. "
                            "Thank you for your answer."), 409)
    comment = (comment or "").strip() or None
    if verdict == Verdict.COMMENT and not comment:
        raise DomainError(_("Write your comment, or choose whether you confirm the value."))
    db.session.add(ConfirmationAnswer(value_id=request.value_id, campaign_id=request.campaign_id,
                                      audience=request.audience, verdict=verdict, comment=comment,
                                      signed_name=(signed_name or "").strip() or None, answered_on=today))
    db.session.flush()


# -- asking -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Person:
    audience: Audience
    key: str
    channel: Channel
    address: str
    locale: str
    beneficiary_id: int | None = None
    user_id: int | None = None


def email_key(address: str) -> str:
    return "email:" + hashlib.sha256(address.strip().lower().encode()).hexdigest()[:40]


def people_concerned(campaign: Campaign) -> Iterator[Person]:
    """Beneficiaries (by SMS when they gave a phone), active members, backers: each person once, first role wins."""
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    seen: set[str] = set()
    for b in db.session.scalars(select(Beneficiary).where(Beneficiary.campaign_id == campaign.id)
                                .order_by(Beneficiary.id)):
        if b.email:
            seen.add(b.email)
        channel, address = (Channel.SMS, b.phone) if b.phone else (Channel.EMAIL, b.email)
        yield Person(Audience.BENEFICIARY, f"beneficiary:{b.id}", channel, address, b.locale, beneficiary_id=b.id)
    members = db.session.execute(
        select(User.id, User.email, User.locale).join(OrgMember, OrgMember.user_id == User.id)
        .where(OrgMember.organization_id == campaign.organization_id, OrgMember.state == MemberState.ACTIVE)
        .order_by(User.id))
    for user_id, email, locale in members:
        address = (email or "").strip().lower()
        if not address or address in seen or address.endswith(".invalid"):
            continue
        seen.add(address)
        yield Person(Audience.MEMBER, f"user:{user_id}", Channel.EMAIL, address, locale or default, user_id=user_id)
    for address, locale in backers_of(campaign.id):
        if address in seen:
            continue
        seen.add(address)
        yield Person(Audience.BACKER, email_key(address), Channel.EMAIL, address, locale)


def ask(value: IndicatorValue) -> int:
    """One request per person concerned not yet asked about this value; returns how many were added."""
    campaign = value.indicator.campaign
    if not campaign.is_public:
        raise DomainError(_("Values of a campaign that is not public cannot be confirmed."))
    asked = set(db.session.scalars(select(ConfirmationRequest.person_key)
                                   .where(ConfirmationRequest.value_id == value.id)))
    added = 0
    for person in people_concerned(campaign):
        if person.key in asked:
            continue
        asked.add(person.key)
        db.session.add(ConfirmationRequest(
            value_id=value.id, campaign_id=campaign.id, audience=person.audience, person_key=person.key,
            beneficiary_id=person.beneficiary_id, user_id=person.user_id, channel=person.channel,
            address=person.address, locale=person.locale, nonce=secrets.token_hex(8)))
        added += 1
    if not added and not asked:
        raise DomainError(_("Nobody to ask yet: list beneficiaries, or wait for members and backers."))
    value.asked_at = utcnow()
    db.session.flush()
    return added


def unsent(value_id: int) -> list[int]:
    return list(db.session.scalars(select(ConfirmationRequest.id).where(
        ConfirmationRequest.value_id == value_id, ConfirmationRequest.sent_at.is_(None),
        ConfirmationRequest.address.is_not(None)).order_by(ConfirmationRequest.id)))


def send(request_id: int) -> bool:
    """Send one request's link by its channel, then forget the address. The caller commits after each one.

    Email leaves after the commit (webapp.mail); an SMS leaves now, so a crash between the send and the
    commit may send it twice, never lose it (the gateway's reference deduplicates where it can)."""
    from webapp.mail import queue_email
    from webapp.mutual_aid.sms import sms_channel
    from webapp.public_url import public_url

    request = db.session.get(ConfirmationRequest, request_id)
    if request is None or request.sent_at is not None or not request.address:
        return False
    value = request.value
    campaign = value.indicator.campaign
    link = public_url("impact.confirm", token=token_for(request))
    if request.channel == Channel.SMS:
        with force_locale(request.locale):
            text = _("Harambee: %(org)s reports %(value)s %(unit)s for “%(indicator)s”. Is it true? Answer: %(link)s",
                     org=campaign.organization.name, value=format_figure(value.value), unit=value.indicator.unit,
                     indicator=title_of(value.indicator, request.locale), link=link)
        sms_channel().send(request.address, text, reference=f"impact-{request.id}")
    else:
        queue_email("impact_confirm", request.address, request.locale, campaign=campaign, value=value,
                    title=title_of(value.indicator, request.locale), figure=format_figure(value.value),
                    audience=request.audience, link=link, days=link_days())
    request.sent_at = utcnow()
    request.address = None
    db.session.flush()
    return True
