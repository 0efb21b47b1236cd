"""Payouts: an organization connects its account; a successful campaign's money goes to it once, after the hold."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.factories import MembershipFactory, UserFactory
from tests.payments.support import live_campaign
from webapp.campaigns import services as campaigns
from webapp.campaigns.models import FundingModel
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.ledger import services as ledger
from webapp.money import Money
from webapp.organizations.models import OrgRole
from webapp.payments import batches
from webapp.payments.payouts import services as payouts
from webapp.payments.models import ConnectedAccount, Pledge, PledgeStatus, Transfer, TransferStatus
from webapp.payments.providers.sandbox import SUCCEEDS


def _paid_pledge(client, campaign, amount: str) -> None:
    import re

    html = client.get(f"/campaigns/{campaign.slug}/pledge").get_data(as_text=True)
    token = re.search(r'id="client_token"[^>]*value="([^"]+)"', html).group(1)
    response = client.post(f"/campaigns/{campaign.slug}/pledge", data={
        "tier": "", "amount": amount, "pay_currency": campaign.currency, "email": "b@example.org",
        "client_token": token})
    client.post(response.headers["Location"].split("harambee.test", 1)[1], data={"card": SUCCEEDS, "action": "pay"})


def _closed(campaign):
    campaign.ends_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    batches.close_due_campaigns()
    db.session.commit()


def _connect(client, login, campaign):
    campaign.organization.country = "FR"  # where Stripe Connect can pay (the factory's is Senegal)
    owner = UserFactory(email="owner@example.org")
    MembershipFactory(organization=campaign.organization, user=owner, role=OrgRole.OWNER)
    db.session.commit()
    login(client, owner)
    response = client.post(f"/manage/campaigns/{campaign.slug}/payout-account")
    assert response.status_code == 303
    onboarding = response.headers["Location"].split("harambee.test", 1)[1]
    assert client.post(onboarding).status_code == 302  # the processor's account.updated arrives
    return db.session.scalar(select(ConnectedAccount))


def test_a_successful_campaign_is_paid_out_once_after_the_hold_net_of_fees_and_refunds(client, login, app):
    app.config["PLATFORM_FEE_PERCENT"] = 5
    try:
        campaign = live_campaign("EUR", FundingModel.KEEP_IT_ALL)
        db.session.commit()
        _paid_pledge(client, campaign, "100")
        _paid_pledge(client, campaign, "50")
        account = _connect(client, login, campaign)
        assert account.payouts_enabled and account.details_submitted
        _closed(campaign)
        assert batches.pay_out_due() == 0  # within the holding period
        later = utcnow() + timedelta(days=app.config["PAYOUT_HOLD_DAYS"], minutes=1)
        assert batches.pay_out_due(later) == 1
        transfers = db.session.scalars(select(Transfer).order_by(Transfer.id)).all()
        fees = ledger.flows(campaign.id, "EUR")["processor_fee"].amount
        assert len(transfers) == 2 and {t.status for t in transfers} == {TransferStatus.SENT}  # one per charge
        assert sum(t.platform_fee for t in transfers) == 15_000 * 5 // 100
        assert sum(t.amount for t in transfers) == 15_000 - fees - 15_000 * 5 // 100
        # the campaign's account is empty, the organization's holds the transfers, the ledger balances
        assert ledger.balance(ledger.campaign_account(campaign.id), "EUR") == Money(0, "EUR")
        assert ledger.balance(ledger.organization_account(campaign.organization_id), "EUR") == Money(
            sum(t.amount for t in transfers), "EUR")
        assert sum(v for (acct, cur), v in ledger.trial_balance().items() if cur == "EUR") == 0
        assert batches.pay_out_due(later + timedelta(days=1)) == 0  # never twice
        assert db.session.scalar(select(Transfer.id).where(Transfer.id.not_in([t.id for t in transfers]))) is None
        assert "Transferred" in client.get(f"/manage/campaigns/{campaign.slug}/money").get_data(as_text=True)
    finally:
        app.config["PLATFORM_FEE_PERCENT"] = 0


def test_without_a_connected_account_the_transfer_waits_and_says_why(client, app):
    campaign = live_campaign("EUR", FundingModel.KEEP_IT_ALL)
    campaign.organization.country = "FR"
    db.session.commit()
    _paid_pledge(client, campaign, "30")
    _closed(campaign)
    later = utcnow() + timedelta(days=app.config["PAYOUT_HOLD_DAYS"], minutes=1)
    assert batches.pay_out_due(later) == 0
    transfer = db.session.scalar(select(Transfer))
    assert transfer.status == TransferStatus.PENDING and "payout account" in transfer.failure_reason
    assert "payout account" in payouts.status_for(campaign, later)
    assert ledger.flows(campaign.id, "EUR")["transfer"].amount == 0


def test_a_campaign_still_collecting_is_not_paid_out(app):
    campaign = live_campaign("EUR", FundingModel.ALL_OR_NOTHING)
    db.session.commit()
    campaign.status = campaigns.S.SUCCEEDED
    db.session.add(Pledge(reference="r1", client_token="t" * 20, campaign_id=campaign.id, email="x@example.org",
                          status=PledgeStatus.NEEDS_ACTION, charge_timing="on_success", amount=1_000,
                          currency="EUR", charge_amount=1_000, charge_currency="EUR", provider="sandbox"))
    db.session.add(campaigns.CampaignTransition(campaign_id=campaign.id, from_status=campaigns.S.LIVE,
                                                to_status=campaigns.S.SUCCEEDED,
                                                at=utcnow() - timedelta(days=30)))
    db.session.commit()
    assert payouts.pay_out(campaign) is None


def test_the_sandbox_onboarding_returns_only_into_the_app_whatever_the_request_host(client):
    from webapp.public_url import public_base_url

    inside = public_base_url() + "organizations/"
    assert client.post(f"/sandbox/onboarding/acct_sandbox_test?back={inside}").headers["Location"] == inside
    for outside in ("https://evil.example/phish", public_base_url().rstrip("/") + ".evil.example/",
                    "//evil.example/"):
        location = client.post(f"/sandbox/onboarding/acct_sandbox_test?back={outside}").headers["Location"]
        assert "evil.example" not in location, (outside, location)


# -- issue 11, walk finding 6: the money page says in words what the payout waits for --------------------------
def test_a_succeeded_campaign_that_received_nothing_has_nothing_to_pay_out_not_a_payout_due(app):
    campaign = live_campaign("EUR", FundingModel.KEEP_IT_ALL, goal=1)
    campaign.organization.country = "FR"
    db.session.commit()
    _closed(campaign)
    later = utcnow() + timedelta(days=app.config["PAYOUT_HOLD_DAYS"], minutes=1)
    campaign.status = campaigns.S.SUCCEEDED  # a campaign closed as succeeded whose backers never paid (the demo's)
    db.session.commit()
    assert payouts.status_for(campaign, later) == "Nothing to pay out: no backer’s payment was received."
    db.session.add(Pledge(reference="r-paid", client_token="p" * 20, campaign_id=campaign.id, email="x@example.org",
                          status=PledgeStatus.PAID, charge_timing="now", amount=3_000, currency="EUR",
                          charge_amount=3_000, charge_currency="EUR", provider="sandbox"))
    db.session.commit()
    assert "Nothing to pay out" not in payouts.status_for(campaign, later)


def test_the_money_page_keeps_each_minus_sign_with_its_amount(app):
    from flask import url_for

    from tests.campaigns.helpers import sign_in

    campaign = live_campaign("EUR", FundingModel.KEEP_IT_ALL)
    owner = UserFactory(email="owner-minus@example.org", verified=True)
    MembershipFactory(organization=campaign.organization, user=owner, role=OrgRole.OWNER)
    db.session.commit()
    client = app.test_client()
    sign_in(client, owner)
    for page in (url_for("money.dashboard", slug=campaign.slug), url_for("money.transparency", slug=campaign.slug)):
        html = client.get(page).get_data(as_text=True)
        assert "−\u00a0" in html and "− " not in html, page  # "−" alone at a line's end on a phone
