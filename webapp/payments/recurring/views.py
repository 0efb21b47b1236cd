"""Routes of recurring support: start a gift, "My support" (amount, card, pause, cancel), completing a renewal,
the yearly statement, the organization's recurring income and its refunds, and the development-only "next month"."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from webapp.accounts.models import Role
from webapp.campaigns.models import Campaign
from webapp.clock import utcnow
from webapp.errorpages import refused as _refused
from webapp.errors import DomainError, PermissionDenied, ProviderError
from webapp.extensions import db
from webapp.i18n import locale_code
from webapp.ids import parse_id
from webapp.organizations import services as organizations
from webapp.organizations.models import Organization, OrgRole
from webapp.money import Money, exponent
from webapp.payments import batches, display, refunds
from webapp.payments.recurring import reports, services
from webapp.payments.recurring.forms import AmountForm, OrganizationCurrencyForm, StartSupportForm
from webapp.payments.recurring.models import RecurringCharge, SupportInterval, SupportState

blueprint = Blueprint("recurring", __name__)


def _organization(slug: str) -> Organization:
    org = db.session.scalar(select(Organization).where(Organization.slug == slug))
    if org is None:
        abort(404)
    return org


def _mine(reference: str):
    support = services.by_reference(reference)
    if support is None:
        abort(404)
    if support.user_id != current_user.id:
        abort(403)  # only the supporter changes their gift
    return support


def _supporter_changes(reference: str, change, done) -> object:
    """Pause, resume, cancel: the supporter's own gift, changed by `change`; `done(support)` says what now holds."""
    support = _mine(reference)
    try:
        change(support, current_user)
    except DomainError as exc:
        return _refused(exc)
    db.session.commit()
    flash(done(support), "success")
    return redirect(url_for("recurring.mine"))


@blueprint.route("/organizations/<slug>/support", methods=["GET", "POST"])
@login_required
def start(slug: str):
    org = _organization(slug)
    campaign = None
    if request.args.get("campaign"):
        campaign = db.session.scalar(select(Campaign).where(Campaign.slug == request.args["campaign"],
                                                            Campaign.organization_id == org.id))
        if campaign is None:
            abort(404)
    fund = None
    if request.args.get("fund") and campaign is None:
        fund = services.fund_target(org.id, parse_id(request.args["fund"]))
        if fund is None:
            abort(404)
    target = services.target_currency(org, campaign, fund)
    choices = gift_currencies(org, campaign, fund)
    form = StartSupportForm(currencies=choices)
    if request.method == "GET":
        form.currency.data = choices[-1]  # the supporter's own where the organization accepts it
        form.timezone.data = current_user_timezone()
    status = 200
    if form.validate_on_submit():
        try:
            support = services.start(current_user, org, form.amount.money, SupportInterval(form.interval.data),
                                     form.timezone.data, locale_code(), campaign=campaign, tip=form.tip.money,
                                     fund=fund)
            url = services.open_checkout(
                support, success_url=url_for("recurring.mine", started=support.reference, _external=True),
                cancel_url=url_for("recurring.start", slug=org.slug, _external=True,
                                   **({"fund": fund.id} if fund else {})))
        except ProviderError as exc:
            return _refused(exc, 503 if exc.retryable else 502)
        except DomainError as exc:
            db.session.rollback()
            form.amount.errors.append(str(exc))
            status = 400
        else:
            db.session.commit()
            return redirect(url, code=303)
    elif request.method == "POST":
        status = 400
    return render_template("recurring/start.html", form=form, org=org, campaign=campaign, target=target,
                           rates=_rates(choices, target), fund=fund,
                           funds=services.fund_targets(org.id) if campaign is None and fund is None else []), status


def gift_currencies(org: Organization, campaign: Campaign | None,
                    fund: services.FundTarget | None = None) -> list[str]:
    """The organization's (or its ongoing campaign's, or its pooled fund's) currency, then the supporter's own where
    it accepts it."""
    target = services.target_currency(org, campaign, fund)
    found = [target]
    viewer = display.viewer_currency()
    if services.accepts_other_currencies(org, campaign) and viewer and viewer != target \
            and display.can_charge_in(viewer):
        found.append(viewer)
    return found


def _rates(choices: list[str], target: str) -> list[tuple[Money, object]]:
    """For each other currency offered: one unit of it (1 000 of a currency without decimals, F CFA, yen) and its
    approximate in the organization's currency."""
    out = []
    for code in choices:
        if code != target:
            one = Money(10 ** exponent(code) if exponent(code) else 1_000, code)
            out.append((one, display.approx(one, target)))
    return out


def current_user_timezone() -> str:
    """A sensible first choice from where the member lives; they can change it."""
    by_country = {"CA": "America/Toronto", "FR": "Europe/Paris", "GB": "Europe/London", "BE": "Europe/Brussels",
                  "US": "America/New_York", "BJ": "Africa/Porto-Novo", "SN": "Africa/Dakar", "MA": "Africa/Casablanca"}
    return by_country.get(getattr(current_user, "residence_country", None) or "", "Europe/Paris")


@blueprint.route("/support/mine")
@login_required
def mine():
    supports = services.supports_of(current_user)
    method = services.saved_method(current_user.id)
    fund_names = {s.id: services.target_name(s) for s in supports if s.pooled_fund_id}
    return render_template("recurring/mine.html", supports=supports, method=method, S=SupportState,
                           fund_names=fund_names,
                           given_back=reports.given_back(current_user),
                           started=request.args.get("started"), year=utcnow().year,
                           demo_tools=current_app.config["DEMO_TOOLS"])


@blueprint.route("/support/<reference>/amount", methods=["POST"])
@login_required
def change_amount(reference: str):
    support = _mine(reference)
    form = AmountForm(currency=support.currency)
    if not form.validate_on_submit():
        return render_template("errors.html", code=400, message=" ".join(form.amount.errors)
                               or _("Give an amount.")), 400
    try:
        services.change_amount(support, current_user, form.amount.money)
    except DomainError as exc:
        return _refused(exc, 400)
    db.session.commit()
    flash(_("From the next renewal on, your gift is %(amount)s.", amount=support.money.format(locale_code())), "success")
    return redirect(url_for("recurring.mine"))


@blueprint.route("/support/<reference>/pause", methods=["POST"])
@login_required
def pause(reference: str):
    return _supporter_changes(reference, services.pause,
                              lambda s: _("Your gift is paused: nothing is charged until you resume it."))


@blueprint.route("/support/<reference>/resume", methods=["POST"])
@login_required
def resume(reference: str):
    return _supporter_changes(reference, services.resume,
                              lambda s: _("Your gift renews again on %(date)s.", date=s.next_charge_on.isoformat()))


@blueprint.route("/support/<reference>/cancel", methods=["POST"])
@login_required
def cancel(reference: str):
    return _supporter_changes(reference, services.cancel,
                              lambda s: _("Your gift is cancelled. Nothing more will be charged."))


@blueprint.route("/support/card", methods=["POST"])
@login_required
def change_card():
    try:
        url = services.start_card_change(current_user, locale_code(),
                                         success_url=url_for("recurring.mine", card="saved", _external=True),
                                         cancel_url=url_for("recurring.mine", _external=True))
    except ProviderError as exc:
        return _refused(exc, 503 if exc.retryable else 502)
    except DomainError as exc:
        return _refused(exc)
    db.session.commit()
    return redirect(url, code=303)


@blueprint.route("/support/<reference>/complete", methods=["GET", "POST"])
@login_required
def complete(reference: str):
    support = _mine(reference)
    if request.method == "POST":
        if support.state != SupportState.NEEDS_ACTION:
            return _refused(DomainError(_("This gift does not need anything from you.")))
        try:
            url = services.open_checkout(support, success_url=url_for("recurring.mine", _external=True),
                                         cancel_url=url_for("recurring.complete", reference=reference, _external=True))
        except ProviderError as exc:
            return _refused(exc, 503 if exc.retryable else 502)
        except DomainError as exc:
            return _refused(exc)
        db.session.commit()
        return redirect(url, code=303)
    pause_on = None
    if support.needs_action_since:
        pause_on = support.needs_action_since + timedelta(days=current_app.config["RECURRING_PAUSE_AFTER_DAYS"])
    return render_template("recurring/complete.html", support=support, why=services.explain(support.failure_code),
                           pause_on=pause_on, S=SupportState)


@blueprint.route("/support/statement/<int:year>")
@login_required
def statement(year: int):
    if not 2000 <= year <= 2200:
        abort(404)
    return render_template("recurring/statement.html", year=year, lines=reports.statement(current_user, year),
                           user=current_user)


@blueprint.route("/manage/organizations/<slug>/recurring")
@login_required
def income(slug: str):
    org = _money_manager_of(slug)
    return render_template("recurring/income.html", org=org, months=reports.income_by_month(org.id),
                           counts=reports.active_counts(org.id))


def _money_manager_of(slug: str) -> Organization:
    """The organization's editors, and admins: they see and refund its recurring income (as for pledges)."""
    org = _organization(slug)
    if not (organizations.can_edit(current_user, org) or current_user.has_role(Role.ADMIN)):
        abort(403)
    return org


@blueprint.route("/manage/organizations/<slug>/recurring/payments")
@login_required
def payments(slug: str):
    org = _money_manager_of(slug)
    return render_template("recurring/payments.html", org=org, charges=reports.paid_periods(org.id),
                           refundable=refunds.refundable)


@blueprint.route("/manage/organizations/<slug>/recurring/payments/<int:charge_id>/refund", methods=["POST"])
@login_required
def refund(slug: str, charge_id: int):
    org = _money_manager_of(slug)
    charge = db.session.get(RecurringCharge, charge_id)
    if charge is None or charge.support.organization_id != org.id:
        abort(404)
    try:
        text = request.form.get("amount", "").strip()
        currency = charge.booked_money.currency
        amount = refunds.refundable(charge) if not text else Money.parse(text, currency, locale_code())
        refunds.request_refund(charge, current_user, amount, request.form.get("reason", ""))
        db.session.commit()
    except ProviderError as exc:  # a DomainError too: caught first, the processor answered no or nothing
        return _refused(exc, 502)
    except DomainError as exc:  # InvalidMoney included
        return _refused(exc, 400)
    flash(_("Refund requested. It is final when the payment processor confirms it; the supporter is told."),
          "success")
    return redirect(url_for("recurring.payments", slug=org.slug))


@blueprint.route("/manage/organizations/<slug>/currency", methods=["GET", "POST"])
@login_required
def currency(slug: str):
    """The organization's owners (and admins) choose its currency and whether it takes its supporters'."""
    org = _organization(slug)
    if not (organizations.role_of(current_user, org) == OrgRole.OWNER or current_user.has_role(Role.ADMIN)):
        abort(403)
    form = OrganizationCurrencyForm(currencies=services.platform_currencies())
    if request.method == "GET":
        form.currency.data, form.accepts.data = org.currency, "1" if org.accepts_supporter_currency else "0"
    status = 200
    if form.validate_on_submit():
        try:
            services.set_currency(org, current_user, form.currency.data, form.accepts.data == "1")
        except DomainError as exc:
            db.session.rollback()
            form.currency.errors.append(str(exc))
            status = 400
        else:
            db.session.commit()
            flash(_("From now on %(name)s receives new gifts in %(c)s. Gifts already started do not change.",
                    name=org.name, c=org.currency), "success")
            return redirect(url_for("recurring.currency", slug=org.slug))
    elif request.method == "POST":
        status = 400
    return render_template("recurring/currency.html", org=org, form=form), status


def _editor_of(slug: str) -> Organization:
    org = _organization(slug)
    if not organizations.can_edit(current_user, org):
        abort(403)  # the organization's editors only
    return org


@blueprint.route("/manage/organizations/<slug>/ongoing")
@login_required
def ongoing(slug: str):
    org = _editor_of(slug)
    return render_template("recurring/ongoing.html", org=org, campaigns=services.live_campaigns(org))


@blueprint.route("/manage/organizations/<slug>/ongoing/<campaign_slug>", methods=["POST"])
@login_required
def set_ongoing(slug: str, campaign_slug: str):
    org = _editor_of(slug)
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == campaign_slug,
                                                        Campaign.organization_id == org.id))
    if campaign is None:
        abort(404)
    choice = request.form.get("ongoing", "")
    if choice not in ("1", "0"):
        return render_template("errors.html", code=400, message=_("Choose whether the campaign takes monthly and "
                                                                  "yearly support.")), 400
    try:
        services.set_ongoing(campaign, current_user, choice == "1")
    except DomainError as exc:
        return _refused(exc)
    db.session.commit()
    if campaign.ongoing:
        flash(_("“%(title)s” now takes monthly and yearly support.", title=campaign.title), "success")
    else:
        flash(_("“%(title)s” no longer takes new monthly and yearly support; gifts already started continue.",
                title=campaign.title), "success")
    return redirect(url_for("recurring.ongoing", slug=org.slug))


@blueprint.route("/organizations/<slug>/transparency")
def transparency(slug: str):
    org = _organization(slug)
    return render_template("recurring/transparency.html", org=org, months=reports.income_by_month(org.id),
                           campaigns=reports.campaign_income(org.id))


@blueprint.route("/dev/support/<reference>/next-month", methods=["POST"])
@login_required
def next_month(reference: str):
    """Development only: the gift's next renewal comes now, and the renewal job runs for it once."""
    if not current_app.config["DEMO_TOOLS"]:
        abort(404)
    support = _mine(reference)
    if support.state != SupportState.ACTIVE:
        return _refused(DomainError(_("Only an active gift renews.")))
    support.next_charge_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    report = batches.renew_due(only=support.id)
    flash(_("Renewal job: %(charged)d charged, %(action)d need you.", charged=report.charged,
            action=report.needs_action), "success")
    return redirect(url_for("recurring.mine"))


@blueprint.errorhandler(PermissionDenied)
def _denied(exc):
    return render_template("errors.html", code=403, message=str(exc)), 403
