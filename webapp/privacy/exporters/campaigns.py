"""The campaigns domain's part: campaigns the member created, updates they wrote, moderation decisions they made."""
from __future__ import annotations

from sqlalchemy import select

from webapp.accounts.models import User
from webapp.campaigns.models import Campaign, CampaignTransition, CampaignUpdate
from webapp.extensions import db
from webapp.privacy.registry import exporter, row


@exporter("campaigns")
def export_campaigns(user: User) -> dict[str, list]:
    created = db.session.scalars(select(Campaign).where(Campaign.created_by_id == user.id).order_by(Campaign.id))
    updates = db.session.execute(
        select(CampaignUpdate, Campaign).join(Campaign, Campaign.id == CampaignUpdate.campaign_id)
        .where(CampaignUpdate.author_id == user.id).order_by(CampaignUpdate.id))
    decisions = db.session.execute(
        select(CampaignTransition, Campaign).join(Campaign, Campaign.id == CampaignTransition.campaign_id)
        .where(CampaignTransition.actor_id == user.id).order_by(CampaignTransition.id))
    return {
        "campaigns_created": [row(title=c.title, slug=c.slug, status=c.status, created_at=c.created_at)
                              for c in created],
        "campaign_updates_written": [row(campaign=c.title, title=u.title, body=u.body_md, created_at=u.created_at)
                                     for u, c in updates],
        "campaign_decisions": [row(campaign=c.title, from_status=t.from_status, to_status=t.to_status,
                                   reason=t.reason, at=t.at) for t, c in decisions],
    }
