"""Members' pages: calls and notifications, offers (sleeping too), requests, matches and channels."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select, update

from webapp.clock import utcnow
from webapp.errors import DomainError
from webapp.extensions import db
from webapp.ids import parse_id
from webapp.mutual_aid.forms import OfferForm, PreferencesForm, ReportForm, RequestForm
from webapp.mutual_aid.models import (
    Channel,
    HelpCategory,
    HelpRequest,
    Match,
    Notification,
    Offer,
    OfferState,
    Urgency,
)
from webapp.mutual_aid.ratelimit import POSTS, SUGGESTIONS, probe_limited
from webapp.mutual_aid.services import calls, events, matching, moderation, posts
from webapp.mutual_aid.views.base import act, blueprint, get_or_404, refuse


# -- calls and notifications --------------------------------------------------------------------
@blueprint.route("/me/")
@login_required
def my_aid():
    notes = db.session.scalars(select(Notification).where(Notification.user_id == current_user.id)
                               .order_by(Notification.id.desc()).limit(50)).all()
    return render_template("mutual_aid/me.html", calls=calls.calls_of(current_user), notifications=notes,
                           offers=posts.offers_of(current_user), requests=posts.requests_of(current_user),
                           matches=matching.matches_of(current_user))


@blueprint.route("/calls/<int:call_id>")
@login_required
def show_call(call_id: int):
    """Opening a call marks it opened (once), whichever link led here."""
    call = calls.call_for(call_id, current_user)
    if call is None:
        abort(404)
    try:
        via = Channel(request.args.get("via", "inapp"))
    except ValueError:
        via = Channel.INAPP
    if calls.open_call(call, via):
        db.session.execute(update(Notification).where(Notification.call_id == call.id, Notification.read_at.is_(None))
                           .values(read_at=utcnow()).execution_options(synchronize_session=False))
        db.session.commit()
    from webapp.mutual_aid.services import commitments, figures

    fund, progress = figures.fund_of(call.event)
    commitment = commitments.commitment_for_call(call)
    return render_template("mutual_aid/call.html", call=call, event=call.event, fund=fund, progress=progress,
                           commitment=commitment, woken=posts.woken_offers_of(current_user, call.event),
                           offerable=commitments.offerable(commitment) if commitment else None)


@blueprint.route("/notifications/<int:notification_id>")
@login_required
def open_notification(notification_id: int):
    note = db.session.get(Notification, notification_id)
    if note is None or note.user_id != current_user.id:
        abort(404)
    if note.read_at is None:
        note.read_at = utcnow()
        db.session.commit()
    if note.call_id:
        return redirect(url_for("mutual_aid.show_call", call_id=note.call_id))
    if note.match_id:
        return redirect(url_for("mutual_aid.show_match", match_id=note.match_id))
    if note.request_id:
        owner = db.session.scalar(select(HelpRequest.requester_id).where(HelpRequest.id == note.request_id))
        if owner == current_user.id:
            return redirect(url_for("mutual_aid.show_request", request_id=note.request_id))
    return redirect(url_for("mutual_aid.my_aid"))


@blueprint.route("/me/channels", methods=["GET", "POST"])
@login_required
def preferences():
    pref = calls.preference_of(current_user)
    form = PreferencesForm()
    if request.method == "GET":
        form.email.data = pref.email_opted_out_at is None
        form.sms.data = pref.sms_opted_out_at is None and bool(pref.sms_number)
        form.sms_number.data = pref.sms_number
    status = 200
    if form.validate_on_submit():
        try:
            calls.set_preferences(current_user, email=form.email.data, sms=form.sms.data,
                                  sms_number=form.sms_number.data)
        except DomainError as exc:
            db.session.rollback()
            form.sms_number.errors = [str(exc)]
            status = 400
        else:
            db.session.commit()
            flash(_("Your channels are saved."), "success")
            return redirect(url_for("mutual_aid.preferences"))
    elif form.errors:
        status = 400
    else:
        db.session.commit()  # the preference row, created on first visit
    return render_template("mutual_aid/preferences.html", form=form), status


# -- offers -------------------------------------------------------------------------------------
def _place(form) -> posts.Place:
    return posts.Place(latitude=form.latitude.data, longitude=form.longitude.data, region_code=form.region.data or None)


def _offer_details(form: OfferForm) -> posts.OfferDetails:
    return posts.OfferDetails(
        category=HelpCategory(form.category.data), title=form.title.data or "", description=form.description.data,
        capacity=form.capacity.data, remote=bool(form.remote.data), available_from=form.available_from.data,
        available_until=form.available_until.data, place=_place(form), contact_phone=form.contact_phone.data,
        contact_note=form.contact_note.data)


def _prefill_place(form) -> None:
    form.country.data = current_user.residence_country
    form.region.data = current_user.residence_region
    form.region._country = current_user.residence_country
    form.latitude.data, form.longitude.data = current_user.latitude, current_user.longitude


def _posting_event(slug: str):
    event = events.event_by_slug(slug)
    if event is None or event.state.value == "draft":
        abort(404)
    return event


@blueprint.route("/me/offers/new", methods=["GET", "POST"])
@login_required
@probe_limited(POSTS)
def new_sleeping_offer():
    """Pre-register an offer: it wakes up by itself when a disaster is declared over its place."""
    return _offer_form(None)


@blueprint.route("/events/<slug>/offers/new", methods=["GET", "POST"])
@login_required
@probe_limited(POSTS)
def new_offer(slug: str):
    return _offer_form(_posting_event(slug))


def _offer_form(event):
    form = OfferForm()
    if request.method == "GET":
        _prefill_place(form)
    if event is not None and not event.takes_posts:
        return refuse(posts.EventNotTakingPosts(
            _("“%(name)s” is closed: it takes no more offers.", name=event.name)))
    status = 200
    if form.validate_on_submit():
        try:
            if event is None:
                offer = posts.register_sleeping_offer(current_user, _offer_details(form))
            else:
                offer = posts.post_offer(event, current_user, _offer_details(form))
        except DomainError as exc:
            return refuse(exc)
        db.session.commit()
        flash(_("Your offer is saved. It sleeps until a disaster is declared over its place.")
              if event is None else _("Your offer is published."), "success")
        return redirect(url_for("mutual_aid.show_offer", offer_id=offer.id))
    elif form.errors:
        status = 400
    return render_template("mutual_aid/offer_form.html", form=form, event=event), status


@blueprint.route("/offers/<int:offer_id>")
@login_required
@probe_limited(SUGGESTIONS)
def show_offer(offer_id: int):
    offer = get_or_404(Offer, offer_id)
    mine = offer.owner_id == current_user.id
    if not mine and offer.state != OfferState.PUBLISHED and not moderation.can_moderate(current_user):
        abort(404)
    nearby = matching.requests_near(offer) if mine and offer.state == OfferState.PUBLISHED else []
    return render_template("mutual_aid/offer.html", offer=offer, mine=mine, nearby=nearby,
                           matches=matching.matches_of_offer(offer) if mine else [], report_form=ReportForm())


@blueprint.route("/offers/<int:offer_id>/close", methods=["POST"])
@login_required
def close_offer(offer_id: int):
    offer = get_or_404(Offer, offer_id)
    return act(lambda: posts.close_offer(offer, current_user), _("Your offer is withdrawn."),
               url_for("mutual_aid.my_aid"), "info")


@blueprint.route("/offers/<int:offer_id>/propose", methods=["POST"])
@login_required
def propose_from_offer(offer_id: int):
    """A helper offers this offer to an open request."""
    offer = get_or_404(Offer, offer_id)
    help_request = get_or_404(HelpRequest, request.form.get("request_id"))
    if offer.owner_id != current_user.id:
        abort(403)
    return act(lambda: matching.propose(offer, help_request, current_user),
               _("Proposed. The requester is told; contact details appear once they accept."),
               lambda match: url_for("mutual_aid.show_match", match_id=match.id))


# -- requests -----------------------------------------------------------------------------------
@blueprint.route("/events/<slug>/requests/new", methods=["GET", "POST"])
@login_required
@probe_limited(POSTS)
def new_request(slug: str):
    event = _posting_event(slug)
    if not event.takes_posts:
        return refuse(posts.EventNotTakingPosts(
            _("“%(name)s” is closed: it takes no more requests.", name=event.name)))
    form = RequestForm()
    if request.method == "GET":
        _prefill_place(form)
    status = 200
    if form.validate_on_submit():
        try:
            made = posts.post_request(event, current_user, posts.RequestDetails(
                category=HelpCategory(form.category.data), urgency=Urgency(form.urgency.data),
                household_size=form.household_size.data, description=form.description.data or "",
                place=_place(form), address=form.address.data, contact_phone=form.contact_phone.data))
        except DomainError as exc:
            return refuse(exc)
        db.session.commit()
        if made.duplicate_of_id:
            flash(_("You already asked for this kind of help: we linked the two requests so that helpers see "
                    "one."), "warning")
        else:
            flash(_("Your request is posted. Here are the offers that could help."), "success")
        return redirect(url_for("mutual_aid.show_request", request_id=made.id))
    elif form.errors:
        status = 400
    return render_template("mutual_aid/request_form.html", form=form, event=event), status


def _own_request(request_id: int) -> HelpRequest:
    found = get_or_404(HelpRequest, request_id)
    if found.requester_id != current_user.id:
        abort(404)  # a request's page is its requester's; others see it only through a match
    return found


@blueprint.route("/requests/<int:request_id>")
@login_required
@probe_limited(SUGGESTIONS)
def show_request(request_id: int):
    help_request = _own_request(request_id)
    suggestions = matching.suggested_offers(help_request) if help_request.state.value == "open" else []
    return render_template("mutual_aid/request.html", req=help_request, suggestions=suggestions,
                           matches=matching.matches_of_request(help_request))


@blueprint.route("/requests/<int:request_id>/propose", methods=["POST"])
@login_required
def propose_from_request(request_id: int):
    """The requester asks the helper of a suggested offer."""
    help_request = _own_request(request_id)
    offer = get_or_404(Offer, request.form.get("offer_id"))
    return act(lambda: matching.propose(offer, help_request, current_user),
               _("Sent to the helper. You will see their contact details once they accept."),
               lambda match: url_for("mutual_aid.show_match", match_id=match.id))


@blueprint.route("/requests/<int:request_id>/cancel", methods=["POST"])
@login_required
def cancel_request(request_id: int):
    help_request = _own_request(request_id)
    return act(lambda: matching.cancel_request(help_request, current_user), _("Your request is withdrawn."),
               url_for("mutual_aid.my_aid"), "info")


@blueprint.route("/requests/<int:request_id>/still-need", methods=["POST"])
@login_required
def still_need(request_id: int):
    help_request = _own_request(request_id)
    answer = request.form.get("answer")
    if answer not in ("yes", "no"):
        abort(400, _("Answer yes or no."))
    return act(lambda: matching.answer_nudge(help_request, current_user, answer == "yes"),
               _("Thank you: helpers still see your request.") if answer == "yes"
               else _("Thank you: your request is closed."),
               url_for("mutual_aid.show_request", request_id=help_request.id))


# -- matches ------------------------------------------------------------------------------------
def _my_match(match_id: int) -> Match:
    match = get_or_404(Match, match_id)
    if current_user.id not in (match.offer.owner_id, match.request.requester_id):
        abort(404)
    return match


@blueprint.route("/matches/<int:match_id>")
@login_required
def show_match(match_id: int):
    """Each side sees the other's contact only once both accepted: the service decides, the page obeys."""
    match = _my_match(match_id)
    from webapp.mutual_aid.errors import ContactHidden

    try:
        contact = matching.counterpart_contact(match, current_user)
    except ContactHidden:
        contact = None
    is_helper = match.offer.owner_id == current_user.id
    return render_template("mutual_aid/match.html", match=match, contact=contact, is_helper=is_helper,
                           waiting_for_me=match.state.value == "proposed" and (
                               (is_helper and match.accepted_by_helper_at is None)
                               or (not is_helper and match.accepted_by_requester_at is None)))


@blueprint.route("/matches/<int:match_id>/<action>", methods=["POST"])
@login_required
def match_action(match_id: int, action: str):
    match = _my_match(match_id)
    actions = {"accept": matching.accept, "decline": matching.decline, "cancel": matching.cancel,
               "fulfil": matching.fulfil}
    if action not in actions:
        abort(404)
    try:
        actions[action](match, current_user)
    except DomainError as exc:
        return refuse(exc)
    db.session.commit()
    messages = {"accept": _("Accepted."), "decline": _("Declined. The request is open again."),
                "cancel": _("Cancelled. The request is open again."), "fulfil": _("Marked as done. Thank you.")}
    flash(messages[action], "success")
    return redirect(url_for("mutual_aid.show_match", match_id=match.id))


# -- reports ------------------------------------------------------------------------------------
@blueprint.route("/report", methods=["POST"])
@login_required
def report_post():
    form = ReportForm()
    offer_id, request_id = parse_id(request.form.get("offer_id")), parse_id(request.form.get("request_id"))
    offer = db.session.get(Offer, offer_id) if offer_id is not None else None
    req = db.session.get(HelpRequest, request_id) if request_id is not None else None
    if (offer is None) == (req is None):
        abort(400, _("Report one post at a time."))
    if not form.validate_on_submit():
        abort(400, _("Say what is wrong with this post."))
    try:
        moderation.report(current_user, offer=offer, request=req, reason=form.reason.data)
    except DomainError as exc:
        return refuse(exc)
    db.session.commit()
    flash(_("Thank you. A moderator will look at it."), "success")
    back = url_for("mutual_aid.show_offer", offer_id=offer.id) if offer else url_for("mutual_aid.my_aid")
    return redirect(back)
