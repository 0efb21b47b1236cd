"""An institution's match fund assigned to a pooled fund: booked match fund → pooled fund, within the match fund's
remaining budget and only in its currency; what is assigned is no longer there to match pledges."""
from __future__ import annotations

import pytest
from flask import url_for

from tests.campaigns.helpers import sign_in
from tests.factories import MatchFundFactory, OrganizationFactory, UserFactory
from webapp.accounts.models import Role
from webapp.errors import DomainError, PermissionDenied
from webapp.extensions import db
from webapp.governance import funds
from webapp.ledger import services as ledger
from webapp.money import Money
from webapp.payments.matching import services as matching


@pytest.fixture
def world():
    owner = UserFactory(verified=True)
    org = OrganizationFactory(owner=owner, currency="XOF")
    fund = funds.open_fund(org, owner, "Caisse commune", "", "XOF")
    manager = UserFactory(verified=True, role=Role.FUNDER)
    match_fund = MatchFundFactory(manager_id=manager.id, budget=1_000_000, currency="XOF")
    db.session.commit()
    return fund, match_fund, manager, owner


def test_the_manager_assigns_part_of_the_budget_and_the_pooled_fund_holds_it(world):
    fund, match_fund, manager, _owner = world
    funds.assign_match(fund, match_fund, manager, Money(400_000, "XOF"))
    funds.assign_match(fund, match_fund, manager, Money(100_000, "XOF"))
    assert funds.balance(fund) == Money(500_000, "XOF")
    assert ledger.balance(ledger.fund_account(match_fund.id), "XOF") == Money(-500_000, "XOF")
    assert matching.remaining(match_fund) == Money(500_000, "XOF")
    with pytest.raises(DomainError, match="left to commit"):
        funds.assign_match(fund, match_fund, manager, Money(500_001, "XOF"))
    assert funds.balance(fund) == Money(500_000, "XOF")


def test_an_assigned_budget_is_no_longer_there_to_match_pledges(world):
    from tests.factories import CampaignFactory, PledgeFactory
    from webapp.payments.matching.models import MatchApplicationStatus, MatchFundCampaign
    from webapp.payments.models import PledgeStatus

    fund, match_fund, manager, _owner = world
    funds.assign_match(fund, match_fund, manager, Money(900_000, "XOF"))
    campaign = CampaignFactory(live=True, currency="XOF")
    db.session.add(MatchFundCampaign(fund_id=match_fund.id, campaign_id=campaign.id,
                                     status=MatchApplicationStatus.ACCEPTED))
    pledge = PledgeFactory(campaign=campaign, amount=500_000, currency="XOF", status=PledgeStatus.COMMITTED)
    match = matching.book_match(pledge)
    assert match is not None and match.amount == 100_000  # what the assignment left


def test_a_different_currency_a_stranger_and_a_bad_amount_are_refused(world):
    fund, match_fund, manager, owner = world
    euros = MatchFundFactory(manager_id=manager.id, budget=1_000_000, currency="EUR")
    with pytest.raises(DomainError, match="only to a fund in its own currency"):
        funds.assign_match(fund, euros, manager, Money(1_000, "EUR"))
    with pytest.raises(PermissionDenied):
        funds.assign_match(fund, match_fund, owner, Money(1_000, "XOF"))
    with pytest.raises(DomainError):
        funds.assign_match(fund, match_fund, manager, Money(0, "XOF"))
    assert funds.balance(fund) == Money(0, "XOF")


def test_the_fund_page_offers_the_managers_match_funds_and_the_form_books_the_assignment(world, client):
    fund, match_fund, manager, owner = world
    sign_in(client, manager)
    page = client.get(url_for("governance.fund", fund_id=fund.id)).get_data(as_text=True)
    assert url_for("governance.assign_match", fund_id=fund.id) in page
    response = client.post(url_for("governance.assign_match", fund_id=fund.id),
                           data={"match_fund": str(match_fund.id), "amount": "250000"})
    assert response.status_code == 302
    assert funds.balance(fund) == Money(250_000, "XOF")
    page = client.get(url_for("governance.fund", fund_id=fund.id)).get_data(as_text=True)
    assert "Ville de Thiès" in page
    statement = client.get(url_for("funds.show", fund_id=match_fund.id)).get_data(as_text=True)
    assert 'id="assigned-to-pooled-funds"' in statement
    for data, code in (({"match_fund": str(match_fund.id), "amount": "abc"}, 400),
                       ({"match_fund": str(match_fund.id), "amount": "99999999"}, 400),
                       ({"match_fund": "999999", "amount": "1000"}, 404),
                       ({"amount": "1000"}, 404)):
        assert client.post(url_for("governance.assign_match", fund_id=fund.id), data=data).status_code == code, data
    euros = MatchFundFactory(manager_id=manager.id, currency="EUR")
    db.session.commit()
    refused = client.post(url_for("governance.assign_match", fund_id=fund.id),
                          data={"match_fund": str(euros.id), "amount": "10.00"})
    assert refused.status_code == 400 and "own currency" in refused.get_data(as_text=True)
    sign_in(client, owner)
    assert client.post(url_for("governance.assign_match", fund_id=fund.id),
                       data={"match_fund": str(match_fund.id), "amount": "1000"}).status_code == 403
    assert funds.balance(fund) == Money(250_000, "XOF")
