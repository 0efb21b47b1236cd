"""What the public reads of a campaign's spending: per budget line planned, approved, paid, each expense, what is held.

Nothing here carries a receipt, a payee's details or a bank detail: only the line, amount, date,
description, payee kind and whether the host checked the receipts.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import String, cast, func, select

from webapp.campaigns import budget
from webapp.campaigns.models import BudgetLine, Campaign
from webapp.extensions import db
from webapp.ledger.models import LedgerEntry
from webapp.money import Money
from webapp.payments.expenses import services as expenses
from webapp.payments.expenses.models import Expense, ExpenseState, PayeeKind
from webapp.payments.models import Pledge

E = ExpenseState


@dataclass(frozen=True)
class PublicExpense:
    line_title: str
    money: Money
    spent_on: date
    description: str
    payee_kind: PayeeKind
    state: ExpenseState
    checked_by_host: bool


@dataclass
class LineReport:
    line: BudgetLine
    planned: Money
    approved: Money
    paid: Money
    share: int  #: the line's share of the budget, in steps of 5 %, for the bar's CSS class
    paid_share: int  #: what was paid of the line, in steps of 5 %
    items: list[PublicExpense] = field(default_factory=list)


@dataclass
class SpendingReport:
    lines: list[LineReport]
    held: Money  #: what the host (or the organization's account) still holds of the campaign, a ledger sum
    promised: Money  #: approved and not paid yet
    paid: Money  #: paid to payees, a ledger sum
    host_name: str | None


def _public(e: Expense, line_title: str) -> PublicExpense:
    return PublicExpense(line_title=line_title, money=e.money, spent_on=e.spent_on, description=e.description,
                         payee_kind=e.payee_kind, state=e.state, checked_by_host=e.checked_by_host)


def public_expense(e: Expense) -> PublicExpense:
    """One expense as the public reads it anywhere (a progress report lists some): under its budget line's title."""
    return _public(e, e.budget_line.title)


def report(campaign: Campaign) -> SpendingReport:
    lines = budget.lines_of(campaign)
    totals = expenses.by_line(campaign)
    zero = Money.zero(campaign.currency)
    shares = dict((line.id, share) for line, share in budget.chart(campaign, lines))
    reports = {}
    for line in lines:
        t = totals.get(line.id, {"approved": zero, "paid": zero})
        paid_share = min(100, round(t["paid"].amount * 20 / line.amount) * 5) if line.amount else 0
        reports[line.id] = LineReport(line=line, planned=line.money, approved=t["approved"], paid=t["paid"],
                                      share=shares.get(line.id, 0), paid_share=paid_share)
    for e in expenses.expenses_of(campaign, public=True):
        if e.budget_line_id in reports:
            reports[e.budget_line_id].items.append(_public(e, reports[e.budget_line_id].line.title))
    paid = Money(int(db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
        LedgerEntry.campaign_id == campaign.id, LedgerEntry.kind == "expense_payment",
        LedgerEntry.currency == campaign.currency)) or 0), campaign.currency)
    host = expenses.host_of(campaign)
    return SpendingReport(lines=list(reports.values()), held=expenses.held(campaign),
                          promised=expenses.promised(campaign), paid=paid,
                          host_name=host.organization.name if host else None)


def tips_for(campaign: Campaign) -> Money:
    """Tips backers gave the platform with their pledges to this campaign (booked without the campaign's id)."""
    causes = select(("pledge:" + cast(Pledge.id, String))).where(Pledge.campaign_id == campaign.id)
    value = db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
        LedgerEntry.kind == "tip", LedgerEntry.cause.in_(causes), LedgerEntry.currency == campaign.currency))
    return Money(int(value or 0), campaign.currency)


def spent_by_campaign(campaign_ids: list[int]) -> dict[int, Money]:
    """For "My pledges": what each campaign has paid out in expenses so far (ledger sums)."""
    if not campaign_ids:
        return {}
    rows = db.session.execute(
        select(LedgerEntry.campaign_id, LedgerEntry.currency, func.sum(LedgerEntry.amount))
        .where(LedgerEntry.campaign_id.in_(campaign_ids), LedgerEntry.kind == "expense_payment")
        .group_by(LedgerEntry.campaign_id, LedgerEntry.currency))
    return {campaign_id: Money(int(total), currency) for campaign_id, currency, total in rows}
