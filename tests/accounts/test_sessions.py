"""Sessions live on the server: signing out ends them there, so a copied cookie (session or remember-me) of a
signed-out session is anonymous; members see where they are signed in and end any of those sessions."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask import url_for
from sqlalchemy import select

from tests.accounts.helpers import link_in, text_of
from tests.factories import PASSWORD, UserFactory
from webapp.accounts import sessions
from webapp.accounts.models import UserSession
from webapp.extensions import db

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
PHONE = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/126.0.0.0 Mobile Safari/537.36")


def _cookie(client, name):
    cookie = client.get_cookie(name, domain="harambee.test")
    return cookie.value if cookie else None


def _copy(client, app, *names):
    """Another browser holding copies of `client`'s cookies."""
    thief = app.test_client()
    for name in names:
        value = _cookie(client, name)
        assert value, f"no {name} cookie to copy"
        thief.set_cookie(name, value, domain="harambee.test")
    return thief


def _profile_status(client) -> int:
    return client.get(url_for("accounts.profile")).status_code


@pytest.fixture
def member():
    user = UserFactory(email="awa@example.org")
    db.session.commit()
    return user


def test_a_session_cookie_copied_before_logout_is_anonymous_afterwards(app, client, login, member):
    login(client, member)
    thief = _copy(client, app, "session")
    assert _profile_status(thief) == 200  # the copy works while the session is open

    client.post(url_for("accounts.logout"))

    assert _profile_status(thief) == 302
    assert _profile_status(client) == 302


def test_a_remember_cookie_copied_before_logout_does_not_sign_in_afterwards(app, client, login, member):
    login(client, member, remember=True)
    copied = _cookie(client, "remember_token")
    thief = _copy(client, app, "remember_token")
    assert _profile_status(thief) == 200  # the remember-me cookie alone signs in

    client.post(url_for("accounts.logout"))

    assert _profile_status(thief) == 302  # the session it opened has ended too
    later_thief = app.test_client()
    later_thief.set_cookie("remember_token", copied, domain="harambee.test")
    assert _profile_status(later_thief) == 302


def test_sign_out_everywhere_ends_the_sessions_of_other_browsers(app, client, login, member):
    phone = app.test_client()
    login(client, member)
    login(phone, member, remember=True)
    assert _profile_status(phone) == 200

    response = client.post(url_for("accounts.sign_out_everywhere"))

    assert response.status_code == 302
    assert _profile_status(phone) == 302
    phone.delete_cookie("session", domain="harambee.test")
    assert _profile_status(phone) == 302  # nor does its remember-me cookie sign in
    assert _profile_status(client) == 302
    db.session.expire_all()
    ended = db.session.scalars(select(UserSession.revoked_at)).all()
    assert len(ended) == 2 and all(ended)  # both records say so


def test_a_password_reset_ends_the_other_sessions(app, client, login, member, smtp_server):
    other = app.test_client()
    login(other, member, remember=True)
    client.post(url_for("accounts.forgot_password"), data={"email": member.email})
    link = link_in(smtp_server.wait_for(1)[0], "/account/password/reset/")

    client.post(link, data={"password": "a brand new passphrase", "confirm": "a brand new passphrase"})

    assert _profile_status(client) == 200  # the reset signs this browser in
    assert _profile_status(other) == 302
    active = sessions.active_sessions(member)
    assert len(active) == 1


def test_a_password_change_keeps_this_session_and_ends_the_others_records(app, client, login, member):
    other = app.test_client()
    login(client, member)
    login(other, member)

    client.post(url_for("accounts.change_password"), data={"current": PASSWORD, "password": "a brand new password"})

    assert _profile_status(client) == 200
    assert _profile_status(other) == 302
    assert len(sessions.active_sessions(member)) == 1


def test_the_profile_lists_active_sessions_with_device_and_ends_one(app, client, login, member):
    phone = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = FIREFOX
    phone.environ_base["HTTP_USER_AGENT"] = PHONE
    login(client, member)
    login(phone, member)

    page = text_of(client.get(url_for("accounts.profile")))

    assert "Firefox · Linux" in page
    assert "Chrome · Android" in page
    assert "This device" in page
    phone_session = db.session.scalar(select(UserSession).where(UserSession.device == "Chrome · Android"))
    response = client.post(url_for("accounts.end_session", session_id=phone_session.id))
    assert response.status_code == 302
    assert _profile_status(phone) == 302
    assert _profile_status(client) == 200
    assert "Chrome · Android" not in text_of(client.get(url_for("accounts.profile")))


def test_a_member_cannot_end_another_members_session(app, client, login, member):
    other = UserFactory(email="kofi@example.org")
    db.session.commit()
    theirs = app.test_client()
    login(theirs, other)
    login(client, member)
    their_session = db.session.scalar(select(UserSession).where(UserSession.user_id == other.id))

    response = client.post(url_for("accounts.end_session", session_id=their_session.id))

    assert response.status_code == 404
    assert _profile_status(theirs) == 200


def test_ending_the_current_session_from_the_list_signs_out(client, login, member):
    login(client, member)
    [mine] = sessions.active_sessions(member)

    client.post(url_for("accounts.end_session", session_id=mine.id))

    assert _profile_status(client) == 302


def test_the_database_stores_only_a_hash_of_the_session_key(client, login, member):
    login(client, member)
    with client.session_transaction() as flask_session:
        user_id = flask_session["_user_id"]
    key = user_id.rsplit(":", 1)[1]
    [record] = db.session.scalars(select(UserSession)).all()

    assert len(key) >= 32
    assert key not in record.key_hash
    assert record.key_hash == sessions.hash_key(key)


def test_last_seen_is_written_at_most_every_few_minutes(client, login, member, monkeypatch):
    login(client, member)
    [record] = sessions.active_sessions(member)
    signed_in_at = record.last_seen_at

    client.get(url_for("accounts.profile"))
    db.session.expire_all()
    assert db.session.get(UserSession, record.id).last_seen_at == signed_in_at  # not on every request

    later = signed_in_at + sessions.TOUCH_EVERY + timedelta(seconds=1)
    monkeypatch.setattr(sessions, "utcnow", lambda: later)
    client.get(url_for("accounts.profile"))
    db.session.expire_all()
    assert db.session.get(UserSession, record.id).last_seen_at == later


def test_a_session_idle_longer_than_the_remember_duration_has_ended(app, client, login, member, monkeypatch):
    login(client, member, remember=True)
    [record] = sessions.active_sessions(member)
    later = record.last_seen_at + timedelta(seconds=app.config["REMEMBER_COOKIE_DURATION"] + 60)
    monkeypatch.setattr(sessions, "utcnow", lambda: later)

    assert _profile_status(client) == 302


def test_a_cookie_from_before_server_side_sessions_is_anonymous(client, member):
    with client.session_transaction() as flask_session:
        flask_session["_user_id"] = f"{member.id}:{member.password_fingerprint}"  # the former format
        flask_session["_fresh"] = True

    assert _profile_status(client) == 302
