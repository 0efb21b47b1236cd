"""The test harness itself: isolation between tests, factories, login, SMTP, live server and browser."""
from __future__ import annotations

import flask
import pytest
from flask import url_for
from sqlalchemy import func, select

from tests import factories
from tests.conftest import ON_POSTGRES
from webapp.accounts.models import User
from webapp.extensions import db
from webapp.mail import OutgoingEmail, send_now

ISOLATION_EMAIL = "isolation@example.org"


@pytest.mark.parametrize("run", [1, 2])
def test_each_test_starts_with_empty_tables_and_fresh_ids(run):
    assert db.session.scalar(select(func.count()).select_from(User)) == 0
    user = factories.UserFactory(email=ISOLATION_EMAIL)
    db.session.commit()  # committed rows too are gone before the next test
    assert user.id == 1


def test_every_factory_builds_a_valid_row():
    built = [
        factories.UserFactory(verified=True, moderator=True),
        factories.UserFactory(coordinator=True),
        factories.UserFactory(admin=True),
        factories.OriginRegionFactory(),
        factories.OrganizationFactory(owner=factories.UserFactory(), editors=[factories.UserFactory()]),
        factories.MembershipFactory(editor=True),
        factories.InvitationFactory(),
        factories.CampaignFactory(),
        factories.CampaignFactory(submitted=True),
        factories.CampaignFactory(live=True),
        factories.CampaignFactory(succeeded=True),
        factories.CampaignFactory(failed=True),
        factories.RewardTierFactory(),
        factories.CampaignTransitionFactory(),
        factories.CampaignUpdateFactory(),
    ]
    db.session.commit()  # the database's own constraints accept them
    assert all(row.id for row in built)
    live = built[9]
    assert live.status == "live" and live.launched_at == live.starts_at
    assert built[0].check_password(factories.PASSWORD)


def test_login_signs_in_through_the_form(client, login):
    user = factories.UserFactory(verified=True)
    login(client, user)
    assert client.get(url_for("accounts.profile")).status_code == 200


def test_each_request_gets_a_fresh_g_and_the_test_keeps_its_own(app, client):
    seen = []

    def record(sender, **extra):
        seen.append(getattr(flask.g, "left_by_the_test", None))

    flask.g.left_by_the_test = "mine"
    with flask.request_started.connected_to(record, app):
        client.get(url_for("accounts.login"))
    assert seen == [None]
    assert flask.g.left_by_the_test == "mine"


def test_smtp_server_receives_what_the_app_sends(smtp_server):
    send_now(OutgoingEmail(to="awa@example.org", subject="Votre campagne est en ligne", text="Déjà 3 soutiens !"))
    [message] = smtp_server.messages
    assert message["To"] == "awa@example.org"
    assert message["Subject"] == "Votre campagne est en ligne"
    assert "Déjà 3 soutiens" in smtp_server.text_of(message)


@pytest.mark.pg_only
def test_postgresql_run_uses_postgresql():
    assert ON_POSTGRES and db.engine.dialect.name == "postgresql"


@pytest.mark.e2e
def test_browser_signs_in_on_the_live_server(live_server, page, screenshot):
    with live_server.app.app_context():
        factories.UserFactory(verified=True, email="fatou@example.org", name="Fatou Diop")
        db.session.commit()
    page.goto("/account/login")
    page.fill("input[name=email]", "fatou@example.org")
    page.fill("input[name=password]", factories.PASSWORD)
    screenshot("login-form")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(live_server.url_for("campaigns.home"))  # the CSRF token was accepted
    assert page.get_by_role("link", name="Fatou Diop").is_visible()
