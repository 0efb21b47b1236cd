"""After signing in (or switching language) only a path on this site is followed; anything else goes home."""
from __future__ import annotations

import pytest
from flask import url_for

from tests.factories import PASSWORD, UserFactory

OFFSITE = [
    "https://evil.example/",
    "http://evil.example/account/profile",
    "//evil.example",
    "//evil.example/path",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "javascript:alert(1)",
    "JavaScript:alert(document.cookie)",
    " javascript:alert(1)",
    "https:evil.example",
    "data:text/html,<script>alert(1)</script>",
    "evil.example",
    "http://harambee.test.evil.example/",
    "/\t/evil.example",
    "/\r\n/evil.example",
]


def _login(client, next_value, *, in_query: bool):
    UserFactory(email="awa@example.org")
    data = {"email": "awa@example.org", "password": PASSWORD}
    if in_query:
        return client.post(url_for("accounts.login", next=next_value), data=data)
    return client.post(url_for("accounts.login"), data={**data, "next": next_value})


@pytest.mark.parametrize("in_query", [False, True], ids=["form-field", "query-string"])
def test_login_follows_a_local_path(client, in_query):
    response = _login(client, "/account/profile?tab=origins", in_query=in_query)

    assert response.status_code == 302
    assert response.location == "/account/profile?tab=origins"


@pytest.mark.parametrize("target", OFFSITE)
@pytest.mark.parametrize("in_query", [False, True], ids=["form-field", "query-string"])
def test_login_never_follows_an_offsite_or_script_target(client, target, in_query):
    response = _login(client, target, in_query=in_query)

    assert response.status_code == 302
    assert response.location == url_for("campaigns.home")


def test_login_page_carries_the_next_path_in_its_form(client):
    page = client.get(url_for("accounts.login", next="/account/profile"))

    assert 'name="next" type="hidden" value="/account/profile"' in page.get_data(as_text=True)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)"])
def test_language_switch_never_follows_an_offsite_target(client, target):
    response = client.post(url_for("accounts.choose_language"), data={"lang": "fr", "next": target})

    assert response.status_code == 302
    assert response.location == url_for("campaigns.home")


def test_language_switch_returns_to_the_local_page(client):
    response = client.post(url_for("accounts.choose_language"), data={"lang": "fr", "next": "/account/login?x=1"})

    assert response.location == "/account/login?x=1"
