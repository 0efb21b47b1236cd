"""Emailed links, delivered over real SMTP on 127.0.0.1: confirming an address and choosing a new password."""
from __future__ import annotations

import re

import pytest
from flask import url_for

from tests.accounts.helpers import backdate_tokens, body_of, fresh, link_in, text_of
from tests.factories import PASSWORD, UserFactory
from webapp.accounts import services
from webapp.accounts.models import User
from webapp.extensions import db

NEW_PASSWORD = "a brand new passphrase"


def _signup(client, email="awa@example.org"):
    password = "a long enough password"
    response = client.post(url_for("accounts.signup"), data={
        "name": "Awa Ndiaye", "email": email, "password": password, "confirm": password})
    assert response.status_code == 302
    return db.session.scalar(db.select(User).where(User.email == email))


def _tamper(link: str) -> str:
    head, token = link.rsplit("/", 1)
    middle = len(token) // 2
    swapped = "A" if token[middle] != "A" else "B"
    return f"{head}/{token[:middle]}{swapped}{token[middle + 1:]}"


# -- email verification ---------------------------------------------------------------------------
def test_signup_sends_a_verification_email_over_smtp(client, smtp_server):
    _signup(client)

    [message] = smtp_server.wait_for(1)
    assert message["To"] == "awa@example.org"
    assert message["Subject"] == "Confirm your email address"
    assert smtp_server.envelopes[0][1] == ["awa@example.org"]
    assert "Hello Awa Ndiaye," in body_of(message)
    assert link_in(message, "/account/verify/").startswith("http://harambee.test/account/verify/")


def test_following_the_emailed_link_verifies_the_account(client, smtp_server, login):
    user = _signup(client)
    link = link_in(smtp_server.wait_for(1)[0], "/account/verify/")
    login(client, user, password="a long enough password")  # signing up does not sign in

    response = client.get(link)

    assert response.status_code == 302
    assert response.location == url_for("accounts.profile")
    assert fresh(user).email_verified_at is not None


def test_following_the_link_while_signed_out_verifies_and_asks_to_sign_in(client, smtp_server):
    user = _signup(client)
    link = link_in(smtp_server.wait_for(1)[0], "/account/verify/")
    client.post(url_for("accounts.logout"))

    response = client.get(link)

    assert response.status_code == 302
    assert response.location == url_for("accounts.login")
    assert fresh(user).is_verified


def test_tampered_verification_link_is_refused_with_a_clear_400_page(client, smtp_server):
    user = _signup(client)
    link = link_in(smtp_server.wait_for(1)[0], "/account/verify/")

    response = client.get(_tamper(link))

    assert response.status_code == 400
    assert "This link is not valid." in text_of(response)
    assert fresh(user).email_verified_at is None


def test_verification_link_for_a_changed_address_is_refused(client):
    user = UserFactory(email="old@example.org")
    token = services.make_verification_token(user)
    user.email = "new@example.org"
    db.session.commit()

    response = client.get(url_for("accounts.verify_email", token=token))

    assert response.status_code == 400
    assert fresh(user).email_verified_at is None


def test_resending_the_verification_email_sends_a_working_link(client, login, smtp_server):
    user = UserFactory(email="late@example.org")
    login(client, user)

    response = client.post(url_for("accounts.resend_verification"))

    assert response.status_code == 302
    [message] = smtp_server.wait_for(1)
    assert message["To"] == "late@example.org"
    assert client.get(link_in(message, "/account/verify/")).status_code == 302
    assert fresh(user).is_verified


# -- password reset -------------------------------------------------------------------------------
def _ask_reset(client, email):
    return client.post(url_for("accounts.forgot_password"), data={"email": email})


def _choose(client, link, password=NEW_PASSWORD):
    return client.post(link, data={"password": password, "confirm": password})


def test_password_reset_link_arrives_by_smtp_and_sets_the_new_password(client, smtp_server):
    user = UserFactory(email="claire@example.org")
    db.session.commit()

    assert _ask_reset(client, "Claire@Example.org").status_code == 302
    [message] = smtp_server.wait_for(1)
    assert message["To"] == "claire@example.org"
    assert message["Subject"] == "Choose a new password"
    link = link_in(message, "/account/password/reset/")

    assert client.get(link).status_code == 200
    response = _choose(client, link)

    assert response.status_code == 302
    user = fresh(user)
    assert user.check_password(NEW_PASSWORD)
    assert not user.check_password(PASSWORD)
    assert user.is_verified  # following the emailed link proves the address
    client.post(url_for("accounts.logout"))
    signin = client.post(url_for("accounts.login"), data={"email": "claire@example.org", "password": NEW_PASSWORD})
    assert signin.status_code == 302


def test_password_reset_link_works_only_once(client, smtp_server):
    user = UserFactory(email="claire@example.org")
    db.session.commit()
    _ask_reset(client, user.email)
    link = link_in(smtp_server.wait_for(1)[0], "/account/password/reset/")
    assert _choose(client, link).status_code == 302
    client.post(url_for("accounts.logout"))

    again = client.get(link)
    reuse = _choose(client, link, password="yet another passphrase")

    assert again.status_code == 400
    assert "This link has already been used or is not valid." in text_of(again)
    assert reuse.status_code == 400
    assert fresh(user).check_password(NEW_PASSWORD)


def test_expired_password_reset_link_is_refused(client, smtp_server, app, monkeypatch):
    user = UserFactory(email="claire@example.org")
    db.session.commit()
    max_age = app.config["PASSWORD_RESET_MAX_AGE"]
    # The link is signed as if asked for one second more than PASSWORD_RESET_MAX_AGE ago.
    backdate_tokens(monkeypatch, "harambee.reset", max_age + 1)
    _ask_reset(client, user.email)
    monkeypatch.undo()
    link = link_in(smtp_server.wait_for(1)[0], "/account/password/reset/")

    shown = client.get(link)
    posted = _choose(client, link)

    assert shown.status_code == 400
    assert "This link has expired. Ask for a new one." in text_of(shown)
    assert posted.status_code == 400
    assert fresh(user).check_password(PASSWORD)


def test_password_reset_link_just_within_its_lifetime_still_works(client, smtp_server, app, monkeypatch):
    user = UserFactory(email="claire@example.org")
    db.session.commit()
    max_age = app.config["PASSWORD_RESET_MAX_AGE"]
    backdate_tokens(monkeypatch, "harambee.reset", max_age - 30)
    _ask_reset(client, user.email)
    monkeypatch.undo()
    link = link_in(smtp_server.wait_for(1)[0], "/account/password/reset/")

    assert _choose(client, link).status_code == 302
    assert fresh(user).check_password(NEW_PASSWORD)


def test_tampered_password_reset_link_is_refused(client, smtp_server):
    UserFactory(email="claire@example.org")
    db.session.commit()
    _ask_reset(client, "claire@example.org")
    link = link_in(smtp_server.wait_for(1)[0], "/account/password/reset/")

    response = client.get(_tamper(link))

    assert response.status_code == 400
    assert "This link is not valid." in text_of(response)


def _without_tokens(html: str) -> str:
    html = re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token" value=""', html)
    return re.sub(r'nonce="[^"]*"', 'nonce=""', html)  # the Content-Security-Policy nonce, new every response


def test_unknown_address_gets_the_same_answer_as_a_known_one_and_no_email(client, smtp_server):
    UserFactory(email="claire@example.org")
    db.session.commit()

    known = _ask_reset(client, "claire@example.org")
    known_page = client.get(known.location)
    smtp_server.wait_for(1)
    smtp_server.clear()
    unknown = _ask_reset(client, "nobody@example.org")
    unknown_page = client.get(unknown.location)

    assert (unknown.status_code, unknown.location) == (known.status_code, known.location)
    assert unknown_page.status_code == known_page.status_code
    # The pages differ only by their CSRF tokens, which are signed with the current second.
    assert _without_tokens(text_of(unknown_page)) == _without_tokens(text_of(known_page))
    assert "If an account uses that address" in text_of(unknown_page)
    assert smtp_server.messages == []


def test_password_reset_email_uses_the_reset_lifetime_in_minutes(client, smtp_server, app):
    UserFactory(email="claire@example.org")
    db.session.commit()

    _ask_reset(client, "claire@example.org")

    minutes = app.config["PASSWORD_RESET_MAX_AGE"] // 60
    assert f"within {minutes} minutes" in body_of(smtp_server.wait_for(1)[0])


@pytest.mark.parametrize(("password", "confirm", "message"), [
    ("short", "short", "Use at least 10 characters."),
    (NEW_PASSWORD, NEW_PASSWORD + "?", "The passwords differ."),
])
def test_invalid_new_password_is_refused_and_the_link_stays_usable(client, smtp_server, password, confirm, message):
    user = UserFactory(email="claire@example.org")
    db.session.commit()
    _ask_reset(client, user.email)
    link = link_in(smtp_server.wait_for(1)[0], "/account/password/reset/")

    response = client.post(link, data={"password": password, "confirm": confirm})

    assert response.status_code == 400
    assert message in text_of(response)
    assert fresh(user).check_password(PASSWORD)
    assert _choose(client, link).status_code == 302


def test_tampered_link_message_is_shown_once(client):
    user = UserFactory()
    token = _tamper(f"x/{services.make_verification_token(user)}").split("/", 1)[1]

    page = text_of(client.get(url_for("accounts.verify_email", token=token)))

    assert page.count("This link is not valid.") == 1


def test_expired_verification_link_is_refused(client, smtp_server, app, monkeypatch):
    backdate_tokens(monkeypatch, "harambee.verify", app.config["EMAIL_VERIFY_MAX_AGE"] + 1)
    user = _signup(client)
    monkeypatch.undo()
    link = link_in(smtp_server.wait_for(1)[0], "/account/verify/")

    response = client.get(link)

    assert response.status_code == 400
    assert "This link has expired. Ask for a new one." in text_of(response)
    assert fresh(user).email_verified_at is None


def test_resetting_the_password_ends_other_sessions_and_remember_me_cookies(app, client, smtp_server, login):
    user = UserFactory(email="claire@example.org")
    db.session.commit()
    thief = app.test_client()
    login(thief, user, remember=True)
    _ask_reset(client, user.email)
    link = link_in(smtp_server.wait_for(1)[0], "/account/password/reset/")

    assert _choose(client, link).status_code == 302

    assert thief.get(url_for("accounts.profile")).status_code == 302  # the session cookie no longer works
    thief.delete_cookie("session", domain="harambee.test")
    assert thief.get(url_for("accounts.profile")).status_code == 302  # nor does the remember-me cookie


def test_changing_the_password_keeps_this_session_and_ends_the_others(app, client, login):
    user = UserFactory(email="ines@example.org")
    other = app.test_client()
    login(client, user)
    login(other, user)
    response = client.post("/account/password", data={"current": PASSWORD, "password": "a brand new password"})
    assert response.status_code == 302
    assert client.get("/account/profile").status_code == 200  # still signed in here
    assert other.get("/account/profile").status_code == 302  # the other device is signed out
