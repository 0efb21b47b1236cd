"""Links that leave the app (emails, SMS, processors' return URLs) are built from PUBLIC_URL, never from the
request's Host header; a request for a host the app does not serve is refused with a 400."""
from __future__ import annotations

import pytest
from flask import url_for

from tests.accounts.helpers import link_in, sign_in
from tests.factories import OrganizationFactory, UserFactory
from webapp.extensions import db

#: in the tests PUBLIC_URL is unset, so links follow SERVER_NAME (TestConfig: harambee.test)
PUBLIC = "http://harambee.test/"
#: a host the test configuration trusts, but not the public one: what a second name or an IP looks like
OTHER_TRUSTED = "http://localhost"
FOREIGN = "http://evil.example"


@pytest.fixture
def explicit_public_url(app, monkeypatch):
    """PUBLIC_URL set to another address than the host the requests use: the links must follow it."""
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://harambee.example/")
    return "https://harambee.example/"


# -- a foreign Host header is refused ---------------------------------------------------------------
def test_a_request_for_a_foreign_host_is_refused_and_sends_no_email(client, smtp_server):
    UserFactory(email="claire@example.org")
    db.session.commit()

    response = client.post("/account/password/forgot", data={"email": "claire@example.org"}, base_url=FOREIGN)
    page = client.get("/", base_url=FOREIGN)

    assert response.status_code == 400
    assert page.status_code == 400
    assert smtp_server.messages == []


def test_a_host_header_naming_a_foreign_host_is_refused(client):
    response = client.get("/account/login", headers={"Host": "evil.example"})

    assert response.status_code == 400


def test_the_public_host_and_the_configured_extra_hosts_are_served(client, app):
    assert "harambee.test" in app.config["TRUSTED_HOSTS"]
    assert client.get("/account/login").status_code == 200
    assert client.get("/account/login", base_url=OTHER_TRUSTED).status_code == 200


def test_trusted_hosts_are_the_public_host_plus_the_extra_list(monkeypatch):
    from tests.conftest import make_app

    app = make_app(PUBLIC_URL="https://harambee.example", TRUSTED_HOSTS=["www.harambee.example"])

    assert app.config["TRUSTED_HOSTS"] == ["harambee.example", "www.harambee.example"]


# -- emailed links ------------------------------------------------------------------------------------
@pytest.mark.parametrize("host", [OTHER_TRUSTED, "http://harambee.test"])
def test_password_reset_link_starts_with_the_public_url_whatever_the_host(client, smtp_server, explicit_public_url,
                                                                         host):
    UserFactory(email="claire@example.org")
    db.session.commit()

    response = client.post("/account/password/forgot", data={"email": "claire@example.org"}, base_url=host)

    assert response.status_code == 302
    link = link_in(smtp_server.wait_for(1)[0], "/account/password/reset/")
    assert link.startswith(explicit_public_url + "account/password/reset/")


def test_reset_link_follows_server_name_when_public_url_is_unset_not_the_request(client, smtp_server):
    UserFactory(email="claire@example.org")
    db.session.commit()

    client.post("/account/password/forgot", data={"email": "claire@example.org"}, base_url=OTHER_TRUSTED)

    assert link_in(smtp_server.wait_for(1)[0], "/account/password/reset/").startswith(PUBLIC + "account/")


def test_verification_link_starts_with_the_public_url(client, smtp_server, explicit_public_url):
    password = "a long enough password"
    response = client.post("/account/signup", base_url=OTHER_TRUSTED, data={
        "name": "Awa Ndiaye", "email": "awa@example.org", "password": password, "confirm": password})

    assert response.status_code == 302
    link = link_in(smtp_server.wait_for(1)[0], "/account/verify/")
    assert link.startswith(explicit_public_url + "account/verify/")


def test_invitation_link_starts_with_the_public_url(client, smtp_server, explicit_public_url):
    owner = UserFactory(email="amina@example.org", verified=True)
    org = OrganizationFactory(owner=owner, slug="tifaout")
    db.session.commit()
    sign_in(client, owner)

    # signed in on harambee.test (the session cookie's host), while PUBLIC_URL names another address
    response = client.post(f"/organizations/{org.slug}/members", data={"email": "kofi@example.org"})

    assert response.status_code == 302
    link = link_in(smtp_server.wait_for(1)[0], "/organizations/invitations/")
    assert link.startswith(explicit_public_url + "organizations/invitations/")


def test_mutual_aid_notification_link_starts_with_the_public_url(client, smtp_server, explicit_public_url):
    from tests.mutual_aid.conftest import draft, member, offer_details, request_details
    from webapp.accounts.models import Role
    from webapp.mutual_aid.services import events, posts

    coordinator = member("chantal@example.org", region="BJ-LI", role=Role.COORDINATOR)
    relief = OrganizationFactory(slug="croix-solidaire", country="BJ")
    event = events.create_event(coordinator, draft(relief.id))
    events.activate(event, coordinator)
    helper = member("helper@example.org", region="BJ-LI")
    affected = member("affected@example.org", region="BJ-LI")
    offer = posts.post_offer(event, helper, offer_details())
    need = posts.post_request(event, affected, request_details())
    db.session.commit()
    smtp_server.clear()
    sign_in(client, helper)

    response = client.post(url_for("mutual_aid.propose_from_offer", offer_id=offer.id),
                           data={"request_id": need.id})

    assert response.status_code == 302
    [notice] = [m for m in smtp_server.wait_for(1) if m["To"] == "affected@example.org"]
    assert link_in(notice, "/notifications/").startswith(explicit_public_url)


# -- url_for(..., _external=True) itself, for code that builds its own links (payments) ---------------
@pytest.mark.parametrize("host", [FOREIGN, OTHER_TRUSTED])
def test_external_url_for_inside_any_request_uses_the_public_url(app, explicit_public_url, host):
    with app.test_request_context("/pledges/x", base_url=host):
        receipt = url_for("payments.receipt", reference="abc", _external=True)
        sandbox = url_for("sandbox.checkout", session_id="cs_1", _external=True)
        relative = url_for("payments.receipt", reference="abc")

    assert receipt == explicit_public_url + "pledges/abc"
    assert sandbox.startswith(explicit_public_url)
    assert relative == "/pledges/abc"


def test_public_url_helper_and_a_base_url_with_a_path(app, monkeypatch):
    from webapp.public_url import public_base_url, public_url

    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://example.org/harambee")
    with app.test_request_context("/", base_url=OTHER_TRUSTED):
        assert public_base_url() == "https://example.org/harambee/"
        assert public_url("accounts.login", next="/x") == "https://example.org/harambee/account/login?next=/x"
        assert public_url("accounts.login", _anchor="top").endswith("/account/login#top")


@pytest.mark.no_app
def test_a_worker_without_request_or_server_name_builds_links_from_public_url():
    from tests.conftest import make_app

    app = make_app(SERVER_NAME=None, PUBLIC_URL="https://harambee.example")
    with app.app_context():
        assert url_for("accounts.login") == "https://harambee.example/account/login"
        from webapp.mutual_aid.links import external_url

        assert external_url("accounts.login") == "https://harambee.example/account/login"


# -- configuration -------------------------------------------------------------------------------------
@pytest.mark.no_app
def test_the_old_mutual_aid_setting_is_read_when_public_url_is_unset(monkeypatch):
    from config import public_url_from_environment

    monkeypatch.delenv("PUBLIC_URL", raising=False)
    monkeypatch.delenv("MUTUAL_AID_PUBLIC_URL", raising=False)
    assert public_url_from_environment() is None
    monkeypatch.setenv("MUTUAL_AID_PUBLIC_URL", "https://aid.example")
    assert public_url_from_environment() == "https://aid.example"
    monkeypatch.setenv("PUBLIC_URL", "https://harambee.example")
    assert public_url_from_environment() == "https://harambee.example"
