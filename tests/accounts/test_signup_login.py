"""Signing up, signing in and out: validation, duplicate addresses, remember-me, suspension, hashing."""
from __future__ import annotations

import re

import pytest
from flask import url_for

from tests.accounts.helpers import body_of, count, link_in, text_of
from tests.factories import PASSWORD, UserFactory
from webapp.accounts.models import User
from webapp.extensions import db

GOOD_PASSWORD = "a long enough password"


def signup_data(**overrides) -> dict:
    data = {"name": "Awa Ndiaye", "email": "awa@example.org", "password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD}
    data.update(overrides)
    return data


def signed_in(client) -> bool:
    with client.session_transaction() as session:
        return "_user_id" in session


def test_signup_creates_a_member_with_a_lowercased_email_and_asks_them_to_check_their_email(client, login):
    # Signing up does not sign in: the answer must be the same whether or not the address has an account.
    response = client.post(url_for("accounts.signup"), data=signup_data(email="Awa@Example.ORG"))

    assert response.status_code == 302
    assert response.location == url_for("accounts.login")
    user = db.session.scalar(db.select(User))
    assert user.email == "awa@example.org"
    assert user.name == "Awa Ndiaye"
    assert user.email_verified_at is None
    assert not signed_in(client)
    assert "Check your email" in text_of(client.get(response.location))
    login(client, user, password=GOOD_PASSWORD)  # the new member signs in with the password just chosen
    assert client.get(url_for("accounts.profile")).status_code == 200


def test_stored_password_is_a_scrypt_hash_never_the_password(client):
    client.post(url_for("accounts.signup"), data=signup_data())

    user = db.session.scalar(db.select(User))
    assert user.password_hash.startswith("scrypt:")
    assert GOOD_PASSWORD not in user.password_hash
    assert user.check_password(GOOD_PASSWORD)
    assert not user.check_password(GOOD_PASSWORD + "x")


def _without_tokens(html: str) -> str:
    html = re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token" value=""', html)
    return re.sub(r'nonce="[^"]*"', 'nonce=""', html)  # the Content-Security-Policy nonce, new every response


def test_signup_with_an_address_already_used_answers_as_for_a_new_one_and_emails_the_owner(client, smtp_server):
    UserFactory(email="awa@example.org", name="Awa Owner")
    db.session.commit()

    taken = client.post(url_for("accounts.signup"), data=signup_data(email="AWA@Example.org", name="Other"))
    taken_page = client.get(taken.location)
    [warning] = smtp_server.wait_for(1)
    smtp_server.clear()
    new = client.post(url_for("accounts.signup"), data=signup_data(email="newcomer@example.org", name="Other"))
    new_page = client.get(new.location)

    assert (taken.status_code, taken.location) == (new.status_code, new.location)
    assert taken.get_data() == new.get_data()
    assert taken_page.status_code == new_page.status_code == 200
    page = _without_tokens(text_of(taken_page))
    assert page.replace("awa@example.org", "ADDRESS") == _without_tokens(text_of(new_page)).replace(
        "newcomer@example.org", "ADDRESS")
    assert "An account already uses" not in page
    assert not signed_in(client)
    assert count(User) == 2  # the owner's and the newcomer's: no second account for the taken address
    assert db.session.scalar(db.select(User).where(User.email == "awa@example.org")).name == "Awa Owner"
    # the owner is told, and offered the two ways back in
    assert warning["To"] == "awa@example.org"
    assert warning["Subject"] == "Someone tried to sign up with your address"
    body = body_of(warning)
    assert "Hello Awa Owner," in body
    assert link_in(warning, "/account/login").startswith("http://harambee.test/")
    assert link_in(warning, "/account/password/forgot").startswith("http://harambee.test/")
    # the newcomer got the usual confirmation link
    [confirmation] = smtp_server.wait_for(1)
    assert confirmation["To"] == "newcomer@example.org"
    assert "/account/verify/" in body_of(confirmation)


def test_signup_with_a_taken_address_changes_nothing_on_the_account(client, smtp_server):
    owner = UserFactory(email="awa@example.org", name="Awa Owner")
    db.session.commit()
    before = owner.password_hash

    client.post(url_for("accounts.signup"), data=signup_data(email="awa@example.org", name="Intruder"))

    db.session.expire_all()
    assert owner.password_hash == before and owner.name == "Awa Owner"
    assert not owner.check_password(GOOD_PASSWORD)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"password": "short1234", "confirm": "short1234"}, "Use at least 10 characters."),
        ({"confirm": GOOD_PASSWORD + "!"}, "The passwords differ."),
        ({"name": "N" * 121}, "Field cannot be longer than 120 characters."),
        ({"email": "not-an-address"}, "Invalid email address."),
        ({"name": ""}, "This field is required."),
    ],
    ids=["short-password", "mismatched-confirm", "overlong-name", "bad-email", "no-name"],
)
def test_invalid_signup_is_refused_with_a_message_and_creates_nothing(client, overrides, message):
    response = client.post(url_for("accounts.signup"), data=signup_data(**overrides))

    assert response.status_code == 400
    assert message in text_of(response)
    assert count(User) == 0
    assert not signed_in(client)


def test_login_with_the_right_password_signs_in_whatever_the_email_case(client):
    UserFactory(email="kofi@example.org")

    response = client.post(url_for("accounts.login"), data={"email": "KOFI@example.org", "password": PASSWORD})

    assert response.status_code == 302
    assert response.location == url_for("campaigns.home")
    assert signed_in(client)


def test_login_with_a_wrong_password_is_refused_with_401(client):
    UserFactory(email="kofi@example.org")

    response = client.post(url_for("accounts.login"), data={"email": "kofi@example.org", "password": "wrong" * 3})

    assert response.status_code == 401
    assert "That email and password do not match an account." in text_of(response)
    assert not signed_in(client)


def test_login_for_an_unknown_address_gives_the_same_message_as_a_wrong_password(client):
    response = client.post(url_for("accounts.login"), data={"email": "nobody@example.org", "password": "whatever12"})

    assert response.status_code == 401
    assert "That email and password do not match an account." in text_of(response)


def test_suspended_account_cannot_sign_in(client):
    UserFactory(email="gone@example.org", suspended=True)

    response = client.post(url_for("accounts.login"), data={"email": "gone@example.org", "password": PASSWORD})

    assert response.status_code == 401
    assert "This account is suspended" in text_of(response)
    assert not signed_in(client)


def test_account_suspended_while_signed_in_loses_access(client, login):
    user = UserFactory()
    login(client, user)
    assert client.get(url_for("accounts.profile")).status_code == 200

    user.suspended_at = db.func.now()
    db.session.commit()

    response = client.get(url_for("accounts.profile"))
    assert response.status_code == 302
    assert response.location.startswith(url_for("accounts.login"))


def _cookie_names(response) -> set[str]:
    return {header.split("=", 1)[0] for header in response.headers.getlist("Set-Cookie")}


def test_remember_me_cookie_is_set_only_when_ticked(client, login):
    user = UserFactory()

    without = login(client, user)
    assert "remember_token" not in _cookie_names(without)
    client.post(url_for("accounts.logout"))

    with_it = login(client, user, remember=True)
    assert "remember_token" in _cookie_names(with_it)
    remember = next(h for h in with_it.headers.getlist("Set-Cookie") if h.startswith("remember_token="))
    assert "HttpOnly" in remember


def test_logout_only_answers_post(client, login):
    login(client, UserFactory())

    assert client.get(url_for("accounts.logout")).status_code == 405
    assert signed_in(client)

    response = client.post(url_for("accounts.logout"))
    assert response.status_code == 302
    assert not signed_in(client)
    assert client.get(url_for("accounts.profile")).status_code == 302  # back to the sign-in page


def test_signed_in_member_visiting_signup_is_sent_home(client, login):
    login(client, UserFactory())

    response = client.get(url_for("accounts.signup"))

    assert response.status_code == 302
    assert response.location == url_for("campaigns.home")


def test_remember_me_cookie_alone_restores_the_session_until_logout(client, login):
    user = UserFactory()
    login(client, user, remember=True)
    client.delete_cookie("session", domain="harambee.test")

    assert client.get(url_for("accounts.profile")).status_code == 200  # signed back in by remember_token

    client.post(url_for("accounts.logout"))
    client.delete_cookie("session", domain="harambee.test")
    assert client.get_cookie("remember_token", domain="harambee.test") is None
    assert client.get(url_for("accounts.profile")).status_code == 302


def test_remember_me_cookie_of_a_suspended_account_no_longer_signs_in(client, login):
    user = UserFactory()
    login(client, user, remember=True)
    client.delete_cookie("session", domain="harambee.test")
    user.suspended_at = db.func.now()
    db.session.commit()

    assert client.get(url_for("accounts.profile")).status_code == 302
