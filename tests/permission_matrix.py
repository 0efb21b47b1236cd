"""What every permission table shares: the app's routes, asking a route as a role, and reading the answer.

Each table (tests/test_permissions.py, tests/mutual_aid/test_permissions.py,
tests/payments/recurring/test_permissions.py) has its own roles, world and rows; the world comes from
tests/worlds.py, built once per run and copied back before each test.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from urllib.parse import urlsplit

from flask import url_for

from config import TestConfig
from tests.campaigns.helpers import sign_in

OK, LOGIN = "ok", "login"


def expectations(roles: tuple[str, ...]) -> Callable[..., dict[str, object]]:
    """`expect(default, role=outcome, ...)` for a table with these roles: every role decided."""

    def expect(default, **by_role) -> dict[str, object]:
        unknown = set(by_role) - set(roles)
        assert not unknown, f"roles this table does not have: {sorted(unknown)}"
        return {**dict.fromkeys(roles, default), **by_role}

    return expect


@dataclass(frozen=True)
class Case:
    """A row of a blueprint's table (the main table, whose form data also depends on the user, has its own)."""

    endpoint: str
    method: str
    expect: dict[str, object]
    #: URL values, from the world
    args: Callable[[SimpleNamespace], dict] = lambda w: {}
    #: form data, from the world
    data: Callable[[SimpleNamespace], dict] = lambda w: {}
    label: str = ""

    @property
    def id(self) -> str:
        return f"{self.endpoint}-{self.method}" + (f"-{self.label}" if self.label else "")


def routes(*prefixes: str) -> list[tuple[str, str]]:
    """(endpoint, method) of every route of the app, or of those whose endpoint starts with a prefix."""
    from webapp import create_app

    app = create_app(TestConfig)  # builds the url_map; touches no database
    return sorted({(rule.endpoint, method) for rule in app.url_map.iter_rules()
                   if rule.endpoint != "static" and (not prefixes or rule.endpoint.startswith(prefixes))
                   for method in rule.methods - {"HEAD", "OPTIONS"}})


def ask(app, user, method: str, url: str, data=None):
    """The answer to `method url` from a client signed in as `user` (None: a visitor)."""
    client = app.test_client()
    if user is not None:
        sign_in(client, user)
    return client.open(url, method=method, data=data)


def outcome(response):
    """OK is any 2xx/3xx that is not a refusal; LOGIN is a 401 or Flask-Login's redirect to the sign-in page
    (with the asked page as `next`: a form that succeeds may also lead there, without it); else the code."""
    code = response.status_code
    if code == 401:
        return LOGIN
    if 300 <= code < 400:
        target = urlsplit(response.location or "")
        refused = target.path == url_for("accounts.login") and "next=" in target.query
        return LOGIN if refused else OK
    if 200 <= code < 300:
        return OK
    return code
