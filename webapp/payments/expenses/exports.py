"""CSV exports of expenses, their payments and the ledger lines, for an organization or for its host."""
from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from webapp.campaigns.models import BudgetLine, Campaign
from webapp.extensions import db
from webapp.ledger.models import LedgerEntry
from webapp.money import Money
from webapp.payments.expenses.models import Expense, ExpensePayment
from webapp.spreadsheet import csv_text

KINDS = ("expenses", "payments", "ledger")
#: at most this many rows per file: an export is a statement, not a backup
LIMIT = 20_000


def _campaign_ids(organization_ids: list[int]):
    return select(Campaign.id).where(Campaign.organization_id.in_(organization_ids))


def expenses_csv(organization_ids: list[int]) -> str:
    rows = db.session.execute(
        select(Expense, Campaign.slug, Campaign.currency, BudgetLine.title)
        .join(Campaign, Campaign.id == Expense.campaign_id).join(BudgetLine, BudgetLine.id == Expense.budget_line_id)
        .where(Expense.campaign_id.in_(_campaign_ids(organization_ids))).options(selectinload(Expense.receipts))
        .order_by(Expense.id).limit(LIMIT))
    return csv_text(["expense", "campaign", "budget_line", "date", "description", "payee_kind", "amount", "currency",
                     "state", "checked_by_host", "receipts"],
                    ([e.id, slug, line, e.spent_on.isoformat(), e.description, e.payee_kind.value,
                      Money(e.amount, currency).input_value(), currency, e.state.value, "yes" if e.checked_by_host else "no",
                      len(e.receipts)] for e, slug, currency, line in rows))


def payments_csv(organization_ids: list[int]) -> str:
    rows = db.session.execute(
        select(ExpensePayment, Expense, Campaign.slug, Campaign.currency)
        .join(Expense, Expense.id == ExpensePayment.expense_id).join(Campaign, Campaign.id == Expense.campaign_id)
        .where(Expense.campaign_id.in_(_campaign_ids(organization_ids))).order_by(ExpensePayment.id).limit(LIMIT))
    return csv_text(["expense", "campaign", "paid_on", "method", "reference", "amount", "currency", "amount_paid",
                     "currency_paid", "rate", "host_fee", "proof"],
                    ([e.id, slug, p.paid_on.isoformat(), p.method.value, p.reference, Money(e.amount, currency).input_value(),
                      currency, Money(p.amount_paid, p.currency_paid).input_value(), p.currency_paid, str(p.rate),
                      Money(p.fee_amount, currency).input_value(), "yes" if p.proof_key else "no"]
                     for p, e, slug, currency in rows))


def ledger_csv(organization_ids: list[int], accounts: list[str]) -> str:
    """Every entry of the organizations' campaigns, and every entry touching `accounts` (holding, fees)."""
    where = [LedgerEntry.campaign_id.in_(_campaign_ids(organization_ids))]
    if accounts:
        where += [LedgerEntry.debit_account.in_(accounts), LedgerEntry.credit_account.in_(accounts)]
    rows = db.session.scalars(select(LedgerEntry).where(or_(*where)).order_by(LedgerEntry.occurred_at, LedgerEntry.id)
                              .limit(LIMIT))
    return csv_text(["date", "kind", "debit", "credit", "amount", "currency", "campaign_id", "memo"],
                    ([e.occurred_at.isoformat(timespec="seconds"), e.kind, e.debit_account, e.credit_account,
                      Money(e.amount, e.currency).input_value(), e.currency, e.campaign_id, e.memo] for e in rows))


def export(kind: str, organization_ids: list[int], accounts: list[str]) -> str:
    if kind == "expenses":
        return expenses_csv(organization_ids)
    if kind == "payments":
        return payments_csv(organization_ids)
    return ledger_csv(organization_ids, accounts)
