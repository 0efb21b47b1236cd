"""Who may use which route: every route of the app, every method, every role, against an explicit table.

The routes come from the app's url_map. A route (or a method) that has no row in EXPECTATIONS fails
here: whoever adds a route decides who may use it, by adding its row. The mutual-aid blueprint keeps
a table of its own, with its own roles (DECIDED_ELSEWHERE), which fails the same way.

Roles: a visitor, a member of no organization, an editor of another organization, an editor and the
owner of organization A, a moderator, a mutual-aid coordinator, an institution's funder, an admin, and
the owner of the host that holds organization A's money (issue 10).

Outcomes: OK is any 2xx/3xx that is not a redirect to the sign-in page; LOGIN is that redirect (or a
401); the others are the status code itself. Drafts and submitted campaigns answer 404 to whoever
may not see them, so that their address reveals nothing.
"""
from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from types import SimpleNamespace

import pytest
from flask import url_for
from sqlalchemy import select
from PIL import Image

from tests import permission_matrix, worlds
from tests.campaigns.helpers import campaign_form, sign_in, today
from tests.permission_matrix import LOGIN, OK, outcome
from tests.factories import PASSWORD, password_hash
from webapp.accounts import services as accounts
from webapp.accounts import sessions
from webapp.accounts.models import Role, User
from webapp.campaigns.models import (Campaign, CampaignRevision, CampaignStatus, CampaignTranslation, CampaignUpdate, Category, FundingModel,
                                     RewardTier)
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.money import Money
from webapp.organizations import services as organizations
from webapp.organizations.models import Invitation, LegalForm, Membership, Organization, OrgRole
from webapp.payments.matching.models import MatchApplicationStatus, MatchFund, MatchFundCampaign
from webapp.storage import get_storage

ROLES = ("anonymous", "member", "other_editor", "editor", "owner", "moderator", "coordinator", "funder", "admin",
         "host_member")

FORBIDDEN, NOT_FOUND, BAD, CONFLICT = 403, 404, 400, 409


def expect(default, **by_role) -> dict[str, object]:
    table = dict.fromkeys(ROLES, default)
    table.update(by_role)
    return table


EVERYONE = expect(OK)
SIGNED_IN = expect(OK, anonymous=LOGIN)
ORG_EDITORS = expect(FORBIDDEN, anonymous=LOGIN, editor=OK, owner=OK)
ORG_OWNERS = expect(FORBIDDEN, anonymous=LOGIN, owner=OK)
MODERATORS = expect(FORBIDDEN, anonymous=LOGIN, moderator=OK, admin=OK)
#: a draft or a submitted campaign: its organization and the moderators see it; to others it does not exist
PRIVATE_CAMPAIGN = expect(NOT_FOUND, editor=OK, owner=OK, moderator=OK, admin=OK)
#: the money of a campaign: its organization, and admins (not moderators)
MONEY_MANAGERS = expect(FORBIDDEN, anonymous=LOGIN, editor=OK, owner=OK, admin=OK)
#: an institution's match funds: funders, and admins
FUNDERS = expect(FORBIDDEN, anonymous=LOGIN, funder=OK, admin=OK)
#: expenses, receipts and proofs: the organization's editors, its host's members and admins (issue 10)
PRIVATE_DOCS = expect(FORBIDDEN, anonymous=LOGIN, editor=OK, owner=OK, host_member=OK, admin=OK)
#: deciding on and paying a host-route expense, accepting an organization: the host's members only
HOST_MEMBERS = expect(FORBIDDEN, anonymous=LOGIN, host_member=OK)
#: the host's dashboard and exports: its members, and admins
HOST_READERS = expect(FORBIDDEN, anonymous=LOGIN, host_member=OK, admin=OK)
ADMINS = expect(FORBIDDEN, anonymous=LOGIN, admin=OK)

#: Blueprints whose routes are decided in a table of their own, which fails on a route without a row.
DECIDED_ELSEWHERE = {
    "mutual_aid.": "tests/mutual_aid/test_permissions.py",  # its roles: requester, helper, coordinator
    # their roles: the supporter whose gift it is, an organization's member, its editors
    "recurring.": "tests/payments/recurring/test_permissions.py",
    "membership.": "tests/payments/recurring/test_permissions.py",
    # its roles: members on a round's roll, a lapsed member, the organization's board
    "governance.": "tests/governance/test_permissions.py",
    # its roles: a member of the organization, a backer, the bearer of a confirmation link
    "impact.": "tests/impact/test_permissions.py",
}


# -- the world every request runs against ------------------------------------------------------
def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 120, 60)).save(out, format="PNG")
    return out.getvalue()


def _pledge(campaign, backer, status, n, **extra):
    from webapp.payments.models import ChargeTiming, Pledge

    return Pledge(reference=f"ref-{n}-{status}", client_token=f"client-token-{n}-{status}", campaign=campaign,
                  user=backer, email=backer.email if backer else "guest@example.org", status=status,
                  charge_timing=ChargeTiming.ON_SUCCESS, amount=10_000, currency=campaign.currency,
                  charge_amount=10_000, charge_currency=campaign.currency, provider="sandbox",
                  checkout_session_id=f"cs_sandbox_ref-{n}", **extra)


def build_world() -> SimpleNamespace:
    """Organization A with an owner and an editor, its draft, submitted and live campaigns, and a user for
    every role; committed, as a request may roll back.

    Built from the models in three flushes rather than through the factories (one flush per object):
    the matrix builds it several hundred times.
    """
    from webapp.payments.models import PledgeStatus

    w = SimpleNamespace()
    roles = {"member": Role.MEMBER, "other_editor": Role.MEMBER, "editor": Role.MEMBER, "owner": Role.MEMBER,
             "moderator": Role.MODERATOR, "coordinator": Role.COORDINATOR, "funder": Role.FUNDER, "admin": Role.ADMIN,
             "host_member": Role.MEMBER}
    now = utcnow()
    w.users = {name: User(email=f"{name.replace('_', '-')}@example.org", name=name.replace("_", " ").title(),
                          password_hash=password_hash(PASSWORD), role=role, email_verified_at=now)
               for name, role in roles.items()}
    w.org = Organization(slug="org-a", name="Coopérative A", legal_form=LegalForm.COOPERATIVE, country="SN")
    org_b = Organization(slug="org-b", name="Coopérative B", legal_form=LegalForm.COOPERATIVE, country="MA")
    w.editor_membership = Membership(organization=w.org, user=w.users["editor"], role=OrgRole.EDITOR)
    db.session.add_all([*w.users.values(), w.org, org_b, w.editor_membership,
                        Membership(organization=w.org, user=w.users["owner"], role=OrgRole.OWNER),
                        Membership(organization=org_b, user=w.users["other_editor"], role=OrgRole.OWNER)])
    db.session.flush()

    midnight = datetime.combine(today(), time.min)

    def campaign(slug, status, **extra):
        return Campaign(organization=w.org, created_by_id=w.users["owner"].id, slug=slug, status=status,
                        title=f"Campaign {slug}", summary="A shared mill.", story_md="A **mill**.",
                        story_html="<p>A <strong>mill</strong>.</p>", category=Category.AGRICULTURE, country="SN",
                        goal_amount=1_000_000, currency="XOF", funding_model=FundingModel.ALL_OR_NOTHING,
                        starts_at=midnight, ends_at=midnight + timedelta(days=30), **extra)

    w.draft = campaign("draft-a", CampaignStatus.DRAFT)
    w.submitted = campaign("submitted-a", CampaignStatus.SUBMITTED)
    w.live = campaign("live-a", CampaignStatus.LIVE, launched_at=midnight)
    w.draft_tier = RewardTier(campaign=w.draft, title="Flour", minimum_amount=5_000)
    member = w.users["member"]
    w.committed = _pledge(w.live, member, PledgeStatus.COMMITTED, 1)
    w.paid = _pledge(w.live, member, PledgeStatus.PAID, 2, payment_intent_id="pi_sandbox_ref-2",
                     charge_id="ch_sandbox_ref-2")
    w.pending = _pledge(w.live, None, PledgeStatus.PENDING, 3)
    #: its charge at the close needed the backer: its completion link opens an on-session checkout
    w.needs_action = _pledge(w.live, None, PledgeStatus.NEEDS_ACTION, 4, customer_id="cus_sandbox_ref-4",
                             payment_method_id="pm_sandbox_3184_ref-4", needs_action_since=midnight)
    invitation = Invitation(organization=w.org, email=member.email, role=OrgRole.EDITOR,
                            invited_by_id=w.users["owner"].id)
    w.fund = MatchFund(name="Millet fund", institution="Ville de Thiès", manager_id=w.users["funder"].id,
                       budget=5_000_000, currency="XOF", starts_on=today(), ends_on=today() + timedelta(days=90))
    w.application = MatchFundCampaign(fund=w.fund, campaign=w.live, status=MatchApplicationStatus.APPLIED)
    db.session.add_all([w.fund, w.application, w.draft, w.submitted, w.live, w.draft_tier, RewardTier(campaign=w.live, title="Flour",
                                                                                minimum_amount=5_000),
                        w.committed, w.paid, w.pending, w.needs_action, invitation])
    db.session.flush()
    # a Spanish translation of the draft and of the live campaign, which their editors may remove
    db.session.add_all([CampaignTranslation(campaign_id=c.id, language="es", title="Un molino", summary="Moler",
                                            story_md="", story_html="") for c in (w.draft, w.live)])
    db.session.flush()
    #: the owner's proposed change to the live campaign, waiting for a moderator
    from webapp.campaigns import revisions

    content = revisions.snapshot(w.live)
    w.revision = CampaignRevision(campaign_id=w.live.id, before=content, after={**content, "title": "A new title"},
                                  proposed_by_id=w.users["owner"].id, contributor_ids=[w.users["owner"].id])
    db.session.add(w.revision)
    db.session.flush()
    w.update = CampaignUpdate(campaign_id=w.live.id, author_id=w.users["owner"].id, title="News", body_md="Hello",
                              body_html="<p>Hello</p>")
    db.session.add(w.update)
    db.session.flush()

    w.invitation_token = organizations._serializer().dumps({"id": invitation.id, "email": invitation.email})
    w.verify_token = accounts.make_verification_token(member)
    w.reset_token = accounts.make_reset_token(member)
    w.member_session_id = sessions.open_session(member, "a phone").id
    w.upload_key = get_storage().save(png_bytes(), "covers", "jpg")
    from webapp.payments.pledging import access

    #: the secrets of the links we sent about each pledge (a pledge's reference alone opens nothing)
    w.tokens = {name: access.mint(getattr(w, name).id, "receipt") for name in ("committed", "pending", "needs_action")}
    _progress_reports(w)
    _host_world(w, org_b, campaign)
    db.session.commit()
    return w


def _progress_reports(w) -> None:
    """A report on the live campaign, one on the draft (as if posted before a moderator sent it back), and the
    unsubscribe link the member's report email carried."""
    from webapp.progress_reports import services as reports
    from webapp.progress_reports.models import ProgressReport

    owner = w.users["owner"]
    w.report = ProgressReport(campaign_id=w.live.id, author_id=owner.id, title="Seeds", body_md="Bought.",
                              body_html="<p>Bought.</p>")
    w.draft_report = ProgressReport(campaign_id=w.draft.id, author_id=owner.id, title="Early", body_md="Hm.",
                                    body_html="<p>Hm.</p>")
    db.session.add_all([w.report, w.draft_report])
    db.session.flush()
    w.report_unsubscribe = reports.unsubscribe_token(w.live.id, w.users["member"].email)


def _host_world(w, org_b, campaign) -> None:
    """Issue 10: a host holding A's money, A's succeeded campaign with a budget line, and its expenses in each state."""
    from webapp.campaigns.models import BudgetLine
    from webapp.ledger import services as ledger
    from webapp.payments.expenses.models import (
        Expense, ExpensePayment, ExpenseReceipt, ExpenseState, PayeeKind, PaymentMethod,
    )
    from webapp.payments.hosts.models import HostProfile, PayoutRoute, PayoutRouteKind, RouteStatus
    from webapp.payments.hosts.services import holding_account

    host_user = w.users["host_member"]
    w.host_org = Organization(slug="host-h", name="Finances Solidaires", legal_form=LegalForm.MUTUAL, country="SN")
    w.host = HostProfile(organization=w.host_org, countries=["SN", "MA"], currencies=["XOF", "MAD"],
                         fee_basis_points=100, methods=["bank_transfer"], granted_by_id=w.users["admin"].id)
    past = utcnow() - timedelta(days=40)
    w.done = campaign("done-a", CampaignStatus.SUCCEEDED, launched_at=past)
    w.done.starts_at, w.done.ends_at = past, past + timedelta(days=30)
    w.line = BudgetLine(campaign=w.done, title="Mill", amount=500_000)
    w.draft_line = BudgetLine(campaign=w.draft, title="Roof", amount=100_000)
    db.session.add_all([w.host_org, w.host, w.done, w.line, w.draft_line,
                        Membership(organization=w.host_org, user=host_user, role=OrgRole.OWNER),
                        PayoutRoute(organization=w.org, kind=PayoutRouteKind.HOST, host=w.host,
                                    status=RouteStatus.ACCEPTED, chosen_by_id=w.users["owner"].id),
                        PayoutRoute(organization=org_b, kind=PayoutRouteKind.HOST, host=w.host,
                                    status=RouteStatus.REQUESTED, chosen_by_id=w.users["other_editor"].id)])
    db.session.flush()
    w.b_route_id = db.session.scalar(select(PayoutRoute.id).where(PayoutRoute.organization_id == org_b.id))
    ledger.book(key="perm-charge", kind="charge", debit="processor:sandbox", credit=ledger.campaign_account(w.done.id),
                money=Money(1_000_000, "XOF"), cause="pledge:0", campaign_id=w.done.id)
    ledger.book(key="perm-hold", kind="host_hold", debit=ledger.campaign_account(w.done.id),
                credit=holding_account(w.host.id, w.org.id), money=Money(1_000_000, "XOF"),
                cause=f"campaign:{w.done.id}", campaign_id=w.done.id)
    editor = w.users["editor"]

    def expense(state, **extra):
        return Expense(campaign_id=w.done.id, budget_line_id=w.line.id, amount=50_000, description="Motor",
                       spent_on=today(), payee_kind=PayeeKind.SUPPLIER, payee_details="Moulins du Zou",
                       created_by_id=editor.id, state=state, **extra)

    w.exp_draft = expense(ExpenseState.DRAFT)
    w.exp_submitted = expense(ExpenseState.SUBMITTED, submitted_by_id=editor.id)
    w.exp_approved = expense(ExpenseState.APPROVED, submitted_by_id=editor.id)
    w.exp_paid = expense(ExpenseState.PAID, submitted_by_id=editor.id, checked_by_host=True)
    db.session.add_all([w.exp_draft, w.exp_submitted, w.exp_approved, w.exp_paid])
    db.session.flush()
    key = get_storage().save(b"%PDF-1.4\n%%EOF\n", "private/receipts/perm", "pdf")
    w.receipt = ExpenseReceipt(expense_id=w.exp_submitted.id, storage_key=key, content_type="application/pdf",
                               size=16, uploaded_by_id=editor.id)
    db.session.add_all([w.receipt, ExpenseReceipt(expense_id=w.exp_draft.id, storage_key=key,
                                                  content_type="application/pdf", size=16, uploaded_by_id=editor.id),
                        ExpensePayment(expense_id=w.exp_paid.id, method=PaymentMethod.CASH, reference="R1",
                                       paid_on=today(), amount_paid=50_000, currency_paid="XOF", rate=1,
                                       proof_key=key, proof_content_type="application/pdf",
                                       recorded_by_id=host_user.id)])
    db.session.flush()


# -- the table --------------------------------------------------------------------------------
def _setup_session() -> str:
    from webapp.payments.providers.sandbox import setup_signer

    return "cs_sandbox_setup_" + setup_signer().dumps({
        "owner": "commitment:0", "email": "someone@example.org", "currency": "EUR", "terms": "Nothing now.",
        "success": "http://harambee.test/", "cancel": "http://harambee.test/"})


@dataclass(frozen=True)
class Case:
    endpoint: str
    method: str
    expect: dict[str, object]
    #: URL values, from the world
    values: Callable[[SimpleNamespace], dict] = lambda w: {}
    #: form data, from the world and the signed-in user (None when anonymous)
    data: Callable[[SimpleNamespace, object], dict] | None = None
    label: str = ""

    @property
    def id(self) -> str:
        return f"{self.endpoint}-{self.method}" + (f"-{self.label}" if self.label else "")


def _recurring_session() -> str:
    from webapp.payments.providers.sandbox import recurring_signer

    return recurring_signer().dumps({
        "metadata": {"recurring_support_id": "999999", "recurring_period": "2026-12"}, "email": "a@example.org",
        "amount": 2500, "currency": "CAD", "description": "Monthly support", "success": "http://harambee.test/",
        "cancel": "http://harambee.test/", "customer": "cus_sandbox_x"})


def slug(attr):
    return lambda w: {"slug": getattr(w, attr).slug}


ORG_A = lambda w: {"slug": w.org.slug}  # noqa: E731
ORG_FORM = {"name": "Coopérative A", "legal_form": "cooperative", "country": "SN", "region": "",
            "description": "We grow and grind millet.", "website": ""}
NEW_PASSWORD = "another long enough password"


FUND = lambda w: {"fund_id": w.fund.id}  # noqa: E731
FUND_FORM = {"name": "Water fund", "institution": "Fondation Eau", "currency": "XOF", "budget": "2 000 000",
             "ratio_numerator": "1", "ratio_denominator": "1", "cap_per_pledge": "", "cap_per_campaign": "",
             "countries": "SN", "regions": "", "starts_on": "2026-01-01", "ends_on": "2099-12-31"}


def pledge_form(w, user) -> dict:
    return {"amount": "5000", "pay_currency": "XOF", "client_token": "a-unique-client-token-123",
            "email": "" if user else "guest@example.org", "tier": "", "display_name": "", "message": ""}


EXPECTATIONS: list[Case] = [
    # public pages
    Case("campaigns.home", "GET", EVERYONE),
    Case("favicon", "GET", EVERYONE),
    Case("campaigns.show", "GET", EVERYONE, slug("live"), label="live"),
    Case("campaigns.show", "GET", PRIVATE_CAMPAIGN, slug("draft"), label="draft"),
    Case("campaigns.show", "GET", PRIVATE_CAMPAIGN, slug("submitted"), label="submitted"),
    Case("campaigns.organization", "GET", EVERYONE, ORG_A),
    Case("campaigns.dashboard", "GET", SIGNED_IN),
    Case("storage.upload", "GET", EVERYONE, lambda w: {"key": w.upload_key}),
    Case("money.transparency", "GET", EVERYONE, slug("live"), label="live"),
    Case("money.transparency", "GET", expect(NOT_FOUND), slug("draft"), label="draft"),
    # writing campaigns: the organization's members only
    Case("manage.new_campaign", "GET", ORG_EDITORS, lambda w: {"org_slug": w.org.slug}),
    Case("manage.new_campaign", "POST", ORG_EDITORS, lambda w: {"org_slug": w.org.slug},
         data=lambda w, u: campaign_form(title="A new campaign")),
    Case("manage.edit_campaign", "GET", ORG_EDITORS, slug("draft"), label="draft"),
    Case("manage.edit_campaign", "GET", ORG_EDITORS, slug("live"), label="live"),
    Case("manage.edit_campaign", "POST", ORG_EDITORS, slug("draft"), label="draft",
         data=lambda w, u: campaign_form(title="Edited", slug="draft-a")),
    Case("manage.edit_campaign", "POST", ORG_EDITORS, slug("live"), label="live",
         data=lambda w, u: campaign_form(title="Edited", story_md="A new story")),
    Case("manage.submit", "POST", ORG_EDITORS, slug("draft")),
    Case("manage.add_tier", "POST", ORG_EDITORS, slug("draft"), data=lambda w, u: {"title": "Flour", "minimum": "5000"}),
    Case("manage.edit_tier", "GET", ORG_EDITORS, lambda w: {"slug": w.draft.slug, "tier_id": w.draft_tier.id}),
    Case("manage.edit_tier", "POST", ORG_EDITORS, lambda w: {"slug": w.draft.slug, "tier_id": w.draft_tier.id},
         data=lambda w, u: {"title": "More flour", "minimum": "6000"}),
    Case("manage.delete_tier", "POST", ORG_EDITORS, lambda w: {"slug": w.draft.slug, "tier_id": w.draft_tier.id}),
    Case("manage.post_update", "POST", ORG_EDITORS, slug("live"), data=lambda w, u: {"title": "News", "body": "Hello"}),
    # translations of a campaign and of its updates: the organization's editors (issue 11)
    Case("manage.edit_translation", "GET", ORG_EDITORS, lambda w: {"slug": w.draft.slug, "language": "fr"},
         label="draft"),
    Case("manage.edit_translation", "POST", ORG_EDITORS, lambda w: {"slug": w.draft.slug, "language": "fr"},
         label="draft", data=lambda w, u: {"title": "Un titre", "summary": "Un résumé", "story_md": "Une histoire"}),
    Case("manage.edit_translation", "GET", ORG_EDITORS, lambda w: {"slug": w.live.slug, "language": "fr"},
         label="live"),
    Case("manage.edit_translation", "POST", ORG_EDITORS, lambda w: {"slug": w.live.slug, "language": "fr"},
         label="live", data=lambda w, u: {"title": "Un titre", "summary": "Un résumé", "story_md": "Une histoire"}),
    Case("manage.remove_translation", "GET", ORG_EDITORS, lambda w: {"slug": w.draft.slug, "language": "es"},
         label="draft"),
    Case("manage.remove_translation", "POST", ORG_EDITORS, lambda w: {"slug": w.draft.slug, "language": "es"},
         label="draft"),
    Case("manage.remove_translation", "GET", ORG_EDITORS, lambda w: {"slug": w.live.slug, "language": "es"},
         label="live"),
    Case("manage.remove_translation", "POST", ORG_EDITORS, lambda w: {"slug": w.live.slug, "language": "es"},
         label="live"),
    Case("manage.edit_update_translation", "GET", ORG_EDITORS,
         lambda w: {"slug": w.live.slug, "update_id": w.update.id, "language": "fr"}),
    Case("manage.edit_update_translation", "POST", ORG_EDITORS,
         lambda w: {"slug": w.live.slug, "update_id": w.update.id, "language": "fr"},
         data=lambda w, u: {"title": "Nouvelles", "body": "Bonjour"}),
    # a revision of an approved campaign: its editors propose and withdraw; they and the moderators read it
    Case("manage.revision", "GET", expect(FORBIDDEN, anonymous=LOGIN, editor=OK, owner=OK, moderator=OK, admin=OK),
         lambda w: {"slug": w.live.slug, "revision_id": w.revision.id}),
    Case("manage.withdraw_revision", "POST", ORG_EDITORS, slug("live")),
    # moderation: moderators (and admins) only
    Case("moderation.queue", "GET", MODERATORS),
    Case("moderation.review", "GET", MODERATORS, slug("submitted")),
    Case("moderation.review", "POST", MODERATORS, slug("submitted"), label="approve",
         data=lambda w, u: {"decision": "approve"}),
    Case("moderation.review", "POST", MODERATORS, slug("submitted"), label="changes",
         data=lambda w, u: {"decision": "changes", "reason": "Add a budget."}),
    Case("money.fast_forward", "POST", MODERATORS, slug("live")),
    # ... and only they decide a revision (never one they or their organization proposed: tests/campaigns)
    Case("moderation.revision", "GET", MODERATORS, lambda w: {"revision_id": w.revision.id}),
    Case("moderation.revision", "POST", MODERATORS, lambda w: {"revision_id": w.revision.id}, label="approve",
         data=lambda w, u: {"decision": "approve", "version": "1"}),
    Case("moderation.revision", "POST", MODERATORS, lambda w: {"revision_id": w.revision.id}, label="refuse",
         data=lambda w, u: {"decision": "refuse", "version": "1", "reason": "Keep the title."}),
    # progress reports: everyone reads those of a public campaign; only its organization's editors post;
    # the unsubscribe link works for whoever holds it (no sign-in), and only with its valid token
    Case("progress_reports.show", "GET", EVERYONE, lambda w: {"slug": w.live.slug, "report_id": w.report.id}),
    Case("progress_reports.show", "GET", PRIVATE_CAMPAIGN, label="draft",
         values=lambda w: {"slug": w.draft.slug, "report_id": w.draft_report.id}),
    Case("manage_reports.new", "GET", ORG_EDITORS, slug("live")),
    Case("manage_reports.new", "POST", ORG_EDITORS, slug("live"),
         data=lambda w, u: {"title": "The mill runs", "body": "We bought it."}),
    Case("progress_reports.unsubscribe", "GET", EVERYONE, lambda w: {"token": w.report_unsubscribe}),
    Case("progress_reports.unsubscribe", "POST", EVERYONE, lambda w: {"token": w.report_unsubscribe}),
    Case("progress_reports.unsubscribe", "GET", expect(BAD), lambda w: {"token": w.report_unsubscribe[:-2] + "xx"},
         label="forged"),
    Case("progress_reports.unsubscribe", "POST", expect(BAD), lambda w: {"token": w.report_unsubscribe[:-2] + "xx"},
         label="forged"),
    # organizations
    Case("organizations.create", "GET", SIGNED_IN),
    Case("organizations.create", "POST", SIGNED_IN, data=lambda w, u: {**ORG_FORM, "name": "Another cooperative"}),
    Case("organizations.edit", "GET", ORG_EDITORS, ORG_A),
    Case("organizations.edit", "POST", ORG_EDITORS, ORG_A, data=lambda w, u: ORG_FORM),
    Case("organizations.members", "GET", ORG_EDITORS, ORG_A),
    Case("organizations.members", "POST", ORG_OWNERS, ORG_A, data=lambda w, u: {"email": "newcomer@example.org"}),
    Case("organizations.remove_member", "POST", ORG_OWNERS,
         lambda w: {"slug": w.org.slug, "membership_id": w.editor_membership.id}),
    Case("organizations.accept_invitation", "GET", SIGNED_IN, lambda w: {"token": w.invitation_token}),
    # the invitation was sent to the member's address: only they can take it
    Case("organizations.accept_invitation", "POST", expect(BAD, anonymous=LOGIN, member=OK),
         lambda w: {"token": w.invitation_token}),
    # accounts
    Case("accounts.signup", "GET", EVERYONE),
    Case("accounts.signup", "POST", EVERYONE, data=lambda w, u: {
        "name": "Newcomer", "email": "newcomer@example.org", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}),
    Case("accounts.login", "GET", EVERYONE),
    Case("accounts.login", "POST", EVERYONE,
         data=lambda w, u: {"email": (u or w.users["member"]).email, "password": PASSWORD}),
    Case("accounts.logout", "POST", EVERYONE),
    Case("accounts.verify_email", "GET", EVERYONE, lambda w: {"token": w.verify_token}),
    Case("accounts.resend_verification", "POST", SIGNED_IN),
    Case("accounts.forgot_password", "GET", EVERYONE),
    Case("accounts.forgot_password", "POST", EVERYONE, data=lambda w, u: {"email": "member@example.org"}),
    Case("accounts.reset_password", "GET", EVERYONE, lambda w: {"token": w.reset_token}),
    Case("accounts.reset_password", "POST", EVERYONE, lambda w: {"token": w.reset_token},
         data=lambda w, u: {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}),
    Case("accounts.profile", "GET", SIGNED_IN),
    Case("accounts.profile", "POST", SIGNED_IN, data=lambda w, u: {
        "name": "A new name", "locale": "", "display_currency": "", "residence_country": "", "residence_region": "",
        "latitude": "", "longitude": ""}),
    Case("accounts.add_origin", "POST", SIGNED_IN, data=lambda w, u: {"country": "SN", "region": "SN-DK"}),
    Case("accounts.remove_origin", "POST", SIGNED_IN, lambda w: {"code": "SN-DK"}),
    Case("accounts.change_password", "POST", SIGNED_IN, data=lambda w, u: {"current": PASSWORD, "password": NEW_PASSWORD}),
    # a member ends their own sessions; another member's session does not exist for them
    Case("accounts.end_session", "POST", expect(NOT_FOUND, anonymous=LOGIN, member=OK),
         lambda w: {"session_id": w.member_session_id}),
    Case("accounts.sign_out_everywhere", "POST", SIGNED_IN),
    Case("accounts.choose_language", "POST", EVERYONE, data=lambda w, u: {"lang": "fr"}),
    Case("accounts.region_options", "GET", EVERYONE),
    # your data: each signed-in member, their own data only (the routes take no id)
    Case("privacy.index", "GET", SIGNED_IN),
    Case("privacy.export_json", "GET", SIGNED_IN),
    Case("privacy.export_csv", "GET", SIGNED_IN),
    Case("privacy.delete_account", "GET", SIGNED_IN),
    # the owner of A and the other editor (who owns B alone) are its last owners: refused, with what to do
    Case("privacy.delete_account", "POST", expect(OK, anonymous=LOGIN, owner=CONFLICT, other_editor=CONFLICT,
                                                  host_member=CONFLICT),
         data=lambda w, u: {"password": PASSWORD, "confirm": "y"}),
    Case("privacy.delete_account", "POST", expect(BAD, anonymous=LOGIN), label="wrong-password",
         data=lambda w, u: {"password": "not the password", "confirm": "y"}),
    # pledging: a live campaign takes anyone's pledge; a private one stays invisible, and refuses money
    Case("payments.pledge", "GET", EVERYONE, slug("live"), label="live"),
    Case("payments.pledge", "GET", PRIVATE_CAMPAIGN, slug("draft"), label="draft"),
    Case("payments.pledge", "POST", EVERYONE, slug("live"), data=pledge_form, label="live"),
    Case("payments.pledge", "POST", expect(NOT_FOUND, editor=BAD, owner=BAD, moderator=BAD, admin=BAD),
         slug("draft"), data=pledge_form, label="draft"),
    # a pledge's pages: its backer signed in (the member made the committed one), or whoever holds a link we
    # sent (its token); the reference alone opens nothing, and answers as an unknown one (issue 9)
    Case("payments.receipt", "GET", expect(NOT_FOUND, member=OK), lambda w: {"reference": w.committed.reference}),
    Case("payments.receipt", "GET", EVERYONE, label="link",
         values=lambda w: {"reference": w.committed.reference, "token": w.tokens["committed"]}),
    Case("payments.checkout_cancelled", "GET", expect(NOT_FOUND), lambda w: {"reference": w.pending.reference}),
    Case("payments.checkout_cancelled", "GET", EVERYONE, label="link",
         values=lambda w: {"reference": w.pending.reference, "token": w.tokens["pending"]}),
    Case("payments.abandon_checkout", "POST", expect(NOT_FOUND), lambda w: {"reference": w.pending.reference}),
    Case("payments.abandon_checkout", "POST", EVERYONE, label="link",
         values=lambda w: {"reference": w.pending.reference, "token": w.tokens["pending"]}),
    # asks for a new link by email, to the pledge's own address: the same answer for any reference
    Case("payments.send_link", "POST", EVERYONE, lambda w: {"reference": w.pending.reference}),
    Case("payments.send_link", "POST", EVERYONE, lambda w: {"reference": "no-such-pledge"}, label="unknown"),
    Case("money.complete_payment", "GET", expect(NOT_FOUND, member=OK), lambda w: {"reference": w.committed.reference}),
    Case("money.complete_payment", "POST", expect(NOT_FOUND, member=OK), lambda w: {"reference": w.committed.reference}),
    Case("money.complete_payment", "GET", expect(NOT_FOUND), lambda w: {"reference": w.needs_action.reference},
         label="needs-action"),
    Case("money.complete_payment", "POST", expect(NOT_FOUND), lambda w: {"reference": w.needs_action.reference},
         label="needs-action"),
    Case("money.complete_payment", "GET", EVERYONE, label="needs-action-link",
         values=lambda w: {"reference": w.needs_action.reference, "token": w.tokens["needs_action"]}),
    Case("money.complete_payment", "POST", EVERYONE, label="needs-action-link",
         values=lambda w: {"reference": w.needs_action.reference, "token": w.tokens["needs_action"]}),
    Case("sandbox.checkout", "GET", EVERYONE, lambda w: {"session_id": w.pending.checkout_session_id}),
    Case("sandbox.checkout", "POST", EVERYONE, lambda w: {"session_id": w.pending.checkout_session_id},
         data=lambda w, u: {"card": "4242 4242 4242 4242"}),
    Case("sandbox.cancel", "POST", EVERYONE, lambda w: {"session_id": w.pending.checkout_session_id}),
    # saving a method ahead of any pledge: the signed session id is the only key, as on Stripe's page
    Case("sandbox.setup", "GET", EVERYONE, lambda w: {"session_id": _setup_session()}),
    Case("sandbox.setup", "POST", EVERYONE, lambda w: {"session_id": _setup_session()},
         data=lambda w, u: {"action": "cancel"}),
    # a backer's own pledges
    Case("payments.mine", "GET", SIGNED_IN),
    Case("payments.cancel", "POST", expect(FORBIDDEN, anonymous=LOGIN, member=OK),
         lambda w: {"reference": w.committed.reference}),
    Case("money.dashboard", "GET", MONEY_MANAGERS, slug("live")),
    # org-a is in Senegal, where Stripe Connect cannot pay: those who may ask are told so (409), others refused
    Case("money.connect_payout_account", "POST", expect(FORBIDDEN, anonymous=LOGIN, editor=409, owner=409, admin=409),
         slug("live")),
    Case("sandbox.recurring", "GET", EVERYONE, lambda w: {"session_id": "cs_sandbox_recurring_1_ab",
                                                          "data": _recurring_session()}),
    Case("sandbox.recurring", "POST", EVERYONE, lambda w: {"session_id": "cs_sandbox_recurring_1_ab",
                                                           "data": _recurring_session()},
         data=lambda w, u: {"card": "4242424242424242", "action": "pay"}),
    Case("sandbox.onboarding", "GET", EVERYONE, lambda w: {"account_id": "acct_sandbox_test"}),
    Case("sandbox.onboarding", "POST", EVERYONE, lambda w: {"account_id": "acct_sandbox_test"}),
    Case("money.refund", "POST", MONEY_MANAGERS, lambda w: {"reference": w.paid.reference},
         data=lambda w, u: {"amount": "", "reason": "Paid twice by mistake."}),
    Case("payments.choose_currency", "POST", EVERYONE, data=lambda w, u: {"currency": "EUR"}),
    # signed by the processor, whoever sends it: an unsigned call is refused
    Case("payments.stripe_webhook", "POST", expect(BAD), data=lambda w, u: {}),
    Case("payments.stripe_connect_webhook", "POST", expect(BAD), data=lambda w, u: {}),
    # match funds: their funder (the fund's manager) and admins; organizers apply for their own campaigns
    Case("funds.mine", "GET", FUNDERS),
    Case("funds.create", "GET", FUNDERS),
    Case("funds.create", "POST", FUNDERS, data=lambda w, u: FUND_FORM),
    Case("funds.show", "GET", FUNDERS, FUND),
    Case("funds.show", "POST", FUNDERS, FUND, data=lambda w, u: {"slug": w.live.slug}),
    Case("funds.decide", "POST", FUNDERS, lambda w: {"fund_id": w.fund.id, "row_id": w.application.id},
         data=lambda w, u: {"decision": "accept"}),
    Case("funds.statement", "GET", FUNDERS, FUND),
    Case("funds.apply", "POST", expect(FORBIDDEN, anonymous=LOGIN, editor=OK, owner=OK),
         lambda w: {"fund_id": w.fund.id, "slug": w.live.slug}),
    # another organization's draft: as if it did not exist to whoever may not see it (issue 9)
    Case("funds.apply", "POST", expect(NOT_FOUND, anonymous=LOGIN, editor=OK, owner=OK, moderator=FORBIDDEN,
                                       admin=FORBIDDEN),
         lambda w: {"fund_id": w.fund.id, "slug": w.draft.slug}, label="draft"),
    Case("funds.show", "POST", expect(FORBIDDEN, anonymous=LOGIN, funder=BAD, admin=BAD), FUND, label="draft",
         data=lambda w, u: {"slug": w.draft.slug}),
    # issue 10: budget lines, written with the draft
    Case("manage.add_budget_line", "POST", ORG_EDITORS, slug("draft"),
         data=lambda w, u: {"title": "Roof", "amount": "100000", "required": "yes"}),
    Case("manage.delete_budget_line", "POST", ORG_EDITORS, lambda w: {"slug": w.draft.slug, "line_id": w.draft_line.id}),
    # payout routes and hosts
    Case("hosts.payout_route", "GET", ORG_EDITORS, ORG_A),
    Case("hosts.payout_route", "POST", ORG_EDITORS, ORG_A, data=lambda w, u: {"route": f"host-{w.host.id}"}),
    Case("hosts.dashboard", "GET", HOST_READERS, lambda w: {"slug": w.host_org.slug}),
    Case("hosts.decide_route", "POST", HOST_MEMBERS, lambda w: {"slug": w.host_org.slug, "route_id": w.b_route_id},
         data=lambda w, u: {"decision": "accept"}),
    Case("hosts.export", "GET", HOST_READERS, lambda w: {"slug": w.host_org.slug, "kind": "ledger"}),
    Case("hosts.grant", "GET", ADMINS),
    Case("hosts.grant", "POST", ADMINS, data=lambda w, u: {
        "organization": "org-b", "countries": "MA", "currencies": "MAD", "fee_basis_points": "100",
        "methods": "bank_transfer"}),
    # expenses: private to the organization's editors, its host's members and admins; the host decides and pays
    Case("expenses.index", "GET", PRIVATE_DOCS, slug("done")),
    Case("expenses.index", "POST", ORG_EDITORS, slug("done"), data=lambda w, u: {
        "budget_line": str(w.line.id), "amount": "1000", "description": "Bags", "spent_on": today().isoformat(),
        "payee_kind": "supplier", "payee_details": ""}),
    Case("expenses.show", "GET", PRIVATE_DOCS, lambda w: {"expense_id": w.exp_submitted.id}),
    Case("expenses.add_receipt", "POST", ORG_EDITORS, lambda w: {"expense_id": w.exp_draft.id},
         data=lambda w, u: {"receipt": (io.BytesIO(png_bytes()), "receipt.png")}),
    Case("expenses.submit", "POST", ORG_EDITORS, lambda w: {"expense_id": w.exp_draft.id}),
    Case("expenses.edit", "POST", ORG_EDITORS, lambda w: {"expense_id": w.exp_draft.id}, data=lambda w, u: {
        "budget_line": str(w.line.id), "amount": "2000", "description": "Bags", "spent_on": today().isoformat(),
        "payee_kind": "supplier", "payee_details": ""}),
    # the editor submitted it: refused, as anyone who is not the host's
    Case("expenses.decide", "POST", HOST_MEMBERS, lambda w: {"expense_id": w.exp_submitted.id},
         data=lambda w, u: {"decision": "approve"}),
    Case("expenses.pay", "POST", HOST_MEMBERS, lambda w: {"expense_id": w.exp_approved.id}, data=lambda w, u: {
        "method": "cash", "reference": "R2", "paid_on": today().isoformat(), "currency_paid": "XOF",
        "amount_paid": "50000", "rate": "1"}),
    Case("expenses.receipt", "GET", PRIVATE_DOCS, lambda w: {"expense_id": w.exp_submitted.id,
                                                             "receipt_id": w.receipt.id}),
    Case("expenses.proof", "GET", PRIVATE_DOCS, lambda w: {"expense_id": w.exp_paid.id}),
    Case("expenses.organization_export", "GET", MONEY_MANAGERS, lambda w: {"slug": w.org.slug, "kind": "expenses"}),
    Case("money.transparency", "GET", EVERYONE, slug("done"), label="done"),
]


# -- the routes of the app, at collection time ---------------------------------------------------
ROUTES = permission_matrix.routes()


def matrix():
    for endpoint, method in ROUTES:
        if endpoint.startswith(tuple(DECIDED_ELSEWHERE)):
            continue
        cases = [c for c in EXPECTATIONS if (c.endpoint, c.method) == (endpoint, method)]
        if not cases:
            yield pytest.param(Case(endpoint, method, {}, label="NO-EXPECTATION"), "any",
                               id=f"{endpoint}-{method}-NO-EXPECTATION")
        for case in cases:
            for role in ROLES:
                yield pytest.param(case, role, id=f"{case.id}-{role}")


def test_blueprints_decided_elsewhere_have_their_own_table():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    for prefix, table in DECIDED_ELSEWHERE.items():
        assert (root / table).is_file(), f"{prefix} routes are said to be decided in {table}, which is missing"
        assert any(endpoint.startswith(prefix) for endpoint, _method in ROUTES), f"no {prefix} route any more"


def test_the_table_has_no_row_for_a_route_that_no_longer_exists():
    stale = {(c.endpoint, c.method) for c in EXPECTATIONS} - set(ROUTES)
    assert not stale, f"expectations for routes the app does not have: {sorted(stale)}"


def test_every_row_decides_for_every_role():
    for case in EXPECTATIONS:
        assert set(case.expect) == set(ROLES), case.id


@pytest.mark.parametrize("case, role", list(matrix()))
def test_route_answers_each_role_as_the_table_says(app, case: Case, role: str):
    if not case.expect:
        pytest.fail(f"{case.endpoint} {case.method} has no row in EXPECTATIONS (tests/test_permissions.py): "
                    "decide who may use it", pytrace=False)
    world = worlds.world(build_world)
    user = world.users.get(role)
    url = url_for(case.endpoint, **case.values(world))
    data = case.data(world, user) if case.data else None

    response = permission_matrix.ask(app, user, case.method, url, data)

    assert outcome(response) == case.expect[role], (
        f"{role} {case.method} {url}: got {response.status_code} {response.location or ''}, "
        f"expected {case.expect[role]}")


# -- what the matrix cannot see: a refused request changes nothing -------------------------------
def test_refused_requests_leave_the_live_campaign_and_its_revision_untouched(app):
    world = build_world()
    before = (world.live.title, world.live.story_md, len(world.live.tiers), world.revision.status,
              world.revision.after["title"], len(world.live.translations))
    for role in ("anonymous", "member", "other_editor", "moderator", "admin"):
        client = app.test_client()
        if role != "anonymous":
            sign_in(client, world.users[role])
        client.post(url_for("manage.edit_campaign", slug="live-a"),
                    data=campaign_form(title="Send your donations to my IBAN", story_md="Pay me"))
        client.post(url_for("manage.add_tier", slug="live-a"), data={"title": "Mine", "minimum": "5000"})
        client.post(url_for("manage.withdraw_revision", slug="live-a"))
        client.post(url_for("manage.remove_translation", slug="live-a", language="es"))
    for role in ("anonymous", "member", "other_editor", "editor", "owner"):
        client = app.test_client()
        if role != "anonymous":
            sign_in(client, world.users[role])
        client.post(url_for("moderation.revision", revision_id=world.revision.id),
                    data={"decision": "approve", "version": "1"})
    db.session.rollback()
    db.session.expire_all()
    assert (world.live.title, world.live.story_md, len(world.live.tiers), world.revision.status,
            world.revision.after["title"], len(world.live.translations)) == before


def test_refused_requests_leave_the_draft_and_the_organization_untouched(app):
    world = build_world()
    before = (world.draft.title, world.draft.status, len(world.draft.tiers), world.org.name,
              len(world.org.memberships), len(world.draft.translations))
    for role in ("anonymous", "member", "other_editor", "moderator", "admin"):
        client = app.test_client()
        if role != "anonymous":
            sign_in(client, world.users[role])
        client.post(url_for("manage.edit_campaign", slug="draft-a"), data=campaign_form(title="Hijacked", slug="draft-a"))
        client.post(url_for("manage.submit", slug="draft-a"))
        client.post(url_for("manage.delete_tier", slug="draft-a", tier_id=world.draft_tier.id))
        client.post(url_for("manage.remove_translation", slug="draft-a", language="es"))
        client.post(url_for("organizations.edit", slug="org-a"), data={**ORG_FORM, "name": "Hijacked"})
        client.post(url_for("organizations.remove_member", slug="org-a", membership_id=world.editor_membership.id))
    db.session.rollback()
    db.session.expire_all()
    assert (world.draft.title, world.draft.status, len(world.draft.tiers), world.org.name,
            len(world.org.memberships), len(world.draft.translations)) == before
