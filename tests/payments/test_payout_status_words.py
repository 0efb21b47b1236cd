"""The organizer's money page says, in one sentence, what the payout waits for, or when it left."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from flask_babel import force_locale

from tests.factories import MembershipFactory, UserFactory
from tests.payments.support import live_campaign
from webapp.campaigns import services as campaigns
from webapp.campaigns.models import FundingModel
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.organizations.models import OrgRole
from webapp.payments.models import (
    ConnectedAccount, Dispute, Pledge, PledgeStatus, Refund, Transfer, TransferStatus,
)
from webapp.payments.payouts import services as payouts

SUCCEEDED_AT = datetime(2026, 11, 2, 12, 0)


def _succeeded(app, *, enabled: bool | None = True, paid: bool = False):
    """A succeeded campaign (on SUCCEEDED_AT) of a French organization, with a connected account (enabled or
    not) or none (None); `paid`: with a backer's paid pledge (the tests that add none add their own)."""
    campaign = live_campaign("EUR", FundingModel.KEEP_IT_ALL)
    campaign.organization.country = "FR"
    db.session.flush()
    campaign.status = campaigns.S.SUCCEEDED
    db.session.add(campaigns.CampaignTransition(campaign_id=campaign.id, from_status=campaigns.S.LIVE,
                                                to_status=campaigns.S.SUCCEEDED, at=SUCCEEDED_AT))
    if enabled is not None:
        campaign.organization.country = "FR"
        db.session.add(ConnectedAccount(organization_id=campaign.organization_id, processor_account_id="acct_words",
                                        details_submitted=True, payouts_enabled=enabled,
                                        transfers_capability="active" if enabled else "inactive"))
    if paid:
        _pledge(campaign, PledgeStatus.PAID, "paid")
    db.session.commit()
    return campaign


def _pledge(campaign, status: PledgeStatus, ref: str = "r1") -> Pledge:
    pledge = Pledge(reference=ref, client_token=(ref * 20)[:20], campaign_id=campaign.id, email="x@example.org",
                    status=status, charge_timing="now", amount=1_000, currency="EUR", charge_amount=1_000,
                    charge_currency="EUR", provider="sandbox")
    db.session.add(pledge)
    db.session.flush()
    return pledge


def _after_hold(app) -> datetime:
    return SUCCEEDED_AT + timedelta(days=app.config["PAYOUT_HOLD_DAYS"], minutes=1)


def _words(app, campaign, now: datetime) -> tuple[str, str]:
    with app.test_request_context("/"):
        with force_locale("en"):
            english = payouts.status_for(campaign, now=now)
        with force_locale("fr"):
            french = payouts.status_for(campaign, now=now)
    return english, french


def test_before_success(app):
    campaign = live_campaign("EUR")
    db.session.commit()
    assert _words(app, campaign, utcnow()) == ("Payouts start once the campaign has succeeded.",
                                               "Les versements commencent une fois la campagne réussie.")


def test_no_payout_account_yet(app):
    campaign = _succeeded(app, enabled=None, paid=True)
    assert _words(app, campaign, _after_hold(app)) == (
        "The payout waits for a payout account: the organization has not connected one yet.",
        "Le versement attend un compte de versement\u202f: l’organisation n’en a pas encore connecté.")


def test_account_not_enabled_by_the_processor(app):
    campaign = _succeeded(app, enabled=False, paid=True)
    english, french = _words(app, campaign, _after_hold(app))
    assert english == ("The payout waits for the processor to enable the organization’s payout account: "
                       "it is connected, but not enabled yet.")
    assert french.startswith("Le versement attend que le prestataire de paiement active") and "pas encore activé" in french


def test_holding_period_until_a_date(app):
    app.config["PAYOUT_HOLD_DAYS"], hold = 7, app.config["PAYOUT_HOLD_DAYS"]
    try:
        campaign = _succeeded(app, paid=True)
        english, french = _words(app, campaign, SUCCEEDED_AT + timedelta(days=1))
    finally:
        app.config["PAYOUT_HOLD_DAYS"] = hold
    assert english == "The payout waits for the holding period to end, on November 9, 2026."
    assert french == "Le versement attend la fin de la période de rétention, le 9 novembre 2026."


@pytest.mark.parametrize("status", [PledgeStatus.COLLECTING, PledgeStatus.COMMITTED, PledgeStatus.NEEDS_ACTION])
def test_bank_debits_still_in_flight(app, status):
    campaign = _succeeded(app)
    _pledge(campaign, status)
    db.session.commit()
    assert _words(app, campaign, _after_hold(app)) == (
        "The payout waits for the bank debits and charges still in flight to arrive.",
        "Le versement attend l’arrivée des prélèvements bancaires et des paiements encore en cours.")


@pytest.mark.parametrize("pending", ["refund", "dispute"])
def test_refunds_or_disputes_pending(app, pending):
    campaign = _succeeded(app)
    pledge = _pledge(campaign, PledgeStatus.PAID)
    if pending == "refund":
        organizer = UserFactory(email="owner@example.org")
        db.session.flush()
        db.session.add(Refund(pledge_id=pledge.id, amount=500, reason="asked", requested_by_id=organizer.id))
    else:
        db.session.add(Dispute(pledge_id=pledge.id, processor_dispute_id="dp_words", status="needs_response",
                               amount=1_000, currency="EUR"))
    db.session.commit()
    assert _words(app, campaign, _after_hold(app)) == (
        "The payout is due, but refunds or disputes on this campaign are still pending.",
        "Le versement est dû, mais des remboursements ou des litiges sur cette campagne sont encore en cours.")


def test_due_and_nothing_in_the_way(app):
    campaign = _succeeded(app)
    pledge = _pledge(campaign, PledgeStatus.PAID)
    pledge.settled_amount, pledge.settled_fee, pledge.settled_currency = 960, 40, "EUR"
    db.session.commit()
    assert _words(app, campaign, _after_hold(app)) == (
        "The payout is due: it leaves with the next payout run.",
        "Le versement est dû\u202f: il partira avec la prochaine série de versements.")


def test_transferred_on_a_date_and_the_money_page_says_it(app, client, login):
    campaign = _succeeded(app)
    db.session.add(Transfer(campaign_id=campaign.id, organization_id=campaign.organization_id, amount=900,
                            platform_fee=0, currency="EUR", status=TransferStatus.SENT,
                            sent_at=datetime(2026, 11, 10, 8, 0)))
    db.session.commit()
    assert _words(app, campaign, _after_hold(app)) == (
        "Transferred to the organization’s account on November 10, 2026.",
        "Versé sur le compte de l’organisation le 10 novembre 2026.")
    owner = UserFactory(email="owner@example.org")
    MembershipFactory(organization=campaign.organization, user=owner, role=OrgRole.OWNER)
    db.session.commit()
    login(client, owner)
    page = client.get(f"/manage/campaigns/{campaign.slug}/money").get_data(as_text=True)
    assert "Transferred to the organization’s account on November 10, 2026." in page
