"""Routes about money after the pledge: the organizer's money page, refunds, the public transparency page,
completing a pledge that needs the backer, and the development-only fast-forward of a deadline."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
import sqlalchemy as sa
from sqlalchemy import select

from webapp.accounts.models import Role
from webapp.accounts.permissions import role_required
from webapp.campaigns import services as campaigns
from webapp.campaigns.models import Campaign, CampaignStatus
from webapp.clock import utcnow
from webapp.errors import DomainError, InvalidMoney, ProviderError
from webapp.extensions import db
from webapp.i18n import locale_code
from webapp.ledger import services as ledger
from webapp.ledger.models import LedgerEntry
from webapp.money import Money
from webapp.organizations import services as organizations
from webapp.payments import batches, disputes, refunds, totals
from webapp.payments.collection import services as collection
from webapp.payments.payouts import accounts as payout_accounts
from webapp.payments.expenses import public as spending
from webapp.payments.payouts import services as payouts
from webapp.payments.pledging import services
from webapp.payments.models import Pledge, PledgeStatus, Refund
from webapp.payments.views.access import open_pledge

blueprint = Blueprint("money", __name__)
#: ledger kinds the transparency page shows in their own section (money in by day; expenses per budget line)
PUBLIC_ELSEWHERE = frozenset({"charge", "expense_payment", "host_fee"})


def _campaign(slug: str) -> Campaign:
    campaign = campaigns.campaign_by_slug(slug)
    if campaign is None:
        abort(404)
    return campaign


def _can_manage_money(campaign: Campaign) -> bool:
    return current_user.is_authenticated and (
        current_user.is_admin or organizations.can_edit(current_user, campaign.organization_id))


def statement(campaign: Campaign) -> dict[str, Money]:
    """Gross, fees, refunds, disputes, matches, transfers and net, all from the ledger (one query + one); for a
    pooled fund's giving campaign, also what its payments put into the fund (every line above went there)."""
    flows = ledger.flows(campaign.id, campaign.currency)
    net = ledger.balance(ledger.campaign_account(campaign.id), campaign.currency)
    # a match given back (refund, lapse) is no longer money of the campaign: the lines add up to `net`
    # a won dispute gives back what it took, and the dispute fee when the processor returns it
    figures = {"gross": flows["charge"], "matches": flows["match"] - flows["match_return"],
            "fees": flows["processor_fee"] - flows["processor_fee_return"],
            "refunds": flows["refund"], "disputes": flows["dispute"] - flows["dispute_reinstated"],
            "platform_fee": flows["platform_fee"],
            "transfers": flows["transfer"] - flows["transfer_reversal"], "host_hold": flows["host_hold"],
            "host_fees": flows["host_fee"], "net": net}
    if campaign.pooled_fund_id is not None:
        figures["to_fund"] = _into_fund(campaign)
    return figures


def _into_fund(campaign: Campaign) -> Money:
    """What this campaign's entries put into its pooled fund's account, net of what they drew back."""
    account = ledger.pooled_fund_account(campaign.pooled_fund_id)
    amount = sa.func.coalesce(sa.func.sum(sa.case((LedgerEntry.credit_account == account, LedgerEntry.amount),
                                                   else_=-LedgerEntry.amount)), 0)
    total = db.session.scalar(select(amount).where(
        LedgerEntry.campaign_id == campaign.id, LedgerEntry.currency == campaign.currency,
        (LedgerEntry.credit_account == account) | (LedgerEntry.debit_account == account)))
    return Money(int(total or 0), campaign.currency)


@blueprint.route("/manage/campaigns/<slug>/money")
@login_required
def dashboard(slug: str):
    campaign = _campaign(slug)
    if not _can_manage_money(campaign):
        abort(403)
    pledges = db.session.scalars(
        select(Pledge).where(Pledge.campaign_id == campaign.id, Pledge.status != PledgeStatus.PENDING)
        .order_by(Pledge.id.desc()).limit(200)).all()
    refunds = db.session.scalars(select(Refund).join(Pledge).where(Pledge.campaign_id == campaign.id)
                                 .order_by(Refund.id.desc()).limit(50)).all()
    account = payouts.account_of(campaign.organization)
    try:
        payout_accounts.check_country(campaign.organization)
        connect_refusal = None
    except payout_accounts.ConnectUnavailable as exc:
        connect_refusal = str(exc)
    return render_template("payments/money.html", campaign=campaign, figures=statement(campaign),
                           payout_status=payouts.status_for(campaign), account=account,
                           connect_refusal=connect_refusal, on_host_route=payouts.on_host_route(campaign.organization_id),
                           progress=campaigns.progress_of(campaign), collection=totals.pledge_counts(campaign, utcnow()),
                           pledges=pledges, refunds=refunds, disputes=disputes.disputes_of(campaign.id))


@blueprint.route("/manage/campaigns/<slug>/payout-account", methods=["POST"])
@login_required
def connect_payout_account(slug: str):
    """Owners and editors open the processor's onboarding for their organization's payout account."""
    campaign = _campaign(slug)
    if not _can_manage_money(campaign):
        abort(403)
    back = url_for("money.dashboard", slug=campaign.slug, _external=True)
    try:
        link = payouts.onboarding_link(campaign.organization, current_user.email, return_url=back, refresh_url=back)
        db.session.commit()
    except payout_accounts.ConnectUnavailable as exc:  # nothing was created at the processor
        db.session.rollback()
        return render_template("payments/connect_unavailable.html", campaign=campaign, message=str(exc)), 409
    except ProviderError as exc:
        db.session.rollback()
        return render_template("errors.html", code=502, message=str(exc)), 502
    return redirect(link, code=303)


@blueprint.route("/manage/pledges/<reference>/refund", methods=["POST"])
@login_required
def refund(reference: str):
    pledge = services.pledge_by_reference(reference)
    if pledge is None:
        abort(404)
    campaign = pledge.campaign
    if not _can_manage_money(campaign):
        abort(403)
    try:
        text = request.form.get("amount", "").strip()
        amount = refunds.refundable(pledge) if not text else Money.parse(text, pledge.currency, locale_code())
        refunds.request_refund(pledge, current_user, amount, request.form.get("reason", ""))
        db.session.commit()
    except ProviderError as exc:  # a DomainError too: caught first, the processor answered no or nothing
        db.session.rollback()
        return render_template("errors.html", code=502, message=str(exc)), 502
    except (DomainError, InvalidMoney) as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return render_template("errors.html", code=400, message=str(exc)), 400
    flash(_("Refund requested. It is final when the payment processor confirms it; the backer is told."), "success")
    return redirect(url_for("money.dashboard", slug=campaign.slug))


@blueprint.route("/campaigns/<slug>/transparency")
def transparency(slug: str):
    campaign = _campaign(slug)
    if not campaign.is_public:
        abort(404)
    return render_template("payments/transparency.html", campaign=campaign, figures=statement(campaign),
                           days=ledger.daily_inflows(campaign.id, campaign.currency),
                           entries=[e for e in ledger.entries_for(campaign.id) if e.kind not in PUBLIC_ELSEWHERE],
                           disputes=disputes.disputes_of(campaign.id), spending=spending.report(campaign),
                           tips=spending.tips_for(campaign),
                           payout_status=payouts.status_for(campaign) if campaign.status == CampaignStatus.SUCCEEDED else None)


@blueprint.route("/pledges/<reference>/complete", methods=["GET", "POST"])
def complete_payment(reference: str):
    """The link in the 'complete your payment' email: the backer pays on-session."""
    pledge, refused = open_pledge(reference)  # its backer, or the emailed link's token (issue 9)
    if refused is not None:
        return refused
    if pledge.status != PledgeStatus.NEEDS_ACTION:
        return redirect(url_for("payments.receipt", reference=reference))
    if request.method == "POST":
        try:
            url = collection.start_completion(pledge)
            db.session.commit()
        except ProviderError as exc:
            db.session.rollback()
            return render_template("errors.html", code=502, message=str(exc)), 502
        except DomainError as exc:
            db.session.rollback()
            return render_template("errors.html", code=409, message=str(exc)), 409
        return redirect(url, code=303)
    return render_template("payments/complete.html", pledge=pledge, campaign=pledge.campaign,
                           deadline=(pledge.needs_action_since or utcnow()) + collection.NEEDS_ACTION_LAPSE)


@blueprint.route("/dev/campaigns/<slug>/fast-forward", methods=["POST"])
@role_required(Role.MODERATOR)
def fast_forward(slug: str):
    """Development only: move a live campaign's deadline to now, close it and collect its pledges."""
    if not current_app.config["DEMO_TOOLS"]:
        abort(404)
    campaign = _campaign(slug)
    if campaign.status != CampaignStatus.LIVE:
        return render_template("errors.html", code=409, message=_("Only a live campaign can be fast-forwarded.")), 409
    now = utcnow()
    campaign.ends_at = now - timedelta(seconds=1)
    campaign.starts_at = min(campaign.starts_at, now - timedelta(days=1))
    db.session.commit()
    batches.close_due_campaigns(now)
    report = batches.collect(campaign.id)
    payouts.pay_out(db.session.get(Campaign, campaign.id))  # with the development hold of 0 days
    db.session.commit()
    flash(_("Closed: %(charged)d charged, %(action)d need the backer, %(released)d released.",
            charged=report.charged, action=report.needs_action, released=report.released), "success")
    return redirect(url_for("campaigns.show", slug=campaign.slug))
