"""Routes of match funds: institutions open and run them, organizers apply, statements download as CSV."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from webapp.accounts.models import Role
from webapp.accounts.permissions import role_required
from webapp.campaigns import services as campaigns
from webapp.campaigns.models import CampaignStatus
from webapp.errors import DomainError
from webapp.extensions import db
from webapp.money import Money
from webapp.organizations import services as organizations
from webapp.payments.matching import services as matching
from webapp.payments.matching.forms import FundForm
from webapp.payments.matching.models import Match, MatchFund, MatchFundCampaign

blueprint = Blueprint("funds", __name__, url_prefix="/funds")


def _fund(fund_id: int) -> MatchFund:
    fund = db.session.get(MatchFund, fund_id)
    if fund is None:
        abort(404)
    if not (current_user.is_admin or fund.manager_id == current_user.id):
        abort(403)
    return fund


@blueprint.route("/")
@role_required(Role.FUNDER)
def mine():
    q = select(MatchFund).order_by(MatchFund.id.desc())
    if not current_user.is_admin:
        q = q.where(MatchFund.manager_id == current_user.id)
    funds = db.session.scalars(q).all()
    return render_template("payments/funds.html", funds=[(f, matching.remaining(f)) for f in funds])


@blueprint.route("/new", methods=["GET", "POST"])
@role_required(Role.FUNDER)
def create():
    form = FundForm()
    if form.validate_on_submit():
        terms = matching.FundTerms(
            name=form.name.data, institution=form.institution.data, budget=form.budget.money,
            ratio_numerator=form.ratio_numerator.data, ratio_denominator=form.ratio_denominator.data,
            cap_per_pledge=form.cap_per_pledge.money, cap_per_campaign=form.cap_per_campaign.money,
            categories=form.categories.data or [], countries=form.codes("countries"), regions=form.codes("regions"),
            funding_models=form.funding_models.data or [], starts_on=form.starts_on.data, ends_on=form.ends_on.data)
        try:
            fund = matching.create_fund(current_user, terms)
        except DomainError as exc:
            form.budget.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("The fund is open. Choose campaigns, or wait for their applications."), "success")
            return redirect(url_for("funds.show", fund_id=fund.id))
    return render_template("payments/fund_form.html", form=form), 400 if form.errors else 200


@blueprint.route("/<int:fund_id>", methods=["GET", "POST"])
@login_required
def show(fund_id: int):
    fund = _fund(fund_id)
    status = 200
    if request.method == "POST":
        campaign = campaigns.campaign_by_slug((request.form.get("slug") or "").strip()[:200])
        # Only a live campaign can be chosen; any other answers as an address nobody uses, so that a
        # funder learns neither a draft's title nor which addresses exist (issue 9).
        if campaign is None or campaign.status != CampaignStatus.LIVE:
            flash(_("No live campaign has that address."), "error")
            status = 400
        else:
            try:
                row = matching.apply(fund, campaign)
                matching.decide(row, accept=True)
            except DomainError as exc:
                flash(str(exc), "error")
                status = 400
            else:
                db.session.commit()
                flash(_("“%(title)s” is matched by this fund.", title=campaign.title), "success")
                return redirect(url_for("funds.show", fund_id=fund.id))
    rows = db.session.scalars(select(MatchFundCampaign).where(MatchFundCampaign.fund_id == fund.id)
                              .options(db.joinedload(MatchFundCampaign.campaign))).all()
    matched = {cid: matching.used(fund.id, cid) for cid in {r.campaign_id for r in rows}}
    count = db.session.scalar(select(db.func.count()).select_from(Match).where(Match.fund_id == fund.id))
    return render_template("payments/fund.html", fund=fund, remaining=matching.remaining(fund), rows=rows,
                           matched=matched, matches=count,
                           assigned=Money(matching.assigned(fund.id), fund.currency)), status


@blueprint.route("/<int:fund_id>/applications/<int:row_id>", methods=["POST"])
@login_required
def decide(fund_id: int, row_id: int):
    fund = _fund(fund_id)
    row = db.session.get(MatchFundCampaign, row_id)
    if row is None or row.fund_id != fund.id:
        abort(404)
    decision = request.form.get("decision")
    if decision not in ("accept", "decline"):
        abort(400, _("Choose to accept or to decline."))
    matching.decide(row, accept=decision == "accept")
    db.session.commit()
    return redirect(url_for("funds.show", fund_id=fund.id))


@blueprint.route("/<int:fund_id>/statement.csv")
@login_required
def statement(fund_id: int):
    fund = _fund(fund_id)
    return Response(matching.statement_csv(fund), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=match-fund-{fund.id}.csv"})


@blueprint.route("/<int:fund_id>/apply/<slug>", methods=["POST"])
@login_required
def apply(fund_id: int, slug: str):
    """An organizer asks a fund to match their campaign."""
    fund = db.session.get(MatchFund, fund_id)
    campaign = campaigns.campaign_by_slug(slug[:200])
    # A campaign they may not see (another organization's draft) answers as an unknown address.
    if fund is None or campaign is None or not campaigns.can_view(current_user, campaign):
        abort(404)
    if not organizations.can_edit(current_user, campaign.organization_id):
        abort(403)
    try:
        matching.apply(fund, campaign)
    except DomainError as exc:
        return render_template("errors.html", code=400, message=str(exc)), 400
    db.session.commit()
    flash(_("Application sent to %(name)s.", name=fund.institution), "success")
    return redirect(url_for("money.dashboard", slug=campaign.slug))
