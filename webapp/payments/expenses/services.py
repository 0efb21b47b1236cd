"""Expenses: writing, submitting, approving and paying them, with the rules on who may do what. They flush, never commit.

Who approves: the members of the organization's host (host route), or, for a Connect organization,
another owner or editor of the organization. Nobody approves an expense they created or submitted,
whatever else they are (host member, admin, owner). Above EXPENSE_SECOND_APPROVAL_ABOVE (per
currency, in major units; a currency it does not list always needs two) two different people approve.

Approvals never promise more than the campaign holds: what is approved and not yet paid, plus the
host's fee on it, stays within what the spending account holds of the campaign's money (a ledger
sum). Each approval locks the campaign's row first, so two at the same moment run one after the other.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from webapp.accounts.models import User
from webapp.campaigns.models import BudgetLine, Campaign, CampaignStatus
from webapp.errors import DomainError, InvalidTransition, PermissionDenied
from webapp.extensions import db
from webapp.i18n import locale_code
from webapp.ledger import services as ledger
from webapp.ledger.models import LedgerEntry
from webapp.money import Money
from webapp.organizations import services as organizations
from webapp.payments.expenses.models import (
    Expense, ExpensePayment, ExpenseReceipt, ExpenseState, ExpenseTransition, PayeeKind, PaymentMethod,
)
from webapp.payments.hosts import services as hosts
from webapp.payments.hosts.models import HostProfile, PayoutRoute, PayoutRouteKind, RouteStatus
from webapp.storage import get_storage
from webapp.storage.documents import PRIVATE_PREFIX, checked_document

E = ExpenseState

#: action -> (states it starts from, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[ExpenseState], ExpenseState]] = {
    "submit": (frozenset({E.DRAFT, E.CHANGES_REQUESTED}), E.SUBMITTED),
    "approve": (frozenset({E.SUBMITTED}), E.APPROVED),
    "request_changes": (frozenset({E.SUBMITTED}), E.CHANGES_REQUESTED),
    "reject": (frozenset({E.SUBMITTED}), E.REJECTED),
    "pay": (frozenset({E.APPROVED}), E.PAID),
}
EDITABLE = frozenset({E.DRAFT, E.CHANGES_REQUESTED})
MAX_RECEIPTS = 10


class SelfApproval(PermissionDenied):
    """Nobody approves an expense they created or submitted."""


class NotAnApprover(PermissionDenied):
    """Only the host's members (or a Connect organization's officers) approve and pay."""


class Overdraw(DomainError):
    """Approving this would promise more than the campaign holds."""


class SameApprover(PermissionDenied):
    """A second approval must come from someone else."""


# -- who ----------------------------------------------------------------------------------------
def host_of(expense_or_campaign: Expense | Campaign) -> HostProfile | None:
    campaign = expense_or_campaign if isinstance(expense_or_campaign, Campaign) else expense_or_campaign.campaign
    return hosts.host_for(campaign.organization_id)


def route_kind(campaign: Campaign) -> PayoutRouteKind | None:
    route = hosts.route_of(campaign.organization_id)
    return route.kind if route is not None and route.active else None


def _submitters(expense: Expense) -> set[int]:
    ids = {expense.created_by_id}
    if expense.submitted_by_id is not None:
        ids.add(expense.submitted_by_id)
    ids.update(db.session.scalars(select(ExpenseTransition.actor_id).where(
        ExpenseTransition.expense_id == expense.id, ExpenseTransition.action == "submit")))
    return ids


def is_officer(user: User | None, campaign: Campaign) -> bool:
    return organizations.can_edit(user, campaign.organization_id)


def is_approver(user: User | None, expense: Expense) -> bool:
    """May decide on this expense in principle (whether they submitted it aside)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    kind = route_kind(expense.campaign)
    if kind == PayoutRouteKind.HOST:
        return hosts.is_host_member(user, host_of(expense))
    if kind == PayoutRouteKind.CONNECT:
        return is_officer(user, expense.campaign)
    return False


def may_approve(user: User | None, expense: Expense) -> bool:
    return is_approver(user, expense) and user.id not in _submitters(expense) and user.id not in _approvers(expense)


def can_see_private(user: User | None, campaign: Campaign) -> bool:
    """Receipts, proofs and payee details: the organization's editors, its host's members, admins."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return user.is_admin or is_officer(user, campaign) or hosts.is_host_member(user, host_of(campaign))


def _require_officer(user: User, campaign: Campaign) -> None:
    if not is_officer(user, campaign):
        raise PermissionDenied(_("Only the organization's editors can do this."))


# -- money --------------------------------------------------------------------------------------
def spending_account(campaign: Campaign) -> str | None:
    """The account an expense of this campaign is paid from: the host's holding, or the organization's own."""
    kind = route_kind(campaign)
    if kind == PayoutRouteKind.HOST:
        host = host_of(campaign)
        return hosts.holding_account(host.id, campaign.organization_id)
    if kind == PayoutRouteKind.CONNECT:
        return ledger.organization_account(campaign.organization_id)
    return None


def held(campaign: Campaign) -> Money:
    """What the spending account holds of the campaign's money now (a ledger sum; paid expenses are out)."""
    account = spending_account(campaign)
    if account is None:
        return Money.zero(campaign.currency)
    return hosts.held_for_campaign(account, campaign)


def fee_on(expense: Expense) -> Money:
    host = host_of(expense)
    return hosts.fee_for(host, expense.money) if host is not None else Money.zero(expense.campaign.currency)


def promised(campaign: Campaign) -> Money:
    """Approved and not yet paid, with the host's fee on each."""
    amounts = db.session.scalars(select(Expense.amount).where(Expense.campaign_id == campaign.id,
                                                              Expense.state == E.APPROVED))
    host = host_of(campaign)
    total = 0
    for amount in amounts:
        money = Money(amount, campaign.currency)
        total += amount + (hosts.fee_for(host, money).amount if host is not None else 0)
    return Money(total, campaign.currency)


def available(campaign: Campaign) -> Money:
    return held(campaign) - promised(campaign)


def second_approval_needed(money: Money) -> bool:
    limits = current_app.config.get("EXPENSE_SECOND_APPROVAL_ABOVE") or {}
    limit = limits.get(money.currency)
    if limit is None:
        return True
    return money > Money.from_decimal(Decimal(str(limit)), money.currency)


def _lock_campaign(campaign: Campaign) -> None:
    db.session.execute(select(Campaign.id).where(Campaign.id == campaign.id).with_for_update())


# -- writing ------------------------------------------------------------------------------------
@dataclass
class ExpenseDetails:
    budget_line_id: int
    amount: Money
    description: str
    spent_on: date
    payee_kind: PayeeKind
    payee_details: str = ""


def _check(campaign: Campaign, details: ExpenseDetails) -> BudgetLine:
    line = db.session.get(BudgetLine, details.budget_line_id)
    if line is None or line.campaign_id != campaign.id:
        raise DomainError(_("Choose one of the campaign's budget lines."))
    if details.amount.currency != campaign.currency or details.amount.amount <= 0:
        raise DomainError(_("The amount must be greater than zero, in the campaign's currency."))
    if not details.description.strip():
        raise DomainError(_("Describe the expense."))
    if details.spent_on > date.today():
        raise DomainError(_("The date of an expense cannot be in the future."))
    return line


def create_expense(campaign: Campaign, actor: User, details: ExpenseDetails) -> Expense:
    _require_officer(actor, campaign)
    if campaign.status != CampaignStatus.SUCCEEDED:
        raise DomainError(_("Expenses are drawn once the campaign has succeeded."))
    line = _check(campaign, details)
    expense = Expense(campaign_id=campaign.id, budget_line_id=line.id, amount=details.amount.amount,
                      description=details.description.strip()[:300], spent_on=details.spent_on,
                      payee_kind=details.payee_kind, payee_details=details.payee_details.strip(),
                      created_by_id=actor.id, state=E.DRAFT)
    db.session.add(expense)
    db.session.flush()
    return expense


def update_expense(expense: Expense, actor: User, details: ExpenseDetails) -> None:
    _require_officer(actor, expense.campaign)
    if expense.state not in EDITABLE:
        raise DomainError(_("Only a draft, or an expense sent back for changes, can be edited."))
    line = _check(expense.campaign, details)
    expense.budget_line_id, expense.amount = line.id, details.amount.amount
    expense.description, expense.spent_on = details.description.strip()[:300], details.spent_on
    expense.payee_kind, expense.payee_details = details.payee_kind, details.payee_details.strip()
    db.session.flush()


def add_receipt(expense: Expense, actor: User, data: bytes) -> ExpenseReceipt:
    _require_officer(actor, expense.campaign)
    if expense.state not in EDITABLE:
        raise DomainError(_("Receipts are added before the expense is submitted."))
    if len(expense.receipts) >= MAX_RECEIPTS:
        raise DomainError(_("An expense has at most %(n)d receipts.", n=MAX_RECEIPTS))
    stored, content_type, extension = checked_document(data, max_bytes=current_app.config["RECEIPT_MAX_BYTES"])
    key = get_storage().save(stored, f"{PRIVATE_PREFIX}receipts/{expense.campaign_id}", extension)
    receipt = ExpenseReceipt(expense_id=expense.id, storage_key=key, content_type=content_type, size=len(stored),
                             uploaded_by_id=actor.id)
    db.session.add(receipt)
    db.session.flush()
    db.session.refresh(expense, ["receipts"])
    return receipt


# -- moving -------------------------------------------------------------------------------------
def _move(expense: Expense, action: str, actor: User, reason: str | None = None,
          to: ExpenseState | None = None) -> ExpenseTransition:
    sources, target = TRANSITIONS[action]
    if expense.state not in sources:
        raise InvalidTransition("expense", expense.state.value, target.value)
    target = to or target
    row = ExpenseTransition(expense_id=expense.id, action=action, from_state=expense.state, to_state=target,
                            actor_id=actor.id, reason=reason)
    expense.state = target
    db.session.add(row)
    db.session.flush()
    return row


def _approvers(expense: Expense) -> set[int]:
    """Who approved since the expense was last submitted."""
    last_submit = db.session.scalar(select(func.max(ExpenseTransition.id)).where(
        ExpenseTransition.expense_id == expense.id, ExpenseTransition.action == "submit")) or 0
    return set(db.session.scalars(select(ExpenseTransition.actor_id).where(
        ExpenseTransition.expense_id == expense.id, ExpenseTransition.action == "approve",
        ExpenseTransition.id > last_submit)))


def submit(expense: Expense, actor: User) -> None:
    _require_officer(actor, expense.campaign)
    if not expense.receipts:
        raise DomainError(_("Add at least one receipt or invoice before submitting."))
    if expense.state in EDITABLE:
        expense.submitted_by_id = actor.id
    _move(expense, "submit", actor)


def _require_decider(expense: Expense, actor: User) -> None:
    if actor.id in _submitters(expense):
        raise SelfApproval(_("You submitted this expense: someone else must decide on it."))
    if not is_approver(actor, expense):
        raise NotAnApprover(_("Only the host's members, or another officer of the organization, decide on expenses."))


def approve(expense: Expense, actor: User) -> bool:
    """Approve; True when the expense is now approved, False when it waits for a second approver."""
    _lock_campaign(expense.campaign)
    db.session.refresh(expense)
    _require_decider(expense, actor)
    if expense.state != E.SUBMITTED:
        raise InvalidTransition("expense", expense.state.value, E.APPROVED.value)
    approvers = _approvers(expense)
    if actor.id in approvers:
        raise SameApprover(_("You have approved this expense already: a second approver must be someone else."))
    need = expense.money + fee_on(expense)
    left = available(expense.campaign)
    if need > left:
        raise Overdraw(_("Approving this would promise more than the campaign holds: %(left)s left, %(need)s asked.",
                         left=left.format(locale_code()), need=need.format(locale_code())))
    needed = 2 if second_approval_needed(expense.money) else 1
    if len(approvers) + 1 < needed:
        _move(expense, "approve", actor, to=E.SUBMITTED)
        return False
    _move(expense, "approve", actor)
    expense.checked_by_host = route_kind(expense.campaign) == PayoutRouteKind.HOST
    return True


def send_back(expense: Expense, actor: User, reason: str, *, reject: bool = False) -> None:
    """Ask for changes, or reject; either way with a reason the organization reads."""
    _require_decider(expense, actor)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say why: the organization reads it."))
    _move(expense, "reject" if reject else "request_changes", actor, reason=reason[:2000])


# -- paying -------------------------------------------------------------------------------------
@dataclass
class PaymentDetails:
    method: PaymentMethod
    reference: str
    paid_on: date
    amount_paid: Money
    #: units of the currency paid for one unit of the campaign's currency
    rate: Decimal


def may_pay(user: User | None, expense: Expense) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    kind = route_kind(expense.campaign)
    if kind == PayoutRouteKind.HOST:
        return hosts.is_host_member(user, host_of(expense))
    return kind == PayoutRouteKind.CONNECT and is_officer(user, expense.campaign)


def _check_rate(expense: Expense, details: PaymentDetails) -> None:
    if details.amount_paid.amount <= 0:
        raise DomainError(_("The amount paid must be greater than zero."))
    try:
        rate = Decimal(details.rate)
    except (InvalidOperation, TypeError):
        raise DomainError(_("The rate is a number, such as 655.957.")) from None
    if not rate.is_finite() or rate <= 0 or rate > Decimal("1e9"):
        raise DomainError(_("The rate is a number, such as 655.957."))
    if details.amount_paid.currency == expense.money.currency and rate != 1:
        raise DomainError(_("Paid in the campaign's currency: the rate is 1."))
    expected = expense.money.to_decimal() * rate
    paid = details.amount_paid.to_decimal()
    if abs(paid - expected) > expected * Decimal("0.02") + Decimal(1).scaleb(-2):
        raise DomainError(_("The amount paid and the rate do not give the expense's amount (%(amount)s).",
                            amount=expense.money.format(locale_code())))


def record_payment(expense: Expense, actor: User, details: PaymentDetails, proof: bytes | None) -> ExpensePayment:
    """The host (or a Connect organization) records the payment of an approved expense, and books it."""
    _lock_campaign(expense.campaign)
    db.session.refresh(expense)
    if not may_pay(actor, expense):
        raise NotAnApprover(_("Only the host's members record its payments."))
    if expense.state != E.APPROVED:
        raise InvalidTransition("expense", expense.state.value, E.PAID.value)
    if not details.reference.strip():
        raise DomainError(_("Give the payment's reference (bank or operator)."))
    _check_rate(expense, details)
    if route_kind(expense.campaign) == PayoutRouteKind.CONNECT and not proof:
        raise DomainError(_("Attach the proof of payment."))
    account = spending_account(expense.campaign)
    fee = fee_on(expense)
    if expense.money + fee > held(expense.campaign):
        raise Overdraw(_("The campaign no longer holds enough to pay this expense."))
    payment = ExpensePayment(expense_id=expense.id, method=details.method, reference=details.reference.strip()[:120],
                             paid_on=details.paid_on, amount_paid=details.amount_paid.amount,
                             currency_paid=details.amount_paid.currency, rate=Decimal(details.rate),
                             fee_amount=fee.amount, recorded_by_id=actor.id)
    if proof:
        stored, content_type, extension = checked_document(proof, max_bytes=current_app.config["RECEIPT_MAX_BYTES"])
        payment.proof_key = get_storage().save(stored, f"{PRIVATE_PREFIX}proofs/{expense.campaign_id}", extension)
        payment.proof_content_type = content_type
    db.session.add(payment)
    campaign = expense.campaign
    ledger.book(key=f"expense_payment:{expense.id}", kind="expense_payment", debit=account,
                credit=payee_account(expense.id), money=expense.money, cause=f"expense:{expense.id}",
                campaign_id=campaign.id, memo=f"Expense paid ({details.method.value})")
    host = host_of(expense)
    if host is not None:
        ledger.book(key=f"host_fee:{expense.id}", kind="host_fee", debit=account, credit=hosts.fee_account(host.id),
                    money=fee, cause=f"expense:{expense.id}", campaign_id=campaign.id, memo="Host fee")
    _move(expense, "pay", actor)
    return payment


def payee_account(expense_id: int) -> str:
    return f"external:payee:expense:{expense_id}"


# -- reading ------------------------------------------------------------------------------------
def expenses_of(campaign: Campaign, *, public: bool = False) -> list[Expense]:
    query = select(Expense).where(Expense.campaign_id == campaign.id).options(selectinload(Expense.budget_line))
    if public:
        query = query.where(Expense.state.in_((E.SUBMITTED, E.APPROVED, E.PAID)))
    return list(db.session.scalars(query.order_by(Expense.spent_on, Expense.id)))


def history(expense: Expense) -> list[ExpenseTransition]:
    return list(db.session.scalars(select(ExpenseTransition).where(ExpenseTransition.expense_id == expense.id)
                                   .order_by(ExpenseTransition.id)))


def payment_of(expense: Expense) -> ExpensePayment | None:
    return db.session.scalar(select(ExpensePayment).where(ExpensePayment.expense_id == expense.id))


def awaiting(host: HostProfile) -> tuple[list[Expense], list[Expense]]:
    """(submitted, approved) expenses of the organizations the host holds money for."""
    org_ids = select(PayoutRoute.organization_id).where(PayoutRoute.host_id == host.id,
                                                        PayoutRoute.status == RouteStatus.ACCEPTED)
    rows = list(db.session.scalars(select(Expense).join(Campaign, Campaign.id == Expense.campaign_id)
                                   .options(selectinload(Expense.budget_line), selectinload(Expense.campaign))
                                   .where(Campaign.organization_id.in_(org_ids),
                                          Expense.state.in_((E.SUBMITTED, E.APPROVED)))
                                   .order_by(Expense.id).limit(500)))
    return [e for e in rows if e.state == E.SUBMITTED], [e for e in rows if e.state == E.APPROVED]


def by_line(campaign: Campaign) -> dict[int, dict[str, Money]]:
    """Per budget line: approved (not yet paid) and paid, from the ledger for what was paid."""
    zero = Money.zero(campaign.currency)
    totals: dict[int, dict[str, Money]] = {}
    for line_id, state, amount in db.session.execute(
            select(Expense.budget_line_id, Expense.state, func.sum(Expense.amount))
            .where(Expense.campaign_id == campaign.id, Expense.state == E.APPROVED)
            .group_by(Expense.budget_line_id, Expense.state)):
        totals.setdefault(line_id, {"approved": zero, "paid": zero})["approved"] = Money(int(amount), campaign.currency)
    paid_keys = {f"expense:{eid}": lid for eid, lid in db.session.execute(
        select(Expense.id, Expense.budget_line_id).where(Expense.campaign_id == campaign.id, Expense.state == E.PAID))}
    if paid_keys:
        for cause, amount in db.session.execute(
                select(LedgerEntry.cause, func.sum(LedgerEntry.amount))
                .where(LedgerEntry.campaign_id == campaign.id, LedgerEntry.kind == "expense_payment",
                       LedgerEntry.currency == campaign.currency).group_by(LedgerEntry.cause)):
            line_id = paid_keys.get(cause)
            if line_id is not None:
                slot = totals.setdefault(line_id, {"approved": zero, "paid": zero})
                slot["paid"] = slot["paid"] + Money(int(amount), campaign.currency)
    return totals
