"""Helpers for recurring support tests: a supporter, a Benin association, a gift started through the fake Stripe."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import select

from tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from tests.payments.money_helpers import deliver
from webapp.extensions import db
from webapp.ledger.models import LedgerEntry
from webapp.money import Money
from webapp.payments.recurring import services as recurring
from webapp.payments.recurring.models import RecurringCharge, RecurringSupport, SupportInterval

OK_CARD = "4242424242424242"
OTHER_CARD = "5555555555554444"


def association(**kwargs):
    """Books in CAD (most supporters of these tests give in CAD): a gift in another currency is converted."""
    return OrganizationFactory(**{"slug": "ganvie-solidarite", "name": "Association Ganvié Solidarité", "country": "BJ",
                                  "currency": "CAD", **kwargs})


def supporter(**kwargs):
    return UserFactory(verified=True, **{"email": "afi@example.org", "name": "Afi Dossou", "locale": "fr", **kwargs})


def editor_of(org, **kwargs):
    user = UserFactory(verified=True, **kwargs)
    MembershipFactory(organization=org, user=user, editor=True)
    return user


def start_gift(fake, user, org, amount: int = 2_500, currency: str = "CAD", zone: str = "America/Toronto",
               interval: SupportInterval = SupportInterval.MONTHLY, card: str = OK_CARD,
               now: datetime | None = None) -> RecurringSupport:
    """The supporter starts a gift and pays its first period on the hosted page; Stripe's events delivered."""
    support = recurring.start(user, org, Money(amount, currency), interval, zone, user.locale, now=now)
    recurring.open_checkout(support, "http://harambee.test/support/mine", "http://harambee.test/")
    db.session.commit()
    deliver(fake.complete_checkout(support.checkout_session_id, card))
    db.session.expire_all()
    return db.session.get(RecurringSupport, support.id)


def after_due(support: RecurringSupport) -> datetime:
    db.session.refresh(support)
    return support.next_charge_at + timedelta(minutes=1)


def charges(support: RecurringSupport) -> dict[str, str]:
    db.session.expire_all()
    return {c.period: c.status.value for c in db.session.scalars(
        select(RecurringCharge).where(RecurringCharge.support_id == support.id))}


def booked(support: RecurringSupport, kinds: tuple[str, ...] = ("recurring_charge", "tip")) -> list[tuple[str, int, str]]:
    """The gift's ledger entries of these kinds (by default what each period brought: the gift and the tip)."""
    db.session.expire_all()
    return sorted((e.key, e.amount, e.currency) for e in db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.cause == f"recurring:{support.id}", LedgerEntry.kind.in_(kinds))))


def fees(support: RecurringSupport) -> int:
    """The processor's fees booked against the gift's account, from each period's balance transaction."""
    return sum(amount for _, amount, _ in booked(support, ("processor_fee",)))


def renewal_keys(fake) -> Counter:
    return Counter(r.idempotency_key for r in fake.requests
                   if r.method == "POST" and r.path == "/v1/payment_intents")


def renewal_key(support: RecurringSupport, period: str, attempt: int = 1) -> str:
    from webapp.payments.installation import key_prefix

    return f"{key_prefix()}-{recurring.charge_key(support, period, f'charge-{attempt}')}"
