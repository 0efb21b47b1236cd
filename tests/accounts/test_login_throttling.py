"""Login throttling: failed sign-ins are limited per account and per address (memory:// storage,
reset after every test by the shared conftest)."""
from __future__ import annotations

import pytest
from flask import url_for

from tests.accounts.helpers import text_of
from tests.factories import PASSWORD, UserFactory


def _attempt(client, email, password="not the password", address="192.0.2.1"):
    return client.post(url_for("accounts.login"), data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_sixth_failed_attempt_on_one_account_is_refused_even_from_new_addresses(client):
    UserFactory(email="amina@example.org")

    statuses = [_attempt(client, "amina@example.org", address=f"192.0.2.{i}").status_code for i in range(1, 6)]
    sixth = _attempt(client, "AMINA@example.org", address="198.51.100.7")

    assert statuses == [401] * 5
    assert sixth.status_code == 429
    assert "Too many attempts" in text_of(sixth)


def test_a_throttled_account_refuses_even_the_right_password(client):
    UserFactory(email="amina@example.org")
    for i in range(5):
        _attempt(client, "amina@example.org", address=f"192.0.2.{i + 1}")

    response = _attempt(client, "amina@example.org", password=PASSWORD, address="203.0.113.9")

    assert response.status_code == 429


def test_failures_on_one_account_do_not_throttle_another(client):
    UserFactory(email="amina@example.org")
    UserFactory(email="kofi@example.org")
    for i in range(5):
        _attempt(client, "amina@example.org", address=f"192.0.2.{i + 1}")

    response = _attempt(client, "kofi@example.org", password=PASSWORD, address="203.0.113.9")

    assert response.status_code == 302


def _address_limit(app) -> int:
    """How many failures one address may make in the shortest window (100 by default: a school, a café)."""
    from limits import parse_many

    return min(limit.amount for limit in parse_many(app.config["LOGIN_LIMIT_PER_ADDRESS"]))


def test_failed_attempts_from_one_address_beyond_its_limit_are_refused_across_accounts(app, client):
    limit = _address_limit(app)
    assert 20 < limit <= 100  # higher than before (20), so one guesser does not lock out everyone behind it
    statuses = [_attempt(client, f"guess{i}@example.org", address="203.0.113.5").status_code for i in range(limit)]
    one_more = _attempt(client, "fresh@example.org", address="203.0.113.5")
    elsewhere = _attempt(client, "fresh@example.org", address="203.0.113.6")

    assert statuses == [401] * limit
    assert one_more.status_code == 429
    assert elsewhere.status_code == 401


def test_successful_sign_ins_do_not_count_towards_the_limit(client):
    user = UserFactory(email="amina@example.org")
    for _ in range(6):
        response = _attempt(client, user.email, password=PASSWORD)
        assert response.status_code == 302
        client.post(url_for("accounts.logout"))

    assert _attempt(client, user.email).status_code == 401


def test_showing_the_sign_in_page_is_never_throttled(client):
    for _ in range(25):
        _attempt(client, "guess@example.org")

    assert client.get(url_for("accounts.login"), environ_base={"REMOTE_ADDR": "192.0.2.1"}).status_code == 200


@pytest.mark.parametrize("run", ["first", "second"])
def test_each_test_starts_with_fresh_limits(app, client, run, monkeypatch):
    # Both runs exhaust the same address; the second passes only if the conftest's limiter.reset()
    # cleared the counters after the first. (20 per address here: the subject is the reset, not the value.)
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ADDRESS", "20 per 15 minutes")
    statuses = [_attempt(client, f"guess{i}@example.org", address="203.0.113.77").status_code for i in range(21)]

    assert statuses == [401] * 20 + [429]
