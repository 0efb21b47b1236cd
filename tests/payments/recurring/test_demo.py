"""The demo: the cooperative's membership classes and members, loaded once however often `flask demo load` runs."""
from __future__ import annotations

from sqlalchemy import func, select

from webapp import demo
from webapp.extensions import db
from webapp.membership.models import CashDues, MemberState, MembershipClass, OrgMember
from webapp.organizations.models import Organization


def test_the_demo_cooperative_has_membership_classes_with_members_once():
    demo.load_all()
    db.session.commit()
    again = demo.load_all()
    db.session.commit()
    assert again["members"] == 0
    bakery = db.session.scalar(select(Organization.id).where(Organization.slug == "scop-pain-lyon"))
    assert db.session.scalar(select(func.count()).select_from(MembershipClass)
                             .where(MembershipClass.organization_id == bakery)) == 2
    states = sorted(m.state for m in db.session.scalars(select(OrgMember).where(OrgMember.organization_id == bakery)))
    assert states == sorted([MemberState.ACTIVE, MemberState.PENDING, MemberState.PENDING])
    [cash] = db.session.scalars(select(CashDues)).all()
    assert cash.confirmed_at is None  # unverified until a second editor confirms it
