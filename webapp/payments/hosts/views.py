"""Routes for payout routes and hosts: an organization's payout page, the host's dashboard, and granting the role."""
from __future__ import annotations

from babel.numbers import format_decimal
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from webapp.accounts.models import Role
from webapp.accounts.permissions import role_required
from webapp.errors import DomainError, PermissionDenied
from webapp.extensions import db
from webapp.i18n import locale_code
from webapp.organizations import services as organizations
from webapp.organizations.models import Organization
from webapp.payments.expenses import exports
from webapp.payments.expenses import services as expenses
from webapp.payments.expenses.views import csv_response
from webapp.payments.hosts import services as hosts
from webapp.payments.hosts.forms import HostGrantForm, RouteDecisionForm, RouteForm
from webapp.payments.hosts.models import HostProfile, PayoutRoute, PayoutRouteKind
from webapp.payments.payouts.countries import connect_supported

blueprint = Blueprint("hosts", __name__)


def _organization(slug: str) -> Organization:
    org = db.session.scalar(select(Organization).where(Organization.slug == slug))
    if org is None:
        abort(404)
    return org


def _host(slug: str) -> HostProfile:
    """The host whose organization has this address, for its members and admins."""
    profile = hosts.profile_of(_organization(slug))
    if profile is None:
        abort(404)
    if not (current_user.is_admin or hosts.is_host_member(current_user, profile)):
        abort(403)
    return profile


def _fee(host: HostProfile) -> str:
    """The host's fee in percent, as the reader writes numbers (1,5 in French)."""
    return format_decimal(host.fee_basis_points / 100, locale=locale_code())


def _route_choices(org: Organization) -> list[tuple[str, str]]:
    choices = []
    if connect_supported(org.country):
        choices.append(("connect", _("Stripe Connect: transfers to your organization's own account")))
    for host in hosts.hosts_serving(org):
        choices.append((f"host-{host.id}", _("Host: %(name)s (fee %(fee)s %%)", name=host.organization.name,
                                             fee=_fee(host))))
    return choices


@blueprint.route("/manage/organizations/<slug>/payout", methods=["GET", "POST"])
@login_required
def payout_route(slug: str):
    """The organization's payout page: the routes its country allows, and the one it has."""
    org = _organization(slug)
    if not organizations.can_edit(current_user, org):
        abort(403)
    form = RouteForm()
    form.route.choices = _route_choices(org)
    status = 200
    if request.method == "POST":
        if form.validate():
            kind, host = PayoutRouteKind.CONNECT, None
            if form.route.data.startswith("host-"):
                kind = PayoutRouteKind.HOST
                host = db.session.get(HostProfile, int(form.route.data.removeprefix("host-")))
            try:
                route = hosts.choose_route(org, current_user, kind, host)
                db.session.commit()
            except DomainError as exc:
                db.session.rollback()
                form.route.errors = [str(exc)]
                status = 409
            else:
                flash(_("Payout route saved.") if route.active else
                      _("Request sent: the host's members decide whether to hold money for you."), "success")
                return redirect(url_for("hosts.payout_route", slug=org.slug))
        else:
            status = 400
    route = hosts.route_of(org)
    if request.method == "GET" and route is not None:
        form.route.data = "connect" if route.kind == PayoutRouteKind.CONNECT else f"host-{route.host_id}"
    return render_template("hosts/payout_route.html", org=org, form=form, route=route,
                           connect_ok=connect_supported(org.country)), status


@blueprint.route("/hosts/<slug>")
@login_required
def dashboard(slug: str):
    host = _host(slug)
    submitted, approved = expenses.awaiting(host)
    return render_template("hosts/dashboard.html", host=host, held=hosts.held_organizations(host), fee=_fee(host),
                           requests=[r for r in hosts.requests_for(host) if r.status.value == "requested"],
                           submitted=submitted, approved=approved, decision_form=RouteDecisionForm())


@blueprint.route("/hosts/<slug>/requests/<int:route_id>", methods=["POST"])
@login_required
def decide_route(slug: str, route_id: int):
    host = _host(slug)
    route = db.session.get(PayoutRoute, route_id)
    if route is None or route.host_id != host.id:
        abort(404)
    form = RouteDecisionForm()
    if not form.validate():
        return render_template("errors.html", code=400, message=_("Choose accept or refuse.")), 400
    try:
        hosts.decide_route(route, current_user, form.decision.data == "accept")
        db.session.commit()
    except PermissionDenied as exc:
        db.session.rollback()
        return render_template("errors.html", code=403, message=str(exc)), 403
    except DomainError as exc:
        db.session.rollback()
        return render_template("errors.html", code=409, message=str(exc)), 409
    flash(_("Decision recorded."), "success")
    return redirect(url_for("hosts.dashboard", slug=slug))


@blueprint.route("/hosts/<slug>/export/<kind>.csv")
@login_required
def export(slug: str, kind: str):
    host = _host(slug)
    if kind not in exports.KINDS:
        abort(404)
    org_ids = [org.id for org, _held in hosts.held_organizations(host)]
    accounts = [hosts.holding_account(host.id, org_id) for org_id in org_ids] + [hosts.fee_account(host.id)]
    return csv_response(exports.export(kind, org_ids, accounts), f"{host.organization.slug}-host-{kind}.csv")


@blueprint.route("/admin/hosts", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def grant():
    form = HostGrantForm()
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate():
            org = db.session.scalar(select(Organization).where(Organization.slug == form.organization.data.strip()))
            if org is None:
                form.organization.errors = [_("No organization has this address.")]
            else:
                try:
                    hosts.grant_host_role(org, current_user, hosts.HostTerms(
                        countries=form.countries.data.split(","), currencies=form.currencies.data.split(","),
                        fee_basis_points=form.fee_basis_points.data or 0, methods=form.methods.data or []))
                    db.session.commit()
                except DomainError as exc:
                    db.session.rollback()
                    flash(str(exc), "error")
                else:
                    flash(_("%(name)s is now a host.", name=org.name), "success")
                    return redirect(url_for("hosts.grant"))
    listed = hosts.all_hosts()
    return render_template("hosts/grant.html", form=form, hosts=listed, fees={h.id: _fee(h) for h in listed}), status
