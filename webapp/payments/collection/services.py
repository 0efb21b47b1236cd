"""Money out at the deadline: close a campaign, charge or release a committed pledge, chase those needing the backer.

Each function is one step of a unit of work and only flushes; the loops that commit once per
campaign or pledge are in webapp.payments.batches.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, url_for
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
from webapp.payments.providers.base import ChargeResult, PaymentAttempt

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
#: PaymentIntent statuses (https://docs.stripe.com/payments/paymentintents/lifecycle) of an earlier attempt
#: that forbid a new one: the money is taken or on its way ...
TAKEN, IN_FLIGHT = "succeeded", frozenset({"processing", "requires_capture"})
#: ... or waits for the backer, who completes it on-session. (requires_payment_method and canceled: the
#: earlier attempt is over and took nothing, a new one may be made.)
WAITS_FOR_BACKER = frozenset({"requires_action", "requires_confirmation"})


@dataclass(frozen=True)
class ChargeAnswer:
    """What the processor said when a committed pledge was collected, before anything of it is recorded.

    Exactly one of: `earlier`, an earlier attempt that forbids a new one (`blocks` says why: taken, in
    flight, waiting for the backer); `result`, the answer to attempt number `attempt`; or neither, the
    pledge has no saved method. Recording it (record_charge) asks the processor nothing more, so an
    answer can be recorded later, with others or alone, without any risk of a second charge.
    """

    earlier: PaymentAttempt | None = None
    blocks: str | None = None
    attempt: int = 0
    result: ChargeResult | None = None


def charge_committed(pledge: Pledge, before_request: Callable[[], None] = lambda: None) -> None:
    """Charge a committed pledge off-session, unless an earlier attempt already took or is taking the money."""
    record_charge(pledge, ask_to_charge(pledge, before_request))


#: Stripe keeps an idempotency key at least 24 hours: within this delay of the campaign's end, the first charge
#: of a pledge never tried before is sent without asking first (a lost earlier try is replayed, never repeated)
REPLAY_IS_SAFE_FOR = timedelta(hours=12)


def _may_have_an_older_attempt(pledge: Pledge) -> bool:
    """Whether an attempt whose answer we lost may be older than the processor's memory of idempotency keys.

    A committed pledge is first charged after its campaign ends, with the key of attempt 1. When we have
    recorded no attempt and the campaign ended less than REPLAY_IS_SAFE_FOR ago, any lost attempt was made
    within that delay, with the same key and the same parameters: sending it again gets the saved answer
    (Stripe's idempotent requests), not a second charge. Otherwise the processor is asked first."""
    if pledge.charge_attempts or pledge.payment_intent_id:
        return True
    ended = pledge.campaign.ends_at
    return ended is None or ended <= utcnow() - REPLAY_IS_SAFE_FOR


def ask_to_charge(pledge: Pledge, before_request: Callable[[], None] = lambda: None) -> ChargeAnswer:
    """Ask the processor to charge a committed pledge, unless an earlier attempt forbids it; changes nothing here.

    Unless the pledge's first attempt is provably recent (`_may_have_an_older_attempt`), the processor
    is asked first (one read) for every payment it holds for this pledge, so an attempt whose answer
    we lost — the worker died between Stripe's answer and our commit, maybe days ago, beyond Stripe's
    24-hour memory of idempotency keys — is recorded, not repeated. A bank debit answers
    `processing`: the pledge becomes COLLECTING, which collection never selects again;
    payment_intent.succeeded / payment_failed end it. `before_request` paces the caller.
    """
    provider = get_provider()
    if not pledge.payment_method_id or not pledge.customer_id:
        return ChargeAnswer()
    earlier = []
    if _may_have_an_older_attempt(pledge):
        before_request()
        earlier = provider.payment_attempts(pledge.customer_id, pledge.id, pledge.created_at)
    for statuses, blocks in ((frozenset({TAKEN}), "taken"), (IN_FLIGHT, "in flight"), (WAITS_FOR_BACKER, "backer")):
        found = next((a for a in earlier if a.status in statuses), None)
        if found is not None:
            return ChargeAnswer(earlier=found, blocks=blocks)
    attempt = max([pledge.charge_attempts] + [a.attempt or 0 for a in earlier]) + 1
    before_request()
    result = provider.charge_off_session(
        pledge.customer_id, pledge.payment_method_id, pledge.charge,
        idempotency_key=services.pledge_key(pledge, f"charge-{attempt}"),
        metadata={**services.processor_metadata(pledge), "charge_attempt": str(attempt)},
        description=f"Harambee pledge {pledge.reference}", transfer_group=f"campaign-{pledge.campaign_id}")
    return ChargeAnswer(attempt=attempt, result=result)


def record_charge(pledge: Pledge, answer: ChargeAnswer) -> None:
    """Move the pledge where the processor's answer puts it (paid, collecting, needs the backer)."""
    if answer.earlier is not None:
        _follow_earlier(pledge, answer.earlier, answer.blocks)
        return
    result, attempt = answer.result, answer.attempt
    if result is None:
        needs_action(pledge, "no saved payment method", "collect")
        return
    pledge.charge_attempts = attempt
    pledge.payment_intent_id = result.payment_intent_id or pledge.payment_intent_id
    if result.status == "succeeded":
        states.move(pledge, P.PAID, f"charge attempt {attempt}")
    elif result.status in IN_FLIGHT:
        collecting(pledge, f"charge attempt {attempt}: processing")
    else:
        pledge.failure_reason = result.failure_message or result.failure_code
        needs_action(pledge, result.failure_code or "failed", f"charge attempt {attempt}")


def _follow_earlier(pledge: Pledge, found: PaymentAttempt, outcome: str) -> None:
    """Record what an earlier attempt already did; no new attempt is made."""
    log.warning("pledge %s: earlier payment %s is %s; no new attempt", pledge.id, found.payment_intent_id,
                found.status)
    pledge.payment_intent_id = found.payment_intent_id
    pledge.charge_attempts = max(pledge.charge_attempts, found.attempt or 0)
    cause = f"earlier payment {found.payment_intent_id} {found.status}"
    if outcome == "taken":
        states.move(pledge, P.PAID, cause)
    elif outcome == "in flight":
        collecting(pledge, cause)
    else:
        pledge.failure_reason = found.failure_message or found.failure_code or "authentication_required"
        needs_action(pledge, found.failure_code or found.status, cause)


def collecting(pledge: Pledge, cause: str) -> None:
    """The money is on its way (a bank debit): nobody charges this pledge again until the processor answers."""
    if states.move(pledge, P.COLLECTING, cause):
        pledge.collecting_since = utcnow()
    log.info("pledge %s: a bank debit is on its way", pledge.id)


def debit_failed(pledge: Pledge, why: str, cause: str) -> None:
    """The bank refused a collected pledge's debit: ask the backer, as for a declined card."""
    pledge.collecting_since = None
    needs_action(pledge, why, cause)


def recheck_collecting(pledge: Pledge) -> str | None:
    """Ask the processor about a debit in flight for longer than banks take (a lost webhook); its status."""
    found = get_provider().payment_attempt(pledge.payment_intent_id) if pledge.payment_intent_id else None
    if found is None:
        log.error("pledge %s is collecting but the processor knows no payment %s", pledge.id, pledge.payment_intent_id)
        return None
    if found.status == TAKEN:
        states.move(pledge, P.PAID, f"recheck: {found.payment_intent_id} succeeded")
    elif found.status in ("requires_payment_method", "canceled") or found.status in WAITS_FOR_BACKER:
        pledge.failure_reason = found.failure_message or found.failure_code or found.status
        debit_failed(pledge, found.failure_code or found.status, f"recheck: {found.payment_intent_id}")
    else:
        log.info("pledge %s: %s still %s", pledge.id, found.payment_intent_id, found.status)
    return found.status


def collecting_too_long(now=None) -> list[int]:
    """COLLECTING pledges whose debit has been on its way longer than PROCESSING_RECHECK_DAYS."""
    now = now or utcnow()
    since = now - timedelta(days=current_app.config["PROCESSING_RECHECK_DAYS"])
    return list(db.session.scalars(select(Pledge.id).where(Pledge.status == P.COLLECTING,
                                                           Pledge.collecting_since <= since).order_by(Pledge.id)))


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
    forget_method(pledge)
    record_release(pledge)


def forget_method(pledge: Pledge) -> None:
    """Ask the processor to forget the pledge's saved method (a failed campaign charges nothing); changes nothing here."""
    if pledge.payment_method_id:
        get_provider().detach_payment_method(pledge.payment_method_id)


def record_release(pledge: Pledge) -> None:
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
    # Two clicks at once open one page after the other. A statement of its own, not refresh(): refresh
    # repeats the loader options the pledge was first loaded with (a webhook's outer join to the campaign's
    # translations), and PostgreSQL refuses FOR UPDATE on the nullable side of an outer join.
    db.session.scalar(select(Pledge).where(Pledge.id == pledge.id).with_for_update(of=Pledge)
                      .execution_options(populate_existing=True))
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
