"""Organization operations: creation, editing, membership and invitations. They flush, never commit."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from webapp import geo
from webapp.accounts.models import User
from webapp.clock import utcnow
from webapp.errors import DomainError, PermissionDenied, TokenInvalid
from webapp.extensions import db
from webapp.mail import queue_email
from webapp.organizations.models import Invitation, LegalForm, Membership, Organization, OrgRole
from webapp.public_url import public_url
from webapp.slugs import unique_slug


@dataclass(frozen=True)
class OrganizationDetails:
    name: str
    legal_form: LegalForm
    country: str
    region: str | None
    description: str
    website: str | None


def _check_place(details: OrganizationDetails) -> None:
    if not geo.is_country(details.country):
        raise DomainError(_("Choose a country from the list."))
    if details.region and not geo.is_region(details.region, details.country):
        raise DomainError(_("Choose a region of the chosen country."))


#: words that routes use right after /organizations/: an organization's slug must not shadow them
RESERVED_SLUGS = frozenset({"new", "invitations"})


def _free_slug(name: str) -> str:
    slug = unique_slug(Organization, name)
    return unique_slug(Organization, f"{slug} organization") if slug in RESERVED_SLUGS else slug


def country_currency(country: str) -> str:
    """The currency an organization of that country books its own income in: the country's, if we take it."""
    from babel.numbers import get_territory_currencies
    from flask import current_app

    try:
        found = get_territory_currencies(country.upper())
    except Exception:  # noqa: BLE001 - an unknown territory falls back to the euro
        found = []
    supported = current_app.config["SUPPORTED_CURRENCIES"]
    return found[0] if found and found[0] in supported else "EUR"


def create_organization(owner: User, details: OrganizationDetails) -> Organization:
    _check_place(details)
    org = Organization(slug=_free_slug(details.name))
    _apply(org, details)
    org.currency = country_currency(org.country)  # set once: its income is booked in it from then on
    db.session.add(org)
    db.session.flush()
    db.session.add(Membership(organization_id=org.id, user_id=owner.id, role=OrgRole.OWNER))
    db.session.flush()
    return org


def update_organization(org: Organization, actor: User, details: OrganizationDetails) -> None:
    require_editor(actor, org)
    _check_place(details)
    _apply(org, details)


def _apply(org: Organization, details: OrganizationDetails) -> None:
    org.name = details.name.strip()
    org.legal_form = details.legal_form
    org.country = details.country.upper()
    org.region = details.region or None
    org.description = details.description.strip()
    org.website = details.website or None


def set_logo(org: Organization, actor: User, key: str) -> str | None:
    require_editor(actor, org)
    old, org.logo_key = org.logo_key, key
    return old


# -- roles --------------------------------------------------------------------------------------
def role_of(user: User | None, org: Organization | int) -> OrgRole | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    org_id = org if isinstance(org, int) else org.id
    return db.session.scalar(
        select(Membership.role).where(Membership.organization_id == org_id, Membership.user_id == user.id)
    )


def can_edit(user: User | None, org: Organization | int) -> bool:
    return role_of(user, org) is not None


def require_editor(user: User | None, org: Organization | int) -> None:
    if not can_edit(user, org):
        raise PermissionDenied(_("Only the organization's editors can do this."))


def require_owner(user: User | None, org: Organization | int) -> None:
    if role_of(user, org) != OrgRole.OWNER:
        raise PermissionDenied(_("Only the organization's owners can do this."))


def organizations_of(user: User) -> list[tuple[Organization, OrgRole]]:
    rows = db.session.execute(
        select(Organization, Membership.role)
        .join(Membership, Membership.organization_id == Organization.id)
        .where(Membership.user_id == user.id)
        .order_by(Organization.name)
    )
    return [(org, role) for org, role in rows]


def members_of(org: Organization) -> list[Membership]:
    return list(db.session.scalars(
        select(Membership).where(Membership.organization_id == org.id)
        .options(db.joinedload(Membership.user)).order_by(Membership.created_at)
    ))


def remove_member(org: Organization, actor: User, membership: Membership) -> None:
    require_owner(actor, org)
    if membership.organization_id != org.id:
        raise DomainError(_("That person is not a member of this organization."))
    if membership.role == OrgRole.OWNER:
        owners = db.session.scalars(select(Membership).where(
            Membership.organization_id == org.id, Membership.role == OrgRole.OWNER)).all()
        if len(owners) <= 1:
            raise DomainError(_("An organization keeps at least one owner."))
    db.session.delete(membership)


# -- invitations --------------------------------------------------------------------------------
def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="harambee.invitation")


def invite_editor(org: Organization, actor: User, email: str) -> Invitation:
    require_owner(actor, org)
    email = email.strip().lower()
    already = db.session.scalar(
        select(Membership).join(User, User.id == Membership.user_id)
        .where(Membership.organization_id == org.id, User.email == email)
    )
    if already is not None:
        raise DomainError(_("%(email)s is already a member of this organization.", email=email))
    invitation = Invitation(organization_id=org.id, email=email, role=OrgRole.EDITOR, invited_by_id=actor.id)
    db.session.add(invitation)
    db.session.flush()
    token = _serializer().dumps({"id": invitation.id, "email": email})
    link = public_url("organizations.accept_invitation", token=token)
    invitee = db.session.scalar(select(User).where(User.email == email))
    queue_email("invitation", email, invitee.locale if invitee else actor.locale,
                organization=org, inviter=actor, link=link)
    return invitation


def accept_invitation(token: str, user: User) -> Organization:
    try:
        data = _serializer().loads(token, max_age=current_app.config["INVITATION_MAX_AGE"])
    except SignatureExpired:
        raise TokenInvalid(_("This invitation has expired. Ask the organization for a new one.")) from None
    except BadSignature:
        raise TokenInvalid(_("This invitation link is not valid.")) from None
    invitation = db.session.get(Invitation, data.get("id"))
    if invitation is None or invitation.email != data.get("email"):
        raise TokenInvalid(_("This invitation link is not valid."))
    if invitation.accepted_at is not None:
        raise TokenInvalid(_("This invitation has already been used."))
    if user.email != invitation.email:
        raise PermissionDenied(_("This invitation was sent to %(email)s. Sign in with that address to accept it.",
                                 email=invitation.email))
    if role_of(user, invitation.organization_id) is None:
        db.session.add(Membership(organization_id=invitation.organization_id, user_id=user.id, role=invitation.role))
    invitation.accepted_at = utcnow()
    invitation.accepted_by_id = user.id
    db.session.flush()
    return invitation.organization


def pending_invitations(org: Organization) -> list[Invitation]:
    return list(db.session.scalars(
        select(Invitation).where(Invitation.organization_id == org.id, Invitation.accepted_at.is_(None))
        .order_by(Invitation.created_at.desc())
    ))
