"""Owners invite editors by email (delivered over real SMTP); the invitee accepts with the invited address."""
from __future__ import annotations

import pytest
from flask import url_for

from tests.accounts.helpers import backdate_tokens, body_of, count, fresh, link_in, sign_in, text_of
from tests.factories import OrganizationFactory, UserFactory
from webapp.extensions import db
from webapp.organizations import services
from webapp.organizations.models import Invitation, Membership, OrgRole


@pytest.fixture
def owner():
    return UserFactory(email="amina@example.org", name="Amina Tazi", verified=True)


@pytest.fixture
def org(owner):
    organization = OrganizationFactory(owner=owner, slug="tifaout", name="Tifaout")
    db.session.commit()
    return organization


def invite(client, org, email):
    return client.post(url_for("organizations.members", slug=org.slug), data={"email": email})


def role_in(org, user):
    db.session.expire_all()
    return services.role_of(user, org)


def test_owner_invites_an_editor_and_the_email_arrives_by_smtp(client, owner, org, smtp_server):
    sign_in(client, owner)

    response = invite(client, org, "Kofi@Example.org")

    assert response.status_code == 302
    [invitation] = db.session.scalars(db.select(Invitation)).all()
    assert (invitation.email, invitation.role, invitation.invited_by_id) == ("kofi@example.org", OrgRole.EDITOR, owner.id)
    [message] = smtp_server.wait_for(1)
    assert message["To"] == "kofi@example.org"
    assert message["Subject"] == "Amina Tazi invites you to edit Tifaout on Harambee"
    assert "become an editor of Tifaout" in body_of(message)
    assert link_in(message, "/organizations/invitations/").startswith("http://harambee.test/")
    assert "kofi@example.org" in text_of(client.get(url_for("organizations.members", slug=org.slug)))


def test_invitee_signed_in_with_the_invited_address_accepts_and_becomes_editor(client, owner, org, smtp_server):
    sign_in(client, owner)
    invite(client, org, "kofi@example.org")
    link = link_in(smtp_server.wait_for(1)[0], "/organizations/invitations/")
    kofi = UserFactory(email="kofi@example.org")
    db.session.commit()
    client.post(url_for("accounts.logout"))
    sign_in(client, kofi)

    assert client.get(link).status_code == 200
    response = client.post(link)

    assert response.status_code == 302
    assert response.location == url_for("campaigns.organization", slug="tifaout")
    assert role_in(org, kofi) == OrgRole.EDITOR
    invitation = db.session.scalar(db.select(Invitation))
    assert invitation.accepted_by_id == kofi.id and invitation.accepted_at is not None
    assert client.get(url_for("organizations.edit", slug="tifaout")).status_code == 200


def test_invitation_link_asks_a_visitor_to_sign_in_first(client, owner, org, smtp_server):
    sign_in(client, owner)
    invite(client, org, "kofi@example.org")
    link = link_in(smtp_server.wait_for(1)[0], "/organizations/invitations/")
    client.post(url_for("accounts.logout"))

    response = client.get(link)

    assert response.status_code == 302
    assert response.location.startswith(url_for("accounts.login"))


def test_another_account_cannot_accept_the_invitation(client, owner, org, smtp_server):
    sign_in(client, owner)
    invite(client, org, "kofi@example.org")
    link = link_in(smtp_server.wait_for(1)[0], "/organizations/invitations/")
    intruder = UserFactory(email="intruder@example.org")
    db.session.commit()
    client.post(url_for("accounts.logout"))
    sign_in(client, intruder)

    response = client.post(link)

    assert response.status_code == 400
    assert "This invitation was sent to kofi@example.org. Sign in with that address to accept it." in text_of(response)
    assert role_in(org, intruder) is None
    assert fresh(db.session.scalar(db.select(Invitation))).accepted_at is None


def test_the_owner_cannot_accept_their_own_invitation_for_someone_else(client, owner, org, smtp_server):
    sign_in(client, owner)
    invite(client, org, "kofi@example.org")
    link = link_in(smtp_server.wait_for(1)[0], "/organizations/invitations/")

    response = client.post(link)

    assert response.status_code == 400
    assert db.session.scalar(db.select(Invitation)).accepted_at is None


def test_a_used_invitation_cannot_be_used_again(client, owner, org, smtp_server):
    sign_in(client, owner)
    invite(client, org, "kofi@example.org")
    link = link_in(smtp_server.wait_for(1)[0], "/organizations/invitations/")
    kofi = UserFactory(email="kofi@example.org")
    db.session.commit()
    client.post(url_for("accounts.logout"))
    sign_in(client, kofi)
    assert client.post(link).status_code == 302
    # Removed by the owner, Kofi must not be able to let himself back in with the old link.
    membership = db.session.scalar(db.select(Membership).where(Membership.user_id == kofi.id))
    db.session.delete(membership)
    db.session.commit()

    again = client.post(link)

    assert again.status_code == 400
    assert "This invitation has already been used." in text_of(again)
    assert role_in(org, kofi) is None


def test_tampered_invitation_link_is_refused(client, owner, org, smtp_server):
    sign_in(client, owner)
    invite(client, org, "kofi@example.org")
    link = link_in(smtp_server.wait_for(1)[0], "/organizations/invitations/")
    kofi = UserFactory(email="kofi@example.org")
    db.session.commit()
    sign_in(client, kofi)

    response = client.post(link[:-3] + ("xyz" if not link.endswith("xyz") else "abc"))

    assert response.status_code == 400
    assert "This invitation link is not valid." in text_of(response)
    assert role_in(org, kofi) is None


def test_editor_cannot_invite(client, org, smtp_server):
    editor = UserFactory()
    db.session.add(Membership(organization_id=org.id, user_id=editor.id, role=OrgRole.EDITOR))
    db.session.commit()
    sign_in(client, editor)

    assert client.get(url_for("organizations.members", slug=org.slug)).status_code == 200
    response = invite(client, org, "friend@example.org")

    assert response.status_code == 403
    assert count(Invitation) == 0
    assert smtp_server.messages == []


def test_non_member_cannot_invite(client, org, smtp_server):
    sign_in(client, UserFactory())

    response = invite(client, org, "friend@example.org")

    assert response.status_code == 403
    assert count(Invitation) == 0
    assert smtp_server.messages == []


def test_inviting_an_existing_member_is_refused_with_a_message(client, owner, org, smtp_server):
    sign_in(client, owner)

    response = invite(client, org, "AMINA@example.org")

    assert response.status_code == 400
    assert "amina@example.org is already a member of this organization." in text_of(response)
    assert count(Invitation) == 0
    assert smtp_server.messages == []


def test_invalid_invitation_address_is_refused(client, owner, org, smtp_server):
    sign_in(client, owner)

    response = invite(client, org, "not an address")

    assert response.status_code == 400
    assert count(Invitation) == 0


def test_expired_invitation_is_refused(client, owner, org, smtp_server, app, monkeypatch):
    sign_in(client, owner)
    # The invitation is signed as if sent one second more than INVITATION_MAX_AGE ago.
    backdate_tokens(monkeypatch, "harambee.invitation", app.config["INVITATION_MAX_AGE"] + 1)
    sent = invite(client, org, "kofi@example.org")
    monkeypatch.undo()
    assert sent.status_code == 302, sent.get_data(as_text=True)
    link = link_in(smtp_server.wait_for(1)[0], "/organizations/invitations/")
    kofi = UserFactory(email="kofi@example.org")
    db.session.commit()
    sign_in(client, kofi)

    response = client.post(link)

    assert response.status_code == 400
    assert "This invitation has expired. Ask the organization for a new one." in text_of(response)
    assert role_in(org, kofi) is None
