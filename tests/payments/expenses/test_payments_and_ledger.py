"""Paying an approved expense: booked from the host's holding (or the organization's account) to the payee, with the host's fee."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from tests.factories import CampaignTransitionFactory
from tests.payments.expenses.helpers import PDF, expense, payment, world
from webapp.campaigns.models import CampaignStatus
from webapp.clock import utcnow
from webapp.errors import InvalidTransition
from webapp.ledger import services as ledger
from webapp.money import Money
from webapp.payments.expenses import services as expenses
from webapp.payments.expenses.models import ExpenseState
from webapp.payments.hosts import services as hosts

E = ExpenseState


def approved(w, amount):
    e = expense(w, amount)
    if not expenses.approve(e, w.host_owner):
        assert expenses.approve(e, w.host_editor)  # above the limit: a second approver
    return e


def test_a_host_payment_moves_the_expense_and_the_fee_out_of_the_holding(app):
    w = world(route="host", raised=1_000_000, fee_bp=150)
    e = approved(w, 400_000)
    paid = expenses.record_payment(e, w.host_editor, payment(e), PDF)
    assert e.state == E.PAID and paid.fee_amount == 6_000 and paid.proof_key.startswith("private/")
    holding = hosts.holding_account(w.host.id, w.org.id)
    assert ledger.balance(holding, "XOF") == Money(1_000_000 - 400_000 - 6_000, "XOF")
    assert ledger.balance(expenses.payee_account(e.id), "XOF") == Money(400_000, "XOF")
    assert ledger.balance(hosts.fee_account(w.host.id), "XOF") == Money(6_000, "XOF")
    assert expenses.held(w.campaign) == Money(594_000, "XOF")
    assert expenses.by_line(w.campaign)[w.mill.id]["paid"] == Money(400_000, "XOF")
    assert sum(v for (_account, currency), v in ledger.trial_balance().items() if currency == "XOF") == 0


def test_the_ledger_stays_balanced_after_approvals_and_payments(app):
    w = world(route="host", raised=1_000_000)
    for amount in (100_000, 250_000):
        e = approved(w, amount)
        expenses.record_payment(e, w.host_owner, payment(e), None)
    approved(w, 300_000)
    per_currency: dict[str, int] = {}
    for (_account, currency), total in ledger.trial_balance().items():
        per_currency[currency] = per_currency.get(currency, 0) + total
    assert per_currency == {"XOF": 0}
    fee = hosts.fee_for(w.host, Money(100_000, "XOF")) + hosts.fee_for(w.host, Money(250_000, "XOF"))
    assert expenses.held(w.campaign) == Money(1_000_000 - 350_000, "XOF") - fee
    assert expenses.promised(w.campaign) == Money(300_000, "XOF") + hosts.fee_for(w.host, Money(300_000, "XOF"))
    line = expenses.by_line(w.campaign)[w.mill.id]
    assert line == {"approved": Money(300_000, "XOF"), "paid": Money(350_000, "XOF")}


def test_a_payment_in_another_currency_records_its_rate(app):
    w = world(route="host")
    e = approved(w, 655_957)
    paid = expenses.record_payment(e, w.host_owner, payment(e, currency="EUR", rate="0.00152449", amount=100_000), None)
    assert (paid.currency_paid, paid.amount_paid, paid.rate) == ("EUR", 100_000, Decimal("0.00152449"))
    assert ledger.balance(expenses.payee_account(e.id), "XOF") == Money(655_957, "XOF")


@pytest.mark.parametrize("rate,amount", [("1", 90_000), ("0.002", 100_000), ("-1", 100), ("0", 100)])
def test_an_amount_and_a_rate_that_do_not_give_the_expense_are_refused(app, rate, amount):
    w = world(route="host")
    e = approved(w, 100_000)
    currency = "XOF" if rate == "1" else "EUR"
    with pytest.raises(expenses.DomainError):
        expenses.record_payment(e, w.host_owner, payment(e, currency=currency, rate=rate, amount=amount), None)
    assert e.state == E.APPROVED


@pytest.mark.parametrize("who", ["owner", "editor", "admin", "outsider"])
def test_only_the_hosts_members_record_its_payments(app, who):
    w = world(route="host")
    e = approved(w, 100_000)
    with pytest.raises(expenses.NotAnApprover):
        expenses.record_payment(e, getattr(w, who), payment(e), None)


def test_an_expense_is_paid_once(app):
    w = world(route="host")
    e = approved(w, 100_000)
    expenses.record_payment(e, w.host_owner, payment(e), None)
    with pytest.raises(InvalidTransition):
        expenses.record_payment(e, w.host_owner, payment(e), None)


def test_a_connect_organization_marks_an_expense_paid_from_its_account_with_proof(app):
    w = world(route="connect", raised=100_000)
    e = expense(w, 40_000, by=w.editor)
    assert expenses.approve(e, w.owner)
    with pytest.raises(expenses.DomainError, match="proof"):
        expenses.record_payment(e, w.editor2, payment(e), None)
    expenses.record_payment(e, w.editor2, payment(e), PDF)
    assert ledger.balance(ledger.organization_account(w.org.id), "EUR") == Money(60_000, "EUR")
    assert ledger.balance(expenses.payee_account(e.id), "EUR") == Money(40_000, "EUR")


def test_after_success_and_the_hold_the_campaigns_money_is_held_for_the_host(app):
    from webapp.payments.payouts import services as payouts

    w = world(route="host", raised=0)
    from tests.factories import LedgerEntryFactory

    LedgerEntryFactory(kind="charge", credit_account=ledger.campaign_account(w.campaign.id), amount=750_000,
                       currency="XOF", campaign_id=w.campaign.id)
    CampaignTransitionFactory(campaign=w.campaign, from_status=CampaignStatus.LIVE, to_status=CampaignStatus.SUCCEEDED,
                              at=utcnow() - timedelta(days=30))
    [transfer] = payouts.pay_out(w.campaign)
    assert transfer.processor_transfer_id is None
    assert ledger.balance(ledger.campaign_account(w.campaign.id), "XOF") == Money(0, "XOF")
    assert hosts.holdings_of(w.host, w.org.id) == [Money(750_000, "XOF")]
    assert expenses.held(w.campaign) == Money(750_000, "XOF")
    assert "Held by" in payouts.status_for(w.campaign)
    payouts.pay_out(w.campaign)  # again: books nothing more
    assert hosts.holdings_of(w.host, w.org.id) == [Money(750_000, "XOF")]


def test_no_hold_while_the_host_has_not_accepted(app):
    from webapp.payments.hosts.models import RouteStatus
    from webapp.payments.payouts import services as payouts

    w = world(route="host", raised=0)
    hosts.route_of(w.org).status = RouteStatus.REQUESTED
    from tests.factories import LedgerEntryFactory

    LedgerEntryFactory(kind="charge", credit_account=ledger.campaign_account(w.campaign.id), amount=750_000,
                       currency="XOF", campaign_id=w.campaign.id)
    CampaignTransitionFactory(campaign=w.campaign, from_status=CampaignStatus.LIVE, to_status=CampaignStatus.SUCCEEDED,
                              at=utcnow() - timedelta(days=30))
    [transfer] = payouts.pay_out(w.campaign)
    assert transfer.status.value == "pending" and "host" in transfer.failure_reason
    assert ledger.balance(ledger.campaign_account(w.campaign.id), "XOF") == Money(750_000, "XOF")


def _refund(w, amount, n=1):
    """A refund after the hold, as bookkeeping.book_refund books it."""
    from tests.factories import PledgeFactory
    from webapp.payments import bookkeeping

    pledge = PledgeFactory(campaign=w.campaign, amount=amount * 2, refunded_amount=amount * n)
    bookkeeping.book_refund(pledge, amount * (n - 1))
    return pledge


def test_a_refund_after_the_hold_is_drawn_back_from_the_host(app):
    w = world(route="host", raised=1_000_000, fee_bp=0)
    _refund(w, 100_000)
    assert ledger.balance(ledger.campaign_account(w.campaign.id), "XOF") == Money(0, "XOF")
    assert expenses.held(w.campaign) == Money(900_000, "XOF")
    assert sum(v for (_a, c), v in ledger.trial_balance().items() if c == "XOF") == 0


def test_what_an_approved_expense_awaits_is_never_drawn_back(app):
    w = world(route="host", raised=1_000_000, fee_bp=0)
    approved(w, 600_000)
    approved(w, 350_000)
    _refund(w, 100_000)  # only 50 000 is free
    assert expenses.held(w.campaign) == Money(950_000, "XOF")
    assert ledger.balance(ledger.campaign_account(w.campaign.id), "XOF") == Money(-50_000, "XOF")
    assert expenses.available(w.campaign) == Money(0, "XOF")


def test_a_won_dispute_goes_back_to_the_host(app):
    from tests.factories import PledgeFactory
    from webapp.payments import bookkeeping

    w = world(route="host", raised=1_000_000, fee_bp=0)
    pledge = PledgeFactory(campaign=w.campaign, amount=200_000)
    bookkeeping.book_dispute(pledge)
    assert expenses.held(w.campaign) == Money(800_000, "XOF")
    bookkeeping.book_dispute_reinstated(pledge)
    assert expenses.held(w.campaign) == Money(1_000_000, "XOF")
    assert ledger.balance(ledger.campaign_account(w.campaign.id), "XOF") == Money(0, "XOF")


def test_a_refund_before_the_hold_moves_nothing_at_the_host(app):
    w = world(route="host", raised=0)
    _refund(w, 100_000)
    assert hosts.holdings_of(w.host, w.org.id) == []
