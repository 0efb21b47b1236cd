"""Device cookies (OWASP "Slow Down Online Guessing Attacks with Device Cookies"): a browser that signed in
to an account before gets past that account's lockout and the per-address limit, with a failure limit of
its own; unknown browsers share the account's lockout, so guessing stays slow."""
from __future__ import annotations

import pytest
from flask import url_for

from tests.accounts.helpers import text_of
from tests.factories import PASSWORD, UserFactory
from webapp.accounts import devices
from webapp.extensions import db

WRONG = "not the password"


def _attempt(client, email, password=WRONG, address="192.0.2.1"):
    return client.post(url_for("accounts.login"), data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def _device_cookies(client) -> dict[str, str]:
    return {c.key: c.value for c in client._cookies.values() if c.key.startswith(devices.COOKIE_PREFIX)}


@pytest.fixture
def owner():
    user = UserFactory(email="amina@example.org")
    db.session.commit()
    return user


@pytest.fixture
def trusted_browser(app, owner):
    """The owner's own browser: it signed in once (and got a device cookie), then signed out."""
    browser = app.test_client()
    assert _attempt(browser, owner.email, PASSWORD, address="198.51.100.20").status_code == 302
    browser.post(url_for("accounts.logout"))
    assert _device_cookies(browser), "a successful sign-in issues a device cookie"
    return browser


def _lock_out_untrusted(app, email, failures=5):
    attacker = app.test_client()
    statuses = [_attempt(attacker, email, address=f"203.0.113.{i}").status_code for i in range(1, failures + 1)]
    assert statuses == [401] * failures
    return attacker


def test_the_owner_with_a_device_cookie_signs_in_while_an_attacker_has_locked_the_account(app, owner,
                                                                                         trusted_browser):
    attacker = _lock_out_untrusted(app, owner.email)
    assert _attempt(attacker, owner.email).status_code == 429
    assert _attempt(app.test_client(), owner.email, PASSWORD, address="192.0.2.99").status_code == 429

    response = _attempt(trusted_browser, owner.email, PASSWORD, address="198.51.100.20")

    assert response.status_code == 302


def test_an_attackers_failures_do_not_lock_the_owners_trusted_browser(app, owner, trusted_browser):
    _lock_out_untrusted(app, owner.email, failures=5)

    typo = _attempt(trusted_browser, owner.email, "amina's typo", address="198.51.100.20")
    right = _attempt(trusted_browser, owner.email, PASSWORD, address="198.51.100.20")

    assert typo.status_code == 401
    assert right.status_code == 302


def test_a_trusted_device_is_locked_out_on_its_own_after_its_failure_limit(app, owner, trusted_browser):
    other_device = app.test_client()
    assert _attempt(other_device, owner.email, PASSWORD, address="198.51.100.30").status_code == 302
    other_device.post(url_for("accounts.logout"))

    statuses = [_attempt(trusted_browser, owner.email).status_code for _ in range(5)]
    locked = _attempt(trusted_browser, owner.email, PASSWORD)

    assert statuses == [401] * 5
    assert locked.status_code == 429
    assert "Too many attempts" in text_of(locked)
    # the owner's other browser, and even unknown browsers, are not locked by this device's failures
    assert _attempt(other_device, owner.email, PASSWORD, address="198.51.100.30").status_code == 302
    assert _attempt(app.test_client(), owner.email, PASSWORD, address="192.0.2.50").status_code == 302


def test_twenty_failures_from_one_address_do_not_lock_out_another_member_behind_it(app, owner):
    guesser = app.test_client()
    statuses = [_attempt(guesser, f"guess{i}@example.org", address="203.0.113.5").status_code for i in range(20)]

    neighbour = _attempt(app.test_client(), owner.email, PASSWORD, address="203.0.113.5")

    assert statuses == [401] * 20
    assert neighbour.status_code == 302


def test_a_member_with_a_device_cookie_signs_in_from_an_address_that_reached_its_limit(app, owner, monkeypatch):
    cafe = "203.0.113.80"
    browser = app.test_client()
    assert _attempt(browser, owner.email, PASSWORD, address=cafe).status_code == 302
    browser.post(url_for("accounts.logout"))
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ADDRESS", "10 per 15 minutes")  # fewer guesses, same rule
    guesser = app.test_client()
    statuses = [_attempt(guesser, f"guess{i}@example.org", address=cafe).status_code for i in range(10)]
    assert statuses == [401] * 10
    assert _attempt(guesser, "fresh@example.org", address=cafe).status_code == 429
    assert _attempt(app.test_client(), owner.email, PASSWORD, address=cafe).status_code == 429  # unknown browser

    assert _attempt(browser, owner.email, PASSWORD, address=cafe).status_code == 302


def test_a_tampered_device_cookie_or_another_accounts_is_an_unknown_browser(app, owner, trusted_browser):
    kofi = UserFactory(email="kofi@example.org")
    db.session.commit()
    _lock_out_untrusted(app, owner.email)
    [(name, value)] = _device_cookies(trusted_browser).items()

    forged = app.test_client()
    forged.set_cookie(name, value[:-2] + ("AA" if not value.endswith("AA") else "BB"), domain="harambee.test")
    kofis_browser = app.test_client()
    assert _attempt(kofis_browser, kofi.email, PASSWORD, address="192.0.2.70").status_code == 302
    [kofis_value] = _device_cookies(kofis_browser).values()
    borrowed = app.test_client()
    borrowed.set_cookie(name, kofis_value, domain="harambee.test")  # Kofi's cookie under Amina's name

    assert _attempt(forged, owner.email, PASSWORD).status_code == 429
    assert _attempt(borrowed, owner.email, PASSWORD).status_code == 429


def test_the_device_cookie_is_httponly_long_lived_and_renewed_at_each_sign_in(app, owner):
    browser = app.test_client()
    first = _attempt(browser, owner.email, PASSWORD)
    [header] = [h for h in first.headers.getlist("Set-Cookie") if h.startswith(devices.COOKIE_PREFIX)]
    first_value = dict(_device_cookies(browser)).popitem()[1]
    browser.post(url_for("accounts.logout"))
    _attempt(browser, owner.email, PASSWORD)
    second_value = dict(_device_cookies(browser)).popitem()[1]

    assert "HttpOnly" in header and "SameSite=Lax" in header
    assert f"Max-Age={app.config['DEVICE_COOKIE_MAX_AGE']}" in header
    assert app.config["DEVICE_COOKIE_MAX_AGE"] >= 180 * 24 * 3600
    name = header.split("=", 1)[0]
    assert name == devices.cookie_name(owner.email) and "amina" not in header  # the name tells nothing
    assert first_value != second_value  # a new nonce each time


def test_untrusted_guessing_is_still_stopped_after_five_failures_per_account(app, owner):
    attacker = app.test_client()
    statuses = [_attempt(attacker, owner.email, address=f"203.0.113.{i}").status_code for i in range(1, 7)]

    assert statuses == [401] * 5 + [429]
    assert _attempt(attacker, owner.email, PASSWORD, address="203.0.113.200").status_code == 429


def test_a_password_reset_link_makes_the_browser_trusted(app, owner, smtp_server):
    from tests.accounts.helpers import link_in

    _lock_out_untrusted(app, owner.email)
    browser = app.test_client()
    browser.post(url_for("accounts.forgot_password"), data={"email": owner.email})
    link = link_in(smtp_server.wait_for(1)[0], "/account/password/reset/")
    browser.post(link, data={"password": "a brand new passphrase", "confirm": "a brand new passphrase"})
    browser.post(url_for("accounts.logout"))

    assert _attempt(browser, owner.email, "a brand new passphrase").status_code == 302
