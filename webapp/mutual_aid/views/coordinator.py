"""The coordinator's pages: create and activate events, follow them live, close them with a report."""
from __future__ import annotations

from datetime import date

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from webapp.accounts.models import Role
from webapp.accounts.permissions import role_required
from webapp.errors import DomainError, InvalidTransition
from webapp.extensions import db
from webapp.ids import parse_int
from webapp.mutual_aid.errors import InvalidEvent
from webapp.mutual_aid.forms import ActivateForm, EventForm
from webapp.mutual_aid.models import (
    CallDelivery,
    DisasterEvent,
    EventKind,
    EventState,
    Severity,
    SolidarityCall,
)
from webapp.mutual_aid.services import events, figures
from webapp.mutual_aid.views.base import blueprint, refuse

coordinator_only = role_required(Role.COORDINATOR)
CALLS_PER_PAGE = 50


def _event(slug: str) -> DisasterEvent:
    event = events.event_by_slug(slug)
    if event is None:
        abort(404)
    return event


@blueprint.route("/manage/")
@coordinator_only
def manage_events():
    return render_template("mutual_aid/manage/index.html", events=events.all_events())


def _form_choices(form: EventForm) -> None:
    form.relief_organization_id.choices = [(o.id, o.name) for o in events.relief_organizations()]


def _draft(form: EventForm) -> events.EventDraft:
    return events.EventDraft(
        name=form.name.data or "", kind=EventKind(form.kind.data), severity=Severity(form.severity.data),
        starts_on=form.starts_on.data, relief_organization_id=form.relief_organization_id.data,
        public_message=form.public_message.data or "", region_codes=form.region_codes(),
        centre_latitude=form.centre_latitude.data, centre_longitude=form.centre_longitude.data,
        radius_km=form.radius_km.data, fund_goal=form.fund_goal.money)


def _show_problems(form: EventForm, problems: dict[str, str]) -> None:
    for name, message in problems.items():
        form[name].errors = list(form[name].errors) + [message]


@blueprint.route("/manage/events/new", methods=["GET", "POST"])
@coordinator_only
def new_event():
    form = EventForm()
    _form_choices(form)
    if request.method == "GET":
        form.starts_on.data = date.today()
        form.fund_currency.data = "XOF"
    if form.validate_on_submit():
        try:
            event = events.create_event(current_user, _draft(form))
        except InvalidEvent as exc:
            db.session.rollback()
            _show_problems(form, exc.problems)
        else:
            db.session.commit()
            flash(_("Event saved as a draft. Check it, then activate it."), "success")
            return redirect(url_for("mutual_aid.coordinate", slug=event.slug))
    return render_template("mutual_aid/manage/form.html", form=form, event=None), 400 if form.errors else 200


@blueprint.route("/manage/events/<slug>/edit", methods=["GET", "POST"])
@coordinator_only
def edit_event(slug: str):
    event = _event(slug)
    if event.state != EventState.DRAFT:
        return render_template("errors.html", code=409,
                               message=_("Only a draft can be edited: the calls went out on these terms.")), 409
    form = EventForm(obj=event)
    _form_choices(form)
    if request.method == "GET":
        form.regions.data = event.region_codes
        form.fund_currency.data, form.fund_goal.data = event.fund_currency, event.fund_goal
    if form.validate_on_submit():
        try:
            events.update_event(event, current_user, _draft(form))
        except InvalidEvent as exc:
            db.session.rollback()
            _show_problems(form, exc.problems)
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("mutual_aid.coordinate", slug=event.slug))
    return render_template("mutual_aid/manage/form.html", form=form, event=event), 400 if form.errors else 200


@blueprint.route("/manage/events/<slug>/activate", methods=["GET", "POST"])
@coordinator_only
def activate_event(slug: str):
    """A confirmation page first: activation opens a fund and alerts thousands of people."""
    event = _event(slug)
    form = ActivateForm()
    reach = _expected_reach(event) if event.state == EventState.DRAFT else None
    status = 200
    if form.validate_on_submit():
        from webapp.mutual_aid.tasks import dispatch_calls

        try:
            done = events.activate(event, current_user)
        except DomainError as exc:
            return refuse(exc)
        db.session.commit()
        dispatch_calls.delay(event.id)  # only now: nothing leaves before the activation is saved
        flash(_("“%(name)s” is active: %(n)d solidarity calls are on their way, %(w)d sleeping offers woke up.",
                name=event.name, n=done.total_calls, w=done.woken_offers), "success")
        return redirect(url_for("mutual_aid.coordinate", slug=event.slug))
    elif form.errors:
        status = 400
    if event.state != EventState.DRAFT and request.method == "GET":
        return redirect(url_for("mutual_aid.coordinate", slug=event.slug))
    return render_template("mutual_aid/manage/activate.html", event=event, form=form, reach=reach), status


def _expected_reach(event: DisasterEvent) -> dict[str, int]:
    """How many members each audience holds now (before the one-call-per-member rule)."""
    from webapp.clock import utcnow
    from webapp.mutual_aid.models import AUDIENCE_PRIORITY
    from webapp.mutual_aid.services.calls import audience_select

    now = utcnow()
    return {a.value: db.session.scalar(select(func.count()).select_from(audience_select(event, a, now).subquery()))
            for a in AUDIENCE_PRIORITY}


@blueprint.route("/manage/events/<slug>")
@coordinator_only
def coordinate(slug: str):
    event = _event(slug)
    fund, progress = figures.fund_of(event)
    cells = figures.cells(event)
    return render_template("mutual_aid/manage/event.html", event=event, calls=figures.call_figures(event),
                           fund=fund, progress=progress, posts=figures.posts_by_category(event),
                           median=figures.median_minutes_to_match(event), grid=figures.grid_map(cells),
                           cells=cells, history=events.history(event),
                           audiences=figures.audiences(), categories=figures.category_values())


@blueprint.route("/manage/events/<slug>/calls")
@coordinator_only
def event_calls(slug: str):
    """Each call and its state on each channel, a page at a time (no names: ids and states)."""
    event = _event(slug)
    page = parse_int(request.args.get("page", "1"), 1, 10**9) or 1  # an offset within BIGINT
    state = request.args.get("state") or None
    q = select(SolidarityCall).where(SolidarityCall.event_id == event.id)
    if state:
        q = q.where(SolidarityCall.state == state)
    found = db.session.scalars(q.order_by(SolidarityCall.id).limit(CALLS_PER_PAGE)
                               .offset((page - 1) * CALLS_PER_PAGE)).all()
    deliveries = {}
    if found:
        for d in db.session.scalars(select(CallDelivery).where(CallDelivery.call_id.in_([c.id for c in found]))):
            deliveries.setdefault(d.call_id, {})[d.channel.value] = d
    return render_template("mutual_aid/manage/calls.html", event=event, calls=found, deliveries=deliveries,
                           page=page, state=state, per_page=CALLS_PER_PAGE)


@blueprint.route("/manage/events/<slug>/state", methods=["POST"])
@coordinator_only
def change_state(slug: str):
    event = _event(slug)
    target = request.form.get("to")
    moves = {"recovery": events.move_to_recovery, "active": events.reactivate, "closed": events.close}
    if target not in moves:
        abort(400, _("Choose recovery, active or closed."))
    try:
        moves[target](event, current_user)
    except (DomainError, InvalidTransition) as exc:
        return refuse(exc)
    db.session.commit()
    if target == "closed":
        flash(_("The event is closed. Here is its report."), "success")
        return redirect(url_for("mutual_aid.report", slug=event.slug))
    flash(_("The event is now %(state)s.", state=event.state.value), "success")
    return redirect(url_for("mutual_aid.coordinate", slug=event.slug))


@blueprint.route("/manage/events/<slug>/report")
@coordinator_only
def report(slug: str):
    event = _event(slug)
    if event.state == EventState.DRAFT:
        abort(404)
    fund, progress = figures.fund_of(event)
    return render_template("mutual_aid/manage/report.html", event=event, rows=figures.report_rows(event),
                           calls=figures.call_figures(event), fund=fund, progress=progress,
                           posts=figures.posts_by_category(event), median=figures.median_minutes_to_match(event),
                           grid=figures.grid_map(figures.cells(event)), audiences=figures.audiences(),
                           categories=figures.category_values(), hxl=figures.HXL_TAGS, header=figures.CSV_HEADER)


@blueprint.route("/manage/events/<slug>/report.csv")
@coordinator_only
def report_csv(slug: str):
    event = _event(slug)
    if event.state == EventState.DRAFT:
        abort(404)
    filename = f"harambee-{event.slug}-report.csv"
    return Response(figures.report_csv(event), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@blueprint.app_template_filter("aid_minutes")
def minutes_filter(minutes: float | None) -> str:
    if minutes is None:
        return "—"
    if minutes < 90:
        return _("%(n)d min", n=round(minutes))
    if minutes < 48 * 60:
        return _("%(n).1f h", n=minutes / 60)
    return _("%(n).1f days", n=minutes / 1440)
