"""A one-off gift to a pooled fund, in a real browser on a 390 px phone: the demo hometown
association's board makes an ongoing campaign the fund's giving campaign from the fund's page; a visitor then
finds "Give once to this fund" there and it opens that campaign's pledge page."""
from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.e2e.test_pooled_fund_vote import PHONE, fits_and_passes_axe, sign_in, sign_out
from tests.payments.support import live_campaign
from webapp import demo
from webapp.campaigns.models import Campaign, FundingModel
from webapp.extensions import db
from webapp.governance.models import PooledFund

pytestmark = pytest.mark.e2e


def test_the_board_opens_a_giving_campaign_and_a_visitor_gives_once_from_the_funds_page(
        page: Page, live_server, screenshot):
    axe = Axe()
    page.set_viewport_size(PHONE)
    with live_server.app.app_context():
        demo.load_all()
        fund = db.session.scalar(select(PooledFund))
        campaign = live_campaign("XOF", FundingModel.KEEP_IT_ALL, organization=fund.organization, ongoing=True,
                                 slug="dons-caisse-natifs", title="Dons pour la caisse des natifs")
        db.session.commit()
        fund_id, campaign_id = fund.id, campaign.id

    sign_in(page, "nurse@harambee.test")
    page.goto(f"/pooled-funds/{fund_id}")
    fits_and_passes_axe(page, axe)
    screenshot("fund-board-choose-giving-campaign")
    page.locator("#campaign").select_option(str(campaign_id))
    page.locator("form[action$='/giving-campaign'] button").click()
    expect(page.locator("#give-once")).to_be_visible()
    sign_out(page)

    page.goto(f"/pooled-funds/{fund_id}")
    fits_and_passes_axe(page, axe)
    screenshot("fund-give-once")
    page.locator("#give-once").click()
    page.wait_for_url("**/campaigns/dons-caisse-natifs/pledge")
    fits_and_passes_axe(page, axe)
    with live_server.app.app_context():
        assert db.session.get(Campaign, campaign_id).pooled_fund_id == fund_id
