"""Demo data for the host route: Finances Solidaires holds the Benin and Moroccan organizations' money, and the
Ganvié school kitchen (succeeded) has a budget, two paid expenses with receipts and one awaiting approval."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from webapp.accounts.models import User
from webapp.campaigns.models import BudgetLine, Campaign
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.money import Money
from webapp.organizations.models import LegalForm, Membership, Organization, OrgRole
from webapp.payments import demo
from webapp.payments.expenses import services as expenses
from webapp.payments.expenses.models import PayeeKind, PaymentMethod
from webapp.payments.hosts import services as hosts
from webapp.payments.hosts.models import HostProfile, PayoutRoute, PayoutRouteKind, RouteStatus
from webapp.payments.models import Transfer, TransferStatus

HOST_SLUG = "finances-solidaires"
CAMPAIGN_SLUG = "ganvie-school-kitchen"
#: a one-page PDF: the demo's receipts (a real one is checked the same way on upload)
RECEIPT = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >>"
           b" endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
BUDGET = [("Improved stoves and pots", 600_000), ("Water tank and filter", 500_000), ("The cook's wage, six months", 400_000)]
GIFTS = [(18, 700_000), (12, 550_000), (6, 370_000)]  # days before the close, XOF


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def _org(slug: str) -> Organization | None:
    return db.session.scalar(select(Organization).where(Organization.slug == slug))


def load_hosts() -> int:
    if _org(HOST_SLUG) is not None:
        return 0
    host_user, admin = _user("host@harambee.test"), _user("admin@harambee.test")
    host_org = Organization(slug=HOST_SLUG, name="Finances Solidaires", legal_form=LegalForm.MUTUAL, country="BJ",
                            region="BJ-LI", description="A savings and credit mutual of the social and solidarity "
                            "economy, in Cotonou and Agadir: it holds money for associations and pays their suppliers.")
    db.session.add(host_org)
    db.session.flush()
    db.session.add(Membership(organization_id=host_org.id, user_id=host_user.id, role=OrgRole.OWNER))
    host = HostProfile(organization_id=host_org.id, countries=["BJ", "MA"], currencies=["MAD", "XOF"],
                       fee_basis_points=150, methods=["bank_transfer", "mobile_money"], granted_by_id=admin.id)
    db.session.add(host)
    db.session.flush()
    for slug in ("ganvie-ecotourisme", "tifaout-argan"):
        org = _org(slug)
        owner = db.session.scalar(select(Membership.user_id).where(Membership.organization_id == org.id))
        db.session.add(PayoutRoute(organization_id=org.id, kind=PayoutRouteKind.HOST, host_id=host.id,
                                   status=RouteStatus.ACCEPTED, chosen_by_id=owner, decided_by_id=host_user.id,
                                   decided_at=utcnow()))
    bakery = _org("scop-pain-lyon")
    if bakery is not None:
        owner = db.session.scalar(select(Membership.user_id).where(Membership.organization_id == bakery.id))
        db.session.add(PayoutRoute(organization_id=bakery.id, kind=PayoutRouteKind.CONNECT,
                                   status=RouteStatus.ACCEPTED, chosen_by_id=owner))
    db.session.flush()
    _kitchen(host, host_user)
    return 1


def _kitchen(host: HostProfile, host_user: User) -> None:
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == CAMPAIGN_SLUG))
    if campaign is None:
        return
    lines = [BudgetLine(campaign_id=campaign.id, title=title, amount=amount, position=n)
             for n, (title, amount) in enumerate(BUDGET)]
    db.session.add_all(lines)
    closed = campaign.ends_at
    raised = demo.paid_pledges(campaign, "kitchen", [(amount, closed - timedelta(days=days)) for days, amount in GIFTS],
                               lambda n: (f"parent{n + 1}@ganvie.example", "fr", f"Parent {n + 1}"))
    held = Money(raised, "XOF")
    hosts.hold_for_host(campaign, held, closed + timedelta(days=7))
    db.session.add(Transfer(campaign_id=campaign.id, organization_id=campaign.organization_id, amount=raised,
                            currency="XOF", status=TransferStatus.SENT, sent_at=closed + timedelta(days=7)))
    db.session.flush()
    kofi = _user("kofi@harambee.test")
    today = utcnow().date()
    spent = [(lines[0], 580_000, "Four improved stoves and twelve pots, from the Dantokpa market", PayeeKind.SUPPLIER, 20),
             (lines[1], 450_000, "A 2,000-litre tank and a ceramic filter, installed", PayeeKind.SUPPLIER, 12)]
    for line, amount, text, kind, days in spent:
        e = expenses.create_expense(campaign, kofi, expenses.ExpenseDetails(
            budget_line_id=line.id, amount=Money(amount, "XOF"), description=text, spent_on=today - timedelta(days=days),
            payee_kind=kind, payee_details="Établissements Houngbo, MTN MoMo +229 97 00 00 00"))
        expenses.add_receipt(e, kofi, RECEIPT)
        expenses.submit(e, kofi)
        expenses.approve(e, host_user)
        expenses.record_payment(e, host_user, expenses.PaymentDetails(
            method=PaymentMethod.MOBILE_MONEY, reference=f"MOMO-{e.id:05d}", paid_on=today - timedelta(days=days - 2),
            amount_paid=Money(amount, "XOF"), rate=Decimal(1)), RECEIPT)
    waiting = expenses.create_expense(campaign, kofi, expenses.ExpenseDetails(
        budget_line_id=lines[2].id, amount=Money(65_000, "XOF"), description="The cook's wage, first month",
        spent_on=today - timedelta(days=1), payee_kind=PayeeKind.STAFF, payee_details="Mme Agossou, MTN MoMo"))
    expenses.add_receipt(waiting, kofi, RECEIPT)
    expenses.submit(waiting, kofi)
    db.session.flush()
