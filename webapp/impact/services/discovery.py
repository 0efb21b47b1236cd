"""Discovery's filter by Sustainable Development Goal: the campaigns with an indicator serving it."""
from __future__ import annotations

from sqlalchemy import select

from webapp.campaigns.models import Campaign
from webapp.impact.models import Indicator


def campaigns_serving_goal(value: str):
    """The condition on Campaign for "?sdg=6"; None for a value that is no goal (the filter is then ignored)."""
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= 17:
        return None
    return Campaign.id.in_(select(Indicator.campaign_id).where(Indicator.sdg_goal == int(value)))
