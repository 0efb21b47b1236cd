"""Who may use each route of recurring support and memberships: every route and method, every role.

Roles: anonymous; stranger (an account with nothing here); supporter (whose gifts the routes name);
member (an active member of organization A, whose dues wait to be paid); editor and other_editor
(an editor of A, and of another organization); admin. Only the supporter changes their gift; only
A's editors see A's members. A route of either blueprint without a row fails here.
"""
from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest
from flask import url_for

from tests import permission_matrix, worlds
from tests.campaigns.helpers import sign_in
from tests.permission_matrix import LOGIN, OK, Case, outcome
from tests.factories import CampaignFactory, MembershipFactory, OrganizationFactory, UserFactory
from webapp.accounts.models import Role
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.membership import services as membership
from webapp.membership.models import Admission, CashDues, MembershipClass
from webapp.money import Money
from webapp.payments.recurring import services as recurring
from webapp.payments.recurring.models import RecurringCharge, SupportInterval, SupportState

ROLES = ("anonymous", "stranger", "supporter", "member", "editor", "other_editor", "admin")
FORBIDDEN, NOT_FOUND, CONFLICT = 403, 404, 409


expect = permission_matrix.expectations(ROLES)


EVERYONE = expect(OK)
SIGNED_IN = expect(OK, anonymous=LOGIN)
SUPPORTER_ONLY = expect(FORBIDDEN, anonymous=LOGIN, supporter=OK)
MEMBER_ONLY = expect(FORBIDDEN, anonymous=LOGIN, member=OK)
EDITORS = expect(FORBIDDEN, anonymous=LOGIN, editor=OK)


def build_world() -> SimpleNamespace:
    w = SimpleNamespace()
    users = {name: UserFactory(verified=True, email=f"{name}@example.org", name=name.title())
             for name in ROLES if name != "anonymous"}
    users["admin"].role = Role.ADMIN
    w.users = users
    w.org = OrganizationFactory(slug="org-a", country="BJ", currency="CAD")
    w.campaign = CampaignFactory(organization=w.org, live=True)
    other = OrganizationFactory(slug="org-b")
    MembershipFactory(organization=w.org, user=users["editor"], editor=True)
    treasurer = UserFactory(verified=True, email="treasurer@example.org")
    MembershipFactory(organization=w.org, user=treasurer, editor=True)
    MembershipFactory(organization=other, user=users["other_editor"], owner=True)
    now = utcnow()

    def gift(state: SupportState):
        support = recurring.start(users["supporter"], w.org, Money(2_500, "CAD"), SupportInterval.MONTHLY,
                                  "America/Toronto", "en", now=now)
        support.state = state
        return support

    w.active, w.paused, w.needs_action = (gift(S) for S in (SupportState.ACTIVE, SupportState.PAUSED,
                                                              SupportState.NEEDS_ACTION))
    db.session.add(RecurringCharge(support_id=w.needs_action.id, period=w.needs_action.next_period,
                                   due_on=w.needs_action.next_charge_on, amount=2_500, currency="CAD",
                                   kind="renewal", provider="sandbox", status="needs_action"))
    w.needs_action.needs_action_since, w.needs_action.failure_code = now, "card_declined"
    w.paid = RecurringCharge(support_id=w.active.id, period="2026-01", due_on=date(2026, 1, 5), amount=2_500,
                             currency="CAD", kind="renewal", provider="sandbox", status="succeeded",
                             payment_intent_id="pi_sandbox_paid", charge_id="ch_sandbox_paid", paid_at=now)
    db.session.add(w.paid)
    w.free = MembershipClass(organization_id=w.org.id, name="Sympathisant", currency="XOF")
    w.dues = MembershipClass(organization_id=w.org.id, name="Membre actif", dues_amount=5_000, currency="XOF",
                             dues_interval=SupportInterval.YEARLY, admission=Admission.OPEN)
    w.by_approval = MembershipClass(organization_id=w.org.id, name="Sociétaire", currency="XOF",
                                    admission=Admission.APPROVAL)
    db.session.add_all([w.free, w.dues, w.by_approval])
    db.session.flush()
    w.member = membership.join(users["member"], w.dues)  # open, dues not yet paid
    w.request = membership.join(UserFactory(verified=True, email="applicant@example.org"), w.by_approval)
    w.cash = CashDues(member_id=w.member.id, amount=5_000, currency="XOF", paid_on=date(2026, 11, 2),
                      covers_until=date(2027, 11, 1), recorded_by_id=treasurer.id)
    db.session.add(w.cash)
    db.session.commit()
    return w




ORG = lambda w: {"slug": w.org.slug}  # noqa: E731
GIFT_FORM = {"amount": "25", "currency": "CAD", "interval": "monthly", "timezone": "America/Toronto"}

EXPECTATIONS: list[Case] = [
    Case("recurring.start", "GET", SIGNED_IN, ORG),
    Case("recurring.start", "POST", SIGNED_IN, ORG, lambda w: GIFT_FORM),
    Case("recurring.mine", "GET", SIGNED_IN),
    Case("recurring.change_amount", "POST", SUPPORTER_ONLY, lambda w: {"reference": w.active.reference},
         lambda w: {"amount": "30"}),
    Case("recurring.pause", "POST", SUPPORTER_ONLY, lambda w: {"reference": w.active.reference}),
    Case("recurring.resume", "POST", SUPPORTER_ONLY, lambda w: {"reference": w.paused.reference}),
    Case("recurring.cancel", "POST", SUPPORTER_ONLY, lambda w: {"reference": w.active.reference}),
    Case("recurring.change_card", "POST", SIGNED_IN),
    Case("recurring.complete", "GET", SUPPORTER_ONLY, lambda w: {"reference": w.needs_action.reference}),
    Case("recurring.complete", "POST", SUPPORTER_ONLY, lambda w: {"reference": w.needs_action.reference}),
    Case("recurring.statement", "GET", SIGNED_IN, lambda w: {"year": 2026}),
    Case("recurring.income", "GET", expect(FORBIDDEN, anonymous=LOGIN, editor=OK, admin=OK), ORG),
    Case("recurring.payments", "GET", expect(FORBIDDEN, anonymous=LOGIN, editor=OK, admin=OK), ORG),
    Case("recurring.refund", "POST", expect(FORBIDDEN, anonymous=LOGIN, editor=OK, admin=OK),
         lambda w: {"slug": w.org.slug, "charge_id": w.paid.id}, lambda w: {"amount": "5", "reason": "Twice"}),
    # the organization's owners (tested in test_org_currency.py) and admins; its editors are refused
    Case("recurring.currency", "GET", expect(FORBIDDEN, anonymous=LOGIN, admin=OK), ORG),
    Case("recurring.currency", "POST", expect(FORBIDDEN, anonymous=LOGIN, admin=OK), ORG,
         lambda w: {"currency": "EUR", "accepts": "1"}),
    Case("recurring.transparency", "GET", EVERYONE, ORG),
    Case("recurring.ongoing", "GET", EDITORS, ORG),
    Case("recurring.set_ongoing", "POST", EDITORS, lambda w: {"slug": w.org.slug, "campaign_slug": w.campaign.slug},
         lambda w: {"ongoing": "1"}),
    Case("recurring.next_month", "POST", SUPPORTER_ONLY, lambda w: {"reference": w.active.reference}),
    Case("membership.classes", "GET", EVERYONE, ORG),
    Case("membership.join", "POST", expect(OK, anonymous=LOGIN, member=CONFLICT),
         lambda w: {"slug": w.org.slug, "class_id": w.free.id}),
    Case("membership.pay", "POST", MEMBER_ONLY, lambda w: {"member_id": w.member.id}),
    Case("membership.mine", "GET", SIGNED_IN),
    Case("membership.resign", "POST", MEMBER_ONLY, lambda w: {"member_id": w.member.id}),
    Case("membership.contact", "POST", MEMBER_ONLY, lambda w: {"member_id": w.member.id},
         lambda w: {"phone": "+229 97 00 00 01", "channel": "both", "consent": "y"}),
    Case("membership.member_contact", "POST", EDITORS, lambda w: {"slug": w.org.slug, "member_id": w.member.id},
         lambda w: {"phone": "+229 97 00 00 02", "channel": "sms", "consent": "y"}),
    Case("membership.manage", "GET", EDITORS, ORG),
    Case("membership.create_class", "POST", EDITORS, ORG, lambda w: {
        "name": "Bienfaiteur", "dues": "", "currency": "XOF", "interval": "yearly", "admission": "open"}),
    Case("membership.decide", "POST", EDITORS, lambda w: {"slug": w.org.slug, "member_id": w.request.id,
                                                          "decision": "approve"}),
    Case("membership.record_cash", "POST", EDITORS, lambda w: {"slug": w.org.slug, "member_id": w.member.id},
         lambda w: {"amount": "5000", "currency": "XOF", "paid_on": "2026-11-20", "covers_until": "2027-11-19"}),
    Case("membership.confirm_cash", "POST", EDITORS, lambda w: {"slug": w.org.slug, "dues_id": w.cash.id}),
    Case("membership.edit_class", "GET", EDITORS, lambda w: {"slug": w.org.slug, "class_id": w.dues.id}),
    Case("membership.edit_class", "POST", EDITORS, lambda w: {"slug": w.org.slug, "class_id": w.dues.id},
         lambda w: {"name": "Membre actif", "dues": "6000", "currency": "XOF", "interval": "yearly",
                    "admission": "open"}),
    Case("membership.open_class", "POST", EDITORS, lambda w: {"slug": w.org.slug, "class_id": w.dues.id,
                                                              "action": "close"}),
    Case("membership.members_csv", "GET", EDITORS, ORG),
    Case("membership.message", "POST", EDITORS, ORG, lambda w: {"subject": "AG", "body": "Samedi 10 h."}),
]


def routes() -> list[tuple[str, str]]:
    return permission_matrix.routes("recurring.", "membership.")


def test_every_route_has_a_row():
    missing = set(routes()) - {(c.endpoint, c.method) for c in EXPECTATIONS}
    assert not missing, f"routes with no row in {__file__}: {sorted(missing)}"


@pytest.mark.parametrize("case, role", [pytest.param(c, r, id=f"{c.id}-{r}") for c in EXPECTATIONS for r in ROLES])
def test_route_answers_each_role_as_the_table_says(app, case: Case, role: str):
    w = worlds.world(build_world)
    url = url_for(case.endpoint, **case.args(w))
    response = permission_matrix.ask(app, w.users.get(role), case.method, url, case.data(w))
    assert outcome(response) == case.expect[role], (
        f"{role} {case.method} {url}: got {response.status_code} {response.location or ''}")


def test_a_refused_change_leaves_the_gift_as_it_was(app):
    w = build_world()
    client = app.test_client()
    sign_in(client, w.users["stranger"])
    for action in ("cancel", "pause"):
        assert client.post(url_for(f"recurring.{action}", reference=w.active.reference)).status_code == 403
    assert client.post(url_for("recurring.change_amount", reference=w.active.reference),
                       data={"amount": "1"}).status_code == 403
    db.session.expire_all()
    assert (w.active.state, w.active.amount) == (SupportState.ACTIVE, 2_500)
