"""Figures of recurring support, all read from the ledger: income per month, a supporter's yearly statement."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import String, and_, cast, extract, func, literal, or_, select
from sqlalchemy.orm import joinedload

from webapp.accounts.models import User
from webapp.campaigns.models import Campaign
from webapp.extensions import db
from webapp.ledger import services as ledger
from webapp.ledger.models import LedgerEntry
from webapp.money import Money
from webapp.organizations.models import Organization
from webapp.payments.models import Dispute
from webapp.payments.recurring.models import ChargeStatus, RecurringCharge, RecurringSupport, SupportState

KIND = "recurring_charge"
TIP_KIND = "tip"


def _org_accounts(organization_id: int):
    """Credited to the organization itself, one of its (ongoing) campaigns, or a pooled fund a gift goes to."""
    to_funds = select(literal("recurring:", String) + cast(RecurringSupport.id, String)).where(
        RecurringSupport.organization_id == organization_id, RecurringSupport.pooled_fund_id.is_not(None))
    return or_(LedgerEntry.credit_account == ledger.organization_account(organization_id),
               LedgerEntry.campaign_id.in_(select(Campaign.id).where(Campaign.organization_id == organization_id)),
               and_(LedgerEntry.credit_account.like("pooled_fund:%"), LedgerEntry.cause.in_(to_funds)))


def income_by_month(organization_id: int) -> list[tuple[str, Money, int]]:
    """(“2026-12”, total, number of renewals) per month and currency, newest first (one query)."""
    year, month = extract("year", LedgerEntry.occurred_at), extract("month", LedgerEntry.occurred_at)
    rows = db.session.execute(
        select(year, month, LedgerEntry.currency, func.sum(LedgerEntry.amount), func.count(LedgerEntry.id))
        .where(LedgerEntry.kind == KIND, _org_accounts(organization_id))
        .group_by(year, month, LedgerEntry.currency).order_by(year.desc(), month.desc(), LedgerEntry.currency))
    return [(f"{int(y):04d}-{int(m):02d}", Money(int(total), currency), int(n)) for y, m, currency, total, n in rows]


def campaign_income(organization_id: int) -> list[tuple[Money, int]]:
    """What the organization's campaigns raised (pledges), per currency, to show recurring support apart."""
    rows = db.session.execute(
        select(LedgerEntry.currency, func.sum(LedgerEntry.amount), func.count(LedgerEntry.id))
        .join(Campaign, Campaign.id == LedgerEntry.campaign_id)
        .where(Campaign.organization_id == organization_id, LedgerEntry.kind == "charge")
        .group_by(LedgerEntry.currency).order_by(LedgerEntry.currency))
    return [(Money(int(total), currency), int(n)) for currency, total, n in rows]


def active_counts(organization_id: int) -> dict[str, int]:
    rows = db.session.execute(select(RecurringSupport.state, func.count()).where(
        RecurringSupport.organization_id == organization_id).group_by(RecurringSupport.state))
    return {state.value: n for state, n in rows}


@dataclass(frozen=True)
class StatementLine:
    organization: str
    total: Money  #: the gifts, in the currency the supporter was charged in
    renewals: int
    tip: Money | None = None  #: the tips to the platform charged with them (not a gift to the organization)


def statement(user: User, year: int) -> list[StatementLine]:
    """What the supporter gave to whom that year, per organization and the currency they were charged in (a
    gift booked converted counts what was charged, the ledger's processor figure), tips apart: ledger sums."""
    supports = {s.id: s for s in db.session.scalars(select(RecurringSupport).where(RecurringSupport.user_id == user.id))}
    if not supports:
        return []
    causes = {f"recurring:{sid}": sid for sid in supports}
    charged_currency = func.coalesce(LedgerEntry.processor_currency, LedgerEntry.currency)
    charged_amount = func.coalesce(LedgerEntry.processor_amount, LedgerEntry.amount)
    rows = db.session.execute(
        select(LedgerEntry.kind, LedgerEntry.cause, charged_currency, func.sum(charged_amount),
               func.count(LedgerEntry.id))
        .where(LedgerEntry.kind.in_((KIND, TIP_KIND)), LedgerEntry.cause.in_(list(causes)),
               extract("year", LedgerEntry.occurred_at) == year)
        .group_by(LedgerEntry.kind, LedgerEntry.cause, charged_currency))
    totals: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for kind, cause, currency, total, n in rows:
        org_id = supports[causes[cause]].organization_id
        if kind == KIND:
            totals[(org_id, currency)][0] += int(total)
            totals[(org_id, currency)][1] += int(n)
        else:
            totals[(org_id, currency)][2] += int(total)
    names = dict(db.session.execute(select(Organization.id, Organization.name).where(
        Organization.id.in_({k[0] for k in totals}))).all())
    return sorted((StatementLine(names[org_id], Money(total, currency), n, Money(tip, currency) if tip else None)
                   for (org_id, currency), (total, n, tip) in totals.items()), key=lambda line: line.organization)


__all__ = ["income_by_month", "campaign_income", "statement", "active_counts", "SupportState"]


def paid_periods(organization_id: int, limit: int = 100) -> list[RecurringCharge]:
    """The organization's paid periods, newest first, with their gifts and supporters (one query): to refund."""
    return list(db.session.scalars(
        select(RecurringCharge).join(RecurringSupport, RecurringSupport.id == RecurringCharge.support_id)
        .where(RecurringSupport.organization_id == organization_id, RecurringCharge.status == ChargeStatus.SUCCEEDED)
        .options(joinedload(RecurringCharge.support).joinedload(RecurringSupport.user),
                 joinedload(RecurringCharge.support).joinedload(RecurringSupport.campaign),
                 joinedload(RecurringCharge.support).joinedload(RecurringSupport.organization))
        .order_by(RecurringCharge.paid_at.desc(), RecurringCharge.id.desc()).limit(limit)))


def given_back(user: User) -> list[tuple[RecurringCharge, Dispute | None]]:
    """The supporter's periods refunded in part or whole, or disputed by their bank, newest first (two queries)."""
    charges = list(db.session.scalars(
        select(RecurringCharge).join(RecurringSupport, RecurringSupport.id == RecurringCharge.support_id)
        .where(RecurringSupport.user_id == user.id,
               or_(RecurringCharge.refunded_amount > 0, RecurringCharge.disputed_at.is_not(None)))
        .options(joinedload(RecurringCharge.support).joinedload(RecurringSupport.organization),
                 joinedload(RecurringCharge.support).joinedload(RecurringSupport.campaign))
        .order_by(RecurringCharge.period.desc(), RecurringCharge.id.desc()).limit(100)))
    disputes = {d.recurring_charge_id: d for d in db.session.scalars(
        select(Dispute).where(Dispute.recurring_charge_id.in_([c.id for c in charges])))} if charges else {}
    return [(c, disputes.get(c.id)) for c in charges]
