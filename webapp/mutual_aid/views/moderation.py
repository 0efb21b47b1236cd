"""Moderation of mutual aid, for coordinators and moderators: reports, hidden posts, suspended accounts."""
from __future__ import annotations

from flask import render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from webapp.accounts.models import Role, User
from webapp.accounts.permissions import role_required
from webapp.mutual_aid.models import HelpRequest, Offer, Report
from webapp.mutual_aid.services import moderation
from webapp.mutual_aid.views.base import act, blueprint, get_or_404

moderators = role_required(Role.MODERATOR, Role.COORDINATOR)


@blueprint.route("/moderation/")
@moderators
def moderation_queue():
    return render_template("mutual_aid/moderation.html", reports=moderation.open_reports())


@blueprint.route("/moderation/offers/<int:offer_id>/hide", methods=["POST"])
@moderators
def hide_offer(offer_id: int):
    offer = get_or_404(Offer, offer_id)
    return act(lambda: moderation.hide_offer(offer, current_user), _("The offer is hidden."), url_for("mutual_aid.moderation_queue"))


@blueprint.route("/moderation/requests/<int:request_id>/hide", methods=["POST"])
@moderators
def hide_request(request_id: int):
    found = get_or_404(HelpRequest, request_id)
    return act(lambda: moderation.hide_request(found, current_user), _("The request is hidden."), url_for("mutual_aid.moderation_queue"))


@blueprint.route("/moderation/users/<int:user_id>/suspend", methods=["POST"])
@moderators
def suspend_user(user_id: int):
    user = get_or_404(User, user_id)
    return act(lambda: moderation.suspend(user, current_user), _("The account is suspended and its posts are hidden."), url_for("mutual_aid.moderation_queue"))


@blueprint.route("/moderation/reports/<int:report_id>/dismiss", methods=["POST"])
@moderators
def dismiss_report(report_id: int):
    item = get_or_404(Report, report_id)
    return act(lambda: moderation.dismiss(item, current_user), _("The report is dismissed."), url_for("mutual_aid.moderation_queue"))
