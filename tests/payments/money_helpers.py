"""Helpers for the money-out tests: pledges made through the fake Stripe, closing, the ledger's sums.

The app's provider is the StripeProvider pointed at the fake (the `fake_stripe` fixture). A backer's
part is played by `fake.complete_checkout`, and the events Stripe would send are handed to the
webhook code (`webhooks.receive`, signature included) by `deliver`.
"""
from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from tests.factories import MembershipFactory, UserFactory
from tests.payments.support import fresh, live_campaign, pending_pledge, signature
from webapp.accounts.models import Role
from webapp.campaigns.models import Campaign, CampaignStatus, FundingModel
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.ledger.models import LedgerEntry
from webapp.money import Money
from webapp.organizations.models import OrgRole
from webapp.payments import batches, webhooks
from webapp.payments.collection import services as closing
from webapp.payments.matching import services as matching
from webapp.payments.matching.models import MatchFund
from webapp.payments.models import ChargeTiming, Pledge, PledgeStatus

P = PledgeStatus
OK_CARD = "4242424242424242"
AUTH_CARD = "4000002760003184"  #: saved with authentication; every off-session charge needs the backer
DECLINED_CARD = "4000000000009995"  #: saved, then declined (insufficient funds) when charged


# -- the processor's events -------------------------------------------------------------------------
def deliver(events: list[dict]) -> list[int]:
    """Hand Stripe's events to the webhook code, signed; returns the statuses.

    An event on a connected account (it carries `account`) goes to the Connect endpoint, signed with its secret.
    """
    from flask import current_app

    statuses = []
    for evt in events:
        payload = json.dumps(evt).encode()
        if evt.get("account"):
            secret = current_app.config["STRIPE_CONNECT_WEBHOOK_SECRET"]
            status, _message = webhooks.receive(payload, signature(payload, secret), connect=True)
        else:
            status, _message = webhooks.receive(payload, signature(payload))
        statuses.append(status)
    assert all(s == 200 for s in statuses), statuses
    return statuses


def deliver_pending(fake) -> list[int]:
    """Deliver what our own API calls caused (off-session charges, refunds, detaches)."""
    return deliver(fake.take_events())


# -- pledges ------------------------------------------------------------------------------------------
def started_pledge(campaign, amount: int, tip: int = 0, email: str = "backer@example.org", **kwargs) -> Pledge:
    """A pending pledge, with its checkout open at the processor (optionally with a tip to the platform)."""
    if not tip:
        return pending_pledge(campaign, amount, email=email, **kwargs)
    from tests.payments.support import token
    from webapp.payments.pledging import services

    pledge = services.start_pledge(services.PledgeRequest(
        campaign=campaign, tier=kwargs.get("tier"), amount=Money(amount, campaign.currency),
        pay_currency=kwargs.get("pay_currency") or campaign.currency, email=email, user=None, display_name="Afi",
        anonymous=False, message=None, locale=kwargs.get("locale", "en"), client_token=token(),
        tip=Money(tip, campaign.currency)))
    db.session.commit()
    return pledge


def committed_pledge(fake, campaign, amount: int, card: str = OK_CARD, **kwargs) -> Pledge:
    """An all-or-nothing pledge whose card the backer saved on the fake's hosted page."""
    pledge = started_pledge(campaign, amount, **kwargs)
    deliver(fake.complete_checkout(pledge.checkout_session_id, card, authenticate=True))
    pledge = fresh(pledge)
    assert pledge.status == P.COMMITTED and pledge.payment_method_id, pledge.status
    return pledge


def paid_pledge(fake, campaign, amount: int, card: str = OK_CARD, **kwargs) -> Pledge:
    """A keep-it-all pledge paid on the fake's hosted page, settled (fee known)."""
    pledge = started_pledge(campaign, amount, **kwargs)
    deliver(fake.complete_checkout(pledge.checkout_session_id, card, authenticate=True))
    pledge = fresh(pledge)
    assert pledge.status == P.PAID and pledge.charge_id, pledge.status
    return pledge


def pledge_row(campaign, amount: int, status: PledgeStatus = P.COMMITTED, n: int = 0, **extra) -> Pledge:
    """A pledge row written directly (for outcome rules, where no processor is involved)."""
    pledge = Pledge(reference=f"row-{campaign.id}-{n}-{amount}", client_token=f"row-token-{campaign.id}-{n}-{amount}",
                    campaign_id=campaign.id, email=extra.pop("email", f"backer{n}@example.org"),
                    locale=extra.pop("locale", "en"), status=status, charge_timing=ChargeTiming.ON_SUCCESS,
                    amount=amount, currency=campaign.currency, charge_amount=amount, charge_currency=campaign.currency,
                    provider="sandbox", confirmed_at=utcnow(), **extra)
    db.session.add(pledge)
    db.session.flush()
    return pledge


# -- campaigns -----------------------------------------------------------------------------------------
def all_or_nothing(goal: int = 10_000, **overrides) -> Campaign:
    return live_campaign("EUR", FundingModel.ALL_OR_NOTHING, goal=goal, **overrides)


def keep_it_all(goal: int = 10_000, **overrides) -> Campaign:
    return live_campaign("EUR", FundingModel.KEEP_IT_ALL, goal=goal, **overrides)


def organizer_of(campaign, locale: str | None = None, role: OrgRole = OrgRole.OWNER, **kwargs):
    user = UserFactory(verified=True, locale=locale, **kwargs)
    MembershipFactory(organization=campaign.organization, user=user, role=role)
    return user


#: a deadline passed long enough ago that collection asks the processor before a pledge's first attempt
#: (webapp.payments.collection.services.REPLAY_IS_SAFE_FOR); the default is a deadline just passed
LONG_AGO = timedelta(days=2)


def pass_deadline(campaign, ago: timedelta = timedelta(seconds=1)) -> None:
    """The deadline is now behind us, by `ago` (the campaign started earlier still)."""
    campaign = db.session.get(Campaign, campaign.id)
    campaign.starts_at = utcnow() - ago - timedelta(days=2)
    campaign.ends_at = utcnow() - ago
    db.session.commit()


def days_later(fake, campaign) -> None:
    """Time passes after a run: Stripe has pruned its idempotency keys and the deadline is long past."""
    fake.forget_idempotency_keys()
    campaign = db.session.get(Campaign, campaign.id)
    campaign.ends_at = min(campaign.ends_at, utcnow() - LONG_AGO)
    db.session.commit()


def close_and_collect(fake, campaign, **collect_args) -> batches.CollectionReport:
    """What `flask campaigns close-due` does, then Stripe's events for the charges are delivered."""
    pass_deadline(campaign)
    batches.close_due_campaigns()
    report = batches.collect(campaign.id, **collect_args)
    if fake is not None:
        deliver_pending(fake)
    return report


def status_of(campaign) -> CampaignStatus:
    db.session.expire_all()
    return db.session.get(Campaign, campaign.id).status


# -- what reached the fake -------------------------------------------------------------------------------
def intent_creations(fake) -> list:
    """Every POST that created a PaymentIntent (replays of an idempotency key included)."""
    return [r for r in fake.requests if r.method == "POST" and r.path == "/v1/payment_intents"]


def charge_keys(fake) -> Counter:
    return Counter(r.idempotency_key for r in intent_creations(fake))


def charge_key(pledge: Pledge, attempt: int = 1) -> str:
    """The idempotency key the app sends for a pledge's off-session attempt: the installation's prefix first."""
    from webapp.payments.installation import key_prefix
    from webapp.payments.pledging.services import pledge_key

    return f"{key_prefix()}-{pledge_key(pledge, f'charge-{attempt}')}"


def precheck_reads(fake) -> list:
    """The collector's reads of a customer's PaymentIntents, made before every attempt."""
    return [r for r in fake.requests if r.method == "GET" and r.path == "/v1/payment_intents"]


def detached(fake) -> set[str]:
    return {r.path.split("/")[3] for r in fake.requests if r.method == "POST" and r.path.endswith("/detach")}


# -- the ledger ---------------------------------------------------------------------------------------------
def entries(**where) -> list[LedgerEntry]:
    q = select(LedgerEntry).order_by(LedgerEntry.id)
    for column, value in where.items():
        q = q.where(getattr(LedgerEntry, column) == value)
    return list(db.session.scalars(q))


def ledger_sum(kind: str, campaign_id: int | None = None) -> int:
    return sum(e.amount for e in entries(kind=kind) if campaign_id is None or e.campaign_id == campaign_id)


def fund(campaign, budget: int = 100_00, ratio: tuple[int, int] = (1, 1), **terms) -> MatchFund:
    """An accepted match fund for the campaign (EUR, open from yesterday for a month)."""
    manager = terms.pop("manager", None) or UserFactory(verified=True, role=Role.FUNDER)
    values = dict(name="Fonds de dotation", institution="Ville de Lyon", budget=Money(budget, campaign.currency),
                  ratio_numerator=ratio[0], ratio_denominator=ratio[1], cap_per_pledge=None, cap_per_campaign=None,
                  categories=[], countries=[], regions=[], funding_models=[],
                  starts_on=utcnow().date() - timedelta(days=1), ends_on=utcnow().date() + timedelta(days=30))
    values.update(terms)
    created = matching.create_fund(manager, matching.FundTerms(**values))
    matching.decide(matching.apply(created, campaign), accept=True)
    db.session.commit()
    return created
