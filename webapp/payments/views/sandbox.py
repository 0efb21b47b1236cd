"""The sandbox's imitation of the processor's hosted pages: checkout, setup and Connect onboarding.

Each page commits its unit of work; the sandbox delivers the events it queued right after that commit.
"""
from __future__ import annotations

import secrets

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature

from webapp.extensions import db
from webapp.payments.models import PledgeStatus
from webapp.payments.providers import sandbox
from webapp.public_url import public_base_url

blueprint = Blueprint("sandbox", __name__, url_prefix="/sandbox")


def _digits(text: str) -> str:
    return "".join(ch for ch in text or "" if ch.isdigit())


@blueprint.route("/checkout/<session_id>", methods=["GET", "POST"])
def checkout(session_id: str):
    pledge = sandbox.pledge_for(session_id)
    if pledge is None:
        abort(404)
    back = request.args.get("back")
    returns = sandbox.return_urls(back)
    # Where the processor sends the backer: the URLs the checkout was opened with (they carry its token).
    done = returns["success"] if returns else url_for("payments.receipt", reference=pledge.reference, checkout="done")
    if pledge.status not in (PledgeStatus.PENDING, PledgeStatus.NEEDS_ACTION):
        return redirect(done)
    error, status = None, 200
    if request.method == "POST":
        action = request.form.get("action", "pay")
        card = _digits(request.form.get("card", ""))
        if action == "authenticate-ok":
            sandbox.succeed(pledge, sandbox.AUTHENTICATE)
            db.session.commit()
            return redirect(done)
        if action == "authenticate-fail":
            sandbox.decline(pledge, "authentication_failed", _("Authentication failed."))
            error, status = _("Authentication failed. Try again or use another card."), 402
        elif card not in sandbox.TEST_CARDS:
            error, status = _("This is a test checkout: use one of the test cards listed below."), 400
        elif card == sandbox.SUCCEEDS:
            sandbox.succeed(pledge, card)
            db.session.commit()
            return redirect(done)
        elif card == sandbox.DECLINED:
            sandbox.decline(pledge, "card_declined", _("Your card was declined."))
            error, status = _("Your card was declined. Try another card."), 402
        else:
            return render_template("payments/sandbox_authenticate.html", pledge=pledge, session_id=session_id, back=back)
        db.session.commit()  # the decline's event is delivered now; the page shows its outcome
        db.session.refresh(pledge)
    return render_template("payments/sandbox_checkout.html", pledge=pledge, session_id=session_id, error=error,
                           test_cards=sandbox.TEST_CARDS, mode=sandbox.mode_of(pledge), back=back), status


@blueprint.route("/onboarding/<account_id>", methods=["GET", "POST"])
def onboarding(account_id: str):
    """The processor's onboarding, simulated: submitting it sends the Connect events Stripe would
    (account.updated, capability.updated: the account enabled, its transfers capability active)."""
    back = request.args.get("back", "")
    if not back.startswith(public_base_url().rstrip("/") + "/"):  # only back into this app, as Stripe's return_url
        back = url_for("campaigns.home")
    if request.method == "POST":
        sandbox.onboarded(account_id)
        db.session.commit()
        return redirect(back)
    return render_template("payments/sandbox_onboarding.html", account_id=account_id)


@blueprint.route("/setup/<session_id>", methods=["GET", "POST"])
def setup(session_id: str):
    """The hosted page in setup mode for a method saved ahead of any pledge (standing commitments)."""
    try:
        data = sandbox.setup_signer().loads(session_id.removeprefix("cs_sandbox_setup_"))
    except BadSignature:
        abort(404)
    error, status = None, 200
    if request.method == "POST":
        card = _digits(request.form.get("card", ""))
        if request.form.get("action") == "cancel":
            return redirect(data["cancel"])
        if card not in sandbox.TEST_CARDS:
            error, status = _("This is a test checkout: use one of the test cards listed below."), 400
        else:
            ref = secrets.token_hex(6)
            customer = data.get("customer") or f"cus_sandbox_{data['owner'].replace(':', '-')}"
            metadata = {"setup_for": data["owner"]}
            sandbox.deliver("checkout.session.completed", {"id": f"cs_sandbox_setup_{ref}",
                                                           "object": "checkout.session", "mode": "setup",
                                                           "status": "complete", "customer": customer,
                                                           "setup_intent": f"seti_sandbox_{ref}", "metadata": metadata})
            sandbox.deliver("setup_intent.succeeded", {"id": f"seti_sandbox_{ref}", "object": "setup_intent",
                                                       "status": "succeeded", "customer": customer,
                                                       "payment_method": f"pm_sandbox_{card[-4:]}_{ref}",
                                                       "metadata": metadata})
            db.session.commit()
            return redirect(data["success"])
    return render_template("payments/sandbox_setup.html", data=data, error=error, test_cards=sandbox.TEST_CARDS), status


@blueprint.route("/checkout/<session_id>/cancel", methods=["POST"])
def cancel(session_id: str):
    pledge = sandbox.pledge_for(session_id)
    if pledge is None:
        abort(404)
    returns = sandbox.return_urls(request.args.get("back"))
    return redirect(returns["cancel"] if returns else url_for("payments.checkout_cancelled", reference=pledge.reference))


@blueprint.route("/recurring/<session_id>", methods=["GET", "POST"])
def recurring(session_id: str):
    """The hosted page of a recurring gift's payment: paid now, the card saved for the next periods."""
    try:
        data = sandbox.recurring_signer().loads(request.args.get("data", ""))
    except BadSignature:
        abort(404)
    if not isinstance(data, dict) or not session_id.startswith("cs_sandbox_recurring_"):
        abort(404)
    error, status = None, 200
    if request.method == "POST":
        card = _digits(request.form.get("card", ""))
        if request.form.get("action") == "cancel":
            return redirect(data["cancel"])
        if card not in sandbox.TEST_CARDS:
            error, status = _("This is a test checkout: use one of the test cards listed below."), 400
        elif card == sandbox.DECLINED:
            error, status = _("Your card was declined. Try another card."), 402
        else:
            ref = secrets.token_hex(6)
            metadata = data["metadata"]
            sandbox.deliver("checkout.session.completed", {
                "id": session_id, "object": "checkout.session", "mode": "payment", "status": "complete",
                "payment_status": "paid", "customer": data["customer"], "payment_intent": f"pi_sandbox_{ref}",
                "metadata": metadata})
            sandbox.deliver("payment_intent.succeeded", {
                "id": f"pi_sandbox_{ref}", "object": "payment_intent", "status": "succeeded",
                "amount": data["amount"], "currency": data["currency"].lower(), "customer": data["customer"],
                "payment_method": f"pm_sandbox_{card[-4:]}_{ref}", "setup_future_usage": "off_session",
                "latest_charge": f"ch_sandbox_{ref}", "metadata": metadata})
            db.session.commit()
            return redirect(data["success"])
    return render_template("payments/sandbox_recurring.html", data=data, error=error,
                           test_cards=sandbox.TEST_CARDS), status
