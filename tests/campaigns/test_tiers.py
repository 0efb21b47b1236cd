"""Reward tiers on a draft: added, edited and removed by editors; amounts in the campaign's currency."""
from __future__ import annotations

import pytest
from flask import url_for

from tests.campaigns.helpers import committed_count, count, field_errors
from tests.factories import CampaignFactory, RewardTierFactory
from webapp.campaigns.models import RewardTier
from webapp.extensions import db


@pytest.fixture
def draft(org):
    campaign = CampaignFactory(organization=org, slug="mill", currency="XOF")
    db.session.commit()
    return campaign


def tier_data(**overrides) -> dict:
    data = {"title": "A bag of flour", "description": "Five kilos, ground at the mill.", "minimum": "5 000",
            "quantity_limit": "", "delivery_month": ""}
    data.update(overrides)
    return data


def add(client, campaign, **data):
    return client.post(url_for("manage.add_tier", slug=campaign.slug), data=tier_data(**data))


def test_editor_adds_a_tier_to_a_draft(editor_client, draft):
    response = add(editor_client, draft, quantity_limit="40", delivery_month="2099-03")

    assert response.status_code == 302
    assert response.location.endswith("#tiers")
    tier = db.session.scalar(db.select(RewardTier))
    assert (tier.campaign_id, tier.title, tier.minimum_amount, tier.quantity_limit) == (draft.id, "A bag of flour",
                                                                                       5_000, 40)
    assert tier.delivery_month.isoformat() == "2099-03-01"
    page = editor_client.get(url_for("manage.edit_campaign", slug=draft.slug)).get_data(as_text=True)
    assert "A bag of flour" in page


def test_tier_minimum_is_read_in_the_campaign_currency_and_the_visitors_locale(editor_client, org):
    campaign = CampaignFactory(organization=org, currency="TND", goal_amount=10_000_000)
    db.session.commit()

    response = editor_client.post(url_for("manage.add_tier", slug=campaign.slug),
                                  data=tier_data(minimum="1 234,567"), headers={"Accept-Language": "fr"})

    assert response.status_code == 302
    assert db.session.scalar(db.select(RewardTier.minimum_amount)) == 1_234_567


@pytest.mark.parametrize("minimum, message", [
    ("5000.5", "XOF amounts take no decimals."),
    ("0", "The amount must be greater than zero."),
    ("-100", "The amount must be greater than zero."),
    ("lots", "Enter an amount as a number"),
    ("1e30", "That amount is too large."),
])
def test_a_bad_tier_minimum_is_refused_next_to_it(editor_client, draft, minimum, message):
    response = add(editor_client, draft, minimum=minimum)

    assert response.status_code == 400
    assert any(message in e for e in field_errors(response, "minimum"))
    assert committed_count(RewardTier) == 0


@pytest.mark.parametrize("limit", ["0", "-3", "1.5", "many"])
def test_a_quantity_limit_that_is_not_a_positive_whole_number_is_refused(editor_client, draft, limit):
    response = add(editor_client, draft, quantity_limit=limit)

    assert response.status_code == 400
    assert field_errors(response, "quantity_limit")
    assert committed_count(RewardTier) == 0


def test_a_delivery_month_in_the_past_is_refused(editor_client, draft):
    response = add(editor_client, draft, delivery_month="2001-01")

    assert response.status_code == 400
    assert field_errors(response, "delivery_month") == ["The delivery month has already passed."]


def test_editor_edits_a_tier(editor_client, draft):
    tier = RewardTierFactory(campaign=draft, title="Old", minimum_amount=1_000)
    db.session.commit()
    url = url_for("manage.edit_tier", slug=draft.slug, tier_id=tier.id)

    form = editor_client.get(url).get_data(as_text=True)
    assert 'value="1000"' in form  # the amount is shown as a plain number to edit

    response = editor_client.post(url, data=tier_data(title="Two bags", minimum="9 000", quantity_limit="10"))

    assert response.status_code == 302
    db.session.refresh(tier)
    assert (tier.title, tier.minimum_amount, tier.quantity_limit) == ("Two bags", 9_000, 10)


def test_a_bad_edit_leaves_the_tier_as_it_was(editor_client, draft):
    tier = RewardTierFactory(campaign=draft, title="Old", minimum_amount=1_000, quantity_limit=5)
    db.session.commit()

    response = editor_client.post(url_for("manage.edit_tier", slug=draft.slug, tier_id=tier.id),
                                  data=tier_data(title="New", quantity_limit="0"))

    assert response.status_code == 400
    db.session.rollback()
    db.session.refresh(tier)
    assert (tier.title, tier.quantity_limit) == ("Old", 5)


def test_editor_removes_a_tier(editor_client, draft):
    kept, removed = RewardTierFactory(campaign=draft), RewardTierFactory(campaign=draft)
    db.session.commit()

    response = editor_client.post(url_for("manage.delete_tier", slug=draft.slug, tier_id=removed.id))

    assert response.status_code == 302
    assert committed_count(RewardTier) == 1
    assert db.session.get(RewardTier, kept.id) is not None


def test_a_tier_of_another_campaign_is_not_found_through_this_one(editor_client, draft, org):
    other = RewardTierFactory(campaign=CampaignFactory(organization=org))
    db.session.commit()

    assert editor_client.get(url_for("manage.edit_tier", slug=draft.slug, tier_id=other.id)).status_code == 404
    assert editor_client.post(url_for("manage.delete_tier", slug=draft.slug, tier_id=other.id)).status_code == 404
    assert committed_count(RewardTier) == 1


def test_tiers_cannot_change_while_the_campaign_waits_for_review(editor_client, org):
    campaign = CampaignFactory(organization=org, submitted=True)
    tier = RewardTierFactory(campaign=campaign, title="Frozen")
    db.session.commit()

    assert add(editor_client, campaign).status_code == 400
    response = editor_client.post(url_for("manage.edit_tier", slug=campaign.slug, tier_id=tier.id),
                                  data=tier_data(title="Changed"))
    assert response.status_code == 400
    editor_client.post(url_for("manage.delete_tier", slug=campaign.slug, tier_id=tier.id))

    db.session.rollback()
    assert count(RewardTier) == 1
    assert db.session.get(RewardTier, tier.id).title == "Frozen"
