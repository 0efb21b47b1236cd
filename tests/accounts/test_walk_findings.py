"""Findings of the walk through the paths (issue 11) in accounts: sign-in and recovery accept the same addresses."""
from __future__ import annotations

import pytest
from flask import url_for

from tests.accounts.helpers import text_of
from tests.factories import UserFactory
from webapp.extensions import db


@pytest.mark.parametrize("email", ["admin@harambee.test", "kofi@example.org"])
def test_forgot_password_accepts_the_addresses_the_sign_in_form_accepts(client, smtp_server, email):
    UserFactory(email=email, verified=True)
    db.session.commit()
    signin = client.post(url_for("accounts.login"), data={"email": email, "password": "wrong" * 3})
    assert signin.status_code == 401  # the address was taken: only the password was wrong
    forgot = client.post(url_for("accounts.forgot_password"), data={"email": email})
    assert forgot.status_code == 302, text_of(forgot)
    [message] = smtp_server.wait_for(1)  # the link went out
    assert message["To"] == email


@pytest.mark.parametrize("email", ["awa@", "awa example.org", "@example.org"])
def test_both_forms_refuse_an_address_that_is_not_one_with_the_same_field_message(client, email):
    signin = client.post(url_for("accounts.login"), data={"email": email, "password": "whatever12"})
    forgot = client.post(url_for("accounts.forgot_password"), data={"email": email})
    assert signin.status_code == forgot.status_code == 400
    assert 'id="email-errors"' in text_of(signin) and 'id="email-errors"' in text_of(forgot)


def test_an_erased_accounts_placeholder_address_is_an_address_to_both_forms(client):
    placeholder = "deleted-7-0a1b2c3d@deleted.invalid"
    signin = client.post(url_for("accounts.login"), data={"email": placeholder, "password": "whatever12"})
    forgot = client.post(url_for("accounts.forgot_password"), data={"email": placeholder})
    assert (signin.status_code, forgot.status_code) == (401, 302)
