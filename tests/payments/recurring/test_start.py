"""Starting a gift: amounts within the currency's bounds, a real time zone, only an ongoing live campaign."""
from __future__ import annotations

import pytest

from tests.factories import CampaignFactory
from tests.payments.recurring.helpers import association, supporter
from webapp.money import Money
from webapp.payments.recurring import services as recurring
from webapp.payments.recurring.models import SupportInterval, SupportState

M = SupportInterval.MONTHLY


@pytest.mark.parametrize("amount, currency", [(0, "EUR"), (49, "EUR"), (10_000_001, "EUR"), (2_500, "XXX"),
                                              (1_005, "TND")])
def test_amounts_outside_the_currencys_bounds_are_refused(amount, currency):
    with pytest.raises(recurring.SupportRefused):
        recurring.start(supporter(), association(), Money(amount, currency), M, "Europe/Paris", "en")


@pytest.mark.parametrize("zone", ["", "Mars/Olympus", "Europe/../../etc/passwd", "x" * 80])
def test_an_unknown_time_zone_is_refused(zone):
    with pytest.raises(recurring.SupportRefused):
        recurring.start(supporter(), association(), Money(2_500, "EUR"), M, zone, "en")


def test_a_campaign_takes_recurring_support_only_when_live_and_ongoing():
    org = association()
    campaign = CampaignFactory(organization=org, live=True)
    with pytest.raises(recurring.SupportRefused):
        recurring.start(supporter(), org, Money(2_500, "EUR"), M, "Europe/Paris", "en", campaign=campaign)
    campaign.ongoing = True
    support = recurring.start(supporter(email="b@example.org"), org, Money(2_500, "EUR"), M, "Europe/Paris", "en",
                              campaign=campaign)
    assert support.state == SupportState.PENDING and support.campaign_id == campaign.id
    with pytest.raises(recurring.SupportRefused):
        recurring.start(supporter(email="c@example.org"), association_b(), Money(2_500, "EUR"), M, "Europe/Paris",
                        "en", campaign=campaign)  # another organization's campaign


def association_b():
    from tests.factories import OrganizationFactory

    return OrganizationFactory(slug="autre-association")
