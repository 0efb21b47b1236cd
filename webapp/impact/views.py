"""Routes: the editors' pages (indicators, beneficiaries, a report's values, asking), the confirmation link,
and the organization's exports."""
from __future__ import annotations

import json
from datetime import date

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user, login_required
from sqlalchemy import select

from webapp.campaigns import services as campaigns
from webapp.campaigns.models import Campaign
from webapp.errors import DomainError
from webapp.extensions import db
from webapp.i18n import locale_code
from webapp.impact.forms import ActionForm, BeneficiaryForm, ConfirmForm, IndicatorForm
from webapp.impact.models import IndicatorSource, Verdict
from webapp.impact.services import beneficiaries, confirmations, display, indicators
from webapp.impact.services.indicators import FieldError, IndicatorDraft
from webapp.organizations.models import Organization
from webapp.progress_reports import services as reports
from webapp.spreadsheet import csv_text

blueprint = Blueprint("impact", __name__)


def _managed_campaign(slug: str) -> Campaign:
    campaign = campaigns.campaign_by_slug(slug)
    if campaign is None:
        abort(404)
    if not indicators.can_manage(current_user, campaign):
        abort(403)
    return campaign


def _refused(exc: DomainError, status: int = 409):
    db.session.rollback()
    return render_template("errors.html", code=status, message=str(exc)), status


def _put_on_field(form, exc: FieldError) -> None:
    target = getattr(form, exc.field, None)
    if target is None:
        flash(str(exc), "error")
    else:
        target.errors = [*target.errors, str(exc)]


# -- indicators -----------------------------------------------------------------------------------
@blueprint.route("/manage/campaigns/<slug>/impact", methods=["GET", "POST"])
@login_required
def manage(slug: str):
    campaign = _managed_campaign(slug)
    form = IndicatorForm(language=locale_code())
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                draft = IndicatorDraft(
                    source=IndicatorSource(form.source.data), sdg_target=form.sdg_target.data or None,
                    catalog_key=form.catalog_key.data or None, title=form.title.data, unit=form.unit.data,
                    baseline=indicators.parse_figure(form.baseline.data, "baseline"),
                    target=indicators.parse_figure(form.target.data, "target"), target_date=form.target_date.data)
                indicators.declare(campaign, draft)
            except FieldError as exc:
                db.session.rollback()
                _put_on_field(form, exc)
            except ValueError:
                form.source.errors = [*form.source.errors, _("Choose what the indicator follows.")]
            else:
                db.session.commit()
                flash(_("Indicator added."), "success")
                return redirect(url_for("impact.manage", slug=campaign.slug))
    return render_template("impact/manage.html", campaign=campaign, form=form, action=ActionForm(),
                           views=display.campaign_impact(campaign, locale_code()),
                           reports=reports.reports_of(campaign),
                           people=len(beneficiaries.of_campaign(campaign))), status


@blueprint.route("/manage/campaigns/<slug>/impact/indicators/<int:indicator_id>/delete", methods=["POST"])
@login_required
def remove_indicator(slug: str, indicator_id: int):
    campaign = _managed_campaign(slug)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        indicators.remove(campaign, indicator_id)
    except DomainError as exc:
        return _refused(exc)
    db.session.commit()
    flash(_("Indicator removed."), "success")
    return redirect(url_for("impact.manage", slug=campaign.slug))


# -- beneficiaries --------------------------------------------------------------------------------
@blueprint.route("/manage/campaigns/<slug>/impact/beneficiaries", methods=["GET", "POST"])
@login_required
def beneficiary_list(slug: str):
    campaign = _managed_campaign(slug)
    form = BeneficiaryForm()
    if request.method == "GET":
        form.locale.data = locale_code()
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                beneficiaries.add(campaign, current_user, email=form.email.data, phone=form.phone.data,
                                  locale=form.locale.data, consent=form.consent.data, consent_on=form.consent_on.data)
            except FieldError as exc:
                db.session.rollback()
                _put_on_field(form, exc)
            else:
                db.session.commit()
                flash(_("Added to the list."), "success")
                return redirect(url_for("impact.beneficiary_list", slug=campaign.slug))
    return render_template("impact/beneficiaries.html", campaign=campaign, form=form, action=ActionForm(),
                           people=beneficiaries.of_campaign(campaign), mask=beneficiaries.mask), status


@blueprint.route("/manage/campaigns/<slug>/impact/beneficiaries/<int:beneficiary_id>/delete", methods=["POST"])
@login_required
def remove_beneficiary(slug: str, beneficiary_id: int):
    campaign = _managed_campaign(slug)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        beneficiaries.remove(campaign, beneficiary_id)
    except DomainError as exc:
        return _refused(exc, 404)
    db.session.commit()
    flash(_("Removed from the list; their contact is deleted."), "success")
    return redirect(url_for("impact.beneficiary_list", slug=campaign.slug))


# -- a report's values, and asking the people concerned -------------------------------------------
@blueprint.route("/manage/campaigns/<slug>/reports/<int:report_id>/values", methods=["GET", "POST"])
@login_required
def report_values(slug: str, report_id: int):
    campaign = _managed_campaign(slug)
    report = reports.report_of(campaign, report_id)
    if report is None:
        abort(404)
    form = ActionForm()
    declared = indicators.indicators_of(campaign)
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        recorded = 0
        for indicator in declared:
            raw = request.form.get(f"value_{indicator.id}", "").strip()
            if not raw:
                continue
            try:
                value = indicators.parse_figure(raw, f"value_{indicator.id}")
                measured = _date(request.form.get(f"measured_on_{indicator.id}"), f"measured_on_{indicator.id}")
                note = request.form.get(f"note_{indicator.id}", "").replace("\x00", "")  # PostgreSQL refuses NUL
                indicators.record_value(report, indicator, value, measured, note[:300])
                recorded += 1
            except FieldError as exc:
                errors[exc.field] = str(exc)
        if errors:
            db.session.rollback()
            status = 400
        else:
            db.session.commit()
            flash(_("Values saved.") if recorded else _("No value given."), "success" if recorded else "info")
            return redirect(url_for("impact.report_values", slug=campaign.slug, report_id=report.id))
    return render_template("impact/values.html", campaign=campaign, report=report, form=form, errors=errors,
                           declared=declared, given=indicators.values_of_report(report), today=date.today(),
                           title_of=indicators.title_of, language=locale_code(),
                           tallies=display.tallies([v.id for v in indicators.values_of_report(report).values()]),
                           ), status


def _date(text: str | None, field: str) -> date:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        raise FieldError(field, _("Give the date the value was measured.")) from None


@blueprint.route("/manage/campaigns/<slug>/impact/values/<int:value_id>/ask", methods=["POST"])
@login_required
def ask(slug: str, value_id: int):
    campaign = _managed_campaign(slug)
    value = indicators.value_of(campaign, value_id)
    if value is None:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        added = confirmations.ask(value)
    except DomainError as exc:
        return _refused(exc)
    db.session.commit()
    from webapp.impact.tasks import send_requests

    send_requests.delay(value.id)  # only now: no link leaves before its request is saved
    flash(_("%(n)d people are being asked to confirm this value.", n=added) if added
          else _("Everyone concerned was already asked."), "success")
    return redirect(url_for("impact.report_values", slug=campaign.slug, report_id=value.report_id))


# -- the link the people concerned open -----------------------------------------------------------
@blueprint.route("/impact/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str):
    try:
        asked = confirmations.open_link(token)
    except confirmations.LinkRefused as exc:
        return render_template("impact/link_refused.html", message=str(exc)), exc.status
    _speak_the_messages_language(asked.locale)
    value = asked.value
    form = ConfirmForm()
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                confirmations.answer(asked, Verdict(form.verdict.data), form.comment.data, form.signed_name.data)
            except confirmations.LinkRefused as exc:
                db.session.rollback()
                return render_template("impact/link_refused.html", message=str(exc)), exc.status
            except DomainError as exc:
                db.session.rollback()
                form.comment.errors = [str(exc)]
            else:
                db.session.commit()
                return render_template("impact/thanks.html", campaign=value.indicator.campaign,
                                       verdict=form.verdict.data)
    return render_template("impact/confirm.html", form=form, value=value, indicator=value.indicator,
                           campaign=value.indicator.campaign, audience=asked.audience,
                           title=indicators.title_of(value.indicator, locale_code())), status


def _speak_the_messages_language(locale: str) -> None:
    """The page in the language the message was written in, unless the visitor chose one (the picker still works)."""
    if current_user.is_authenticated or session.get("lang") or locale not in current_app.config["LANGUAGES"]:
        return
    session["lang"] = locale
    refresh()


# -- exports --------------------------------------------------------------------------------------
def _organization(slug: str) -> Organization:
    org = db.session.scalar(select(Organization).where(Organization.slug == slug))
    if org is None:
        abort(404)
    return org


@blueprint.route("/organizations/<slug>/impact.csv")
def export_csv(slug: str):
    org = _organization(slug)
    rows = display.organization_rows(org, locale_code())
    body = csv_text(display.EXPORT_HEADER, ([row[k] for k in display.EXPORT_HEADER] for row in rows))
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="impact-{org.slug}.csv"'})


@blueprint.route("/organizations/<slug>/impact.json")
def export_json(slug: str):
    org = _organization(slug)
    document = {"organization": {"slug": org.slug, "name": org.name},
                "indicators": display.organization_rows(org, locale_code())}
    return Response(json.dumps(document, ensure_ascii=False, indent=1), mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="impact-{org.slug}.json"'})
