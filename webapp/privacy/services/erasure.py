"""Erasing an account: the member's personal data erased or replaced by a pseudonym in every domain.

What stays: the placeholder user row (other rows point at it), the pledges as money records
(amounts, dates, references, states) without the backer's address, name or message, and the
ledger, which is never updated. Posts in mutual aid are withdrawn through its own services, so
the people matched with the member are told the usual way that the match is off.
"""
from __future__ import annotations

import secrets

from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import aliased
from werkzeug.security import generate_password_hash

from webapp.accounts.models import OriginRegion, Role, User, UserSession
from webapp.clock import utcnow
from webapp.errors import DomainError
from webapp.extensions import db
from webapp.mail import discard_queued, queue_email
from webapp.mutual_aid.models import (
    CallDelivery,
    ChannelPreference,
    CommitmentState,
    HelpRequest,
    Notification,
    Offer,
    OfferState,
    Report,
    SolidarityCall,
    StandingCommitment,
)
from webapp.mutual_aid.services import matching, posts
from webapp.organizations.models import Invitation, Membership, Organization, OrgRole
from webapp.payments.models import Pledge, ProcessorCustomer
from webapp.privacy.models import AccountErasure, ErasureReason
from webapp.impact.services.privacy import forget as forget_impact_contacts
from webapp.progress_reports.models import ReportDelivery, ReportUnsubscribe

PLACEHOLDER_NAME = "Deleted member"
#: RFC 2606 reserves .invalid: no mail can ever be delivered there
PLACEHOLDER_DOMAIN = "deleted.invalid"
RUNNING_REQUESTS = (matching.R.OPEN, matching.R.PROPOSED, matching.R.MATCHED)


class WrongPassword(DomainError):
    field = "password"


class LastOwner(DomainError):
    def __init__(self, organizations: list[Organization]):
        self.organizations = organizations
        names = ", ".join(f"“{org.name}”" for org in organizations)
        super().__init__(_(
            "You are the last owner of %(names)s, and an organization cannot be left without an owner. "
            "Invite another member as an editor, ask the moderators to make them an owner (or to close the "
            "organization), then delete your account.", names=names))


class AlreadyErased(DomainError):
    pass


def placeholder_email(user: User) -> str:
    return f"deleted-{user.id}-{secrets.token_hex(4)}@{PLACEHOLDER_DOMAIN}"


def is_erased(user: User) -> bool:
    return db.session.scalar(select(AccountErasure.id).where(AccountErasure.user_id == user.id)) is not None


def organizations_left_without_owner(user: User) -> list[Organization]:
    """Organizations the member is the only owner of: deleting the account would orphan them."""
    owner = aliased(Membership)
    owners = (select(func.count()).select_from(owner)
              .where(owner.organization_id == Organization.id, owner.role == OrgRole.OWNER)
              .correlate(Organization).scalar_subquery())
    return list(db.session.scalars(
        select(Organization).join(Membership, Membership.organization_id == Organization.id)
        .where(Membership.user_id == user.id, Membership.role == OrgRole.OWNER, owners <= 1)
        .order_by(Organization.name)))


def require_erasable(user: User) -> None:
    if is_erased(user):
        raise AlreadyErased(_("This account is already deleted."))
    blocking = organizations_left_without_owner(user)
    if blocking:
        raise LastOwner(blocking)


def delete_account(user: User, password: str) -> AccountErasure:
    """The member's own request, confirmed with their password. Flushes; the caller commits."""
    if not password or not user.check_password(password):
        raise WrongPassword(_("That is not your password."))
    return erase_account(user, ErasureReason.MEMBER, tell_member=True)


def erase_account(user: User, reason: ErasureReason, *, tell_member: bool) -> AccountErasure:
    # Two deletions at once (two tabs): the second waits here, then finds the account erased.
    db.session.execute(select(User.id).where(User.id == user.id).with_for_update())
    require_erasable(user)
    address, locale, name = user.email, user.locale, user.name
    _withdraw_mutual_aid(user)
    # What withdrawing told the member themselves (a match they left) would reach an erased account.
    discard_queued(address)
    if tell_member:
        queue_email("account_deleted", address, locale, name=name)
    placeholder = placeholder_email(user)
    _erase_mutual_aid(user)
    _erase_pledges(user, address, placeholder)
    _erase_progress_report_mail(address)
    forget_impact_contacts(user.id, address)
    _erase_organizations(user, address, placeholder)
    _erase_profile(user, placeholder)
    erasure = AccountErasure(user_id=user.id, reason=reason, erased_at=utcnow())
    db.session.add(erasure)
    db.session.flush()
    db.session.expire_all()  # the bulk updates above bypassed the objects already loaded
    return erasure


def _withdraw_mutual_aid(user: User) -> None:
    """Through mutual aid's own services: the other side of each match is told, as for any withdrawal."""
    offers = db.session.scalars(select(Offer).where(
        Offer.owner_id == user.id, Offer.state != OfferState.CLOSED)).all()
    for offer in offers:
        posts.close_offer(offer, user)
    requests = db.session.scalars(select(HelpRequest).where(
        HelpRequest.requester_id == user.id, HelpRequest.state.in_(RUNNING_REQUESTS))).all()
    for request in requests:
        matching.cancel_request(request, user)
    for commitment in db.session.scalars(select(StandingCommitment).where(
            StandingCommitment.user_id == user.id, StandingCommitment.state != CommitmentState.CANCELLED)):
        commitment.state, commitment.cancelled_at = CommitmentState.CANCELLED, utcnow()
    db.session.flush()


def _erase_mutual_aid(user: User) -> None:
    no_sync = {"synchronize_session": False}
    db.session.execute(update(Offer).where(Offer.owner_id == user.id).values(
        title="", description="", contact_phone=None, contact_note=None, latitude=None, longitude=None)
        .execution_options(**no_sync))
    db.session.execute(update(HelpRequest).where(HelpRequest.requester_id == user.id).values(
        description="", address=None, contact_phone=None, latitude=None, longitude=None)
        .execution_options(**no_sync))
    db.session.execute(update(StandingCommitment).where(StandingCommitment.user_id == user.id).values(
        customer_id=None, payment_method_id=None, checkout_session_id=None).execution_options(**no_sync))
    db.session.execute(update(Report).where(Report.reporter_id == user.id).values(reason="")
                       .execution_options(**no_sync))
    calls = select(SolidarityCall.id).where(SolidarityCall.user_id == user.id)
    db.session.execute(update(CallDelivery).where(CallDelivery.call_id.in_(calls)).values(failure_reason=None)
                       .execution_options(**no_sync))
    db.session.execute(update(SolidarityCall).where(SolidarityCall.user_id == user.id).values(failure_reason=None)
                       .execution_options(**no_sync))
    db.session.execute(delete(Notification).where(Notification.user_id == user.id).execution_options(**no_sync))
    db.session.execute(delete(ChannelPreference).where(ChannelPreference.user_id == user.id)
                       .execution_options(**no_sync))


def _erase_pledges(user: User, address: str, placeholder: str) -> None:
    """Pledges stay as money records: amounts, currencies, dates, states, references. Not who, nor what they said.

    Guest pledges made with the member's address are theirs too.
    """
    db.session.execute(update(Pledge).where(or_(Pledge.user_id == user.id, Pledge.email == address)).values(
        email=placeholder, display_name=None, message=None, anonymous=True)
        .execution_options(synchronize_session=False))
    # The link to the member's processor customer goes; committed pledges keep their own customer
    # and saved method, so they are still charged if their campaign succeeds.
    db.session.execute(delete(ProcessorCustomer).where(ProcessorCustomer.user_id == user.id)
                       .execution_options(synchronize_session=False))


def _erase_progress_report_mail(address: str) -> None:
    """The record of report emails sent to the address, and its opt-outs: its pledges now name no address, so
    no report reaches it again either way."""
    lowered = (address or "").strip().lower()
    for model in (ReportDelivery, ReportUnsubscribe):
        db.session.execute(delete(model).where(model.email == lowered).execution_options(synchronize_session=False))


def _erase_organizations(user: User, address: str, placeholder: str) -> None:
    db.session.execute(delete(Membership).where(Membership.user_id == user.id)
                       .execution_options(synchronize_session=False))
    db.session.execute(delete(Invitation).where(Invitation.email == address, Invitation.accepted_at.is_(None))
                       .execution_options(synchronize_session=False))
    db.session.execute(update(Invitation).where(Invitation.email == address).values(email=placeholder)
                       .execution_options(synchronize_session=False))


def _erase_profile(user: User, placeholder: str) -> None:
    db.session.execute(delete(OriginRegion).where(OriginRegion.user_id == user.id)
                       .execution_options(synchronize_session=False))
    # Every signed-in browser ends, and its record (device, times) goes with it.
    db.session.execute(delete(UserSession).where(UserSession.user_id == user.id)
                       .execution_options(synchronize_session=False))
    user.email, user.name = placeholder, PLACEHOLDER_NAME
    user.locale = user.display_currency = None
    user.residence_country = user.residence_region = None
    user.latitude = user.longitude = None
    user.role = Role.MEMBER
    user.email_verified_at = None
    # A password nobody knows: every session (bound to the password) ends, and nobody signs in again.
    user.password_hash = generate_password_hash(secrets.token_urlsafe(32), method="scrypt")
    user.suspended_at = user.suspended_at or utcnow()
    db.session.flush()
    db.session.expire(user, ["origin_regions"])
