"""Fixtures for the campaign tests: an organization with its owner and an editor, a moderator, signed-in clients."""
from __future__ import annotations

import pytest

from tests.campaigns.helpers import sign_in
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from webapp.extensions import db
from webapp.organizations.models import OrgRole


@pytest.fixture
def owner():
    return UserFactory(verified=True, name="Awa Ndiaye", email="awa@example.org")


@pytest.fixture
def editor():
    return UserFactory(verified=True, name="Moussa Diop", email="moussa@example.org")


@pytest.fixture
def org(owner, editor):
    """Organization A, in Senegal: `owner` owns it, `editor` edits it."""
    organization = OrganizationFactory(slug="coop-ndiaganiao", name="Coopérative de Ndiaganiao",
                                       country="SN", owner=owner)
    MembershipFactory(organization=organization, user=editor, role=OrgRole.EDITOR)
    return organization


@pytest.fixture
def moderator():
    return UserFactory(verified=True, moderator=True, name="Fatou Sow", email="fatou@example.org")


@pytest.fixture
def editor_client(app, editor, org):
    db.session.commit()  # what the test set up survives a request that rolls back
    client = app.test_client()
    sign_in(client, editor)
    return client


@pytest.fixture
def moderator_client(app, moderator):
    db.session.commit()
    client = app.test_client()
    sign_in(client, moderator)
    return client
