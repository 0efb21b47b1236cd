"""Money out at the deadline: close a campaign, charge or release a committed pledge, chase those needing the backer.

Each function is one step of a unit of work and only flushes; the loops that commit once per
campaign or pledge are in webapp.payments.batches.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from webapp.accounts.models import User
from webapp.campaigns import services as campaigns
from webapp.campaigns.models import Campaign, CampaignStatus, FundingModel
from webapp.clock import utcnow
from webapp.errors import DomainError
from webapp.extensions import db
from webapp.mail import queue_email
from webapp.organizations.models import Membership
from webapp.payments.pledging import access, services
from webapp.payments.pledging import states
from webapp.payments.models import Pledge, PledgeStatus
from webapp.payments.providers import get_provider

log = logging.getLogger(__name__)
P = PledgeStatus
NEEDS_ACTION_REMINDER = timedelta(hours=48)
NEEDS_ACTION_LAPSE = timedelta(days=7)


# -- closing ------------------------------------------------------------------------------------
def outcome(campaign: Campaign) -> CampaignStatus:
    """Keep-it-all always keeps what was paid; the others succeed at their threshold."""
    if campaign.funding_model == FundingModel.KEEP_IT_ALL:
        return CampaignStatus.SUCCEEDED
    return CampaignStatus.SUCCEEDED if campaigns.progress_of(campaign).reached else CampaignStatus.FAILED


def close_campaign(campaign: Campaign) -> CampaignStatus:
    """Decide and record the outcome; tell the organization and the backers. Charging comes after."""
    result = outcome(campaign)
    campaigns.transition(campaign, result, None, reason="deadline")
    _tell_outcome(campaign, result)
    return result


def _tell_outcome(campaign: Campaign, result: CampaignStatus) -> None:
    link = url_for("campaigns.show", slug=campaign.slug, _external=True)
    organizers = db.session.scalars(select(User).join(Membership, Membership.user_id == User.id)
                                    .where(Membership.organization_id == campaign.organization_id)).all()
    raised = campaigns.progress_of(campaign).raised
    for user in organizers:
        queue_email("campaign_outcome_organizer", user.email, user.locale, user=user, campaign=campaign,
                    succeeded=result == CampaignStatus.SUCCEEDED, raised=raised, link=link)
    first_pledges = db.session.execute(
        select(Pledge.email, Pledge.locale, func.min(Pledge.id))
        .where(Pledge.campaign_id == campaign.id, Pledge.status.in_((P.COMMITTED, P.PAID)))
        .group_by(Pledge.email, Pledge.locale)).all()
    pledges = {p.id: p for p in db.session.scalars(select(Pledge).where(Pledge.id.in_([i for _, _, i in first_pledges])))}
    for email, locale, pledge_id in first_pledges:
        queue_email("campaign_outcome_backer", email, locale, campaign=campaign,
                    succeeded=result == CampaignStatus.SUCCEEDED, charged_later=campaign.funding_model != FundingModel.KEEP_IT_ALL,
                    link=access.link(pledges[pledge_id], "outcome"))


# -- collecting the committed pledges of a closed campaign --------------------------------------
def charge_committed(pledge: Pledge) -> None:
    provider = get_provider()
    attempt = pledge.charge_attempts + 1
    if not pledge.payment_method_id or not pledge.customer_id:
        needs_action(pledge, "no saved payment method", "collect")
        return
    result = provider.charge_off_session(
        pledge.customer_id, pledge.payment_method_id, pledge.charge,
        idempotency_key=f"pledge-{pledge.id}-charge-{attempt}",
        metadata=services.processor_metadata(pledge),
        description=f"Harambee pledge {pledge.reference}", transfer_group=f"campaign-{pledge.campaign_id}")
    pledge.charge_attempts = attempt
    pledge.payment_intent_id = result.payment_intent_id or pledge.payment_intent_id
    if result.status == "succeeded":
        states.move(pledge, P.PAID, f"charge attempt {attempt}")
    elif result.status == "processing":
        log.info("pledge %s: a bank debit is on its way", pledge.id)  # payment_intent.succeeded will follow
    else:
        pledge.failure_reason = result.failure_message or result.failure_code
        needs_action(pledge, result.failure_code or "failed", f"charge attempt {attempt}")


def needs_action(pledge: Pledge, why: str, cause: str) -> None:
    states.move(pledge, P.NEEDS_ACTION, f"{cause}: {why}")
    pledge.needs_action_since = utcnow()
    pledge.reminded_at = utcnow()
    _ask_to_complete(pledge, reminder=False)


def _ask_to_complete(pledge: Pledge, reminder: bool) -> None:
    deadline = (pledge.needs_action_since or utcnow()) + NEEDS_ACTION_LAPSE
    queue_email("pledge_needs_action", pledge.email, pledge.locale, pledge=pledge, campaign=pledge.campaign,
                reminder=reminder, deadline=deadline,
                link=access.link(pledge, "complete", "money.complete_payment"))


def release(pledge: Pledge) -> None:
    """The campaign failed: forget the saved method, charge nothing."""
    if pledge.payment_method_id:
        get_provider().detach_payment_method(pledge.payment_method_id)
    states.move(pledge, P.RELEASED, "campaign failed")


def chase_needs_action(now=None) -> tuple[int, int]:
    """Remind every 48 hours; after 7 days the pledge lapses and its reward unit goes back."""
    now = now or utcnow()
    reminded = lapsed = 0
    for pledge in db.session.scalars(select(Pledge).where(Pledge.status == P.NEEDS_ACTION)
                                     .with_for_update(skip_locked=True)).all():
        if pledge.needs_action_since and now - pledge.needs_action_since >= NEEDS_ACTION_LAPSE:
            states.move(pledge, P.LAPSED, "no action in 7 days")
            queue_email("pledge_lapsed", pledge.email, pledge.locale, pledge=pledge, campaign=pledge.campaign)
            lapsed += 1
        elif pledge.reminded_at is None or now - pledge.reminded_at >= NEEDS_ACTION_REMINDER:
            pledge.reminded_at = now
            _ask_to_complete(pledge, reminder=True)
            reminded += 1
    db.session.flush()
    return reminded, lapsed


def start_completion(pledge: Pledge) -> str:
    """An on-session checkout for a pledge that needs the backer: returns the hosted page's URL."""
    if pledge.status != P.NEEDS_ACTION:
        raise DomainError(_("This pledge does not need anything from you."))
    session = services.open_completion_checkout(pledge)
    return session.url


def collection_progress(campaign: Campaign) -> dict[str, int]:
    """How many pledges are in each state, for the organizer's live view (one query)."""
    rows = db.session.execute(select(Pledge.status, func.count()).where(Pledge.campaign_id == campaign.id)
                              .group_by(Pledge.status))
    return {status.value: count for status, count in rows}


def campaigns_left_to_collect() -> list[int]:
    return list(db.session.scalars(
        select(Pledge.campaign_id).join(Campaign, Campaign.id == Pledge.campaign_id)
        .where(Pledge.status == P.COMMITTED,
               Campaign.status.in_((CampaignStatus.SUCCEEDED, CampaignStatus.FAILED))).distinct()))
