"""Budget lines: written with the campaign, checked against its minimum, frozen once approved."""
from __future__ import annotations

import pytest

from tests.factories import BudgetLineFactory, CampaignFactory, UserFactory
from webapp.campaigns import budget, services
from webapp.campaigns.models import CampaignStatus, FundingModel
from webapp.errors import DomainError, PermissionDenied
from webapp.money import Money


def _campaign(**kw):
    owner = UserFactory(verified=True)
    from tests.factories import OrganizationFactory

    campaign = CampaignFactory(organization=OrganizationFactory(owner=owner), created_by=owner, **kw)
    return campaign, owner


def test_lines_are_added_and_removed_while_a_draft(app):
    campaign, owner = _campaign()
    line = budget.add_line(campaign, owner, budget.LineDetails("Mill", Money(600_000, "XOF")))
    assert budget.lines_of(campaign) == [line]
    budget.remove_line(line, owner)
    assert budget.lines_of(campaign) == []


def test_only_its_editors_write_the_budget(app):
    campaign, _owner = _campaign()
    with pytest.raises(PermissionDenied):
        budget.add_line(campaign, UserFactory(), budget.LineDetails("Mill", Money(600_000, "XOF")))


@pytest.mark.parametrize("amount", [Money(0, "XOF"), Money(100, "EUR")])
def test_a_line_needs_an_amount_in_the_campaigns_currency(app, amount):
    campaign, owner = _campaign()
    with pytest.raises(DomainError):
        budget.add_line(campaign, owner, budget.LineDetails("Mill", amount))


def test_minimum_and_optimum_required_lines_must_add_up_to_the_minimum_before_submitting(app):
    campaign, owner = _campaign(funding_model=FundingModel.MINIMUM_OPTIMUM, minimum_amount=600_000)
    budget.add_line(campaign, owner, budget.LineDetails("Mill", Money(500_000, "XOF"), required=True))
    budget.add_line(campaign, owner, budget.LineDetails("Roof", Money(300_000, "XOF"), required=False))
    with pytest.raises(DomainError, match="minimum"):
        services.submit(campaign, owner)
    assert campaign.status == CampaignStatus.DRAFT
    budget.add_line(campaign, owner, budget.LineDetails("Motor", Money(100_000, "XOF"), required=True))
    services.submit(campaign, owner)
    assert campaign.status == CampaignStatus.SUBMITTED


def test_lines_may_not_add_up_to_more_than_the_goal(app):
    campaign, owner = _campaign()
    budget.add_line(campaign, owner, budget.LineDetails("Mill", Money(1_500_000, "XOF")))
    with pytest.raises(DomainError, match="goal"):
        services.submit(campaign, owner)


def test_the_budget_is_frozen_once_the_campaign_is_approved(app):
    campaign, owner = _campaign(live=True)
    line = BudgetLineFactory(campaign=campaign)
    with pytest.raises(DomainError, match="reviewed"):
        budget.add_line(campaign, owner, budget.LineDetails("Mill", Money(1_000, "XOF")))
    with pytest.raises(DomainError, match="reviewed"):
        budget.remove_line(line, owner)


def test_the_chart_gives_each_line_a_share_in_steps_of_five(app):
    campaign, _owner = _campaign()
    lines = [BudgetLineFactory(campaign=campaign, amount=a) for a in (750_000, 250_000, 1)]
    assert [share for _line, share in budget.chart(campaign, lines)] == [75, 25, 5]
