"""Recurring support: start a gift, renew each period off-session at most once, chase what needs the supporter.

The platform's own scheduler over the off-session charging pledges already use (no Stripe Billing):
the first period is paid on Checkout with the method saved for later, each renewal is a
PaymentIntent off-session whose idempotency key and metadata name the support and the period.
Before each renewal the processor is asked what it already holds for that period, so an answer
lost in a crash is recorded, never repeated. Functions flush; batches.py commits once per support.
"""
from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from webapp.accounts.models import User
from webapp.campaigns.models import Campaign, CampaignStatus
from webapp.clock import utcnow
from webapp.errors import DomainError, PermissionDenied
from webapp.extensions import db
from webapp.i18n import locale_code
from webapp.ledger import services as ledger
from webapp.mail import queue_email
from webapp.money import Money
from webapp.organizations.models import Organization
from webapp.payments import bookkeeping, currencies, fx, minimums, settlements
from webapp.payments.pledging.customers import customer_for
from webapp.payments.providers import get_provider
from webapp.payments.providers.base import CheckoutRequest, PaymentAttempt
from webapp.payments.recurring import schedule
from webapp.payments.recurring.models import (
    ChargeStatus,
    RecurringCharge,
    RecurringSupport,
    SupporterMethod,
    SupportInterval,
    SupportState,
)

log = logging.getLogger(__name__)
S, C = SupportState, ChargeStatus
SUPPORT_KEY, PERIOD_KEY = "recurring_support_id", "recurring_period"
#: owner-key prefix of a card change (payments.pledging.saved_methods): "supporter:<user id>"
CARD_OWNER = "supporter:"


class SupportRefused(DomainError):
    """The gift cannot be started or changed as asked; the message says why."""


class InvalidSupportTransition(DomainError):
    """A move the support's state machine does not allow (a cancelled gift never resumes)."""


#: the state machine: what each state may become
TRANSITIONS: dict[SupportState, frozenset[SupportState]] = {
    S.PENDING: frozenset({S.ACTIVE, S.CANCELLED}),
    S.ACTIVE: frozenset({S.NEEDS_ACTION, S.PAUSED, S.CANCELLED}),
    S.NEEDS_ACTION: frozenset({S.ACTIVE, S.PAUSED, S.CANCELLED}),
    S.PAUSED: frozenset({S.ACTIVE, S.CANCELLED}),
    S.CANCELLED: frozenset(),
}

#: higher domains (memberships) told of each change: name → called with (support, what happened)
_LISTENERS: dict[str, Callable[[RecurringSupport, str], None]] = {}


@dataclass(frozen=True)
class FundTarget:
    """A pooled fund a gift may be directed to, as the domain that keeps funds (webapp.governance) describes it."""

    id: int
    organization_id: int
    name: str
    currency: str


#: the higher domain that keeps pooled funds registers how to list an organization's open ones
_FUND_FINDERS: dict[str, Callable[[int], list[FundTarget]]] = {}


def on_fund_targets(name: str, finder: Callable[[int], list[FundTarget]]) -> None:
    _FUND_FINDERS[name] = finder


def fund_targets(organization_id: int) -> list[FundTarget]:
    """The open pooled funds of an organization a gift may go to (none when no domain keeps funds)."""
    return [t for finder in _FUND_FINDERS.values() for t in finder(organization_id)]


def fund_target(organization_id: int, fund_id: int | None) -> FundTarget | None:
    return next((t for t in fund_targets(organization_id) if t.id == fund_id), None) if fund_id else None


def on_support_changed(name: str, listener: Callable[[RecurringSupport, str], None]) -> None:
    _LISTENERS[name] = listener


def _tell(support: RecurringSupport, what: str) -> None:
    for listener in _LISTENERS.values():
        listener(support, what)


def move(support: RecurringSupport, target: SupportState, cause: str) -> bool:
    if support.state == target:
        return False
    if target not in TRANSITIONS[support.state]:
        raise InvalidSupportTransition(_("This gift cannot go from %(a)s to %(b)s.", a=support.state.value,
                                         b=target.value))
    log.info("recurring support %s: %s → %s (%s)", support.id, support.state, target, cause)
    support.state = target
    now = utcnow()
    if target == S.ACTIVE:
        support.activated_at = support.activated_at or now
        support.needs_action_since = support.reminded_at = None
        support.paused_at = None
    elif target == S.PAUSED:
        support.paused_at = now
    elif target == S.CANCELLED:
        support.cancelled_at = now
    _tell(support, target.value)
    return True


# -- keys and metadata -----------------------------------------------------------------------
def charge_key(support: RecurringSupport, period: str, action: str) -> str:
    """Built from the schedule: the support (its random reference too, against reused ids) and the period."""
    return f"recurring-{support.id}-{support.reference}-{period}-{action}"


def processor_metadata(support: RecurringSupport, period: str) -> dict[str, str]:
    return {SUPPORT_KEY: str(support.id), PERIOD_KEY: period, "organization_id": str(support.organization_id)}


# -- starting a gift -------------------------------------------------------------------------
def _rule(currency: str) -> currencies.CurrencyRule:
    try:
        return currencies.rule(currency)
    except currencies.UnsupportedCurrency:
        raise SupportRefused(_("This currency cannot be charged.")) from None


def minimum(currency: str) -> Money:
    return Money(_rule(currency).minimum, currency)


def check_amount(amount: Money) -> None:
    try:
        currencies.processor_amount(amount)
    except ValueError:
        raise SupportRefused(_("This amount cannot be charged in %(currency)s.", currency=amount.currency)) from None
    if amount.amount <= 0:
        raise SupportRefused(_("The amount must be greater than zero."))
    floor = minimum(amount.currency)
    if amount < floor:
        raise SupportRefused(_("The smallest gift in %(currency)s is %(amount)s.", currency=amount.currency,
                               amount=floor.format(locale_code())))
    if amount.amount > _rule(amount.currency).maximum:
        raise SupportRefused(_("The largest gift in %(currency)s is %(amount)s.", currency=amount.currency,
                               amount=Money(_rule(amount.currency).maximum, amount.currency).format(locale_code())))


def target_currency(organization: Organization, campaign: Campaign | None = None,
                    fund: FundTarget | None = None) -> str:
    """What a gift to the organization (or its ongoing campaign, or its pooled fund) is booked in."""
    if fund is not None:
        return fund.currency
    return campaign.currency if campaign is not None else organization.currency


def accepts_other_currencies(organization: Organization, campaign: Campaign | None = None) -> bool:
    return campaign.accepts_backer_currency if campaign is not None else organization.accepts_supporter_currency


def check_currency(organization: Organization, campaign: Campaign | None, amount: Money,
                   fund: FundTarget | None = None) -> None:
    """The organization's currency (its campaign's, its fund's), or the supporter's where it accepts it: chargeable,
    with a rate, above the processor's minimum in it (as for a pledge paid in the backer's currency)."""
    target = target_currency(organization, campaign, fund)
    if amount.currency == target:
        return
    if not accepts_other_currencies(organization, campaign):
        name = fund.name if fund else campaign.title if campaign else organization.name
        raise SupportRefused(_("Gifts to %(name)s are in %(c)s only.", name=name, c=target))
    if amount.currency not in current_app.config["SUPPORTED_CURRENCIES"] or amount.currency not in currencies.RULES:
        raise SupportRefused(_("This currency cannot be charged."))
    try:
        fx.quote(amount.currency, target)
        floor = minimums.minimum_charge(amount.currency).amount
    except fx.RateUnavailable:
        raise SupportRefused(_("We have no exchange rate for %(c)s today; give in %(d)s.", c=amount.currency,
                               d=target)) from None
    if amount < floor:
        raise SupportRefused(_("In %(c)s the smallest payment is %(min)s.", c=amount.currency,
                               min=floor.format(locale_code())))


def check_tip(amount: Money, tip: Money | None) -> Money:
    """The optional tip to the platform, as for pledges: in the gift's currency, never larger than the gift."""
    if tip is None or tip.amount == 0:
        return Money.zero(amount.currency)
    if tip.currency != amount.currency:
        raise SupportRefused(_("A tip is in the gift's currency (%(c)s).", c=amount.currency))
    if tip.amount < 0:
        raise SupportRefused(_("A tip cannot be negative."))
    if tip > amount:
        raise SupportRefused(_("A tip cannot be larger than the gift itself."))
    try:
        currencies.processor_amount(amount + tip)
    except ValueError:
        raise SupportRefused(_("This amount cannot be charged in %(currency)s.", currency=amount.currency)) from None
    return tip


def start(user: User, organization: Organization, amount: Money, interval: SupportInterval, timezone: str,
          locale: str, *, campaign: Campaign | None = None, now: datetime | None = None,
          tip: Money | None = None, fund: FundTarget | None = None) -> RecurringSupport:
    """Record a pending gift whose first period is today (in the supporter's zone); its checkout opens next.

    `fund`: one of the organization's open pooled funds (`fund_targets`): each period is booked into it."""
    now = now or utcnow()
    check_amount(amount)
    if not schedule.valid_timezone(timezone):
        raise SupportRefused(_("Unknown time zone: choose one from the list."))
    if campaign is not None and (campaign.organization_id != organization.id or not campaign.ongoing
                                 or campaign.status != CampaignStatus.LIVE):
        raise SupportRefused(_("This campaign does not take monthly or yearly support."))
    if fund is not None and (campaign is not None or fund_target(organization.id, fund.id) != fund):
        raise SupportRefused(_("This pooled fund does not take monthly or yearly support."))
    check_currency(organization, campaign, amount, fund)
    tip = check_tip(amount, tip)
    today = schedule.local_today(timezone, now)
    period = schedule.period_of(today, interval)
    support = RecurringSupport(
        reference=secrets.token_urlsafe(12), user_id=user.id, organization_id=organization.id,
        campaign_id=campaign.id if campaign else None, pooled_fund_id=fund.id if fund else None,
        amount=amount.amount, currency=amount.currency,
        tip_amount=tip.amount, booked_in=target_currency(organization, campaign, fund), interval=interval, anchor_day=today.day, anchor_month=today.month,
        timezone=timezone, locale=locale, state=S.PENDING, next_period=period, next_charge_on=today,
        next_charge_at=now)
    db.session.add(support)
    db.session.flush()
    return support


def open_checkout(support: RecurringSupport, success_url: str, cancel_url: str) -> str:
    """The hosted page for the period due (the first, or one that needs the supporter): paid now, method saved.

    Returns its URL. The payment succeeding (payment_intent.succeeded) is what records the charge.
    """
    if support.state not in (S.PENDING, S.NEEDS_ACTION):
        raise SupportRefused(_("This gift has nothing to pay now."))
    user = db.session.get(User, support.user_id)
    charge = charge_for(support, support.next_period, "checkout")
    charge.attempts += 1
    provider = get_provider()
    if support.checkout_session_id:
        try:
            provider.expire_checkout(support.checkout_session_id)  # only one page can be paid
        except Exception:  # noqa: BLE001  (an old page that will not close is not a reason to refuse)
            log.warning("recurring support %s: could not expire %s", support.id, support.checkout_session_id)
    session = provider.create_checkout(CheckoutRequest(
        pledge_id=0, reference=support.reference, mode="payment", charge=charge.total, email=user.email,
        description=describe(support), terms=None, locale=support.locale, success_url=success_url,
        cancel_url=cancel_url, expires_at=utcnow() + timedelta(minutes=current_app.config["CHECKOUT_HOLD_MINUTES"] + 1),
        idempotency_key=charge_key(support, support.next_period, f"checkout-{charge.attempts}"),
        metadata=processor_metadata(support, support.next_period), customer_id=customer_for(user),
        save_for_off_session=True))
    support.checkout_session_id = session.id
    db.session.flush()
    return session.url


def describe(support: RecurringSupport) -> str:
    name = target_name(support)
    if support.interval == SupportInterval.MONTHLY:
        return _("Monthly support to %(name)s", name=name)
    return _("Yearly support to %(name)s", name=name)


def charge_for(support: RecurringSupport, period: str, kind: str) -> RecurringCharge:
    """The period's charge row, created once (the unique (support, period) refuses a second)."""
    charge = db.session.scalar(select(RecurringCharge).where(RecurringCharge.support_id == support.id,
                                                             RecurringCharge.period == period))
    if charge is None:
        charge = RecurringCharge(support_id=support.id, period=period, kind=kind, amount=support.amount,
                                 currency=support.currency, tip_amount=support.tip_amount or 0, provider=get_provider().name,
                                 due_on=schedule.due_date(period, support.interval, support.anchor_day,
                                                          support.anchor_month), attempts=0)
        db.session.add(charge)
        db.session.flush()
    return charge


# -- the schedule ----------------------------------------------------------------------------
def advance(support: RecurringSupport, paid_period: str) -> None:
    """The period is paid (or on its way): the next one is due. Only ever one step, from the period paid."""
    if support.next_period != paid_period:
        return  # already advanced past it (a replayed event), or a later period's event came first
    period = schedule.following(paid_period, support.interval)
    taken = set(db.session.scalars(select(RecurringCharge.period).where(
        RecurringCharge.support_id == support.id, RecurringCharge.period >= period,
        RecurringCharge.status.in_((C.SUCCEEDED, C.PROCESSING)))))
    while period in taken:  # events that arrived out of order already paid the periods after it
        period = schedule.following(period, support.interval)
    support.next_period = period
    _set_due(support)


def _set_due(support: RecurringSupport) -> None:
    day = schedule.due_date(support.next_period, support.interval, support.anchor_day, support.anchor_month)
    support.next_charge_on, support.next_charge_at = day, schedule.charge_moment(day, support.timezone)


def due(now: datetime | None = None) -> list[int]:
    """Active supports whose next period's moment has come."""
    now = now or utcnow()
    return list(db.session.scalars(select(RecurringSupport.id).where(
        RecurringSupport.state == S.ACTIVE, RecurringSupport.next_charge_at <= now).order_by(RecurringSupport.id)))


# -- renewing off-session --------------------------------------------------------------------
TAKEN, IN_FLIGHT, WAITS = "succeeded", frozenset({"processing", "requires_capture"}), frozenset(
    {"requires_action", "requires_confirmation"})


def renew(support: RecurringSupport, before_request: Callable[[], None] = lambda: None) -> RecurringCharge | None:
    """Charge the period due on the supporter's saved method; the caller holds the support's row lock.

    At most once per period: the (support, period) row is unique, the processor is asked first what it
    holds for that period (a crash may have lost its answer), and the key repeats the same attempt.
    """
    if support.state != S.ACTIVE:
        return None
    period = support.next_period
    charge = charge_for(support, period, "renewal")
    if charge.status == C.SUCCEEDED or charge.status == C.PROCESSING:
        advance(support, period)
        return charge
    method = saved_method(support.user_id)
    if method is None:
        needs_action(support, charge, "no_method", None)
        return charge
    provider = get_provider()
    before_request()
    earlier = provider.attempts_with(method.customer_id, {SUPPORT_KEY: str(support.id), PERIOD_KEY: period},
                                     support.created_at)
    if _follow_earlier(support, charge, earlier):
        return charge
    attempt = max([charge.attempts] + [a.attempt or 0 for a in earlier]) + 1
    before_request()
    result = provider.charge_off_session(
        method.customer_id, method.payment_method_id, charge.total,
        idempotency_key=charge_key(support, period, f"charge-{attempt}"),
        metadata={**processor_metadata(support, period), "charge_attempt": str(attempt)},
        description=describe(support))
    charge.attempts = attempt
    charge.payment_intent_id = result.payment_intent_id or charge.payment_intent_id
    if result.status == "succeeded":
        paid(support, charge, result.payment_intent_id, None, f"renewal attempt {attempt}")
    elif result.status in IN_FLIGHT:
        on_its_way(support, charge)
    else:
        needs_action(support, charge, result.failure_code or "failed", result.failure_message)
    db.session.flush()
    return charge


def on_its_way(support: RecurringSupport, charge: RecurringCharge) -> None:
    """A bank debit: never charged again for this period; the next one is due. Rechecked if its events are lost."""
    charge.status = C.PROCESSING
    charge.processing_since = charge.processing_since or utcnow()
    advance(support, charge.period)


def _follow_earlier(support: RecurringSupport, charge: RecurringCharge, earlier: list[PaymentAttempt]) -> bool:
    for statuses, outcome in ((frozenset({TAKEN}), "taken"), (IN_FLIGHT, "in flight"), (WAITS, "supporter")):
        found = next((a for a in earlier if a.status in statuses), None)
        if found is None:
            continue
        log.warning("recurring support %s period %s: earlier payment %s is %s; no new attempt", support.id,
                    charge.period, found.payment_intent_id, found.status)
        charge.payment_intent_id = found.payment_intent_id
        charge.attempts = max(charge.attempts, found.attempt or 0)
        if outcome == "taken":
            paid(support, charge, found.payment_intent_id, None, f"earlier payment {found.payment_intent_id}")
        elif outcome == "in flight":
            on_its_way(support, charge)
        else:
            needs_action(support, charge, found.failure_code or "authentication_required", found.failure_message)
        return True
    return False


def paid(support: RecurringSupport, charge: RecurringCharge, payment_intent_id: str | None, charge_id: str | None,
         cause: str) -> None:
    """The period's money is taken: book it once, make the gift active, move to the next period."""
    first = charge.status != C.SUCCEEDED
    charge.status = C.SUCCEEDED
    charge.payment_intent_id = payment_intent_id or charge.payment_intent_id
    charge.charge_id = charge_id or charge.charge_id
    charge.paid_at = charge.paid_at or utcnow()
    charge.failure_code = charge.failure_reason = None
    charge.processing_since = None
    book(support, charge)
    settlements.record(charge)  # the fee and net, when the processor has booked them (else charge.updated, the job)
    if support.state in (S.PENDING, S.NEEDS_ACTION):
        move(support, S.ACTIVE, cause)
    if support.state != S.CANCELLED:
        advance(support, charge.period)
    if first:
        user = db.session.get(User, support.user_id)
        queue_email("recurring_receipt", user.email, support.locale, support=support, charge=charge,
                    name=target_name(support), link=url_for("recurring.mine", _external=True))
        _tell(support, "paid")


def conversion(support: RecurringSupport, charge: RecurringCharge) -> fx.Conversion | None:
    """The rate a renewal in another currency is booked at: the latest rate on or before the day it was paid
    (the day's rate, as a pledge's at its checkout); None when the gift is in the booked currency."""
    target = support.booked_currency
    if charge.currency == target:
        return None
    day = (charge.paid_at or utcnow()).date()
    try:
        return fx.convert(charge.money, target, on=day)
    except fx.RateUnavailable:  # no rate as old as the payment: the oldest we have is the nearest
        return fx.convert(charge.money, target)


def book(support: RecurringSupport, charge: RecurringCharge) -> None:
    """Like a pledge's charge: the processor holds the money for the organization (or its ongoing campaign), in
    its currency (converted, the charge kept as the processor's figure); the tip apart, the platform's."""
    credit = bookkeeping.support_account(support)
    converted = conversion(support, charge)
    if converted is not None:
        charge.fx_rate, charge.fx_date = converted.quote.rate, converted.quote.rate_date
    ref = charge.charge_id or charge.payment_intent_id
    ledger.book(key=f"charge:recurring:{support.id}:{charge.period}", kind="recurring_charge",
                debit=ledger.processor(charge.provider), credit=credit,
                money=converted.converted if converted else charge.money,
                cause=f"recurring:{support.id}", campaign_id=support.campaign_id,
                memo="Recurring support",  # never the supporter's name: ledger rows outlive an erasure
                processor_ref=ref, processor_money=charge.money if converted else None,
                occurred_at=charge.paid_at)
    if charge.tip_amount:
        tip = charge.tip
        in_booked = (Money.from_decimal(tip.to_decimal() * converted.quote.rate, converted.converted.currency,
                                       rounding=ROUND_HALF_UP)
                     if converted else tip)
        ledger.book(key=f"tip:recurring:{support.id}:{charge.period}", kind="tip",
                    debit=ledger.processor(charge.provider), credit=ledger.PLATFORM_REVENUE, money=in_booked,
                    cause=f"recurring:{support.id}", campaign_id=None, memo="Tip to the platform",
                    processor_ref=ref, processor_money=tip if converted else None, occurred_at=charge.paid_at)


# -- when the supporter is needed ------------------------------------------------------------
#: the processor's refusal codes, explained with what to do (in the supporter's language)
EXPLANATIONS = {
    "authentication_required": _l("Your bank asks you to confirm this payment yourself (secure authentication)."),
    "card_declined": _l("Your bank declined the payment."),
    "insufficient_funds": _l("Your bank declined the payment: the card's funds were insufficient."),
    "expired_card": _l("Your card has expired."),
    "incorrect_cvc": _l("Your bank refused the card's security code."),
    "no_method": _l("We have no card saved for your monthly and yearly gifts."),
}
DEFAULT_EXPLANATION = _l("The payment could not be made.")


def explain(code: str | None) -> str:
    return str(EXPLANATIONS.get(code or "", DEFAULT_EXPLANATION))


def needs_action(support: RecurringSupport, charge: RecurringCharge, code: str, message: str | None) -> None:
    charge.status = C.NEEDS_ACTION
    charge.failure_code, charge.failure_reason = code[:60], message
    support.failure_code, support.failure_reason = code[:60], message
    if move(support, S.NEEDS_ACTION, f"renewal {charge.period}: {code}"):
        support.needs_action_since = support.reminded_at = utcnow()
        _ask(support, charge, reminder=False)


def _ask(support: RecurringSupport, charge: RecurringCharge, reminder: bool) -> None:
    user = db.session.get(User, support.user_id)
    pause_on = (support.needs_action_since or utcnow()) + timedelta(
        days=current_app.config["RECURRING_PAUSE_AFTER_DAYS"])
    with force_locale(support.locale):
        why = explain(support.failure_code)
    queue_email("recurring_needs_action", user.email, support.locale, support=support, charge=charge,
                name=target_name(support), why=why, reminder=reminder, pause_on=pause_on,
                link=url_for("recurring.complete", reference=support.reference, _external=True))


def chase(now: datetime | None = None) -> tuple[int, int]:
    """Remind every RECURRING_REMINDER_HOURS; after RECURRING_PAUSE_AFTER_DAYS the gift pauses (never silently)."""
    now = now or utcnow()
    cfg = current_app.config
    pause_after, every = timedelta(days=cfg["RECURRING_PAUSE_AFTER_DAYS"]), timedelta(hours=cfg["RECURRING_REMINDER_HOURS"])
    reminded = paused = 0
    for support in db.session.scalars(select(RecurringSupport).where(RecurringSupport.state == S.NEEDS_ACTION)
                                      .with_for_update(skip_locked=True)).all():
        charge = charge_for(support, support.next_period, "renewal")
        if support.needs_action_since and now - support.needs_action_since >= pause_after:
            charge.status = C.ABANDONED
            move(support, S.PAUSED, "no action in time")
            user = db.session.get(User, support.user_id)
            queue_email("recurring_paused", user.email, support.locale, support=support, name=target_name(support),
                        link=url_for("recurring.mine", _external=True))
            paused += 1
        elif support.reminded_at is None or now - support.reminded_at >= every:
            support.reminded_at = now
            _ask(support, charge, reminder=True)
            reminded += 1
    db.session.flush()
    return reminded, paused


def send_yearly_notices(now: datetime | None = None) -> int:
    """Each active yearly gift, RECURRING_YEARLY_NOTICE_DAYS before its renewal: one notice per period."""
    now = now or utcnow()
    horizon = now + timedelta(days=current_app.config["RECURRING_YEARLY_NOTICE_DAYS"])
    sent = 0
    for support in db.session.scalars(select(RecurringSupport).where(
            RecurringSupport.state == S.ACTIVE, RecurringSupport.interval == SupportInterval.YEARLY,
            RecurringSupport.next_charge_at <= horizon, RecurringSupport.next_charge_at > now)
            .with_for_update(skip_locked=True)).all():
        if support.notice_sent_for == support.next_period:
            continue
        support.notice_sent_for = support.next_period
        user = db.session.get(User, support.user_id)
        queue_email("recurring_yearly_notice", user.email, support.locale, support=support, name=target_name(support),
                    link=url_for("recurring.mine", _external=True))
        sent += 1
    db.session.flush()
    return sent


# -- the processor's events ------------------------------------------------------------------
def find(obj: dict) -> tuple[RecurringSupport, str] | None:
    """The support (locked) and period an object's metadata names, or None."""
    from webapp.ids import parse_id

    metadata = obj.get("metadata") or {}
    support_id, period = parse_id(metadata.get(SUPPORT_KEY)), metadata.get(PERIOD_KEY)
    if support_id is None or not isinstance(period, str) or not _period_shape(period):
        return None
    support = db.session.get(RecurringSupport, support_id, with_for_update=True)
    return (support, period) if support is not None else None


def _period_shape(period: str) -> bool:
    if len(period) == 4:
        return period.isdigit()
    return len(period) == 7 and period[4] == "-" and period[:4].isdigit() and period[5:].isdigit() \
        and 1 <= int(period[5:]) <= 12


def is_recurring(obj: dict) -> bool:
    return SUPPORT_KEY in (obj.get("metadata") or {})


def payment_succeeded(obj: dict, cause: str) -> None:
    """payment_intent.succeeded of a first payment, a completion or a renewal: in any order, any number of times."""
    found = find(obj)
    if found is None:
        log.warning("%s: no recurring support for %s", cause, obj.get("metadata"))
        return
    support, period = found
    charge = charge_for(support, period, "checkout" if support.state == S.PENDING else "renewal")
    method_id = obj.get("payment_method")
    method_id = method_id.get("id") if isinstance(method_id, dict) else method_id
    customer = obj.get("customer")
    customer = customer.get("id") if isinstance(customer, dict) else customer
    if method_id and customer and (obj.get("setup_future_usage") == "off_session" or charge.kind == "checkout"):
        save_method(support.user_id, customer, method_id, cause)
    latest = obj.get("latest_charge")
    paid(support, charge, obj.get("id"), latest.get("id") if isinstance(latest, dict) else latest, cause)


def payment_failed(obj: dict, cause: str) -> None:
    """A renewal's bank debit bounced (cards answer at once): the supporter is asked, as for a declined card."""
    found = find(obj)
    if found is None:
        return
    support, period = found
    error = obj.get("last_payment_error") or {}
    debit_bounced(support, charge_for(support, period, "renewal"), error.get("code") or "failed", error.get("message"))


def debit_bounced(support: RecurringSupport, charge: RecurringCharge, code: str, message: str | None) -> None:
    """A debit on its way came back unpaid: the period is due again and the supporter is asked."""
    if charge.status != C.PROCESSING or support.state == S.CANCELLED:
        return  # a card refused on the hosted page: the supporter is still there and tries another
    charge.processing_since = None
    support.next_period = charge.period
    _set_due(support)
    needs_action(support, charge, code, message)


def processing_too_long(now: datetime | None = None) -> list[int]:
    """Periods whose bank debit has been on its way longer than PROCESSING_RECHECK_DAYS (their events lost?)."""
    since = (now or utcnow()) - timedelta(days=current_app.config["PROCESSING_RECHECK_DAYS"])
    return list(db.session.scalars(select(RecurringCharge.id).where(
        RecurringCharge.status == C.PROCESSING, RecurringCharge.payment_intent_id.is_not(None),
        db.func.coalesce(RecurringCharge.processing_since, RecurringCharge.created_at) <= since)
        .order_by(RecurringCharge.id)))


def recheck(support: RecurringSupport, charge: RecurringCharge) -> str | None:
    """Ask the processor where a debit in flight stands and apply it as its webhook would; returns its status."""
    found = get_provider().payment_attempt(charge.payment_intent_id)
    if found is None:
        log.error("recurring charge %s is processing but the processor knows no payment %s", charge.id,
                  charge.payment_intent_id)
        return None
    if found.status == TAKEN:
        paid(support, charge, found.payment_intent_id, None, f"recheck: {found.payment_intent_id} succeeded")
    elif found.status in ("requires_payment_method", "canceled") or found.status in WAITS:
        debit_bounced(support, charge, found.failure_code or found.status, found.failure_message)
    else:
        log.info("recurring charge %s: %s still %s", charge.id, found.payment_intent_id, found.status)
    db.session.flush()
    return found.status


def charge_paid_by(payment_intent_id: str | None, charge_id: str | None,
                   obj: dict | None = None) -> RecurringCharge | None:
    """The paid period of a recurring gift a processor's charge (or its intent) paid, locked; None if none did.

    A charge carries its intent's metadata (the support and the period): a paid period is found by it too,
    before the payment's own event has told us its ids."""
    conditions = [column == value for column, value in ((RecurringCharge.payment_intent_id, payment_intent_id),
                                                        (RecurringCharge.charge_id, charge_id)) if value]
    charge = db.session.scalar(select(RecurringCharge).where(db.or_(*conditions)).with_for_update()) \
        if conditions else None
    if charge is None and obj is not None and is_recurring(obj):
        found = find(obj)
        if found is not None:
            charge = db.session.scalar(select(RecurringCharge).where(
                RecurringCharge.support_id == found[0].id, RecurringCharge.period == found[1]).with_for_update())
    if charge is None or charge.status != C.SUCCEEDED:
        return None  # not paid yet as far as we know: its payment's events are still on their way
    charge.payment_intent_id = charge.payment_intent_id or payment_intent_id
    charge.charge_id = charge.charge_id or charge_id
    return charge


def checkout_expired(obj: dict, cause: str) -> None:
    """The first payment's page ran out unpaid: the gift never started."""
    support = db.session.scalar(select(RecurringSupport).where(RecurringSupport.checkout_session_id == obj.get("id"))
                                .with_for_update())
    if support is not None and support.state == S.PENDING:
        move(support, S.CANCELLED, cause)


# -- the supporter's saved method ------------------------------------------------------------
def saved_method(user_id: int) -> SupporterMethod | None:
    return db.session.scalar(select(SupporterMethod).where(SupporterMethod.user_id == user_id,
                                                           SupporterMethod.provider == get_provider().name))


def save_method(user_id: int, customer_id: str, payment_method_id: str, cause: str) -> None:
    """The one method all the supporter's gifts are charged on; a new card replaces it for all."""
    method = saved_method(user_id)
    if method is None:
        method = SupporterMethod(user_id=user_id, provider=get_provider().name, customer_id=customer_id,
                                 payment_method_id=payment_method_id)
        db.session.add(method)
    elif method.payment_method_id != payment_method_id:
        log.info("supporter %s: card changed (%s)", user_id, cause)
        method.customer_id, method.payment_method_id = customer_id, payment_method_id
        method.brand = method.last4 = None
    if method.last4 is None:
        method.brand, method.last4 = get_provider().method_label(payment_method_id)
    method.updated_at = utcnow()
    db.session.flush()


def card_saved(owner_key: str, customer_id: str | None, payment_method_id: str | None) -> None:
    """Listener of saved_methods: a card change ("supporter:<id>") saved on the processor's setup page."""
    if not customer_id or not payment_method_id:
        return  # checkout.session.completed names no method; setup_intent.succeeded does
    user_id = int(owner_key.split(":", 1)[1])
    if db.session.get(User, user_id) is None:
        return
    save_method(user_id, customer_id, payment_method_id, owner_key)


def start_card_change(user: User, locale: str, success_url: str, cancel_url: str) -> str:
    from webapp.payments.pledging import saved_methods

    supports = supports_of(user)
    currency = next((s.currency for s in supports if s.state != S.CANCELLED), "EUR")
    terms = _("This card will be charged for all your monthly and yearly gifts from now on. Nothing is charged now.")
    session = saved_methods.start_setup(f"{CARD_OWNER}{user.id}", user.email, currency, terms, locale, success_url,
                                        cancel_url, user=user)
    return session.url


# -- the supporter in control ----------------------------------------------------------------
def supports_of(user: User) -> list[RecurringSupport]:
    return list(db.session.scalars(select(RecurringSupport).where(RecurringSupport.user_id == user.id)
                                   .order_by(RecurringSupport.created_at.desc(), RecurringSupport.id.desc())))


def by_reference(reference: str) -> RecurringSupport | None:
    return db.session.scalar(select(RecurringSupport).where(RecurringSupport.reference == reference))


def _own(support: RecurringSupport, user: User) -> None:
    if support.user_id != user.id:
        raise PermissionDenied(_("This gift is not yours."))


def _lock(support: RecurringSupport) -> None:
    """Wait for a renewal in flight (it holds the row) and read what it left."""
    db.session.refresh(support, with_for_update=True)


def cancel(support: RecurringSupport, user: User) -> None:
    """At once and for good: a renewal in flight finishes first (the row lock), none starts after."""
    _own(support, user)
    _lock(support)
    if support.state == S.CANCELLED:
        return
    pending = db.session.scalar(select(RecurringCharge).where(
        RecurringCharge.support_id == support.id, RecurringCharge.period == support.next_period,
        RecurringCharge.status.in_((C.PENDING, C.NEEDS_ACTION))))
    if pending is not None:
        pending.status = C.ABANDONED
    move(support, S.CANCELLED, f"supporter {user.id}")
    db.session.flush()


def pause(support: RecurringSupport, user: User) -> None:
    _own(support, user)
    _lock(support)
    if support.state not in (S.ACTIVE, S.NEEDS_ACTION):
        raise SupportRefused(_("Only an active gift can be paused."))
    pending = db.session.scalar(select(RecurringCharge).where(
        RecurringCharge.support_id == support.id, RecurringCharge.period == support.next_period,
        RecurringCharge.status.in_((C.PENDING, C.NEEDS_ACTION))))
    if pending is not None:
        pending.status = C.ABANDONED
    move(support, S.PAUSED, f"supporter {user.id}")
    db.session.flush()


def resume(support: RecurringSupport, user: User, now: datetime | None = None) -> None:
    """Renews again from the first period not yet past; the periods paused are never charged."""
    _own(support, user)
    _lock(support)
    if support.state != S.PAUSED:
        raise SupportRefused(_("Only a paused gift can be resumed."))
    now = now or utcnow()
    today = schedule.local_today(support.timezone, now)
    period = schedule.period_of(today, support.interval)
    while True:
        day = schedule.due_date(period, support.interval, support.anchor_day, support.anchor_month)
        existing = db.session.scalar(select(RecurringCharge.status).where(
            RecurringCharge.support_id == support.id, RecurringCharge.period == period))
        if day >= today and existing in (None, C.PENDING):
            break
        period = schedule.following(period, support.interval)
    support.next_period = period
    _set_due(support)
    move(support, S.ACTIVE, f"supporter {user.id} resumed")
    db.session.flush()


def change_amount(support: RecurringSupport, user: User, amount: Money) -> None:
    """From the next period on; a period already charged keeps its amount."""
    _own(support, user)
    _lock(support)
    if support.state == S.CANCELLED:
        raise SupportRefused(_("This gift is cancelled."))
    if amount.currency != support.currency:
        raise SupportRefused(_("The amount must be in %(currency)s.", currency=support.currency))
    check_amount(amount)
    support.amount = amount.amount
    pending = db.session.scalar(select(RecurringCharge).where(
        RecurringCharge.support_id == support.id, RecurringCharge.period == support.next_period,
        RecurringCharge.status == C.PENDING))
    if pending is not None and pending.attempts == 0:
        pending.amount = amount.amount
    db.session.flush()


def charges_of(support: RecurringSupport, limit: int = 24) -> list[RecurringCharge]:
    return list(db.session.scalars(select(RecurringCharge).where(RecurringCharge.support_id == support.id)
                                   .order_by(RecurringCharge.period.desc()).limit(limit)))


# -- ongoing campaigns -----------------------------------------------------------------------
def live_campaigns(organization: Organization) -> list[Campaign]:
    return list(db.session.scalars(select(Campaign).where(Campaign.organization_id == organization.id,
                                                          Campaign.status == CampaignStatus.LIVE)
                                   .order_by(Campaign.title, Campaign.id)))


def set_ongoing(campaign: Campaign, actor: User, ongoing: bool) -> None:
    """An editor of its organization marks a live campaign as taking monthly and yearly gifts, or not any more.

    Gifts already started keep renewing when it stops; only new gifts are refused.
    """
    from webapp.organizations import services as organizations

    organizations.require_editor(actor, campaign.organization_id)
    if campaign.status != CampaignStatus.LIVE:
        raise SupportRefused(_("Only a live campaign can take monthly or yearly support."))
    if campaign.ongoing != ongoing:
        log.info("campaign %s: ongoing %s → %s (user %s)", campaign.id, campaign.ongoing, ongoing, actor.id)
        campaign.ongoing = ongoing
    db.session.flush()


# -- the organization's currency -------------------------------------------------------------
def platform_currencies() -> list[str]:
    """What an organization may book in: the platform's supported currencies the processor can charge."""
    return [c for c in current_app.config["SUPPORTED_CURRENCIES"] if c in currencies.RULES]


def set_currency(organization: Organization, actor: User, currency: str, accepts_others: bool) -> None:
    """An owner (or an admin) sets what the organization's own income is booked in and whether supporters may
    give in theirs. Gifts already started keep their amount, currency and the currency they are booked in."""
    from webapp.accounts.models import Role
    from webapp.organizations import services as organizations

    if not actor.has_role(Role.ADMIN):
        organizations.require_owner(actor, organization)
    currency = (currency or "").upper()
    if currency not in platform_currencies():
        raise SupportRefused(_("This currency cannot be charged."))
    if (organization.currency, organization.accepts_supporter_currency) != (currency, accepts_others):
        log.info("organization %s: currency %s → %s, others %s → %s (user %s)", organization.id,
                 organization.currency, currency, organization.accepts_supporter_currency, accepts_others, actor.id)
    organization.currency, organization.accepts_supporter_currency = currency, accepts_others
    db.session.flush()


def target_name(support: RecurringSupport) -> str:
    """What the supporter's gift goes to, by name: its pooled fund (and organization), campaign or organization."""
    fund = fund_target(support.organization_id, support.pooled_fund_id)
    if fund is not None:
        return f"{fund.name} — {support.organization.name}"
    return support.campaign.title if support.campaign else support.organization.name
