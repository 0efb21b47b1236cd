"""Routes of pooled funds: the fund's page, its rounds, proposals, voting (signed in or by link), receipts, results."""
from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from webapp.campaigns.models import Campaign
from webapp.errors import DomainError, InvalidTransition, PermissionDenied
from webapp.extensions import db
from webapp.governance import ballots, funds, rounds, tally
from webapp.governance.ballots import VoteRefused
from webapp.governance.forms import AssignForm, FundForm, GivingCampaignForm, MatchAssignForm, ProposalForm, ReceiptForm, RoundForm
from webapp.governance.labels import round_state
from webapp.governance.models import AllocationRule, FundingRound, PooledFund, Proposal, RoundState
from webapp.ids import parse_id
from webapp.organizations import services as organizations
from webapp.organizations.models import Organization
from webapp.payments.matching.models import MatchFund

blueprint = Blueprint("governance", __name__)
S = RoundState
#: the browser session keeps a voter's receipt codes (round id → code) so that they may change their ballot
RECEIPTS = "round_receipts"


def _organization(slug: str) -> Organization:
    return db.first_or_404(select(Organization).where(Organization.slug == slug))


def _fund(fund_id: int) -> PooledFund:
    return db.get_or_404(PooledFund, fund_id)


def _fund_change(fund: PooledFund, valid: bool, errors: list[str], missing: str, change, done: str):
    """One of the fund page's forms: a 400 naming what is wrong, the change refused in words, or the change
    committed and the fund's page again with `done` said."""
    if not valid:
        db.session.rollback()
        return render_template("errors.html", code=400, message="; ".join(errors) or missing), 400
    try:
        change()
    except DomainError as exc:
        return _refused(exc, 400)
    db.session.commit()
    flash(done, "success")
    return redirect(url_for("governance.fund", fund_id=fund.id))


def _round(round_id: int) -> FundingRound:
    rnd = db.session.get(FundingRound, round_id)
    if rnd is None or (rnd.state == S.DRAFT and not organizations.can_edit(current_user, rnd.fund.organization_id)):
        abort(404)  # a draft round does not exist for those who may not edit it
    return rnd


def _board(org_id: int) -> None:
    if not organizations.can_edit(current_user, org_id):
        abort(403)


def _refused(exc: Exception, code: int = 409):
    db.session.rollback()
    if isinstance(exc, PermissionDenied):
        code = 403
    if isinstance(exc, VoteRefused):
        code = exc.status
    if isinstance(exc, InvalidTransition):
        exc = _("This round cannot make that move now (it is %(state)s).", state=round_state(exc.current))
    return render_template("errors.html", code=code, message=str(exc)), code


def _chosen() -> list[int]:
    ids = [parse_id(v) for v in request.form.getlist("proposal")]
    if any(i is None for i in ids):
        abort(400)
    return ids


def _remember(rnd: FundingRound, code: str, owner_id: int | None) -> None:
    """Show the receipt once; keep it for changing the ballot only for a signed-in voter, bound to their id
    (the next person on a shared browser gets no use of it)."""
    session["receipt_to_show"] = [rnd.id, code]
    if owner_id is not None:
        kept = dict(session.get(RECEIPTS) or {})
        kept[str(rnd.id)] = [owner_id, code]
        session[RECEIPTS] = kept


def _remembered(rnd: FundingRound) -> str | None:
    entry = (session.get(RECEIPTS) or {}).get(str(rnd.id))
    if not current_user.is_authenticated or not isinstance(entry, list) or len(entry) != 2:
        return None
    return entry[1] if entry[0] == current_user.id else None


# -- funds -----------------------------------------------------------------------------------
@blueprint.route("/organizations/<slug>/pooled-funds", methods=["GET", "POST"])
def org_funds(slug: str):
    org = _organization(slug)
    board = organizations.can_edit(current_user, org)
    form = FundForm(formdata=request.form if request.method == "POST" else None, currency=org.currency)
    if request.method == "POST":
        if not current_user.is_authenticated:
            return redirect(url_for("accounts.login", next=request.path))
        _board(org.id)
        if form.validate_on_submit():
            try:
                fund = funds.open_fund(org, current_user, form.name.data, form.description.data, form.currency.data)
            except DomainError as exc:
                db.session.rollback()
                form.name.errors.append(str(exc))
            else:
                db.session.commit()
                flash(_("The fund is open."), "success")
                return redirect(url_for("governance.fund", fund_id=fund.id))
        return render_template("governance/funds.html", org=org, funds=funds.funds_of(org), board=board,
                               form=form), 400
    return render_template("governance/funds.html", org=org, funds=funds.funds_of(org), board=board, form=form)


@blueprint.route("/pooled-funds/<int:fund_id>")
def fund(fund_id: int):
    fund = _fund(fund_id)
    board = organizations.can_edit(current_user, fund.organization_id)
    all_rounds = [r for r in rounds.rounds_of(fund) if board or r.state != S.DRAFT]
    granted = {f"pooled_grant:proposal:{p.id}": p for p in db.session.scalars(
        select(Proposal).join(FundingRound, FundingRound.id == Proposal.round_id)
        .where(FundingRound.fund_id == fund.id, Proposal.funded.is_(True)))}
    return render_template("governance/fund.html", fund=fund, org=fund.organization, balance=funds.balance(fund),
                           entries=funds.entries(fund), rounds=all_rounds, board=board, granted=granted,
                           account=funds.fund_account(fund.id),
                           assign_form=AssignForm(formdata=None), S=S, giving=funds.giving_campaign(fund),
                           giving_form=GivingCampaignForm(formdata=None, campaigns=funds.giving_candidates(fund))
                           if board else None,
                           match_form=MatchAssignForm(formdata=None, match_funds=funds.match_funds_for(fund, current_user)))


@blueprint.route("/pooled-funds/<int:fund_id>/assign", methods=["POST"])
@login_required
def assign(fund_id: int):
    fund = _fund(fund_id)
    _board(fund.organization_id)
    form = AssignForm()
    form.amount.fixed_currency = fund.currency
    valid = form.validate_on_submit() and form.amount.money is not None
    return _fund_change(fund, valid, form.amount.errors, _("Give an amount."),
                        lambda: funds.assign(fund, current_user, form.amount.money),
                        _("The money is set apart for the fund."))


@blueprint.route("/pooled-funds/<int:fund_id>/giving-campaign", methods=["POST"])
@login_required
def giving_campaign(fund_id: int):
    """The board makes one of its live, ongoing, keep-it-all campaigns the fund's giving campaign."""
    fund = _fund(fund_id)
    _board(fund.organization_id)
    form = GivingCampaignForm(campaigns=funds.giving_candidates(fund))
    valid = form.validate_on_submit()
    return _fund_change(fund, valid, form.campaign.errors, _("Choose a campaign."),
                        lambda: funds.set_giving_campaign(fund, current_user, db.session.get(Campaign, form.campaign.data)),
                        _("One-off gifts to this campaign now go into the fund."))


@blueprint.route("/pooled-funds/<int:fund_id>/match", methods=["POST"])
@login_required
def assign_match(fund_id: int):
    """A match fund's manager assigns part of its budget to this pooled fund."""
    fund = _fund(fund_id)
    mine = funds.match_funds_for(fund, current_user)
    form = MatchAssignForm(match_funds=mine)
    form.amount.fixed_currency = fund.currency
    chosen = db.session.get(MatchFund, parse_id(request.form.get("match_fund")) or 0)
    if chosen is None:
        abort(404)
    if not (current_user.is_admin or chosen.manager_id == current_user.id):
        abort(403)
    if chosen not in mine:  # an admin assigns another manager's fund; a fund in another currency is refused below
        form.match_fund.choices.append((chosen.id, chosen.name))
    valid = form.validate_on_submit() and form.amount.money is not None
    return _fund_change(fund, valid, form.amount.errors + form.match_fund.errors, _("Give an amount."),
                        lambda: funds.assign_match(fund, chosen, current_user, form.amount.money),
                        _("The match fund's money is assigned to the pooled fund."))


# -- rounds ----------------------------------------------------------------------------------
@blueprint.route("/pooled-funds/<int:fund_id>/rounds/new", methods=["GET", "POST"])
@login_required
def new_round(fund_id: int):
    fund = _fund(fund_id)
    _board(fund.organization_id)
    form = RoundForm(formdata=request.form if request.method == "POST" else None)
    form.budget.fixed_currency = fund.currency
    if request.method == "POST":
        if form.validate_on_submit() and form.budget.money is not None:
            settings = rounds.RoundSettings(
                title=form.title.data, budget=form.budget.money, rule=AllocationRule(form.rule.data),
                proposals_close_at=form.proposals_close_at.data, voting_closes_at=form.voting_closes_at.data,
                min_projects=form.min_projects.data or 1, max_projects=form.max_projects.data,
                min_share_percent=form.min_share_percent.data or 0, quorum_percent=form.quorum_percent.data or 0,
                reminder_hours=form.reminder_hours.data)
            try:
                rnd = rounds.create_round(fund, current_user, settings)
            except rounds.RoundRefused as exc:
                db.session.rollback()
                getattr(form, exc.field or "title").errors.append(str(exc))
            else:
                db.session.commit()
                flash(_("The round is set up. Open it to proposals when it is ready."), "success")
                return redirect(url_for("governance.round", round_id=rnd.id))
        return render_template("governance/round_new.html", fund=fund, form=form), 400
    return render_template("governance/round_new.html", fund=fund, form=form)


def _proposal_form(rnd: FundingRound, formdata=None) -> ProposalForm:
    form = ProposalForm(formdata=formdata)
    form.amount.fixed_currency = rnd.currency
    campaigns = db.session.execute(select(Campaign.id, Campaign.title)
                                   .where(Campaign.organization_id == rnd.fund.organization_id)
                                   .order_by(Campaign.title).limit(200)).all()
    form.campaign.choices = [("", _("None: the organization itself"))] + [(str(i), t) for i, t in campaigns]
    return form


def _round_page(rnd: FundingRound, status: int = 200, proposal_form: ProposalForm | None = None):
    org = rnd.fund.organization
    board = organizations.can_edit(current_user, org.id)
    voter = rounds.voter_of(rnd, current_user)
    member = rounds.active_member(current_user, org.id) if current_user.is_authenticated else None
    receipt = _remembered(rnd)
    current = ballots.ballot_by_receipt(rnd, receipt) if receipt and rnd.state == S.VOTING else None
    size = rounds.roll_size(rnd) if rnd.state != S.DRAFT else 0
    return render_template(
        "governance/round.html", rnd=rnd, fund=rnd.fund, org=org, board=board, voter=voter, member=member,
        proposals=rounds.proposals_of(rnd), S=S, round_state=round_state, R=AllocationRule, roll_size=size,
        turnout=rounds.turnout(rnd),
        quorum=rounds.quorum_needed(rnd, size), current=current, funded_total=tally.funded_total(rnd),
        proposal_form=proposal_form or _proposal_form(rnd), receipt_form=ReceiptForm(formdata=None)), status


@blueprint.route("/rounds/<int:round_id>")
def round(round_id: int):
    return _round_page(_round(round_id))


@blueprint.route("/rounds/<int:round_id>/proposals", methods=["POST"])
@login_required
def propose(round_id: int):
    rnd = _round(round_id)
    form = _proposal_form(rnd, request.form)
    if not form.validate_on_submit() or form.amount.money is None:
        db.session.rollback()
        return _round_page(rnd, 400, form)
    campaign = None
    if form.campaign.data:
        campaign = db.session.get(Campaign, parse_id(form.campaign.data) or 0)
    try:
        rounds.submit_proposal(rnd, current_user, form.title.data, form.description.data, form.amount.money, campaign)
    except rounds.RoundRefused as exc:
        db.session.rollback()
        if exc.field and exc.field in form:
            form[exc.field].errors.append(str(exc))
            return _round_page(rnd, 400, form)
        return _refused(exc)
    except DomainError as exc:
        return _refused(exc)
    db.session.commit()
    flash(_("Your proposal is in the round."), "success")
    return redirect(url_for("governance.round", round_id=rnd.id))


@blueprint.route("/rounds/<int:round_id>/advance", methods=["POST"])
@login_required
def advance(round_id: int):
    """The board's one button per state: open to proposals, open the vote, close and count."""
    rnd = _round(round_id)
    _board(rnd.fund.organization_id)
    try:
        if rnd.state == S.DRAFT:
            rounds.open_proposals(rnd, current_user)
            message = _("The round takes proposals.")
        elif rnd.state == S.PROPOSALS:
            n = rounds.open_voting(rnd, current_user)
            message = _("Voting is open: %(n)d members are on the roll and have their vote link.", n=n)
        elif rnd.state == S.VOTING:
            state = tally.close(rnd, current_user)
            message = (_("The round is closed and counted.") if state == S.COUNTED
                       else _("The round is closed: the quorum was not reached, nothing is allocated."))
        else:
            raise InvalidTransition("round", rnd.state.value, "next")
    except DomainError as exc:
        return _refused(exc)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("governance.round", round_id=rnd.id))


# -- voting ----------------------------------------------------------------------------------
@blueprint.route("/rounds/<int:round_id>/vote", methods=["POST"])
@login_required
def vote(round_id: int):
    rnd = _round(round_id)
    chosen = _chosen()
    receipt = _remembered(rnd)
    voter = rounds.voter_of(rnd, current_user)
    try:
        if voter is not None and voter.voted and receipt:
            ballots.change(rnd, receipt, chosen)
            db.session.commit()
            flash(_("Your ballot is changed: only this one counts."), "success")
            return redirect(url_for("governance.round", round_id=rnd.id))
        code = ballots.cast(rnd, voter, chosen)
    except DomainError as exc:
        return _refused(exc)
    db.session.commit()
    _remember(rnd, code, current_user.id)
    return redirect(url_for("governance.receipt", round_id=rnd.id))


@blueprint.route("/vote/<token>", methods=["GET", "POST"])
def vote_by_link(token: str):
    """Voting from the emailed link, without signing in: the link names the roll line and works once."""
    try:
        rnd, voter = ballots.voter_from_link(token)
    except VoteRefused as exc:
        return _refused(exc)
    if request.method == "GET":
        return render_template("governance/vote_link.html", rnd=rnd, org=rnd.fund.organization, token=token,
                               proposals=rounds.proposals_of(rnd))
    chosen = _chosen()
    owner = voter.user_id if current_user.is_authenticated and current_user.id == voter.user_id else None
    try:
        code = ballots.cast(rnd, voter, chosen, by_link=True)
    except DomainError as exc:
        return _refused(exc)
    db.session.commit()
    _remember(rnd, code, owner)
    return redirect(url_for("governance.receipt", round_id=rnd.id))


@blueprint.route("/rounds/<int:round_id>/receipt")
def receipt(round_id: int):
    """The receipt code, shown once after the vote (it stays in this browser's session to change the ballot)."""
    rnd = _round(round_id)
    shown = session.pop("receipt_to_show", None)
    code = shown[1] if isinstance(shown, list) and len(shown) == 2 and shown[0] == rnd.id else None
    response = make_response(render_template("governance/receipt.html", rnd=rnd, code=code))
    response.headers["Cache-Control"] = "no-store"  # not kept in the browser's history or any cache
    return response


@blueprint.route("/rounds/<int:round_id>/change", methods=["GET", "POST"])
def change_ballot(round_id: int):
    """Change one's ballot with the receipt code, signed in or not, until voting closes."""
    rnd = _round(round_id)
    if request.method == "GET":
        if rnd.state != S.VOTING:
            return _refused(VoteRefused(_("Voting in this round is closed."), 410))
        return render_template("governance/change.html", rnd=rnd, proposals=rounds.proposals_of(rnd),
                               form=ReceiptForm(formdata=None, receipt=_remembered(rnd) or ""))
    form = ReceiptForm()
    if not form.validate_on_submit():
        db.session.rollback()
        return render_template("governance/change.html", rnd=rnd, proposals=rounds.proposals_of(rnd), form=form), 400
    try:
        ballots.change(rnd, form.receipt.data, _chosen())
    except DomainError as exc:
        return _refused(exc)
    db.session.commit()
    flash(_("Your ballot is changed: only this one counts."), "success")
    return redirect(url_for("governance.round", round_id=rnd.id))


@blueprint.route("/rounds/<int:round_id>/ballots", methods=["GET", "POST"], endpoint="ballots")
def ballots_list(round_id: int):
    """The counted ballots, published once the round is closed; a receipt (sent by POST, kept out of
    addresses and access logs) finds its own."""
    rnd = _round(round_id)
    form = ReceiptForm(formdata=request.form if request.method == "POST" else None)
    found, searched = None, False
    if request.method == "POST":
        if not form.validate_on_submit():
            db.session.rollback()
            return render_template("errors.html", code=400, message=_("Type your receipt code.")), 400
        searched = True
        found = ballots.ballot_by_receipt(rnd, form.receipt.data) if rnd.closed else None
    proposals = {p.id: p for p in rounds.proposals_of(rnd)}
    return render_template("governance/ballots.html", rnd=rnd, ballots=ballots.published(rnd), proposals=proposals,
                           form=form, found=found, searched=searched)

