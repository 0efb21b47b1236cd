"""A Benin organization paid through a host, its succeeded campaign with a budget, and money held for the host."""
from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

from PIL import Image

from tests.factories import (
    BudgetLineFactory, CampaignFactory, HostProfileFactory, LedgerEntryFactory, MembershipFactory, OrganizationFactory,
    PayoutRouteFactory, UserFactory,
)
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.ledger import services as ledger
from webapp.money import Money
from webapp.organizations.models import OrgRole
from webapp.payments.expenses import services as expenses
from webapp.payments.expenses.models import PayeeKind, PaymentMethod
from webapp.payments.hosts import services as hosts
from webapp.payments.hosts.models import PayoutRouteKind

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 20), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def world(*, route: str = "host", raised: int = 1_000_000, fee_bp: int = 150) -> SimpleNamespace:
    """Host members (host_owner, host_editor), the organization's owner and editors, a campaign holding `raised` XOF."""
    w = SimpleNamespace()
    w.host_owner, w.host_editor = UserFactory(verified=True), UserFactory(verified=True)
    w.owner, w.editor, w.editor2 = UserFactory(verified=True), UserFactory(verified=True), UserFactory(verified=True)
    w.admin = UserFactory(verified=True, admin=True)
    w.outsider = UserFactory(verified=True)
    host_org = OrganizationFactory(country="BJ", name="Finances Solidaires", owner=w.host_owner,
                                   editors=[w.host_editor])
    w.host = HostProfileFactory(organization=host_org, fee_basis_points=fee_bp)
    w.org = OrganizationFactory(country="BJ" if route == "host" else "FR", owner=w.owner,
                                editors=[w.editor, w.editor2])
    currency = "XOF" if route == "host" else "EUR"
    PayoutRouteFactory(organization=w.org, kind=PayoutRouteKind(route), host=w.host if route == "host" else None,
                       chosen_by=w.owner)
    w.campaign = CampaignFactory(organization=w.org, succeeded=True, currency=currency, goal_amount=2_000_000,
                                 created_by=w.owner, country=w.org.country)
    w.mill = BudgetLineFactory(campaign=w.campaign, title="Grain mill", amount=1_200_000)
    w.wages = BudgetLineFactory(campaign=w.campaign, title="Miller's wage", amount=800_000, required=False)
    db.session.flush()
    if not raised:
        return w
    LedgerEntryFactory(kind="charge", debit_account="processor:sandbox",
                       credit_account=ledger.campaign_account(w.campaign.id), amount=raised, currency=currency,
                       campaign_id=w.campaign.id, cause="pledge:1")
    db.session.flush()
    if route == "host":
        hosts.hold_for_host(w.campaign, Money(raised, currency), utcnow())
    else:
        ledger.book(key=f"transfer:campaign:{w.campaign.id}", kind="transfer",
                    debit=ledger.campaign_account(w.campaign.id), credit=ledger.organization_account(w.org.id),
                    money=Money(raised, currency), cause="transfer:1", campaign_id=w.campaign.id)
    db.session.flush()
    return w


def expense(w, amount: int, *, by=None, line=None, submit: bool = True, receipt: bytes = PDF):
    by = by or w.editor
    e = expenses.create_expense(w.campaign, by, expenses.ExpenseDetails(
        budget_line_id=(line or w.mill).id, amount=Money(amount, w.campaign.currency), description="Mill motor",
        spent_on=date.today() - timedelta(days=1), payee_kind=PayeeKind.SUPPLIER,
        payee_details="Moulins du Zou, IBAN BJ00 0000"))
    expenses.add_receipt(e, by, receipt)
    if submit:
        expenses.submit(e, by)
    return e


def payment(e, *, rate: str = "1", currency: str | None = None, amount: int | None = None):
    currency = currency or e.campaign.currency
    return expenses.PaymentDetails(method=PaymentMethod.MOBILE_MONEY, reference="MTN-2026-0042",
                                   paid_on=date.today(), amount_paid=Money(amount or e.amount, currency),
                                   rate=Decimal(rate))


def make_member(org, user, role=OrgRole.EDITOR):
    MembershipFactory(organization=org, user=user, role=role)
    db.session.flush()
