"""Who may use each impact route: every route and method, every role, against an explicit table.

Roles: anonymous; stranger (an account with nothing here); member (an active member of organization A, who may
be asked but manages nothing); backer (of A's campaign); editor (of A); other_editor (of another organization);
moderator; admin. Only A's editors declare indicators, list beneficiaries, give values and ask; the link of a
confirmation needs no account; exports are public. A route of the blueprint without a row fails here.
"""
from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest
from flask import url_for

from tests import permission_matrix, worlds
from tests.campaigns.helpers import sign_in
from tests.permission_matrix import LOGIN, OK, Case, outcome
from tests.factories import (BeneficiaryFactory, CampaignFactory, IndicatorFactory, IndicatorValueFactory,
                             MembershipFactory, OrganizationFactory, PledgeFactory, ProgressReportFactory,
                             UserFactory)
from tests.impact.conftest import member_of
from webapp.accounts.models import Role
from webapp.extensions import db
from webapp.impact.models import Audience, Channel, ConfirmationRequest
from webapp.impact.services import confirmations

ROLES = ("anonymous", "stranger", "member", "backer", "editor", "other_editor", "moderator", "admin")
FORBIDDEN, NOT_FOUND, BAD = 403, 404, 400


expect = permission_matrix.expectations(ROLES)


EVERYONE = expect(OK)
EDITORS = expect(FORBIDDEN, anonymous=LOGIN, editor=OK)


def build_world() -> SimpleNamespace:
    w = SimpleNamespace()
    w.users = {name: UserFactory(verified=True, email=f"{name}@example.org") for name in ROLES if name != "anonymous"}
    w.users["moderator"].role = Role.MODERATOR
    w.users["admin"].role = Role.ADMIN
    w.org = OrganizationFactory(slug="org-a")
    MembershipFactory(organization=w.org, user=w.users["editor"], editor=True)
    MembershipFactory(organization=OrganizationFactory(slug="org-b"), user=w.users["other_editor"], owner=True)
    member_of(w.org, w.users["member"])
    w.campaign = CampaignFactory(succeeded=True, organization=w.org, slug="wells-a")
    PledgeFactory(campaign=w.campaign, user=w.users["backer"])
    w.report = ProgressReportFactory(campaign=w.campaign)
    w.indicator = IndicatorFactory(campaign=w.campaign)
    w.spare_indicator = IndicatorFactory(campaign=w.campaign)
    w.value = IndicatorValueFactory(indicator=w.indicator, report=w.report)
    w.beneficiary = BeneficiaryFactory(campaign=w.campaign)
    request = ConfirmationRequest(value_id=w.value.id, campaign_id=w.campaign.id, audience=Audience.BENEFICIARY,
                                  person_key=f"beneficiary:{w.beneficiary.id}", beneficiary_id=w.beneficiary.id,
                                  channel=Channel.SMS, locale="fr", nonce="n" * 32)
    db.session.add(request)
    db.session.flush()
    w.token = confirmations.token_for(request)
    db.session.commit()
    return w




CAMPAIGN = lambda w: {"slug": w.campaign.slug}  # noqa: E731
INDICATOR_FORM = {"source": "sdg", "sdg_target": "2.1", "catalog_key": "", "title": "", "unit": "meals",
                  "baseline": "0", "target": "900", "target_date": "2027-06-30"}
EXPECTATIONS = [
    Case("impact.manage", "GET", EDITORS, CAMPAIGN),
    Case("impact.manage", "POST", EDITORS, CAMPAIGN, lambda w: INDICATOR_FORM),
    Case("impact.remove_indicator", "POST", EDITORS,
         lambda w: {"slug": w.campaign.slug, "indicator_id": w.spare_indicator.id}),
    Case("impact.beneficiary_list", "GET", EDITORS, CAMPAIGN),
    Case("impact.beneficiary_list", "POST", EDITORS, CAMPAIGN,
         lambda w: {"phone": "+22997555555", "email": "", "locale": "fr", "consent": "y",
                    "consent_on": date.today().isoformat()}),
    Case("impact.remove_beneficiary", "POST", EDITORS,
         lambda w: {"slug": w.campaign.slug, "beneficiary_id": w.beneficiary.id}),
    Case("impact.report_values", "GET", EDITORS, lambda w: {"slug": w.campaign.slug, "report_id": w.report.id}),
    Case("impact.report_values", "POST", EDITORS, lambda w: {"slug": w.campaign.slug, "report_id": w.report.id},
         lambda w: {f"value_{w.indicator.id}": "48", f"measured_on_{w.indicator.id}": date.today().isoformat()}),
    Case("impact.ask", "POST", EDITORS, lambda w: {"slug": w.campaign.slug, "value_id": w.value.id}),
    Case("impact.confirm", "GET", EVERYONE, lambda w: {"token": w.token}),
    Case("impact.confirm", "POST", EVERYONE, lambda w: {"token": w.token}, lambda w: {"verdict": "confirm"}),
    Case("impact.confirm", "GET", expect(BAD), lambda w: {"token": w.token[:-2] + "xx"}, label="forged"),
    Case("impact.confirm", "POST", expect(BAD), lambda w: {"token": w.token[:-2] + "xx"},
         lambda w: {"verdict": "confirm"}, label="forged"),
    Case("impact.export_csv", "GET", EVERYONE, lambda w: {"slug": w.org.slug}),
    Case("impact.export_json", "GET", EVERYONE, lambda w: {"slug": w.org.slug}),
]


ROUTES = permission_matrix.routes("impact.")


def test_every_route_has_a_row_and_every_row_a_route():
    assert set(ROUTES) == {(c.endpoint, c.method) for c in EXPECTATIONS}
    for case in EXPECTATIONS:
        assert set(case.expect) == set(ROLES), case.id


@pytest.mark.parametrize("case", EXPECTATIONS, ids=lambda c: c.id)
@pytest.mark.parametrize("role", ROLES)
def test_route_answers_each_role_as_the_table_says(app, case: Case, role: str):
    world = worlds.world(build_world)
    url = url_for(case.endpoint, **case.args(world))
    response = permission_matrix.ask(app, world.users.get(role), case.method, url,
                                     case.data(world))
    assert outcome(response) == case.expect[role], (
        f"{role} {case.method} {url}: got {response.status_code} {response.location or ''}")


def test_a_refused_editor_of_another_organization_changes_nothing(app):
    from sqlalchemy import func, select

    from webapp.impact.models import Beneficiary, Indicator

    world = build_world()
    client = app.test_client()
    sign_in(client, world.users["other_editor"])
    client.post(url_for("impact.manage", slug=world.campaign.slug), data=INDICATOR_FORM)
    client.post(url_for("impact.remove_beneficiary", slug=world.campaign.slug, beneficiary_id=world.beneficiary.id))
    assert db.session.scalar(select(func.count()).select_from(Indicator)) == 2
    assert db.session.scalar(select(func.count()).select_from(Beneficiary)) == 1
