"""A funder chooses campaigns for a match fund by their address: only live ones, and a campaign it may not
see answers exactly as an address nobody uses (issue 9: funders could read other organizations' drafts)."""
from __future__ import annotations

import re

import pytest
from flask import url_for
from sqlalchemy import select

from tests.campaigns.helpers import sign_in
from tests.factories import UserFactory
from tests.payments.money_helpers import fund
from tests.payments.support import live_campaign
from webapp.accounts.models import Role
from webapp.campaigns.models import CampaignStatus, FundingModel
from webapp.extensions import db
from webapp.payments.matching.models import MatchFundCampaign

#: what differs between two renderings of one page: the CSP nonce and CSRF tokens
_PER_RESPONSE = re.compile(r'(nonce="[^"]*"|name="csrf_token" value="[^"]*")')


def _page(response) -> str:
    return _PER_RESPONSE.sub("", response.get_data(as_text=True))


@pytest.fixture
def funder_and_fund(client):
    public = live_campaign("EUR", FundingModel.KEEP_IT_ALL, slug="public-mill")
    manager = UserFactory(verified=True, role=Role.FUNDER)
    f = fund(public, manager=manager)
    sign_in(client, manager)
    return manager, f


@pytest.mark.parametrize("status", [CampaignStatus.DRAFT, CampaignStatus.SUBMITTED, CampaignStatus.CHANGES_REQUESTED,
                                    CampaignStatus.APPROVED, CampaignStatus.SUCCEEDED, CampaignStatus.FAILED])
def test_a_campaign_that_is_not_live_answers_as_an_unknown_address_and_shows_nothing(client, funder_and_fund, status):
    _manager, f = funder_and_fund
    hidden = live_campaign("EUR", FundingModel.KEEP_IT_ALL, slug="secret-plan", status=status,
                           title="Our confidential expansion plan")
    db.session.commit()

    unknown = client.post(url_for("funds.show", fund_id=f.id), data={"slug": "no-such-campaign"})
    chosen = client.post(url_for("funds.show", fund_id=f.id), data={"slug": "secret-plan"})
    page = client.get(url_for("funds.show", fund_id=f.id))

    assert unknown.status_code == chosen.status_code == 400
    assert _page(chosen) == _page(unknown)  # same status, same message, same page: nothing tells them apart
    assert "confidential expansion plan" not in chosen.get_data(as_text=True)
    assert "confidential expansion plan" not in page.get_data(as_text=True)
    assert db.session.scalar(select(MatchFundCampaign).where(MatchFundCampaign.campaign_id == hidden.id)) is None


def test_a_live_campaign_is_still_chosen(client, funder_and_fund):
    _manager, f = funder_and_fund
    other = live_campaign("EUR", FundingModel.KEEP_IT_ALL, slug="another-mill", title="Another mill")
    db.session.commit()

    response = client.post(url_for("funds.show", fund_id=f.id), data={"slug": "another-mill"})

    assert response.status_code == 302
    row = db.session.scalar(select(MatchFundCampaign).where(MatchFundCampaign.campaign_id == other.id))
    assert row is not None and row.status.value == "accepted"


def test_applying_another_organizations_draft_answers_as_an_unknown_address(client, funder_and_fund):
    _manager, f = funder_and_fund
    live_campaign("EUR", FundingModel.KEEP_IT_ALL, slug="secret-plan", status=CampaignStatus.DRAFT)
    outsider = UserFactory(verified=True)
    db.session.commit()
    sign_in(client, outsider)

    draft = client.post(url_for("funds.apply", fund_id=f.id, slug="secret-plan"))
    unknown = client.post(url_for("funds.apply", fund_id=f.id, slug="no-such-campaign"))
    public = client.post(url_for("funds.apply", fund_id=f.id, slug="public-mill"))

    assert draft.status_code == unknown.status_code == 404  # a draft's address is not revealed
    assert public.status_code == 403  # a live campaign is public: not theirs to apply for
