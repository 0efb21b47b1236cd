"""Emails to everyone who edits a campaign's organization, each in their own language."""
from __future__ import annotations

from sqlalchemy import select

from webapp.accounts.models import User
from webapp.campaigns.models import Campaign
from webapp.extensions import db
from webapp.mail import queue_email
from webapp.organizations.models import Membership
from webapp.public_url import public_url


def tell_organization(campaign: Campaign, template: str, **context) -> None:
    link = public_url("campaigns.show", slug=campaign.slug)
    members = db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.organization_id == campaign.organization_id)
    ).all()
    for member in members:
        queue_email(template, member.email, member.locale, user=member, campaign=campaign, link=link, **context)
