"""A member's data, in a real browser at phone width: download it from the profile, then delete the account."""
from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.factories import PASSWORD, UserFactory
from webapp.accounts.models import User
from webapp.extensions import db

pytestmark = pytest.mark.e2e
EMAIL = "mariam.diallo@example.org"


def test_a_member_downloads_their_data_then_deletes_their_account(page: Page, live_server, smtp_server, screenshot):
    with live_server.app.app_context():
        user_id = UserFactory(email=EMAIL, name="Mariam Diallo", verified=True, locale="en").id
        db.session.commit()
    page.set_viewport_size({"width": 390, "height": 844})

    page.goto("/account/login")
    page.locator("#email").fill(EMAIL)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button").click()
    expect(page.locator("header form[action$='/account/logout']")).to_be_visible()
    page.goto("/account/profile")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download my data").click()
    document = json.loads(open(download.value.path(), encoding="utf-8").read())
    assert document["records"]["profile"][0]["email"] == EMAIL

    page.get_by_role("link", name="Delete my account").click()
    expect(page.locator("#password")).to_be_visible()
    screenshot("delete-page")
    page.locator("#password").fill("a wrong password!")
    page.locator("#confirm").check()
    page.get_by_role("button", name="Delete my account for good").click()
    expect(page.locator(".errors")).to_contain_text("That is not your password.")
    page.locator("#password").fill(PASSWORD)
    page.locator("#confirm").check()
    page.get_by_role("button", name="Delete my account for good").click()
    expect(page.locator(".flash-success")).to_contain_text("Your account is deleted")
    expect(page.locator("header form[action$='/account/logout']")).to_have_count(0)
    screenshot("deleted")

    page.goto("/account/login")
    page.locator("#email").fill(EMAIL)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button").click()
    expect(page.locator(".errors")).to_contain_text("do not match an account")
    with live_server.app.app_context():
        assert db.session.scalar(select(User.name).where(User.id == user_id)) == "Deleted member"
    assert [m["To"] for m in smtp_server.messages] == [EMAIL]
