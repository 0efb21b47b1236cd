"""Who approves an expense: the host's members, or another officer of a Connect organization; never its submitter."""
from __future__ import annotations

import pytest

from tests.payments.expenses.helpers import expense, make_member, world
from webapp.accounts.models import Role
from webapp.errors import InvalidTransition, PermissionDenied
from webapp.extensions import db
from webapp.organizations.models import OrgRole
from webapp.payments.expenses import services as expenses
from webapp.payments.expenses.models import ExpenseState, ExpenseTransition

E = ExpenseState


def _dress(w, user, *, host_member: bool, admin: bool, owner: bool) -> None:
    """Give `user` (an editor of the organization) more roles."""
    if host_member:
        make_member(w.host.organization, user)
    if admin:
        user.role = Role.ADMIN
    if owner:
        membership = next(m for m in w.org.memberships if m.user_id == user.id)
        membership.role = OrgRole.OWNER
    db.session.flush()


COMBINATIONS = [dict(host_member=h, admin=a, owner=o) for h in (False, True) for a in (False, True)
                for o in (False, True)]


@pytest.mark.parametrize("route", ["host", "connect"])
@pytest.mark.parametrize("roles", COMBINATIONS, ids=lambda r: "+".join(k for k, v in r.items() if v) or "editor")
def test_nobody_approves_an_expense_they_submitted_whatever_their_roles(app, route, roles):
    w = world(route=route)
    _dress(w, w.editor, **roles)
    e = expense(w, 100_000, by=w.editor)
    assert not expenses.may_approve(w.editor, e)
    with pytest.raises(expenses.SelfApproval):
        expenses.approve(e, w.editor)
    with pytest.raises(expenses.SelfApproval):
        expenses.send_back(e, w.editor, "Looks fine to me", reject=True)
    assert e.state == E.SUBMITTED


@pytest.mark.parametrize("roles", COMBINATIONS, ids=lambda r: "+".join(k for k, v in r.items() if v) or "editor")
def test_who_wrote_the_expense_cannot_approve_it_when_a_colleague_submitted_it(app, roles):
    w = world(route="host")
    _dress(w, w.editor, **roles)
    e = expense(w, 100_000, by=w.editor, submit=False)
    expenses.submit(e, w.editor2)
    for user in (w.editor, w.editor2):
        with pytest.raises(expenses.SelfApproval):
            expenses.approve(e, user)


def test_a_host_member_who_is_also_an_officer_approves_what_a_colleague_submitted(app):
    w = world(route="host")
    make_member(w.host.organization, w.editor2)
    e = expense(w, 100_000, by=w.editor)
    assert expenses.approve(e, w.editor2) is True
    assert e.state == E.APPROVED and e.checked_by_host


@pytest.mark.parametrize("who", ["owner", "editor2", "admin", "outsider"])
def test_on_the_host_route_only_the_hosts_members_approve(app, who):
    w = world(route="host")
    e = expense(w, 100_000, by=w.editor)
    with pytest.raises(expenses.NotAnApprover):
        expenses.approve(e, getattr(w, who))
    assert expenses.approve(e, w.host_editor) is True


@pytest.mark.parametrize("who", ["host_owner", "admin", "outsider"])
def test_on_connect_only_another_officer_approves(app, who):
    w = world(route="connect")
    e = expense(w, 10_000, by=w.editor)
    with pytest.raises(expenses.NotAnApprover):
        expenses.approve(e, getattr(w, who))
    assert expenses.approve(e, w.owner) is True
    assert e.state == E.APPROVED and not e.checked_by_host


def test_above_the_limit_two_different_people_approve(app, monkeypatch):
    w = world(route="host")
    monkeypatch.setitem(app.config, "EXPENSE_SECOND_APPROVAL_ABOVE", {"XOF": "200000"})
    e = expense(w, 300_000)
    assert expenses.approve(e, w.host_owner) is False
    assert e.state == E.SUBMITTED
    with pytest.raises(expenses.SameApprover):
        expenses.approve(e, w.host_owner)
    assert expenses.approve(e, w.host_editor) is True
    assert e.state == E.APPROVED


def test_at_or_below_the_limit_one_approval_is_enough(app, monkeypatch):
    w = world(route="host")
    monkeypatch.setitem(app.config, "EXPENSE_SECOND_APPROVAL_ABOVE", {"XOF": "200000"})
    assert expenses.approve(expense(w, 200_000), w.host_owner) is True


def test_a_currency_without_a_limit_always_needs_two(app, monkeypatch):
    w = world(route="host")
    monkeypatch.setitem(app.config, "EXPENSE_SECOND_APPROVAL_ABOVE", {"EUR": "1000"})
    assert expenses.approve(expense(w, 1_000), w.host_owner) is False


def test_resubmitting_after_changes_starts_the_approvals_again(app, monkeypatch):
    w = world(route="host")
    monkeypatch.setitem(app.config, "EXPENSE_SECOND_APPROVAL_ABOVE", {"XOF": "200000"})
    e = expense(w, 300_000)
    expenses.approve(e, w.host_owner)
    expenses.send_back(e, w.host_editor, "The invoice is unreadable.")
    assert e.state == E.CHANGES_REQUESTED
    expenses.submit(e, w.editor)
    assert expenses.approve(e, w.host_owner) is False  # the earlier approval no longer counts


def test_approvals_never_promise_more_than_the_campaign_holds(app):
    w = world(route="host", raised=1_000_000, fee_bp=0)
    first, second = expense(w, 600_000), expense(w, 500_000)
    assert expenses.approve(first, w.host_owner)
    with pytest.raises(expenses.Overdraw):
        expenses.approve(second, w.host_owner)
    assert second.state == E.SUBMITTED
    assert expenses.available(w.campaign).amount == 400_000


def test_the_hosts_fee_counts_in_what_an_approval_promises(app):
    w = world(route="host", raised=1_000_000, fee_bp=150)
    with pytest.raises(expenses.Overdraw):
        expenses.approve(expense(w, 990_000), w.host_owner)  # 990 000 + 14 850 fee > 1 000 000
    assert expenses.approve(expense(w, 985_000), w.host_owner) is False  # + 14 775 = 999 775: a first approval


def test_nothing_is_approved_before_the_money_is_held(app):
    w = world(route="host", raised=0)
    with pytest.raises(expenses.Overdraw):
        expenses.approve(expense(w, 1_000), w.host_owner)


def test_every_move_is_recorded_with_who_and_why(app):
    w = world(route="host")
    e = expense(w, 100_000)
    expenses.send_back(e, w.host_owner, "Which supplier?")
    expenses.submit(e, w.editor)
    expenses.send_back(e, w.host_editor, "Not in the budget.", reject=True)
    rows = db.session.query(ExpenseTransition).filter_by(expense_id=e.id).order_by(ExpenseTransition.id).all()
    assert [(r.action, r.from_state, r.to_state, r.actor_id, r.reason) for r in rows] == [
        ("submit", E.DRAFT, E.SUBMITTED, w.editor.id, None),
        ("request_changes", E.SUBMITTED, E.CHANGES_REQUESTED, w.host_owner.id, "Which supplier?"),
        ("submit", E.CHANGES_REQUESTED, E.SUBMITTED, w.editor.id, None),
        ("reject", E.SUBMITTED, E.REJECTED, w.host_editor.id, "Not in the budget."),
    ]
    with pytest.raises(InvalidTransition):
        expenses.approve(e, w.host_owner)


def test_sending_back_needs_a_reason(app):
    w = world(route="host")
    e = expense(w, 100_000)
    with pytest.raises(Exception, match="why"):
        expenses.send_back(e, w.host_owner, "  ")


def test_an_expense_without_a_receipt_cannot_be_submitted(app):
    w = world(route="host")
    e = expenses.create_expense(w.campaign, w.editor, expenses.ExpenseDetails(
        budget_line_id=w.mill.id, amount=w.campaign.goal.__class__(1_000, "XOF"), description="Bags",
        spent_on=w.campaign.created_at.date(), payee_kind=expenses.PayeeKind.SUPPLIER))
    with pytest.raises(Exception, match="receipt"):
        expenses.submit(e, w.editor)


def test_only_the_organizations_editors_write_expenses(app):
    w = world(route="host")
    for user in (w.host_owner, w.admin, w.outsider):
        with pytest.raises(PermissionDenied):
            expense(w, 1_000, by=user)
