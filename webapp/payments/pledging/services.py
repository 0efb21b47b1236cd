"""Pledge operations: starting a checkout, applying processor events, cancelling. They flush, never commit."""
from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import func, literal, select, union_all

from webapp.accounts.models import User
from webapp.campaigns import services as campaigns
from webapp.campaigns.models import Campaign, CampaignStatus, FundingModel, RewardTier
from webapp.clock import utcnow
from webapp.errors import DomainError, InvalidTransition
from webapp.extensions import db
from webapp.mail import queue_email
from webapp.money import Money
from webapp.payments import bookkeeping, currencies, fx, matching
from webapp.payments.models import (
    CONFIRMED_STATUSES,
    HOLDING_STATUSES,
    ChargeTiming,
    Pledge,
    Match,
    PledgeEvent,
    PledgeStatus,
    Refund,
    RefundStatus,
)
from webapp.payments.provider import CheckoutRequest, get_provider

log = logging.getLogger(__name__)
P = PledgeStatus

#: Forward moves only: an event that arrives late or twice can never move a pledge back.
TRANSITIONS: dict[PledgeStatus, frozenset[PledgeStatus]] = {
    P.PENDING: frozenset({P.PROCESSING, P.COMMITTED, P.PAID, P.FAILED, P.EXPIRED}),
    P.PROCESSING: frozenset({P.PAID, P.FAILED}),
    P.COMMITTED: frozenset({P.CANCELLED, P.PAID, P.NEEDS_ACTION, P.RELEASED}),
    P.NEEDS_ACTION: frozenset({P.PAID, P.LAPSED}),
    P.PAID: frozenset({P.REFUNDED}),
    P.FAILED: frozenset(),
    # The processor took the money after our hold ran out (a webhook delayed by an outage): the
    # payment is real, so the pledge counts; its reward is taken again if one is left.
    P.EXPIRED: frozenset({P.PAID}),
    P.CANCELLED: frozenset(),
    P.REFUNDED: frozenset(),
    P.LAPSED: frozenset(),
    P.RELEASED: frozenset(),
}


class PledgeRefused(DomainError):
    """The pledge cannot be made as asked; the message says why and what to do."""


class SoldOut(PledgeRefused):
    pass


def move(pledge: Pledge, target: PledgeStatus, cause: str) -> bool:
    """Apply a transition from the table; False when it is a repeat, InvalidTransition when it goes back."""
    if pledge.status == target:
        return False
    if target not in TRANSITIONS[pledge.status]:
        raise InvalidTransition("pledge", pledge.status.value, target.value)
    db.session.add(PledgeEvent(pledge_id=pledge.id, from_status=pledge.status, to_status=target, cause=cause[:255]))
    was_holding = pledge.status in HOLDING_STATUSES
    if not was_holding and target in HOLDING_STATUSES and pledge.tier_id is not None \
            and not campaigns.claim_tier_unit(pledge.tier_id):
        log.warning("pledge %s paid after its hold expired; its reward is sold out", pledge.id)
        pledge.failure_reason = "paid after the checkout expired; the reward was sold out meanwhile"
        pledge.tier_id = None
    pledge.status = target
    if was_holding and target not in HOLDING_STATUSES and pledge.tier_id is not None:
        campaigns.release_tier_unit(pledge.tier_id)
    if target in (P.COMMITTED, P.PAID):
        # One receipt when the method is saved, another when the money is actually taken.
        pledge.confirmed_at = pledge.confirmed_at or utcnow()
        pledge.hold_expires_at = None
        send_receipt(pledge)
    if target == P.COMMITTED:
        matching.book_match(pledge)
    elif target == P.PAID:
        bookkeeping.book_charge(pledge)
        matching.pledge_charged(pledge)
        if pledge.refunded_amount >= pledge.amount:  # the refund's event came before the payment's
            move(pledge, P.REFUNDED, f"{cause} (already refunded)")
    elif target not in CONFIRMED_STATUSES:
        matching.give_back(pledge)
    return True


def move_if_allowed(pledge: Pledge, target: PledgeStatus, cause: str) -> bool:
    """For processor events: a stale or out-of-order event is logged and changes nothing."""
    try:
        return move(pledge, target, cause)
    except InvalidTransition as exc:
        log.info("ignored %s for pledge %s: %s", cause, pledge.id, exc)
        return False


# -- starting a pledge --------------------------------------------------------------------------
@dataclass(frozen=True)
class PledgeRequest:
    campaign: Campaign
    tier: RewardTier | None
    amount: Money
    pay_currency: str
    email: str
    user: User | None
    display_name: str | None
    anonymous: bool
    message: str | None
    locale: str
    client_token: str
    #: an optional tip to the platform on top of the pledge, in the campaign's currency
    tip: Money | None = None


def charge_timing(campaign: Campaign) -> ChargeTiming:
    return ChargeTiming.NOW if campaign.funding_model == FundingModel.KEEP_IT_ALL else ChargeTiming.ON_SUCCESS


def minimum_pledge(campaign: Campaign, tier: RewardTier | None = None) -> Money:
    floor = Money(currencies.rule(campaign.currency).minimum, campaign.currency)
    if tier is not None and tier.minimum > floor:
        return tier.minimum
    return floor


def check_pledge(campaign: Campaign, tier: RewardTier | None, amount: Money) -> None:
    if campaign.status != CampaignStatus.LIVE or campaign.ends_at <= utcnow():
        raise PledgeRefused(_("This campaign is not taking pledges."))
    if amount.currency != campaign.currency:
        raise PledgeRefused(_("Pledges to this campaign are in %(c)s.", c=campaign.currency))
    if tier is not None and tier.campaign_id != campaign.id:
        raise PledgeRefused(_("Choose a reward of this campaign."))
    floor = minimum_pledge(campaign, tier)
    if amount < floor:
        raise PledgeRefused(_("The smallest pledge here is %(min)s.", min=floor.format(_locale())))
    ceiling = Money(currencies.rule(campaign.currency).maximum, campaign.currency)
    if amount > ceiling:
        raise PledgeRefused(_("The largest pledge we accept is %(max)s. Contact us for larger gifts.",
                              max=ceiling.format(_locale())))
    if amount.currency in currencies.THREE_DECIMAL and amount.amount % 10:  # the processor takes tens of minor units
        raise PledgeRefused(_("%(code)s amounts take at most %(n)d decimals.", code=amount.currency, n=2))


def _locale() -> str:
    from webapp.i18n import locale_code

    return locale_code()


def existing_for_token(client_token: str) -> Pledge | None:
    return db.session.scalar(select(Pledge).where(Pledge.client_token == client_token))


def start_pledge(req: PledgeRequest) -> Pledge:
    """Record a pending pledge, hold its reward unit and open the processor's checkout."""
    campaign = req.campaign
    check_pledge(campaign, req.tier, req.amount)
    tip = req.tip if req.tip is not None and req.tip.amount > 0 else Money.zero(campaign.currency)
    if tip.currency != campaign.currency:
        raise PledgeRefused(_("A tip is in the campaign's currency (%(c)s).", c=campaign.currency))
    if tip > req.amount:
        raise PledgeRefused(_("A tip cannot be larger than the pledge itself."))
    charge, conversion = _charge_for(campaign, req.amount + tip, req.pay_currency)
    if req.tier is not None and not campaigns.claim_tier_unit(req.tier.id):
        raise SoldOut(_("This reward is sold out. Choose another one, or pledge without a reward."))
    # Stripe's shortest session is 30 minutes: ask for a minute more, and hold the reward a minute
    # beyond the session, so nobody can pay on a checkout whose reward unit was already released.
    session_expires = utcnow() + timedelta(minutes=current_app.config["CHECKOUT_HOLD_MINUTES"] + 1)
    hold_until = session_expires + timedelta(minutes=1)
    timing = charge_timing(campaign)
    provider = get_provider()
    pledge = Pledge(
        reference=secrets.token_urlsafe(12), client_token=req.client_token, campaign_id=campaign.id,
        tier_id=req.tier.id if req.tier else None, user_id=req.user.id if req.user else None,
        email=req.email.strip().lower(), locale=req.locale, display_name=(req.display_name or "").strip() or None,
        anonymous=req.anonymous, message=(req.message or "").strip() or None, status=P.PENDING,
        charge_timing=timing, amount=req.amount.amount, currency=req.amount.currency, tip_amount=tip.amount,
        charge_amount=charge.amount, charge_currency=charge.currency,
        fx_rate=conversion.quote.rate if conversion else None,
        fx_date=conversion.quote.rate_date if conversion else None,
        provider=provider.name, hold_expires_at=hold_until)
    db.session.add(pledge)
    db.session.flush()
    db.session.add(PledgeEvent(pledge_id=pledge.id, from_status=None, to_status=P.PENDING, cause="backer"))
    session = provider.create_checkout(CheckoutRequest(
        pledge_id=pledge.id, reference=pledge.reference,
        mode="payment" if timing == ChargeTiming.NOW else "setup", charge=charge, email=pledge.email,
        description=_("Pledge to “%(title)s”", title=campaign.title),
        terms=None if timing == ChargeTiming.NOW else charge_terms(campaign),
        locale=req.locale,
        success_url=url_for("payments.receipt", reference=pledge.reference, _external=True) + "?checkout=done",
        cancel_url=url_for("payments.checkout_cancelled", reference=pledge.reference, _external=True),
        expires_at=session_expires, idempotency_key=f"pledge-{pledge.id}-checkout",
        metadata={"pledge_id": str(pledge.id), "pledge_reference": pledge.reference,
                  "campaign_id": str(campaign.id)}))
    pledge.checkout_session_id, pledge.checkout_url = session.id, session.url
    pledge.customer_id = session.customer_id
    db.session.flush()
    return pledge


def charge_terms(campaign: Campaign) -> str:
    from flask_babel import format_date

    return _("You will be charged only if the campaign reaches its goal on %(date)s.",
             date=format_date(campaign.end_date, "long"))


def _charge_for(campaign: Campaign, amount: Money, pay_currency: str) -> tuple[Money, fx.Conversion | None]:
    """What the backer is charged: the campaign's currency, or theirs where the campaign allows it."""
    pay_currency = (pay_currency or campaign.currency).upper()
    if pay_currency == campaign.currency:
        return amount, None
    if not campaign.accepts_backer_currency:
        raise PledgeRefused(_("This campaign takes payments in %(c)s only.", c=campaign.currency))
    if pay_currency not in current_app.config["SUPPORTED_CURRENCIES"] or pay_currency not in currencies.RULES:
        raise PledgeRefused(_("We cannot charge in %(c)s.", c=pay_currency))
    try:
        conversion = fx.convert(amount, pay_currency)
    except fx.RateUnavailable:
        raise PledgeRefused(_("We have no exchange rate for %(c)s today; pay in %(d)s.",
                              c=pay_currency, d=campaign.currency)) from None
    charge = currencies.processor_charge(amount.to_decimal() * conversion.quote.rate, pay_currency)
    minimum = Money(currencies.rule(pay_currency).minimum, pay_currency)
    if charge < minimum:
        raise PledgeRefused(_("In %(c)s the smallest payment is %(min)s.", c=pay_currency, min=minimum.format(_locale())))
    return charge, conversion


# -- after the checkout -------------------------------------------------------------------------
def pledge_by_reference(reference: str) -> Pledge | None:
    return db.session.scalar(select(Pledge).where(Pledge.reference == reference))


def cancel_committed(pledge: Pledge, actor: User | None) -> None:
    """The backer withdraws a pledge that has not been charged, until the deadline."""
    if actor is None or pledge.user_id != actor.id:
        raise DomainError(_("Only the backer can cancel this pledge."))
    if pledge.status != P.COMMITTED:
        raise DomainError(_("Only a pledge waiting for the deadline can be cancelled."))
    if pledge.campaign.ends_at <= utcnow() or pledge.campaign.status != CampaignStatus.LIVE:
        raise DomainError(_("The deadline has passed: this pledge can no longer be cancelled."))
    move(pledge, P.CANCELLED, "backer")
    pledge.cancelled_at = utcnow()


def abandon_checkout(pledge: Pledge) -> None:
    """The backer left the hosted page: release the reward unit now instead of in 30 minutes."""
    if pledge.status != P.PENDING:
        return
    if pledge.checkout_session_id:
        get_provider().expire_checkout(pledge.checkout_session_id)
    move(pledge, P.EXPIRED, "backer left the checkout")


def release_expired_holds(now=None) -> int:
    """Expire pending pledges whose checkout time is over; returns how many."""
    now = now or utcnow()
    stale = db.session.scalars(
        select(Pledge).where(Pledge.status == P.PENDING, Pledge.hold_expires_at < now)
        .with_for_update(skip_locked=True)
    ).all()
    for pledge in stale:
        move(pledge, P.EXPIRED, "hold expired")
    db.session.flush()
    return len(stale)


def send_receipt(pledge: Pledge) -> None:
    link = url_for("payments.receipt", reference=pledge.reference, _external=True)
    queue_email("pledge_receipt", pledge.email, pledge.locale, pledge=pledge, campaign=pledge.campaign, link=link)


def pledges_of(user: User) -> list[Pledge]:
    return list(db.session.scalars(
        select(Pledge).where(Pledge.user_id == user.id, Pledge.status != P.PENDING)
        .options(db.joinedload(Pledge.campaign), db.joinedload(Pledge.tier))
        .order_by(Pledge.created_at.desc())
    ))


def latest_supporters(campaign: Campaign, limit: int = 5) -> list[Pledge]:
    return list(db.session.scalars(
        select(Pledge).where(Pledge.campaign_id == campaign.id, Pledge.status.in_(CONFIRMED_STATUSES))
        .order_by(Pledge.confirmed_at.desc(), Pledge.id.desc()).limit(limit)
    ))


# -- totals for the campaign pages --------------------------------------------------------------
class PledgeTotals:
    """The PledgeReader that campaigns use: totals are sums over confirmed pledges, nothing else."""

    def totals_subquery(self, campaign_ids=None):
        """Per campaign: confirmed pledges less refunds, plus what funds match of them; backers counted once."""
        confirmed = Pledge.status.in_(CONFIRMED_STATUSES)
        pledged = select(Pledge.campaign_id.label("campaign_id"),
                         (Pledge.amount - Pledge.refunded_amount).label("value"),
                         literal(1).label("backer")).where(confirmed)
        matched = (select(Match.campaign_id.label("campaign_id"), Match.amount.label("value"),
                          literal(0).label("backer"))
                   .join(Pledge, Pledge.id == Match.pledge_id).where(confirmed))
        if campaign_ids is not None:
            pledged = pledged.where(Pledge.campaign_id.in_(campaign_ids))
            matched = matched.where(Pledge.campaign_id.in_(campaign_ids))
        movements = union_all(pledged, matched).subquery("money_in")
        return (
            select(movements.c.campaign_id.label("campaign_id"),
                   func.sum(movements.c.value).label("raised"),
                   func.sum(movements.c.backer).label("backers"))
            .group_by(movements.c.campaign_id)
            .subquery("campaign_totals")
        )

    def chosen_tier_ids(self, campaign_id: int) -> set[int]:
        return set(db.session.scalars(
            select(Pledge.tier_id).where(Pledge.campaign_id == campaign_id, Pledge.tier_id.is_not(None),
                                         Pledge.status.in_(HOLDING_STATUSES)).distinct()
        ))


# -- completing a pledge that needs the backer ----------------------------------------------------
def open_completion_checkout(pledge: Pledge):
    """A hosted on-session payment for a pledge whose charge at success needed the backer."""
    provider = get_provider()
    attempt = pledge.charge_attempts + 1
    session = provider.create_checkout(CheckoutRequest(
        pledge_id=pledge.id, reference=pledge.reference, mode="payment", charge=pledge.charge, email=pledge.email,
        description=_("Pledge to “%(title)s”", title=pledge.campaign.title), terms=None, locale=pledge.locale,
        success_url=url_for("payments.receipt", reference=pledge.reference, _external=True) + "?checkout=done",
        cancel_url=url_for("payments.receipt", reference=pledge.reference, _external=True),
        expires_at=utcnow() + timedelta(minutes=current_app.config["CHECKOUT_HOLD_MINUTES"] + 1),
        idempotency_key=f"pledge-{pledge.id}-complete-{attempt}",
        metadata={"pledge_id": str(pledge.id), "pledge_reference": pledge.reference,
                  "campaign_id": str(pledge.campaign_id)},
        customer_id=pledge.customer_id))
    pledge.charge_attempts = attempt
    pledge.checkout_session_id, pledge.checkout_url = session.id, session.url
    return session


# -- refunds ------------------------------------------------------------------------------------
def refundable(pledge: Pledge) -> Money:
    """What can still be refunded: the pledge less what is refunded or already asked for."""
    asked = db.session.scalar(select(func.coalesce(func.sum(Refund.amount), 0)).where(
        Refund.pledge_id == pledge.id, Refund.status == RefundStatus.REQUESTED)) or 0
    return Money(max(0, pledge.amount - pledge.refunded_amount - int(asked)), pledge.currency)


def request_refund(pledge: Pledge, actor: User, amount: Money, reason: str) -> Refund:
    """Ask the processor for a refund; it is final when the processor confirms it (charge.refunded)."""
    if pledge.status != P.PAID or not pledge.payment_intent_id:
        raise DomainError(_("Only a paid pledge can be refunded."))
    if not (reason or "").strip():
        raise DomainError(_("Give the reason for the refund; the backer will read it."))
    if amount.currency != pledge.currency or amount.amount <= 0:
        raise DomainError(_("Enter an amount in %(c)s.", c=pledge.currency))
    left = refundable(pledge)
    if amount > left:
        raise DomainError(_("At most %(left)s can still be refunded.", left=left.format(_locale())))
    refund = Refund(pledge_id=pledge.id, amount=amount.amount, reason=reason.strip(), requested_by_id=actor.id)
    db.session.add(refund)
    db.session.flush()
    # The processor counts in the charged currency: refund the same share of what was charged.
    if amount.amount == pledge.amount - pledge.refunded_amount:
        processor_amount = None  # all that remains
    else:
        # The charge also carried the tip, which stays with the platform unless all is refunded. Rounded up:
        # the processor's confirmation, converted back (rounded down), covers at least what was asked.
        share = -(-pledge.charge_amount * amount.amount // (pledge.amount + pledge.tip_amount))
        step = 10 if pledge.charge_currency in currencies.THREE_DECIMAL else 1
        processor_amount = Money(-(-share // step) * step, pledge.charge_currency)
    queue_email("pledge_refunded", pledge.email, pledge.locale, pledge=pledge, campaign=pledge.campaign,
                amount=amount, reason=refund.reason,
                link=url_for("payments.receipt", reference=pledge.reference, _external=True))
    refund.processor_refund_id = get_provider().refund(
        pledge.payment_intent_id, processor_amount, idempotency_key=f"refund-{refund.id}",
        metadata={"pledge_id": str(pledge.id), "refund_id": str(refund.id)}, reason="requested_by_customer")
    return refund


def settle_requested_refunds(pledge: Pledge) -> None:
    """The processor confirmed refunds up to pledge.refunded_amount: mark the requests that it covers."""
    confirmed = pledge.refunded_amount
    for refund in db.session.scalars(select(Refund).where(Refund.pledge_id == pledge.id).order_by(Refund.id)):
        confirmed -= refund.amount
        if confirmed >= 0 and refund.status == RefundStatus.REQUESTED:
            refund.status = RefundStatus.SUCCEEDED
