"""Public pages: the events under way, one event at coarse resolution, and unsubscribe links."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from webapp.errors import PermissionDenied, TokenInvalid
from webapp.extensions import csrf, db
from webapp.mutual_aid.models import EventState, HelpRequest, Offer, OfferState, RequestState
from webapp.mutual_aid.services import calls, events, figures
from webapp.mutual_aid.services.events import require_coordinator
from webapp.mutual_aid.views.base import blueprint


@blueprint.route("/")
def index():
    return render_template("mutual_aid/index.html", events=events.public_events())


def _visible_event(slug: str):
    event = events.event_by_slug(slug)
    if event is None:
        abort(404)
    if event.state == EventState.DRAFT:
        try:
            require_coordinator(current_user)
        except PermissionDenied:
            abort(404)  # a draft's address reveals nothing
    return event


@blueprint.route("/events/<slug>")
def show_event(slug: str):
    """What anyone may see: the message, the fund, counts, offers by title and cell, never a person."""
    event = _visible_event(slug)
    fund, progress = figures.fund_of(event)
    cells = figures.cells(event, public=True)
    offers = db.session.scalars(select(Offer).where(Offer.event_id == event.id, Offer.state == OfferState.PUBLISHED)
                                .order_by(Offer.category, Offer.id).limit(100)).all()
    needs = db.session.execute(
        select(HelpRequest.category, HelpRequest.urgency, HelpRequest.household_size, HelpRequest.region_code,
               HelpRequest.cell_lat, HelpRequest.cell_lon)
        .where(HelpRequest.event_id == event.id, HelpRequest.hidden_at.is_(None),
               HelpRequest.duplicate_of_id.is_(None), HelpRequest.state == RequestState.OPEN)
        .order_by(HelpRequest.created_at.desc()).limit(100)).all()
    return render_template("mutual_aid/event.html", event=event, fund=fund, progress=progress,
                           offers=offers, needs=needs, grid=figures.grid_map(cells))


@blueprint.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed token is the proof; mail clients post one-click unsubscribes (RFC 8058) with no form
def unsubscribe(token: str):
    try:
        user, channel = calls.read_unsubscribe_token(token)
    except TokenInvalid as exc:
        return render_template("errors.html", code=400, message=str(exc)), 400
    if request.method == "POST":
        calls.opt_out(user, channel)
        db.session.commit()
        if request.form.get("List-Unsubscribe") == "One-Click":
            return "", 204
        flash(_("Done: you will no longer get solidarity calls by %(channel)s.", channel=channel.value), "success")
        return redirect(url_for("mutual_aid.unsubscribe", token=token, done=1))
    return render_template("mutual_aid/unsubscribe.html", token=token, channel=channel,
                           done=request.args.get("done") == "1")
