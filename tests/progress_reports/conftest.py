"""Fixtures for progress reports: an organization with an editor, its succeeded campaign and its backers."""
from __future__ import annotations

import pytest

from tests.campaigns.helpers import sign_in
from tests.factories import CampaignFactory, MembershipFactory, OrganizationFactory, PledgeFactory, UserFactory
from webapp.extensions import db
from webapp.organizations.models import OrgRole
from webapp.payments.models import PledgeStatus


@pytest.fixture
def editor():
    return UserFactory(verified=True, name="Moussa Diop", email="moussa@example.org")


@pytest.fixture
def org(editor):
    organization = OrganizationFactory(slug="coop-ndiaganiao", name="Coopérative de Ndiaganiao", country="SN")
    MembershipFactory(organization=organization, user=editor, role=OrgRole.EDITOR)
    return organization


@pytest.fixture
def campaign(org):
    return CampaignFactory(succeeded=True, organization=org, slug="mill", title="A mill for Ndiaganiao")


@pytest.fixture
def backers(campaign):
    """Who backed the campaign, in every shape a person can back it in.

    - Awa (French member) pledged twice, and once more as a guest with her address in capitals;
    - Kofi (member, no language chosen) pledged in French as a guest-less member;
    - a guest pledged in English;
    - people whose pledge never took money: pending, expired, failed, refunded, released.
    """
    awa = UserFactory(verified=True, email="awa@example.org", locale="fr")
    kofi = UserFactory(verified=True, email="kofi@example.org", locale=None)
    PledgeFactory(campaign=campaign, user=awa, status=PledgeStatus.PAID)
    PledgeFactory(campaign=campaign, user=awa, status=PledgeStatus.PAID)
    PledgeFactory(campaign=campaign, user=None, email="AWA@Example.org ", status=PledgeStatus.PAID, locale="en")
    PledgeFactory(campaign=campaign, user=kofi, status=PledgeStatus.COLLECTING, locale="fr")
    PledgeFactory(campaign=campaign, user=None, email="guest@example.net", status=PledgeStatus.PAID, locale="en")
    for n, status in enumerate((PledgeStatus.PENDING, PledgeStatus.EXPIRED, PledgeStatus.FAILED,
                                PledgeStatus.REFUNDED, PledgeStatus.RELEASED)):
        PledgeFactory(campaign=campaign, user=None, email=f"never-{n}@example.net", status=status)
    return {"awa": awa, "kofi": kofi}


@pytest.fixture
def editor_client(app, editor, org, campaign):
    db.session.commit()  # what the test set up survives a request that rolls back
    client = app.test_client()
    sign_in(client, editor)
    return client
