"""The organizations domain's part: memberships and the invitations the member received.

Invitations the member sent are left out: the addresses in them are other people's data.
"""
from __future__ import annotations

from sqlalchemy import or_, select

from webapp.accounts.models import User
from webapp.extensions import db
from webapp.organizations.models import Invitation, Membership, Organization
from webapp.privacy.registry import exporter, row


@exporter("organizations")
def export_organizations(user: User) -> dict[str, list]:
    memberships = db.session.execute(
        select(Membership, Organization).join(Organization, Organization.id == Membership.organization_id)
        .where(Membership.user_id == user.id).order_by(Membership.id))
    invitations = db.session.execute(
        select(Invitation, Organization).join(Organization, Organization.id == Invitation.organization_id)
        .where(or_(Invitation.email == user.email, Invitation.accepted_by_id == user.id)).order_by(Invitation.id))
    return {
        "organization_memberships": [
            row(organization=org.name, organization_slug=org.slug, role=m.role, since=m.created_at)
            for m, org in memberships],
        "organization_invitations": [
            row(organization=org.name, role=i.role, email=i.email, created_at=i.created_at,
                accepted_at=i.accepted_at)
            for i, org in invitations],
    }
