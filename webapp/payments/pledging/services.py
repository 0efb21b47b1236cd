"""Pledge operations: starting a checkout, cancelling, completing one that needs the backer. They flush, never commit."""
from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from webapp.accounts.models import User
from webapp.campaigns import services as campaigns, translations
from webapp.campaigns.labels import charge_terms as campaign_charge_terms
from webapp.campaigns.models import Campaign, CampaignStatus, FundingModel, RewardTier
from webapp.clock import utcnow
from webapp.errors import DomainError
from webapp.extensions import db
from webapp.money import Money, exponent
from webapp.payments import currencies, fx, minimums
from webapp.payments.models import ChargeTiming, Pledge, PledgeEvent, PledgeStatus
from webapp.payments.pledging import access
from webapp.payments.pledging.customers import customer_for
from webapp.payments.pledging.states import move
from webapp.payments.providers import get_provider
from webapp.payments.providers.base import CheckoutRequest

log = logging.getLogger(__name__)
P = PledgeStatus


def processor_metadata(pledge: Pledge) -> dict[str, str]:
    """What the processor's objects for a pledge carry, so that their events find the pledge again."""
    return {"pledge_id": str(pledge.id), "pledge_reference": pledge.reference, "campaign_id": str(pledge.campaign_id)}


def pledge_key(pledge: Pledge, action: str) -> str:
    """The idempotency key of a processor request for a pledge; the provider puts the installation's prefix first.

    The random reference keeps it unique where pledge ids repeat (a database restored from an old dump).
    """
    return f"pledge-{pledge.id}-{pledge.reference}-{action}"


class PledgeRefused(DomainError):
    """The pledge cannot be made as asked; the message says why and what to do."""


class SoldOut(PledgeRefused):
    pass


# -- starting a pledge --------------------------------------------------------------------------
@dataclass(frozen=True)
class PledgeRequest:
    campaign: Campaign
    tier: RewardTier | None
    #: in the campaign's currency, or typed in the backer's own when the campaign takes it (in_campaign_currency)
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
    """The smallest pledge: the processor's minimum in the campaign's currency, or the reward's if higher.

    Raises PledgeRefused when the minimum cannot be known (no exchange rate for the currency).
    """
    floor = minimum_charge(campaign.currency).amount
    if tier is not None and tier.minimum > floor:
        return tier.minimum
    return floor


#: without a reward, the pledge form starts at about this many units of the settlement currency (10 EUR)
SUGGESTED_PLEDGE_UNITS = 10


def suggested_pledge(campaign: Campaign, tier: RewardTier | None = None, backer_currency: str | None = None) -> Money:
    """The amount the pledge form starts with: the reward's minimum, or else a round sum worth about
    SUGGESTED_PLEDGE_UNITS of the settlement currency (7,000 XOF, 10 USD, 15 CAD for 10 EUR; not the processor's
    350 XOF ≈ 0.53 EUR), never below the smallest pledge. Without a reward, and when the campaign takes
    `backer_currency` (the visitor's own: display.viewer_currency), the round sum is in that currency, and
    start_pledge converts it to the campaign's. Raises PledgeRefused as minimum_pledge."""
    floor = minimum_pledge(campaign, tier)
    if tier is not None:
        return floor
    if backer_currency and backer_currency != campaign.currency and campaign.accepts_backer_currency:
        try:
            own = _round_sum_in(backer_currency)
            if in_campaign_currency(campaign, own)[0] >= floor and own >= minimum_charge(backer_currency).amount:
                return own
        except PledgeRefused:  # no rate, or a currency we cannot charge in: the campaign's currency
            pass
    nice = _round_sum_in(campaign.currency)
    return floor if floor >= nice else nice


def _round_sum_in(currency: str) -> Money:
    """A round sum in `currency` worth about SUGGESTED_PLEDGE_UNITS of the settlement currency (that many units of
    `currency` when there is no rate)."""
    unit = 10 ** exponent(currency)
    settlement = current_app.config["STRIPE_SETTLEMENT_CURRENCY"]
    converted = fx.try_convert(Money(SUGGESTED_PLEDGE_UNITS * 10 ** exponent(settlement), settlement), currency)
    about = converted.converted.amount if converted is not None else SUGGESTED_PLEDGE_UNITS * unit
    return Money(round_nicely(about, unit), currency)


#: the round sums a suggestion may take, as tenths of a power of ten: 1, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 10
ROUND_STEPS = (10, 15, 20, 25, 30, 40, 50, 60, 70, 80, 100)


def round_up_nicely(amount: int, unit: int) -> int:
    """Up to the next round sum, at least one unit of the currency: 6,560 → 7,000; 108.42 → 150; 0.30 → 1."""
    amount = max(amount, unit)
    if amount < 10:
        return amount
    step = 10 ** (len(str(amount)) - 2)
    return next(n * step for n in ROUND_STEPS if n * step >= amount)


def round_nicely(amount: int, unit: int) -> int:
    """The round sum nearest to `amount` (by ratio: 10.82 USD is 10, not 15; 14.65 CAD is 15), at least one unit."""
    amount = max(amount, unit)
    above = round_up_nicely(amount, unit)
    if amount < 10 or above == amount:
        return above
    step = 10 ** (len(str(amount)) - 2)
    below = max(max(n * step for n in ROUND_STEPS if n * step < amount), unit)  # 10 × step ≤ amount always
    return below if amount * amount <= below * above else above


def in_campaign_currency(campaign: Campaign, typed: Money) -> tuple[Money, fx.Quote | None]:
    """A pledge typed in the backer's own currency, as it counts for the campaign: converted at the day's rate,
    half up to the campaign currency's minor unit (with the quote campaign → backer's currency). Raises
    PledgeRefused when the campaign takes only its own currency, we cannot charge in that one, or there is no rate."""
    if typed.currency == campaign.currency:
        return typed, None
    if not campaign.accepts_backer_currency:
        raise PledgeRefused(_("This campaign takes payments in %(c)s only.", c=campaign.currency))
    if typed.currency not in current_app.config["SUPPORTED_CURRENCIES"] or typed.currency not in currencies.RULES:
        raise PledgeRefused(_("We cannot charge in %(c)s.", c=typed.currency))
    try:
        quote = fx.quote(campaign.currency, typed.currency)
    except fx.RateUnavailable:
        raise PledgeRefused(_("We have no exchange rate for %(c)s today; pay in %(d)s.",
                              c=typed.currency, d=campaign.currency)) from None
    return Money.from_decimal(typed.to_decimal() / quote.rate, campaign.currency, rounding=ROUND_HALF_UP), quote


def minimum_charge(currency: str) -> minimums.Minimum:
    """The processor's minimum in `currency`, or a refusal that says why it is unknown."""
    try:
        return minimums.minimum_charge(currency)
    except fx.RateUnavailable:
        raise PledgeRefused(_("We have no exchange rate for %(c)s at the moment, so we cannot tell the smallest "
                              "payment our processor accepts in it. Please try again later.", c=currency)) from None


def check_pledge(campaign: Campaign, tier: RewardTier | None, amount: Money) -> None:
    if campaign.status != CampaignStatus.LIVE or campaign.ends_at <= utcnow():
        raise PledgeRefused(_("This campaign is not taking pledges."))
    if amount.currency != campaign.currency:
        raise PledgeRefused(_("Pledges to this campaign are in %(c)s.", c=campaign.currency))
    if tier is not None and tier.campaign_id != campaign.id:
        raise PledgeRefused(_("Choose a reward of this campaign."))
    floor = minimum_pledge(campaign, tier)
    if amount < floor:
        processor = minimum_charge(campaign.currency)
        if floor == processor.amount and processor.amount.currency != processor.settlement.currency:
            raise PledgeRefused(_("The smallest pledge here is %(min)s (≈ %(approx)s), what our payment processor "
                                  "accepts.", min=floor.format(_locale()),
                                  approx=processor.in_settlement.format(_locale())))
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
    amount, typed_quote = in_campaign_currency(campaign, req.amount)
    check_pledge(campaign, req.tier, amount)
    tip = req.tip if req.tip is not None and req.tip.amount > 0 else Money.zero(campaign.currency)
    if tip.currency != campaign.currency:
        raise PledgeRefused(_("A tip is in the campaign's currency (%(c)s).", c=campaign.currency))
    if tip > amount:
        raise PledgeRefused(_("A tip cannot be larger than the pledge itself."))
    charge, conversion = _charge_for(campaign, amount + tip, req.pay_currency)
    if typed_quote is not None and charge.currency == req.amount.currency:
        # Typed in the currency paid in: the backer pays what they typed (15.00 CAD), not its round trip through
        # the campaign's currency (10.24 EUR → 15.01 CAD); the campaign counts the conversion.
        charge = _typed_charge(req.amount, tip, typed_quote)
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
        charge_timing=timing, amount=amount.amount, currency=amount.currency, tip_amount=tip.amount,
        charge_amount=charge.amount, charge_currency=charge.currency,
        fx_rate=conversion.quote.rate if conversion else None,
        fx_date=conversion.quote.rate_date if conversion else None,
        provider=provider.name, hold_expires_at=hold_until)
    db.session.add(pledge)
    db.session.flush()
    db.session.add(PledgeEvent(pledge_id=pledge.id, from_status=None, to_status=P.PENDING, cause="backer"))
    token = access.mint(pledge.id, "checkout")  # both return URLs open the pledge's pages; its reference does not
    session = provider.create_checkout(CheckoutRequest(
        pledge_id=pledge.id, reference=pledge.reference,
        mode="payment" if timing == ChargeTiming.NOW else "setup", charge=charge, email=pledge.email,
        description=_("Pledge to “%(title)s”", title=translations.title_in(campaign, req.locale)),
        terms=None if timing == ChargeTiming.NOW else charge_terms(campaign),
        locale=req.locale,
        success_url=access.link(pledge, "checkout", token=token, checkout="done"),
        cancel_url=access.link(pledge, "checkout", "payments.checkout_cancelled", token=token),
        expires_at=session_expires, idempotency_key=pledge_key(pledge, "checkout"),
        metadata=processor_metadata(pledge), customer_id=customer_for(req.user) if req.user else None))
    pledge.checkout_session_id, pledge.checkout_url = session.id, session.url
    pledge.customer_id = session.customer_id
    db.session.flush()
    return pledge


def charge_terms(campaign: Campaign) -> str:
    """When the backer is charged, the minimum deciding for minimum-and-optimum campaigns (Stripe's terms too)."""
    return campaign_charge_terms(campaign)


def _typed_charge(typed: Money, tip: Money, quote: fx.Quote) -> Money:
    """The charge of a pledge typed in the backer's currency: what they typed, plus the tip converted."""
    if typed.currency in currencies.THREE_DECIMAL and typed.amount % 10:  # the processor takes tens of minor units
        raise PledgeRefused(_("%(code)s amounts take at most %(n)d decimals.", code=typed.currency, n=2))
    charge = typed
    if tip.amount:
        charge = charge + currencies.processor_charge(tip.to_decimal() * quote.rate, typed.currency)
    minimum = minimum_charge(typed.currency).amount
    if charge < minimum:
        raise PledgeRefused(_("In %(c)s the smallest payment is %(min)s.", c=typed.currency,
                              min=minimum.format(_locale())))
    return charge


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
    minimum = minimum_charge(pay_currency).amount
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


def pledges_of(user: User) -> list[Pledge]:
    return list(db.session.scalars(
        select(Pledge).where(Pledge.user_id == user.id, Pledge.status != P.PENDING)
        .options(db.joinedload(Pledge.campaign), db.joinedload(Pledge.tier))
        .order_by(Pledge.created_at.desc())
    ))


# -- completing a pledge that needs the backer ----------------------------------------------------
class AlreadyPaying(DomainError):
    """The backer already paid on an earlier completion page; its confirmation is on its way."""


def open_completion_checkout(pledge: Pledge):
    """A hosted on-session payment for a pledge whose charge at success needed the backer.

    Only one page can be paid: the one opened before (another tab, a second click) is expired
    first, and if the backer already paid on it, no new one opens.
    """
    provider = get_provider()
    if pledge.completion_session_id and provider.expire_checkout(pledge.completion_session_id) == "complete":
        raise AlreadyPaying(_("You have already paid: we are confirming it and will email you the receipt."))
    attempt = pledge.charge_attempts + 1
    token = access.mint(pledge.id, "complete")
    session = provider.create_checkout(CheckoutRequest(
        pledge_id=pledge.id, reference=pledge.reference, mode="payment", charge=pledge.charge, email=pledge.email,
        description=_("Pledge to “%(title)s”", title=translations.title_in(pledge.campaign, pledge.locale)),
        terms=None, locale=pledge.locale,
        success_url=access.link(pledge, "complete", token=token, checkout="done"),
        cancel_url=access.link(pledge, "complete", token=token),
        expires_at=utcnow() + timedelta(minutes=current_app.config["CHECKOUT_HOLD_MINUTES"] + 1),
        idempotency_key=pledge_key(pledge, f"complete-{attempt}"),
        metadata=processor_metadata(pledge),
        customer_id=pledge.customer_id))
    pledge.charge_attempts = attempt
    pledge.checkout_session_id, pledge.checkout_url = session.id, session.url
    pledge.completion_session_id = session.id
    return session
