"""The sandbox provider: a local imitation of a hosted checkout that sends signed events to our webhook.

It accepts Stripe's documented test cards and shares every line of event handling with Stripe,
because its events go through the same signature check and handlers (webhooks.receive).
"""
from __future__ import annotations

import json
import secrets
import time
from datetime import UTC, datetime

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from flask_babel import lazy_gettext as _l

from webapp.extensions import db
from webapp.money import Money
from webapp.payments import webhooks
from webapp.payments.models import Pledge, PledgeEvent, PledgeStatus, Refund, RefundStatus
from webapp.errors import ProviderError
from webapp.payments.provider import ChargeResult, CheckoutRequest, CheckoutSession, Settlement

blueprint = Blueprint("sandbox", __name__, url_prefix="/sandbox")

SUCCEEDS = "4242424242424242"
DECLINED = "4000000000009995"
AUTHENTICATE = "4000002760003184"
TEST_CARDS = {SUCCEEDS: _l("succeeds"), DECLINED: _l("is declined"), AUTHENTICATE: _l("asks for authentication")}


class SandboxProvider:
    name = "sandbox"

    def create_checkout(self, req: CheckoutRequest) -> CheckoutSession:
        if req.metadata.get("setup_for"):  # a method saved ahead of any pledge: the session carries its terms
            token = _setup_signer().dumps({"owner": req.metadata["setup_for"], "email": req.email,
                                           "currency": req.charge.currency, "terms": req.terms or "",
                                           "success": req.success_url, "cancel": req.cancel_url})
            session_id = f"cs_sandbox_setup_{token}"
            return CheckoutSession(id=session_id, url=url_for("sandbox.setup", session_id=session_id, _external=True),
                                   customer_id=f"cus_sandbox_{req.reference}")
        session_id = f"cs_sandbox_{req.reference}"
        customer = f"cus_sandbox_{req.reference}" if req.mode == "setup" else None
        return CheckoutSession(id=session_id, url=url_for("sandbox.checkout", session_id=session_id, _external=True),
                               customer_id=customer)

    def expire_checkout(self, session_id: str) -> None:
        pledge = _pledge_for(session_id)
        if pledge is not None and pledge.status == PledgeStatus.PENDING:
            deliver("checkout.session.expired", _session_object(pledge, status="expired"))

    def settlement(self, payment_intent_id: str) -> Settlement | None:
        pledge = db.session.scalar(db.select(Pledge).where(Pledge.payment_intent_id == payment_intent_id))
        if pledge is None:
            return None
        fee = simulated_fee(pledge.charge)
        return Settlement(amount=Money(pledge.charge_amount - fee.amount, pledge.charge_currency), fee=fee,
                          charge_id=f"ch_sandbox_{pledge.reference}")


    # -- off-session: the saved method's test card decides, as Stripe's test cards do ----------
    def charge_off_session(self, customer_id: str, payment_method_id: str, charge: Money, idempotency_key: str,
                           metadata, *, description: str | None = None, transfer_group: str | None = None) -> ChargeResult:
        intent = f"pi_sandbox_{idempotency_key}"
        card_tail = payment_method_id.split("_")[2] if payment_method_id.count("_") >= 3 else ""
        if card_tail == AUTHENTICATE[-4:]:
            return ChargeResult("requires_action", intent, "authentication_required",
                                _("Your bank asks you to confirm this payment."))
        if card_tail == DECLINED[-4:]:
            return ChargeResult("failed", intent, "card_declined", _("Your card was declined."))
        # As Stripe does, the success also arrives as an event, which records the settlement and fee.
        deliver("payment_intent.succeeded", {"id": intent, "object": "payment_intent", "status": "succeeded",
                                             "amount": charge.amount, "currency": charge.currency.lower(),
                                             "customer": customer_id, "metadata": dict(metadata)})
        return ChargeResult("succeeded", intent)

    def detach_payment_method(self, payment_method_id: str) -> None:
        """Nothing is stored in the sandbox: forgetting a method is a no-op."""

    # -- Connect, simulated end to end --------------------------------------------------------
    def create_connected_account(self, email: str, country: str, idempotency_key: str) -> str:
        return f"acct_sandbox_{idempotency_key}"

    def create_account_link(self, account_id: str, refresh_url: str, return_url: str) -> str:
        return url_for("sandbox.onboarding", account_id=account_id, back=return_url, _external=True)

    def create_transfer(self, amount: Money, destination: str, transfer_group: str, idempotency_key: str,
                        metadata) -> str:
        return f"tr_sandbox_{idempotency_key}"

    def list_balance_transactions(self, created_gte: datetime | int, created_lt: datetime | int, *,
                                  expand_sources: bool = False) -> list[dict]:
        """The balance history the sandbox would have, derived from its own pledges, shaped like Stripe's.

        A charge (with the simulated fee) when a pledge was paid, and one refund for what was refunded
        of it. It can only disagree with the ledger where bookkeeping and the pledges disagree.
        """
        start, end = _as_datetime(created_gte), _as_datetime(created_lt)
        transactions = []
        paid = db.session.execute(
            db.select(Pledge, db.func.min(PledgeEvent.at)).join(PledgeEvent, PledgeEvent.pledge_id == Pledge.id)
            .where(Pledge.provider == self.name, PledgeEvent.to_status == PledgeStatus.PAID)
            .group_by(Pledge.id).having(db.func.min(PledgeEvent.at) >= start, db.func.min(PledgeEvent.at) < end))
        for pledge, at in paid:
            charge_id = pledge.charge_id or f"ch_sandbox_{pledge.reference}"
            fee = simulated_fee(pledge.charge).amount
            source = {"id": charge_id, "object": "charge", "amount": pledge.charge_amount,
                      "currency": pledge.charge_currency.lower(), "payment_intent": pledge.payment_intent_id,
                      "metadata": {"pledge_id": str(pledge.id)}}
            transactions.append(_balance_transaction(f"txn_sandbox_ch_{pledge.id}", "charge", pledge.charge_amount,
                                                     fee, pledge, at, source if expand_sources else charge_id))
        refunded = db.session.execute(
            db.select(Pledge, db.func.max(Refund.created_at)).join(Refund, Refund.pledge_id == Pledge.id)
            .where(Pledge.provider == self.name, Pledge.refunded_amount > 0, Refund.status == RefundStatus.SUCCEEDED)
            .group_by(Pledge.id).having(db.func.max(Refund.created_at) >= start, db.func.max(Refund.created_at) < end))
        for pledge, at in refunded:
            amount = _charged_refunded(pledge)
            source = {"id": f"re_sandbox_{pledge.reference}", "object": "refund", "amount": amount,
                      "currency": pledge.charge_currency.lower(), "charge": pledge.charge_id,
                      "payment_intent": pledge.payment_intent_id, "metadata": {"pledge_id": str(pledge.id)}}
            transactions.append(_balance_transaction(f"txn_sandbox_re_{pledge.id}", "refund", -amount, 0, pledge,
                                                     at, source if expand_sources else source["id"]))
        return transactions

    def refund(self, payment_intent_id: str, amount: Money | None, idempotency_key: str, metadata, *,
               reason: str | None = None) -> str:
        """Refunds are confirmed at once, through the same charge.refunded event Stripe sends.

        The event goes through webhooks.receive, which commits: in the sandbox a refund request and
        its confirmation land together, where Stripe's confirmation would come seconds later.
        """
        pledge = db.session.scalar(db.select(Pledge).where(Pledge.payment_intent_id == payment_intent_id))
        if pledge is None:
            raise ProviderError(_("The payment processor does not know this payment."))
        refunded = pledge.charge_amount if amount is None else min(
            pledge.charge_amount, _charged_refunded(pledge) + amount.amount)
        deliver("charge.refunded", {
            "id": pledge.charge_id or f"ch_sandbox_{pledge.reference}", "object": "charge",
            "payment_intent": payment_intent_id, "amount": pledge.charge_amount, "amount_refunded": refunded,
            "currency": pledge.charge_currency.lower(), "refunded": refunded >= pledge.charge_amount,
            "metadata": {"pledge_id": str(pledge.id)}})
        return f"re_sandbox_{idempotency_key}"


def _as_datetime(moment: datetime | int) -> datetime:
    if isinstance(moment, int):
        return datetime.fromtimestamp(moment, UTC).replace(tzinfo=None)
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _balance_transaction(ident: str, kind: str, amount: int, fee: int, pledge: Pledge, at: datetime,
                         source) -> dict:
    created = int(at.replace(tzinfo=UTC).timestamp())
    return {"id": ident, "object": "balance_transaction", "type": kind, "reporting_category": kind,
            "amount": amount, "fee": fee, "net": amount - fee, "currency": pledge.charge_currency.lower(),
            "created": created, "source": source}


def _charged_refunded(pledge: Pledge) -> int:
    """The refunded total in the charged currency, as the processor counts it."""
    if pledge.refunded_amount >= pledge.amount:
        return pledge.charge_amount
    return pledge.charge_amount * pledge.refunded_amount // pledge.amount


def simulated_fee(charge: Money) -> Money:
    """About what a card processor takes: 1.5% plus a small fixed part (25 cents, or 1 unit)."""
    fixed = 25 if charge.exponent >= 2 else 1
    return Money(charge.amount * 15 // 1000 + fixed * (10 if charge.exponent == 3 else 1), charge.currency)


def deliver(event_type: str, obj: dict) -> tuple[int, str]:
    """Sign an event as Stripe would and hand it to the webhook code, exactly as the endpoint does."""
    event = {"id": f"evt_sandbox_{secrets.token_hex(8)}", "object": "event", "type": event_type,
             "created": int(time.time()), "livemode": False, "data": {"object": obj}}
    payload = json.dumps(event).encode()
    header = webhooks.sign(payload, current_app.config["STRIPE_WEBHOOK_SECRET"])
    return webhooks.receive(payload, header)


def _pledge_for(session_id: str) -> Pledge | None:
    return db.session.scalar(db.select(Pledge).where(Pledge.checkout_session_id == session_id))


def _mode(pledge: Pledge) -> str:
    """Payment now for keep-it-all, and for completing a pledge that needed action; else save the card."""
    return "payment" if pledge.charge_timing == "now" or pledge.status == PledgeStatus.NEEDS_ACTION else "setup"


def _session_object(pledge: Pledge, **extra) -> dict:
    mode = _mode(pledge)
    obj = {"id": pledge.checkout_session_id, "object": "checkout.session", "mode": mode,
           "client_reference_id": pledge.reference, "customer": pledge.customer_id,
           "amount_total": pledge.charge_amount if mode == "payment" else None,
           "currency": pledge.charge_currency.lower(),
           "metadata": {"pledge_id": str(pledge.id), "pledge_reference": pledge.reference}}
    obj.update(extra)
    return obj


def _succeed(pledge: Pledge, card: str) -> None:
    ref = pledge.reference
    if _mode(pledge) == "payment":
        intent = pledge.payment_intent_id or f"pi_sandbox_{ref}"
        deliver("checkout.session.completed", _session_object(pledge, status="complete", payment_status="paid",
                                                              payment_intent=intent))
        deliver("payment_intent.succeeded", {"id": intent, "object": "payment_intent", "status": "succeeded",
                                             "amount": pledge.charge_amount, "currency": pledge.charge_currency.lower(),
                                             "latest_charge": f"ch_sandbox_{ref}",
                                             "metadata": {"pledge_id": str(pledge.id)}})
    else:
        setup = f"seti_sandbox_{ref}"
        deliver("checkout.session.completed", _session_object(pledge, status="complete", payment_status="no_payment_required",
                                                              setup_intent=setup))
        deliver("setup_intent.succeeded", {"id": setup, "object": "setup_intent", "status": "succeeded",
                                           "customer": pledge.customer_id,
                                           "payment_method": f"pm_sandbox_{card[-4:]}_{ref}",
                                           "metadata": {"pledge_id": str(pledge.id)}})


def _decline(pledge: Pledge, code: str, message: str) -> None:
    if _mode(pledge) == "payment":
        deliver("payment_intent.payment_failed", {
            "id": f"pi_sandbox_{pledge.reference}", "object": "payment_intent", "status": "requires_payment_method",
            "metadata": {"pledge_id": str(pledge.id)},
            "last_payment_error": {"code": code, "message": message}})
    else:
        deliver("setup_intent.setup_failed", {
            "id": f"seti_sandbox_{pledge.reference}", "object": "setup_intent",
            "metadata": {"pledge_id": str(pledge.id)}, "last_setup_error": {"code": code, "message": message}})


def _digits(text: str) -> str:
    return "".join(ch for ch in text or "" if ch.isdigit())


@blueprint.route("/checkout/<session_id>", methods=["GET", "POST"])
def checkout(session_id: str):
    pledge = _pledge_for(session_id)
    if pledge is None:
        abort(404)
    if pledge.status not in (PledgeStatus.PENDING, PledgeStatus.NEEDS_ACTION):
        return redirect(url_for("payments.receipt", reference=pledge.reference))
    error, status = None, 200
    if request.method == "POST":
        action = request.form.get("action", "pay")
        card = _digits(request.form.get("card", ""))
        if action == "authenticate-ok":
            _succeed(pledge, AUTHENTICATE)
            return redirect(url_for("payments.receipt", reference=pledge.reference, checkout="done"))
        if action == "authenticate-fail":
            _decline(pledge, "authentication_failed", _("Authentication failed."))
            error, status = _("Authentication failed. Try again or use another card."), 402
        elif card not in TEST_CARDS:
            error, status = _("This is a test checkout: use one of the test cards listed below."), 400
        elif card == SUCCEEDS:
            _succeed(pledge, card)
            return redirect(url_for("payments.receipt", reference=pledge.reference, checkout="done"))
        elif card == DECLINED:
            _decline(pledge, "card_declined", _("Your card was declined."))
            error, status = _("Your card was declined. Try another card."), 402
        else:
            return render_template("payments/sandbox_authenticate.html", pledge=pledge, session_id=session_id)
        db.session.refresh(pledge)
    return render_template("payments/sandbox_checkout.html", pledge=pledge, session_id=session_id, error=error,
                           test_cards=TEST_CARDS, mode=_mode(pledge)), status


@blueprint.route("/onboarding/<account_id>", methods=["GET", "POST"])
def onboarding(account_id: str):
    """The processor's onboarding, simulated: submitting it sends the account.updated event Stripe would."""
    back = request.args.get("back", "")
    if not back.startswith(request.host_url):
        back = url_for("campaigns.home")
    if request.method == "POST":
        deliver("account.updated", {"id": account_id, "object": "account", "details_submitted": True,
                                    "payouts_enabled": True, "charges_enabled": True})
        return redirect(back)
    return render_template("payments/sandbox_onboarding.html", account_id=account_id)


def _setup_signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="harambee.sandbox.setup")


@blueprint.route("/setup/<session_id>", methods=["GET", "POST"])
def setup(session_id: str):
    """The hosted page in setup mode for a method saved ahead of any pledge (standing commitments)."""
    try:
        data = _setup_signer().loads(session_id.removeprefix("cs_sandbox_setup_"))
    except BadSignature:
        abort(404)
    error, status = None, 200
    if request.method == "POST":
        card = _digits(request.form.get("card", ""))
        if request.form.get("action") == "cancel":
            return redirect(data["cancel"])
        if card not in TEST_CARDS:
            error, status = _("This is a test checkout: use one of the test cards listed below."), 400
        else:
            ref = secrets.token_hex(6)
            customer = f"cus_sandbox_{data['owner'].replace(':', '-')}"
            metadata = {"setup_for": data["owner"]}
            deliver("checkout.session.completed", {"id": f"cs_sandbox_setup_{ref}", "object": "checkout.session",
                                                   "mode": "setup", "status": "complete", "customer": customer,
                                                   "setup_intent": f"seti_sandbox_{ref}", "metadata": metadata})
            deliver("setup_intent.succeeded", {"id": f"seti_sandbox_{ref}", "object": "setup_intent",
                                               "status": "succeeded", "customer": customer,
                                               "payment_method": f"pm_sandbox_{card[-4:]}_{ref}", "metadata": metadata})
            return redirect(data["success"])
    return render_template("payments/sandbox_setup.html", data=data, error=error, test_cards=TEST_CARDS), status


@blueprint.route("/checkout/<session_id>/cancel", methods=["POST"])
def cancel(session_id: str):
    pledge = _pledge_for(session_id)
    if pledge is None:
        abort(404)
    return redirect(url_for("payments.checkout_cancelled", reference=pledge.reference))
