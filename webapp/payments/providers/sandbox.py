"""The sandbox provider: a local imitation of Stripe that sends signed events to our webhook code.

It accepts Stripe's documented test cards and shares every line of event handling with Stripe,
because its events go through the same signature check and handlers. As Stripe's would, its events
arrive after the caller's transaction commits, each in a transaction of its own: `deliver` queues
them on the session, the commit hands them over (webapp.payments.webhooks.receive, installed by
payments.init_app), a rollback drops them. Its imitation hosted pages are in views/sandbox.py.
"""
from __future__ import annotations

import json
import secrets
import time
from datetime import UTC, datetime

from collections.abc import Callable

from flask import Flask, current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from webapp.errors import ProviderError
from webapp.extensions import db
from webapp.money import Money
from webapp.payments.models import Pledge, PledgeEvent, PledgeStatus, Refund, RefundStatus
from webapp.payments.providers.base import ChargeResult, CheckoutRequest, CheckoutSession, PaymentAttempt, Settlement
from webapp.payments.webhooks.signatures import sign

_QUEUED = "harambee_sandbox_queued"  #: events of the open transaction
_READY = "harambee_sandbox_ready"  #: events whose transaction committed, waiting for delivery
_DELIVERING = "harambee_sandbox_delivering"

SUCCEEDS = "4242424242424242"
DECLINED = "4000000000009995"
AUTHENTICATE = "4000002760003184"
TEST_CARDS = {SUCCEEDS: _l("succeeds"), DECLINED: _l("is declined"), AUTHENTICATE: _l("asks for authentication")}


class SandboxProvider:
    name = "sandbox"

    def create_checkout(self, req: CheckoutRequest) -> CheckoutSession:
        if req.metadata.get("recurring_support_id"):  # a recurring gift's payment: its page carries it, signed
            customer = req.customer_id or f"cus_sandbox_{req.reference}"
            token = recurring_signer().dumps({"metadata": dict(req.metadata), "email": req.email,
                                              "amount": req.charge.amount, "currency": req.charge.currency,
                                              "description": req.description, "success": req.success_url,
                                              "cancel": req.cancel_url, "customer": customer})
            session_id = f"cs_sandbox_recurring_{req.metadata['recurring_support_id']}_{secrets.token_hex(4)}"
            return CheckoutSession(id=session_id, customer_id=customer,
                                   url=url_for("sandbox.recurring", session_id=session_id, data=token, _external=True))
        if req.metadata.get("setup_for"):  # a method saved ahead of any pledge: the session carries its terms
            customer = req.customer_id or f"cus_sandbox_{req.reference}"
            token = setup_signer().dumps({"owner": req.metadata["setup_for"], "email": req.email,
                                           "currency": req.charge.currency, "terms": req.terms or "",
                                           "success": req.success_url, "cancel": req.cancel_url,
                                           "customer": customer})
            session_id = f"cs_sandbox_setup_{token}"
            return CheckoutSession(id=session_id, url=url_for("sandbox.setup", session_id=session_id, _external=True),
                                   customer_id=customer)
        session_id = f"cs_sandbox_{req.reference}"
        customer = req.customer_id or (f"cus_sandbox_{req.reference}" if req.mode == "setup" else None)
        # As Stripe's page does, ours sends the backer back to the URLs it was given (they carry the token
        # that opens the pledge's pages): they travel signed in the page's address.
        back = return_signer().dumps({"success": req.success_url, "cancel": req.cancel_url})
        return CheckoutSession(id=session_id, customer_id=customer,
                               url=url_for("sandbox.checkout", session_id=session_id, back=back, _external=True))

    def expire_checkout(self, session_id: str) -> str | None:
        """The sandbox's pages hold no state of their own: it cannot tell whether one was paid (None)."""
        pledge = pledge_for(session_id)
        if pledge is not None and pledge.status == PledgeStatus.PENDING:
            deliver("checkout.session.expired", _session_object(pledge, status="expired"))
        return None

    def settlement(self, payment_intent_id: str) -> Settlement | None:
        # The pledge an event has just loaded (and told its intent) is in the session: no read, as Stripe's
        # answer costs this database nothing (loaded values only: an expired row is not read again here).
        pledge = next((obj for obj in list(db.session.identity_map.values())
                       if isinstance(obj, Pledge) and obj.__dict__.get("payment_intent_id") == payment_intent_id), None)
        if pledge is None:
            pledge = db.session.scalar(db.select(Pledge).where(Pledge.payment_intent_id == payment_intent_id))
        if pledge is None:
            from webapp.payments.recurring.models import RecurringCharge

            renewal = db.session.scalar(db.select(RecurringCharge).where(
                RecurringCharge.payment_intent_id == payment_intent_id))
            if renewal is None:
                return None
            fee = simulated_fee(renewal.total)
            return Settlement(amount=renewal.total - fee, fee=fee,
                              charge_id=renewal.charge_id or f"ch_sandbox_{payment_intent_id}")
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

    def payment_attempts(self, customer_id: str, pledge_id: int, created_since: datetime) -> list[PaymentAttempt]:
        """The sandbox answers every charge at once and keeps nothing: there is never an earlier one in flight."""
        return []

    def attempts_with(self, customer_id: str, metadata, created_since: datetime) -> list[PaymentAttempt]:
        return []

    def payment_attempt(self, payment_intent_id: str) -> PaymentAttempt | None:
        return None

    def create_customer(self, email: str, metadata, idempotency_key: str) -> str:
        return f"cus_sandbox_{idempotency_key}"

    def detach_payment_method(self, payment_method_id: str) -> None:
        """Nothing is stored in the sandbox: forgetting a method is a no-op."""

    def method_label(self, payment_method_id: str) -> tuple[str | None, str | None]:
        """The sandbox stores no card: it cannot name one."""
        return None, None

    # -- Connect, simulated end to end --------------------------------------------------------
    def create_connected_account(self, email: str, country: str, idempotency_key: str, *,
                                 service_agreement: str = "recipient") -> str:
        return f"acct_sandbox_{idempotency_key}"

    def create_account_link(self, account_id: str, refresh_url: str, return_url: str) -> str:
        return url_for("sandbox.onboarding", account_id=account_id, back=return_url, _external=True)

    def create_transfer(self, amount: Money, destination: str, transfer_group: str, idempotency_key: str,
                        metadata, *, source_transaction: str | None = None) -> str:
        return f"tr_sandbox_{idempotency_key}"

    def reverse_transfer(self, transfer_id: str, amount: Money, idempotency_key: str, metadata) -> str:
        """Confirmed by the transfer.reversed event Stripe sends, after the caller commits."""
        reversal = {"id": f"trr_sandbox_{idempotency_key}", "object": "transfer_reversal", "amount": amount.amount,
                    "currency": amount.currency.lower(), "transfer": transfer_id, "created": int(time.time())}
        deliver("transfer.reversed", {"id": transfer_id, "object": "transfer", "metadata": dict(metadata),
                                      "reversals": {"object": "list", "data": [reversal]}})
        return reversal["id"]

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

        The event is delivered once the request's transaction commits, in a transaction of its own,
        as Stripe's confirmation comes seconds later.
        """
        from webapp.payments.bookkeeping import payment_of
        from webapp.payments.recurring.models import RecurringCharge

        row = db.session.scalar(db.select(Pledge).where(Pledge.payment_intent_id == payment_intent_id)) \
            or db.session.scalar(db.select(RecurringCharge).where(RecurringCharge.payment_intent_id == payment_intent_id))
        if row is None:
            raise ProviderError(_("The payment processor does not know this payment."))
        paid = payment_of(row)
        refunded = paid.charge.amount if amount is None else min(paid.charge.amount, _charged_refunded(row) + amount.amount)
        ident = row.charge_id or (f"ch_sandbox_{row.reference}" if isinstance(row, Pledge)
                                  else f"ch_sandbox_{payment_intent_id}")
        deliver("charge.refunded", {
            "id": ident, "object": "charge", "payment_intent": payment_intent_id, "amount": paid.charge.amount,
            "amount_refunded": refunded, "currency": paid.charge.currency.lower(),
            "refunded": refunded >= paid.charge.amount, "metadata": {k: str(v) for k, v in paid.owner.items()}})
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


def _charged_refunded(row) -> int:
    """The refunded total of a pledge or a renewal in the charged currency, as the processor counts it."""
    from webapp.payments.bookkeeping import payment_of

    paid = payment_of(row)
    if row.refunded_amount >= paid.money.amount:
        return paid.charge.amount
    return paid.charge.amount * row.refunded_amount // paid.money.amount


def simulated_fee(charge: Money) -> Money:
    """About what a card processor takes: 1.5% plus a small fixed part (25 cents, or 1 unit)."""
    fixed = 25 if charge.exponent >= 2 else 1
    return Money(charge.amount * 15 // 1000 + fixed * (10 if charge.exponent == 3 else 1), charge.currency)


def deliver(event_type: str, obj: dict, *, account: str | None = None) -> None:
    """Queue an event as Stripe would send it; it reaches the webhook code after the caller commits.

    An event about a connected `account` goes, as Stripe's do, to the Connect endpoint's unit of work,
    signed with the Connect secret.
    """
    event = {"id": f"evt_sandbox_{secrets.token_hex(8)}", "object": "event", "type": event_type,
             "created": int(time.time()), "livemode": False, "data": {"object": obj}}
    if account:
        event["account"] = account
    db.session.info.setdefault(_QUEUED, []).append((json.dumps(event).encode(), bool(account)))


def onboarded(account_id: str) -> None:
    """The organization finished the imitation onboarding: Stripe's Connect events for a recipient account
    that can now receive transfers (the account enabled, its transfers capability active)."""
    deliver("account.updated", {"id": account_id, "object": "account", "details_submitted": True,
                                "payouts_enabled": True, "charges_enabled": False,
                                "capabilities": {"transfers": "active"}}, account=account_id)
    deliver("capability.updated", {"id": "transfers", "object": "capability", "account": account_id,
                                   "requested": True, "status": "active"}, account=account_id)


def install(app: Flask, receiver: Callable[[bytes, str | None], tuple[int, str]]) -> None:
    """Deliver queued events to `receiver` (the webhook's unit of work) after each commit."""
    app.extensions["harambee.sandbox_receiver"] = receiver
    if getattr(install, "_listening", False):
        return
    event.listen(Session, "after_commit", _committed)
    event.listen(Session, "after_soft_rollback", _rolled_back)
    event.listen(Session, "after_transaction_end", _transaction_ended)
    install._listening = True  # type: ignore[attr-defined]


def _committed(session: Session) -> None:
    queued = session.info.pop(_QUEUED, None)
    if queued:
        session.info.setdefault(_READY, []).extend(queued)


def _rolled_back(session: Session, previous: SessionTransaction) -> None:
    if previous.parent is None:
        session.info.pop(_QUEUED, None)


def _transaction_ended(session: Session, transaction: SessionTransaction) -> None:
    """The committed transaction is closed: deliver its events, each in its own transaction, in order.

    A delivery that queues further events (its own commit) has them delivered by the same loop.
    """
    if transaction.parent is not None:
        return
    session.info.pop(_QUEUED, None)  # what is still queued belongs to a transaction that did not commit
    if session.info.get(_DELIVERING) or not session.info.get(_READY):
        return
    receiver = current_app.extensions["harambee.sandbox_receiver"]
    secrets_by_endpoint = {False: current_app.config["STRIPE_WEBHOOK_SECRET"],
                           True: current_app.config["STRIPE_CONNECT_WEBHOOK_SECRET"]}
    session.info[_DELIVERING] = True
    try:
        while session.info.get(_READY):
            payload, connect = session.info[_READY].pop(0)
            receiver(payload, sign(payload, secrets_by_endpoint[connect]), connect=connect)
    except Exception:
        session.info.pop(_READY, None)  # as a failed delivery at Stripe: the events behind it are not sent
        raise
    finally:
        session.info.pop(_DELIVERING, None)


def pledge_for(session_id: str) -> Pledge | None:
    return db.session.scalar(db.select(Pledge).where(Pledge.checkout_session_id == session_id))


def mode_of(pledge: Pledge) -> str:
    """Payment now for keep-it-all, and for completing a pledge that needed action; else save the card."""
    return "payment" if pledge.charge_timing == "now" or pledge.status == PledgeStatus.NEEDS_ACTION else "setup"


def _session_object(pledge: Pledge, **extra) -> dict:
    mode = mode_of(pledge)
    obj = {"id": pledge.checkout_session_id, "object": "checkout.session", "mode": mode,
           "client_reference_id": pledge.reference, "customer": pledge.customer_id,
           "amount_total": pledge.charge_amount if mode == "payment" else None,
           "currency": pledge.charge_currency.lower(),
           "metadata": {"pledge_id": str(pledge.id), "pledge_reference": pledge.reference}}
    obj.update(extra)
    return obj


def succeed(pledge: Pledge, card: str) -> None:
    """The backer paid (or saved a card) on the imitation hosted page: Stripe's events for it."""
    ref = pledge.reference
    if mode_of(pledge) == "payment":
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


def decline(pledge: Pledge, code: str, message: str) -> None:
    """The card was refused on the imitation hosted page."""
    if mode_of(pledge) == "payment":
        deliver("payment_intent.payment_failed", {
            "id": f"pi_sandbox_{pledge.reference}", "object": "payment_intent", "status": "requires_payment_method",
            "metadata": {"pledge_id": str(pledge.id)},
            "last_payment_error": {"code": code, "message": message}})
    else:
        deliver("setup_intent.setup_failed", {
            "id": f"seti_sandbox_{pledge.reference}", "object": "setup_intent",
            "metadata": {"pledge_id": str(pledge.id)}, "last_setup_error": {"code": code, "message": message}})


def return_signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="harambee.sandbox.return")


def return_urls(signed: str | None) -> dict[str, str] | None:
    """The success and cancel URLs a sandbox checkout's address carries, or None if it carries none we signed."""
    if not signed:
        return None
    try:
        urls = return_signer().loads(signed)
    except BadSignature:
        return None
    return urls if isinstance(urls, dict) else None


def recurring_signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="harambee.sandbox.recurring")


def setup_signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="harambee.sandbox.setup")
