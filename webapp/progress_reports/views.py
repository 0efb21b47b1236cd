"""Routes: a report's public page, posting a report (the organization's editors), the unsubscribe link."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from webapp.errorpages import refused as _refused
from webapp.campaigns import services as campaigns
from webapp.campaigns.models import Campaign
from webapp.errors import DomainError, TokenInvalid
from webapp.extensions import csrf, db
from webapp.organizations import services as organizations
from webapp.progress_reports import services
from webapp.progress_reports.forms import NOT_LINKABLE, ReportForm, UnsubscribeForm
from webapp.storage import get_storage
from webapp.storage.images import reencode_image

blueprint = Blueprint("progress_reports", __name__)
manage = Blueprint("manage_reports", __name__, url_prefix="/manage")


def _visible_campaign(slug: str) -> Campaign:
    campaign = campaigns.campaign_by_slug(slug)
    if campaign is None or not campaigns.can_view(current_user, campaign):
        abort(404)
    return campaign


@blueprint.route("/campaigns/<slug>/reports/<int:report_id>")
def show(slug: str, report_id: int):
    campaign = _visible_campaign(slug)
    report = services.report_of(campaign, report_id)
    if report is None:
        abort(404)
    return render_template("progress_reports/show.html", campaign=campaign, report=report,
                           expenses=services.public_expenses_of(report))


@manage.route("/campaigns/<slug>/reports/new", methods=["GET", "POST"])
@login_required
def new(slug: str):
    campaign = campaigns.campaign_by_slug(slug)
    if campaign is None:
        abort(404)
    if not organizations.can_edit(current_user, campaign.organization_id):
        abort(403)
    if campaign.status not in services.REPORTABLE:
        return _refused(DomainError(_("Progress reports can be posted on a live or succeeded campaign.")))
    form = ReportForm()
    linkable = services.linkable_expenses(campaign)
    if not form.is_submitted():
        form.expenses.data = [e.id for e in linkable]  # what was paid since the last report, ticked
    if form.validate_on_submit() and _expenses_linkable(form, linkable):
        photos = _photos(form)
        if photos is not None:
            storage = get_storage()
            keys = [storage.save(data, "reports", "jpg") for data in photos]
            try:
                report = services.post_report(campaign, current_user, form.title.data, form.body.data, keys,
                                              expense_ids=form.expenses.data)
            except DomainError as exc:
                for key in keys:
                    storage.delete(key)
                return _refused(exc)
            db.session.commit()
            from webapp.progress_reports.tasks import fan_out

            fan_out.delay(report.id)  # only now: no email leaves before the report is saved
            flash(_("Report posted. It is being emailed to the campaign's backers."), "success")
            return redirect(url_for("progress_reports.show", slug=campaign.slug, report_id=report.id))
    status = 400 if request.method == "POST" else 200
    return render_template("progress_reports/form.html", campaign=campaign, form=form, linkable=linkable,
                           max_photos=services.setting("PROGRESS_REPORT_MAX_PHOTOS")), status


def _expenses_linkable(form: ReportForm, linkable) -> bool:
    """Only the campaign's paid expenses no report lists yet (a forged id is told beside the list)."""
    if set(form.expenses.data or ()) <= {e.id for e in linkable}:
        return True
    form.expenses.errors = [NOT_LINKABLE]
    return False


def _photos(form: ReportForm) -> list[bytes] | None:
    """The re-encoded photos, or None with the reason on the field."""
    uploads = form.uploads()
    most = services.setting("PROGRESS_REPORT_MAX_PHOTOS")
    if len(uploads) > most:
        form.photos.errors = [_("At most %(n)d photos.", n=most)]
        return None
    try:
        return [reencode_image(upload.read(), max_bytes=current_app.config["MAX_IMAGE_BYTES"]) for upload in uploads]
    except DomainError as exc:
        form.photos.errors = [str(exc)]
        return None



@blueprint.route("/reports/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed token is the proof; mail clients post one-click unsubscribes (RFC 8058) with no form
def unsubscribe(token: str):
    try:
        campaign, email = services.read_unsubscribe_token(token)
    except TokenInvalid as exc:
        return render_template("errors.html", code=400, message=str(exc)), 400
    if request.method == "POST":
        services.unsubscribe(campaign, email)
        db.session.commit()
        if request.form.get("List-Unsubscribe") == "One-Click":
            return "", 204
        return redirect(url_for("progress_reports.unsubscribe", token=token, done=1))
    return render_template("progress_reports/unsubscribe.html", campaign=campaign, form=UnsubscribeForm(),
                           done=request.args.get("done") == "1")
