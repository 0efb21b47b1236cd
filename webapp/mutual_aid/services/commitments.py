"""Standing commitments: "when a disaster is activated in region R, call me for up to AMOUNT".

A commitment brings its member into the "committed" audience of an event over its region, while
what they confirmed this calendar year stays under their yearly cap. Confirming is one button on
the call: it starts a pledge to the event's emergency fund for the committed amount (less what the
cap leaves) through the normal pledge flow, and the member is charged at that checkout, never
before. Saving the payment method in advance (Stripe's setup mode) is not built: the pledge flow
binds a saved method to a campaign, and a commitment has none until a disaster strikes.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from webapp import geo
from webapp.accounts.models import User
from webapp.campaigns.models import Campaign, CampaignStatus
from webapp.clock import utcnow
from webapp.errors import DomainError, PermissionDenied
from webapp.extensions import db
from webapp.money import Money
from webapp.mutual_aid.errors import CommitmentRefused
from webapp.mutual_aid.models import (
    Audience,
    CommitmentConfirmation,
    CommitmentState,
    DisasterEvent,
    SolidarityCall,
    StandingCommitment,
)
from webapp.payments import fx
from webapp.payments.pledging import saved_methods
from webapp.payments.pledging import services as payments
from webapp.payments.models import Pledge, PledgeStatus

#: pledges that did not, and will not, take the member's money: they do not count towards the cap
NOT_SPENT = (PledgeStatus.FAILED, PledgeStatus.EXPIRED, PledgeStatus.CANCELLED, PledgeStatus.REFUNDED,
             PledgeStatus.LAPSED, PledgeStatus.RELEASED)


def commitment_for_call(call: SolidarityCall) -> StandingCommitment | None:
    if call.audience != Audience.COMMITTED or call.commitment_id is None:
        return None
    return db.session.get(StandingCommitment, call.commitment_id)


def spent_sql(user_id_column, year: int):
    """What a member's confirmations took this year, in their commitments' currency (a scalar subquery)."""
    return (select(func.coalesce(func.sum(CommitmentConfirmation.amount), 0))
            .join(StandingCommitment, StandingCommitment.id == CommitmentConfirmation.commitment_id)
            .outerjoin(Pledge, Pledge.id == CommitmentConfirmation.pledge_id)
            .where(StandingCommitment.user_id == user_id_column, CommitmentConfirmation.year == year,
                   CommitmentConfirmation.pledge_id.is_not(None), Pledge.status.not_in(NOT_SPENT))
            .scalar_subquery())


def spent_this_year(user: User, currency: str) -> Money:
    return Money(int(db.session.scalar(select(spent_sql(user.id, utcnow().year))) or 0), currency)


def commitments_of(user: User) -> list[StandingCommitment]:
    return list(db.session.scalars(select(StandingCommitment).where(StandingCommitment.user_id == user.id)
                                   .order_by(StandingCommitment.state, StandingCommitment.id.desc())))


def create_commitment(user: User, region_code: str, max_amount: Money, yearly_cap: Money) -> StandingCommitment:
    region_code = (region_code or "").upper()
    if not geo.is_region(region_code):
        raise DomainError(_("Unknown region code: %(code)s.", code=region_code))
    if max_amount.amount <= 0:
        raise DomainError(_("The amount must be greater than zero."))
    if yearly_cap.currency != max_amount.currency or yearly_cap < max_amount:
        raise DomainError(_("The yearly cap must be at least the amount per disaster, in the same currency."))
    others = [c for c in commitments_of(user) if c.state == CommitmentState.ACTIVE]
    if any(c.currency != max_amount.currency for c in others):
        raise DomainError(_("Your other commitments are in %(c)s: the yearly cap counts them together, so use "
                            "the same currency.", c=others[0].currency))
    if any(c.region_code == region_code for c in others):
        raise DomainError(_("You already have a commitment for this region."))
    commitment = StandingCommitment(user_id=user.id, region_code=region_code, max_amount=max_amount.amount,
                                    yearly_cap_amount=yearly_cap.amount, currency=max_amount.currency,
                                    state=CommitmentState.ACTIVE)
    db.session.add(commitment)
    for other in others:  # one cap per member, across events and regions
        other.yearly_cap_amount = max(yearly_cap.amount, other.max_amount)
    db.session.flush()
    return commitment


def cancel_commitment(commitment: StandingCommitment, user: User) -> None:
    if commitment.user_id != user.id:
        raise PermissionDenied(_("This commitment is not yours."))
    commitment.state, commitment.cancelled_at = CommitmentState.CANCELLED, utcnow()
    db.session.flush()


@dataclass(frozen=True)
class Offerable:
    """What a confirmation would pledge now: the commitment's amount, or what the yearly cap leaves."""

    amount: Money
    capped: bool


def offerable(commitment: StandingCommitment) -> Offerable:
    user = db.session.get(User, commitment.user_id)
    left = commitment.yearly_cap_amount - spent_this_year(user, commitment.currency).amount
    amount = max(0, min(commitment.max_amount, left))
    return Offerable(Money(amount, commitment.currency), amount < commitment.max_amount)


def confirm(call: SolidarityCall, user: User, locale: str) -> Pledge:
    """Start the pledge a committed member confirms: the normal pledge flow, charged at its checkout.

    Clicking twice gives the same pledge while its checkout is open; one confirmation per event.
    """
    if call.user_id != user.id:
        raise PermissionDenied(_("This call is not yours."))
    commitment = commitment_for_call(call)
    if commitment is None or commitment.state != CommitmentState.ACTIVE:
        raise CommitmentRefused(_("There is no active commitment behind this call."))
    event = db.session.get(DisasterEvent, call.event_id)
    fund = db.session.get(Campaign, event.fund_campaign_id) if event.fund_campaign_id else None
    if fund is None or fund.status != CampaignStatus.LIVE or not event.takes_posts:
        raise CommitmentRefused(_("The emergency fund of this event is closed."))
    existing = db.session.scalar(select(CommitmentConfirmation).where(
        CommitmentConfirmation.commitment_id == commitment.id, CommitmentConfirmation.event_id == event.id)
        .with_for_update())
    if existing is not None and existing.pledge_id is not None:
        pledge = db.session.get(Pledge, existing.pledge_id)
        if pledge.status not in NOT_SPENT:
            return pledge  # the same checkout, or the receipt
    can = offerable(commitment)
    if can.amount.amount <= 0:
        raise CommitmentRefused(_("You reached your yearly cap of %(cap)s: thank you. Nothing will be charged.",
                                  cap=commitment.yearly_cap.format(locale)))
    amount = can.amount if can.amount.currency == fund.currency else _in_fund_currency(can.amount, fund)
    request = payments.PledgeRequest(
        campaign=fund, tier=None, amount=amount, pay_currency=can.amount.currency, email=user.email, user=user,
        display_name=user.name, anonymous=False, message=None, locale=locale,
        client_token=f"commitment-{commitment.id}-{event.id}-{secrets.token_urlsafe(8)}")
    if commitment.payment_method_id and commitment.customer_id:
        pledge = saved_methods.charge_saved_method(request, commitment.customer_id, commitment.payment_method_id)
    else:
        pledge = payments.start_pledge(request)
    if existing is None:
        existing = CommitmentConfirmation(commitment_id=commitment.id, event_id=event.id, year=utcnow().year,
                                          currency=commitment.currency, amount=can.amount.amount,
                                          charge_status="pending")
        db.session.add(existing)
    existing.amount, existing.pledge_id, existing.charge_status = can.amount.amount, pledge.id, "pending"
    db.session.flush()
    return pledge


# -- saving a payment method in advance ---------------------------------------------------------
def owner_key(commitment: StandingCommitment) -> str:
    return f"commitment:{commitment.id}"


def start_saving_method(commitment: StandingCommitment, user: User, locale: str, success_url: str,
                        cancel_url: str) -> str:
    """The processor's setup-mode page for this commitment; returns its URL. Nothing is charged."""
    if commitment.user_id != user.id:
        raise PermissionDenied(_("This commitment is not yours."))
    if commitment.state == CommitmentState.CANCELLED:
        raise CommitmentRefused(_("This commitment is cancelled."))
    terms = _("Nothing is charged now. When a disaster is activated in %(region)s, we will ask you to confirm a "
              "gift of up to %(amount)s; only your confirmation charges this card.",
              region=geo.region_name(commitment.region_code, locale), amount=commitment.max.format(locale))
    session = saved_methods.start_setup(owner_key(commitment), user.email, commitment.currency, terms, locale,
                                        success_url, cancel_url, user=user)
    commitment.checkout_session_id = session.id[:255]
    db.session.flush()
    return session.url


def method_saved(key: str, customer_id: str | None, payment_method_id: str | None) -> None:
    """The processor saved the member's method (listener of payments.pledging.saved_methods)."""
    commitment = db.session.get(StandingCommitment, int(key.split(":", 1)[1]))
    if commitment is None:
        return
    commitment.customer_id = customer_id or commitment.customer_id
    commitment.payment_method_id = payment_method_id or commitment.payment_method_id
    db.session.flush()


def _in_fund_currency(amount: Money, fund: Campaign) -> Money:
    try:
        # Rounded down: the member is never charged more than they committed.
        return fx.convert(amount, fund.currency, rounding="ROUND_DOWN").converted
    except fx.RateUnavailable:
        raise CommitmentRefused(_("We have no exchange rate for %(c)s today; give to the fund in %(d)s from its "
                                  "page.", c=amount.currency, d=fund.currency)) from None
