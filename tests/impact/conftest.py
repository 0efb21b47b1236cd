"""Fixtures for impact: an organization with an editor, its succeeded campaign with a report, an indicator and
its reported value, the people concerned (two beneficiaries, an active and a lapsed member, backers), SMS recorded."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests.factories import (BeneficiaryFactory, CampaignFactory, IndicatorFactory, IndicatorValueFactory,
                             MembershipFactory, OrganizationFactory, PledgeFactory, ProgressReportFactory,
                             UserFactory)
from webapp.extensions import db
from webapp.membership.models import MembershipClass, MemberState, OrgMember
from webapp.organizations.models import OrgRole
from webapp.payments.models import PledgeStatus


class RecordingSms:
    """The SMS channel of the tests: what would have left, in order."""

    def __init__(self):
        self.sent: list[tuple[str, str, str]] = []

    def send(self, number: str, text: str, *, reference: str) -> None:
        self.sent.append((number, text, reference))


@pytest.fixture
def sms(app):
    recorder = RecordingSms()
    app.extensions["mutual_aid.sms"] = recorder
    yield recorder
    app.extensions.pop("mutual_aid.sms", None)


@pytest.fixture
def editor():
    return UserFactory(verified=True, name="Afi Mensah", email="afi@example.org")


@pytest.fixture
def org(editor):
    organization = OrganizationFactory(slug="eau-ganvie", name="Eau pour Ganvié", country="BJ")
    MembershipFactory(organization=organization, user=editor, role=OrgRole.EDITOR)
    return organization


@pytest.fixture
def campaign(org):
    return CampaignFactory(succeeded=True, organization=org, slug="wells", title="Wells for Ganvié")


@pytest.fixture
def report(campaign):
    return ProgressReportFactory(campaign=campaign, title="Three wells dug")


@pytest.fixture
def indicator(campaign):
    return IndicatorFactory(campaign=campaign, baseline=Decimal("10"), target=Decimal("120"), unit="households")


@pytest.fixture
def value(indicator, report):
    return IndicatorValueFactory(indicator=indicator, report=report, value=Decimal("48"),
                                 measured_on=date.today())


def member_of(org, user, state=MemberState.ACTIVE) -> OrgMember:
    klass = db.session.query(MembershipClass).filter_by(organization_id=org.id).first()
    if klass is None:
        klass = MembershipClass(organization_id=org.id, name="Members", currency="XOF")
        db.session.add(klass)
        db.session.flush()
    member = OrgMember(organization_id=org.id, user_id=user.id, class_id=klass.id, state=state)
    db.session.add(member)
    db.session.flush()
    return member


@pytest.fixture
def people(campaign, org):
    """Two beneficiaries (one by SMS, one by email), an active member who also backed, a lapsed member, a guest
    backer, and a pledge that never took money: five people to ask."""
    by_phone = BeneficiaryFactory(campaign=campaign, phone="+22997000001", email=None, locale="fr")
    by_email = BeneficiaryFactory(campaign=campaign, phone=None, email="kossi@example.org", locale="en")
    active = UserFactory(verified=True, email="member@example.org", locale="fr")
    lapsed = UserFactory(verified=True, email="lapsed@example.org")
    member_of(org, active)
    member_of(org, lapsed, MemberState.LAPSED)
    PledgeFactory(campaign=campaign, user=active, email=active.email, status=PledgeStatus.PAID)
    PledgeFactory(campaign=campaign, user=None, email="Guest@Example.org", status=PledgeStatus.PAID)
    PledgeFactory(campaign=campaign, user=None, email="never@example.org", status=PledgeStatus.FAILED)
    return {"by_phone": by_phone, "by_email": by_email, "active": active, "lapsed": lapsed}
