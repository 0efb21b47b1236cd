"""`flask users create-admin` and set-role, and CSRF protection of the sign-in form."""
from __future__ import annotations

import re

import pytest
from flask import url_for

from tests.accounts.helpers import count, text_of
from tests.factories import PASSWORD, UserFactory
from webapp.accounts.models import Role, User
from webapp.extensions import db


def _user(email):
    db.session.expire_all()
    return db.session.scalar(db.select(User).where(User.email == email))


def test_create_admin_makes_a_verified_administrator(app):
    result = app.test_cli_runner().invoke(args=[
        "users", "create-admin", "--email", "Root@Example.org", "--name", "Root", "--password", "a long admin secret"])

    assert result.exit_code == 0, result.output
    assert "root@example.org is an administrator." in result.output
    admin = _user("root@example.org")
    assert admin.role == Role.ADMIN
    assert admin.is_verified
    assert admin.password_hash.startswith("scrypt:")
    assert admin.check_password("a long admin secret")


def test_create_admin_prompts_for_the_password_twice(app):
    result = app.test_cli_runner().invoke(
        args=["users", "create-admin", "--email", "root@example.org"],
        input="a long admin secret\na long admin secret\n")

    assert result.exit_code == 0, result.output
    assert _user("root@example.org").is_admin


def test_create_admin_refuses_a_short_password(app):
    result = app.test_cli_runner().invoke(args=[
        "users", "create-admin", "--email", "root@example.org", "--password", "short"])

    assert result.exit_code == 2
    assert "use at least 10 characters" in result.output
    assert count(User) == 0


def test_create_admin_promotes_an_existing_account(app):
    UserFactory(email="claire@example.org")
    db.session.commit()

    result = app.test_cli_runner().invoke(args=[
        "users", "create-admin", "--email", "claire@example.org", "--password", "a long admin secret"])

    assert result.exit_code == 0, result.output
    assert count(User) == 1
    assert _user("claire@example.org").role == Role.ADMIN


def test_set_role_changes_the_role_and_refuses_unknown_addresses(app):
    UserFactory(email="claire@example.org")
    db.session.commit()
    runner = app.test_cli_runner()

    ok = runner.invoke(args=["users", "set-role", "claire@example.org", "moderator"])
    missing = runner.invoke(args=["users", "set-role", "nobody@example.org", "moderator"])

    assert ok.exit_code == 0, ok.output
    assert _user("claire@example.org").role == Role.MODERATOR
    assert missing.exit_code == 1
    assert "no account uses nobody@example.org" in missing.output


@pytest.fixture
def csrf_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)


def test_post_without_a_csrf_token_is_refused_with_a_clear_message(client, csrf_on):
    user = UserFactory(email="awa@example.org")

    response = client.post(url_for("accounts.login"), data={"email": user.email, "password": PASSWORD})

    assert response.status_code == 400
    assert "This form has expired. Please reload the page and submit it again." in text_of(response)
    with client.session_transaction() as session:
        assert "_user_id" not in session


def test_post_with_the_pages_csrf_token_is_accepted(client, csrf_on):
    user = UserFactory(email="awa@example.org")
    page = client.get(url_for("accounts.login")).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)

    response = client.post(url_for("accounts.login"),
                           data={"email": user.email, "password": PASSWORD, "csrf_token": token})

    assert response.status_code == 302


def test_logout_without_a_csrf_token_is_refused(client, login, app, monkeypatch):
    login(client, UserFactory())
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)

    response = client.post(url_for("accounts.logout"))

    assert response.status_code == 400
    with client.session_transaction() as session:
        assert "_user_id" in session
