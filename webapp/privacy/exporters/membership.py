"""The membership part: the organizations the member belongs to, with the number and channel for vote links."""
from __future__ import annotations

from sqlalchemy import select

from webapp.accounts.models import User
from webapp.extensions import db
from webapp.membership.models import OrgMember
from webapp.privacy.registry import exporter, row


@exporter("membership")
def export_membership(user: User) -> dict[str, list]:
    members = db.session.scalars(select(OrgMember).where(OrgMember.user_id == user.id).order_by(OrgMember.id))
    return {"org_memberships": [row(organization=m.organization.name, membership_class=m.membership_class.name,
                                    state=m.state, starts_on=m.starts_on, ends_on=m.ends_on,
                                    resigned_at=m.resigned_at, phone=m.phone,
                                    phone_consent_at=m.phone_consent_at, channel=m.channel)
                                for m in members]}
