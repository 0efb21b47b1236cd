"""One-off pledges to a pooled fund (issue 13): the board makes an ongoing, keep-it-all campaign the fund's giving
campaign; its paid pledges are booked into the fund's account (less the processor's fee, as any pledge), refunds
and chargebacks draw back from the fund, and payouts pay nothing out for it."""
from __future__ import annotations

from datetime import timedelta
from html import unescape

import pytest
from flask import url_for
from sqlalchemy import select

from tests.campaigns.helpers import sign_in
from tests.factories import OrganizationFactory, UserFactory
from tests.payments.money_helpers import deliver, deliver_pending, entries, keep_it_all, organizer_of, paid_pledge
from tests.payments.support import fresh, live_campaign
from webapp.campaigns.models import Campaign, CampaignStatus, CampaignTransition, FundingModel
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.governance import funds
from webapp.governance.models import PooledFund
from webapp.ledger import services as ledger
from webapp.money import Money
from webapp.payments import batches
from webapp.payments.models import Transfer
from webapp.payments.payouts import services as payouts
from webapp.payments.views.organizer import statement

DISPUTE_FEE = 1_500  #: the fake's dispute fee


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


@pytest.fixture
def world(fake_stripe):
    campaign = keep_it_all(goal=100_000, title="Caisse des natifs", ongoing=True)
    owner = organizer_of(campaign, email="board@example.org")
    fund = funds.open_fund(campaign.organization, owner, "Caisse commune", "", "EUR")
    funds.set_giving_campaign(fund, owner, campaign)
    db.session.commit()
    return campaign, owner, fund


def held(fund: PooledFund) -> int:
    db.session.expire_all()
    return funds.balance(db.session.get(PooledFund, fund.id)).amount


def in_campaign(campaign: Campaign) -> int:
    return ledger.balance(ledger.campaign_account(campaign.id), campaign.currency).amount


def fee_of(pledge) -> int:
    return sum(e.amount for e in entries(key=f"fee:pledge:{pledge.id}"))


def test_a_paid_pledge_raises_the_fund_by_its_amount_less_the_processors_fee(world, fake_stripe):
    campaign, _owner, fund = world

    pledge = paid_pledge(fake_stripe, campaign, 2_500, tip=300)

    fee = fee_of(pledge)
    assert fee > 0  # the fake settles with a fee: the fund bears it, as a campaign does
    assert held(fund) == 2_500 - fee
    assert in_campaign(campaign) == 0  # nothing stays on the campaign's account
    [charge] = entries(key=f"charge:pledge:{pledge.id}")
    assert (charge.credit_account, charge.amount, charge.campaign_id) == (funds.fund_account(fund.id), 2_500,
                                                                          campaign.id)
    assert ledger.balance(ledger.PLATFORM_REVENUE, "EUR").amount == 300  # the tip is the platform's, not the fund's
    assert statement(campaign)["to_fund"] == Money(2_500 - fee, "EUR")


def test_a_refund_draws_back_from_the_fund(client, world, fake_stripe):
    campaign, owner, fund = world
    pledge = paid_pledge(fake_stripe, campaign, 2_500)
    before = held(fund)
    sign_in(client, owner)

    response = client.post(url_for("money.refund", reference=pledge.reference),
                           data={"amount": "10", "reason": "Given twice by mistake."})
    assert response.status_code == 302
    deliver_pending(fake_stripe)

    assert fresh(pledge).refunded_amount == 1_000
    assert held(fund) == before - 1_000
    assert in_campaign(campaign) == 0
    [refund] = entries(kind="refund")
    assert refund.debit_account == funds.fund_account(fund.id)


def test_a_lost_chargeback_draws_back_from_the_fund_and_a_won_one_gives_it_back(world, fake_stripe):
    campaign, _owner, fund = world
    pledge = paid_pledge(fake_stripe, campaign, 2_500)
    before = held(fund)

    [created, withdrawn] = fake_stripe.dispute(pledge.payment_intent_id)
    deliver([created, withdrawn])
    assert held(fund) == before - 2_500 - DISPUTE_FEE
    deliver(fake_stripe.close_dispute(created["data"]["object"]["id"], won=True))
    assert held(fund) == before
    assert in_campaign(campaign) == 0


def test_nothing_is_paid_out_for_the_giving_campaign_and_its_money_page_says_why(app, client, world, fake_stripe):
    campaign, owner, fund = world
    paid_pledge(fake_stripe, campaign, 2_500)
    campaign = db.session.get(Campaign, campaign.id)
    campaign.status = CampaignStatus.SUCCEEDED  # as if it had ended: even then, its money is the fund's
    db.session.add(CampaignTransition(campaign_id=campaign.id, from_status=CampaignStatus.LIVE,
                                      to_status=CampaignStatus.SUCCEEDED, at=utcnow() - timedelta(days=60)))
    db.session.commit()
    later = utcnow() + timedelta(days=app.config["PAYOUT_HOLD_DAYS"] + 1)

    assert payouts.pay_out(campaign, later) is None
    assert batches.pay_out_due(later) == 0
    assert db.session.scalar(select(Transfer.id)) is None
    assert not [r for r in fake_stripe.requests if r.path == "/v1/transfers"]

    sign_in(client, owner)
    page = text(client.get(url_for("money.dashboard", slug=campaign.slug)))
    assert "Nothing is paid out for this campaign: every payment it receives goes into the pooled fund " \
           "“Caisse commune”" in page
    assert "Booked into the pooled fund" in page


def test_the_funds_page_links_a_one_off_gift_to_its_giving_campaign(client, world):
    campaign, _owner, fund = world
    page = text(client.get(url_for("governance.fund", fund_id=fund.id)))
    assert 'id="give-once"' in page and url_for("payments.pledge", slug=campaign.slug) in page
    assert "Give once to this fund" in page


def test_a_fund_without_a_giving_campaign_offers_no_one_off_gift(client, fake_stripe):
    campaign = keep_it_all(ongoing=True)
    owner = organizer_of(campaign)
    fund = funds.open_fund(campaign.organization, owner, "Caisse", "", "EUR")
    db.session.commit()
    assert 'id="give-once"' not in text(client.get(url_for("governance.fund", fund_id=fund.id)))
    sign_in(client, owner)
    page = text(client.get(url_for("governance.fund", fund_id=fund.id)))
    assert "Make it the giving campaign" in page and campaign.title in page


# -- choosing the giving campaign ---------------------------------------------------------------------
@pytest.fixture
def board(fake_stripe):
    campaign = keep_it_all(ongoing=True, title="Pour la caisse")
    owner = organizer_of(campaign)
    fund = funds.open_fund(campaign.organization, owner, "Caisse", "", "EUR")
    db.session.commit()
    return campaign, owner, fund


def test_the_board_chooses_the_giving_campaign_by_the_form(client, board):
    campaign, owner, fund = board
    sign_in(client, owner)

    response = client.post(url_for("governance.giving_campaign", fund_id=fund.id), data={"campaign": campaign.id})

    assert response.status_code == 302
    assert db.session.get(Campaign, campaign.id).pooled_fund_id == fund.id


@pytest.mark.parametrize("value", ["", "abc", "999999", "-1", "1" * 40])
def test_a_missing_or_unknown_campaign_is_refused_with_400(client, board, value):
    campaign, owner, fund = board
    sign_in(client, owner)
    response = client.post(url_for("governance.giving_campaign", fund_id=fund.id), data={"campaign": value})
    assert response.status_code == 400
    assert db.session.get(Campaign, campaign.id).pooled_fund_id is None


def test_an_unknown_fund_is_404(client, board):
    _campaign, owner, _fund = board
    sign_in(client, owner)
    assert client.post(url_for("governance.giving_campaign", fund_id=999_999), data={"campaign": "1"}).status_code == 404


@pytest.mark.parametrize("change, message", [
    (dict(ongoing=False), "live, ongoing and keep-it-all"),
    (dict(funding_model=FundingModel.ALL_OR_NOTHING), "live, ongoing and keep-it-all"),
    (dict(status=CampaignStatus.DRAFT), "live, ongoing and keep-it-all"),
    (dict(currency="USD"), "the campaign must raise the same currency"),
])
def test_only_a_live_ongoing_keep_it_all_campaign_in_the_funds_currency(board, change, message):
    campaign, owner, fund = board
    for k, v in change.items():
        setattr(campaign, k, v)
    with pytest.raises(funds.FundRefused, match=message):
        funds.set_giving_campaign(fund, owner, campaign)


def test_a_campaign_of_another_organization_or_one_that_received_money_is_refused(board, fake_stripe):
    campaign, owner, fund = board
    other = live_campaign("EUR", FundingModel.KEEP_IT_ALL, ongoing=True, organization=OrganizationFactory())
    with pytest.raises(funds.FundRefused, match="fund's organization"):
        funds.set_giving_campaign(fund, owner, other)
    paid_pledge(fake_stripe, campaign, 1_000)
    with pytest.raises(funds.FundRefused, match="received nothing yet"):
        funds.set_giving_campaign(fund, owner, db.session.get(Campaign, campaign.id))


def test_one_giving_campaign_per_fund_and_one_fund_per_campaign(board):
    campaign, owner, fund = board
    funds.set_giving_campaign(fund, owner, campaign)
    second = live_campaign("EUR", FundingModel.KEEP_IT_ALL, ongoing=True, organization=campaign.organization)
    with pytest.raises(funds.FundRefused, match="already has a giving campaign"):
        funds.set_giving_campaign(fund, owner, second)
    other_fund = funds.open_fund(campaign.organization, owner, "Autre caisse", "", "EUR")
    with pytest.raises(funds.FundRefused, match="already gives to a pooled fund"):
        funds.set_giving_campaign(other_fund, owner, campaign)


def test_someone_not_on_the_board_may_not_choose(board):
    campaign, _owner, fund = board
    from webapp.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        funds.set_giving_campaign(fund, UserFactory(verified=True), campaign)
