"""Routes for backers: the pledge form, receipts and checkout returns, their pledges, the currency chooser, and the processor's webhook endpoint."""
from __future__ import annotations

import secrets

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from webapp.campaigns import services as campaigns
from webapp.errors import DomainError, ProviderError
from webapp.extensions import csrf, db, limiter
from webapp.forms import safe_next
from webapp.i18n import locale_code
from webapp.money import Money
from webapp.payments import display, fx, webhooks
from webapp.payments.expenses import public as spending
from webapp.payments.pledging import access, services
from webapp.payments.pledging.forms import PledgeForm
from webapp.payments.models import PledgeStatus
from webapp.payments.views.access import open_pledge, remember

blueprint = Blueprint("payments", __name__)


def _pay_currencies(campaign) -> list[str]:
    currencies = [campaign.currency]
    viewer = display.viewer_currency()
    if campaign.accepts_backer_currency and viewer and viewer != campaign.currency and display.can_charge_in(viewer):
        currencies.append(viewer)
    return currencies


@blueprint.route("/campaigns/<slug>/pledge", methods=["GET", "POST"])
def pledge(slug: str):
    campaign = campaigns.campaign_by_slug(slug)
    if campaign is None or not campaigns.can_view(current_user, campaign):
        abort(404)
    guest = not current_user.is_authenticated
    pay_currencies = _pay_currencies(campaign)
    form = PledgeForm(currency=campaign.currency, pay_currencies=pay_currencies, guest=guest)
    tiers = {str(t.id): t for t in campaign.tiers}
    form.tier.choices = [("", _("No reward"))] + [(tid, t.title) for tid, t in tiers.items()]
    if request.method == "GET":
        form.client_token.data = secrets.token_urlsafe(24)
        chosen = tiers.get(request.args.get("tier", ""))
        form.tier.data = str(chosen.id) if chosen else ""
        own = pay_currencies[-1]  # the backer's own currency when the campaign takes it, else the campaign's
        try:
            form.amount.data = services.suggested_pledge(campaign, chosen, own)
        except services.PledgeRefused:
            form.amount.data = None  # no rate for the currency: the form says so next to the field
        # a round sum in the backer's own currency is typed and paid in it
        form.amount_currency.data = form.pay_currency.data = (form.amount.data.currency if form.amount.data
                                                              else campaign.currency)
        if not guest:
            form.display_name.data = current_user.name
    status = 200
    if form.validate_on_submit():
        again = services.existing_for_token(form.client_token.data)
        if again is not None:  # a double-clicked submit: the same checkout, never a second pledge
            return _to_checkout(again)
        tier = tiers.get(form.tier.data or "")
        if form.tier.data and tier is None:
            form.tier.errors.append(_("Choose a reward of this campaign."))
            return _form(campaign, form), 400
        try:
            made = services.start_pledge(services.PledgeRequest(
                campaign=campaign, tier=tier, amount=form.amount.money, pay_currency=form.pay_currency.data,
                email=current_user.email if not guest else form.email.data,
                user=None if guest else current_user, display_name=form.display_name.data,
                anonymous=form.anonymous.data, message=form.message.data, locale=locale_code(),
                client_token=form.client_token.data, tip=form.tip.money))
            db.session.commit()
        except services.SoldOut as exc:
            db.session.rollback()
            form.tier.errors.append(str(exc))
            status = 409
        except (DomainError, ProviderError) as exc:
            db.session.rollback()
            form.amount.errors.append(str(exc))
            status = 400 if not isinstance(exc, ProviderError) else 502
        except IntegrityError:
            db.session.rollback()
            again = services.existing_for_token(form.client_token.data)
            if again is None:
                raise
            return _to_checkout(again)
        else:
            return _to_checkout(made)
    elif form.errors:
        status = 400
    return _form(campaign, form), status


def _form(campaign, form):
    return render_template("payments/pledge.html", campaign=campaign, form=form, equivalent=_equivalent(campaign, form),
                           live_rate=_live_rate(campaign, form),
                           progress=campaigns.progress_of(campaign),
                           terms=None if services.charge_timing(campaign) == "now" else services.charge_terms(campaign))


def _equivalent(campaign, form):
    """'≈ €10.24 (rate of …)' beside the amount: in the campaign's currency when it is typed in the backer's, else
    in the backer's; on the first page (the suggestion) and after a submission the form sent back (no script)."""
    money = form.amount.money or (form.amount.data if isinstance(form.amount.data, Money) else None)
    if money is None:
        return ""
    if money.currency != campaign.currency:
        return display.approx(money, campaign.currency)
    return display.approx(money)


def _live_rate(campaign, form) -> dict | None:
    """What site.js needs to update the equivalent as the backer types: the day's rate from the campaign's currency
    to the other one the form offers, and the note that goes with it. None with a single currency or no rate."""
    others = [code for code, _label in form.amount_currency.choices if code != campaign.currency]
    if not others:
        return None
    try:
        quote = fx.quote(campaign.currency, others[0], display=True)
    except DomainError:
        return None
    note = _("fixed parity") if quote.pegged else _("rate of %(date)s", date=format_date(quote.rate_date, "medium"))
    return {"rate": f"{quote.rate:f}", "campaign": campaign.currency, "own": others[0], "note": note,
            "locale": locale_code().replace("_", "-")}


def _to_checkout(pledge):
    remember(pledge)  # this browser made the pledge: it may see its pages without the emailed link
    if pledge.status == PledgeStatus.PENDING and pledge.checkout_url:
        return redirect(pledge.checkout_url, code=303)
    return redirect(url_for("payments.receipt", reference=pledge.reference), code=303)


# A pledge's pages open for its backer signed in, or with the secret token of a link we sent (views/access.py);
# its reference alone opens nothing (issue 9).
@blueprint.route("/pledges/<reference>")
def receipt(reference: str):
    pledge, refused = open_pledge(reference)
    if refused is not None:
        return refused
    return render_template("payments/receipt.html", pledge=pledge, campaign=pledge.campaign,
                           just_back=request.args.get("checkout") == "done",
                           can_cancel=current_user.is_authenticated and pledge.user_id == current_user.id
                           and pledge.status == PledgeStatus.COMMITTED)


@blueprint.route("/pledges/<reference>/checkout-cancelled")
def checkout_cancelled(reference: str):
    """Where the processor's cancel button lands: it changes nothing; a button releases the checkout."""
    pledge, refused = open_pledge(reference)
    if refused is not None:
        return refused
    return render_template("payments/checkout_cancelled.html", pledge=pledge, campaign=pledge.campaign,
                           pending=pledge.status == PledgeStatus.PENDING)


@blueprint.route("/pledges/<reference>/abandon", methods=["POST"])
def abandon_checkout(reference: str):
    """The backer gives up an open checkout: its reward unit is released now rather than when it expires."""
    pledge, refused = open_pledge(reference)
    if refused is not None:
        return refused
    if pledge.status == PledgeStatus.PENDING:
        try:
            services.abandon_checkout(pledge)
            db.session.commit()
        except ProviderError as exc:
            db.session.rollback()
            return render_template("errors.html", code=502, message=str(exc)), 502
    flash(_("Your pledge was not completed; nothing was charged."), "info")
    return redirect(url_for("campaigns.show", slug=pledge.campaign.slug), code=303)


@blueprint.route("/pledges/<reference>/new-link", methods=["POST"])
@limiter.limit("10 per hour")  # per address: nobody walks through references by this door
def send_link(reference: str):
    """A backer whose link carries no token (emails sent before tokens existed) asks for a new one."""
    pledge = access.by_reference(reference)
    if pledge is not None and access.send_new_link(pledge):
        db.session.commit()
    # The same answer whether or not the reference is a pledge's, and whether or not a link just went out.
    flash(_("If this reference is one of our pledges, we have emailed a new link to the address it was made with."),
          "info")
    return redirect(url_for("campaigns.home"), code=303)


@blueprint.route("/pledges/<reference>/cancel", methods=["POST"])
@login_required
def cancel(reference: str):
    pledge = services.pledge_by_reference(reference)
    if pledge is None:
        abort(404)
    if pledge.user_id != current_user.id:
        abort(403)
    try:
        services.cancel_committed(pledge, current_user)
    except DomainError as exc:
        return render_template("errors.html", code=409, message=str(exc)), 409
    db.session.commit()
    flash(_("Your pledge is cancelled. You will not be charged."), "success")
    return redirect(url_for("payments.mine"))


@blueprint.route("/pledges/mine")
@login_required
def mine():
    pledges = services.pledges_of(current_user)
    spent = spending.spent_by_campaign(sorted({p.campaign_id for p in pledges}))
    return render_template("payments/mine.html", pledges=pledges, spent=spent)


@blueprint.route("/payments/webhooks/stripe", methods=["POST"])
@csrf.exempt
def stripe_webhook():
    status, message = webhooks.receive(request.get_data(cache=False), request.headers.get("Stripe-Signature"))
    return {"status": message}, status


@blueprint.route("/payments/webhooks/stripe/connect", methods=["POST"])
@csrf.exempt
def stripe_connect_webhook():
    """Stripe's Connect endpoint: connected accounts' events, signed with STRIPE_CONNECT_WEBHOOK_SECRET."""
    status, message = webhooks.receive(request.get_data(cache=False), request.headers.get("Stripe-Signature"),
                                       connect=True)
    return {"status": message}, status


@blueprint.route("/currency", methods=["POST"])
def choose_currency():
    currency = (request.form.get("currency") or "").upper()
    if currency and currency not in current_app.config["SUPPORTED_CURRENCIES"]:
        abort(400, _("We do not show amounts in that currency."))
    session["display_currency"] = currency or None
    if current_user.is_authenticated:
        current_user.display_currency = currency or None
        db.session.commit()
    return redirect(safe_next(request.form.get("next")) or url_for("campaigns.home"))
