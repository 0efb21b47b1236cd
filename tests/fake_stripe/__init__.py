"""A fake Stripe for tests: the REST API the real `stripe` library calls, on 127.0.0.1, and a control API.

    fake = FakeStripe().start()                 # or the `fake_stripe` fixture (tests/payments/conftest.py)
    provider = StripeProvider("sk_test_fake", fake.url)
    session = provider.create_checkout(...)
    events = fake.complete_checkout(session.id)  # the backer pays on the hosted page
    body, headers = fake.webhook_request(events[0], "whsec_test")

The control methods play the parts Stripe plays away from our API calls: the backer on the hosted
page (`complete_checkout`), time (`expire_session`), the bank (`finish_async_payment`,
`fail_card`), the Dashboard (`refund`, `dispute`) and the balance (`plant_balance_transaction`).
They return the events Stripe would deliver, in order; events caused by our own API calls (an
off-session charge, a refund, an expiry) wait in `take_events()`.

Every request is checked against the stripe library's own params types (params.py) and the pinned
API version's removals (versions.py). The full list of controls is in tests/fake_stripe/README.md.
"""
from __future__ import annotations

import html
import json
import urllib.error
import urllib.request
from urllib.parse import parse_qsl, urlsplit

import stripe

from tests.fake_stripe.api import ApiEndpoints, check_metadata
from tests.fake_stripe.server import ApiError, FakeStripeError, HttpServerMixin, HttpSide, RecordedRequest
from tests.fake_stripe.state import API_VERSION, new_id

__all__ = ["FakeStripe", "FakeStripeError", "RecordedRequest", "sign", "API_VERSION", "CARDS"]

#: Stripe's test cards and what they do here.
CARDS = {
    "4242424242424242": "succeeds",
    "5555555555554444": "succeeds (Mastercard)",
    "4000000000009995": "declined, insufficient_funds; in setup mode saved, then declined when charged",
    "4000000000000341": "declined; in setup mode saved, then declined when charged",
    "4000000000000002": "declined, generic_decline",
    "4000000000009987": "declined, lost_card",
    "4000000000000069": "expired_card",
    "4000000000000127": "incorrect_cvc",
    "4000002760003184": "asks for authentication (pass authenticate=True); saved, every off-session charge "
                        "then fails with authentication_required",
    "4000002500003155": "asks for authentication (pass authenticate=True); saved, later off-session charges succeed",
    "DE89370400440532013000": "SEPA debit: processing, succeeds at finish_async_payment()",
    "DE62370400440532013001": "SEPA debit: processing, fails at finish_async_payment()",
}
DECLINES = {
    "4000000000009995": ("card_declined", "insufficient_funds", "Your card has insufficient funds."),
    "4000000000000341": ("card_declined", "generic_decline", "Your card was declined."),
    "4000000000000002": ("card_declined", "generic_decline", "Your card was declined."),
    "4000000000009987": ("card_declined", "lost_card", "Your card was declined."),
    "4000000000000069": ("expired_card", None, "Your card has expired."),
    "4000000000000127": ("incorrect_cvc", None, "Your card's security code is incorrect."),
}
SAVED_THEN_DECLINED = {"4000000000009995", "4000000000000341"}
AUTHENTICATE_ALWAYS = {"4000002760003184"}
AUTHENTICATE_ONCE = {"4000002500003155"}
#: Stripe's test bank accounts: SEPA from "Save SEPA Direct Debit details for future payments"
#: (https://docs.stripe.com/payments/sepa-debit/set-up-payment?payment-ui=checkout, "Test your integration"),
#: BACS from "Save Bacs Direct Debit bank details" (https://stripe.com/docs/payments/bacs-debit/save-bank-details),
#: ACH from Stripe's ACH Direct Debit test account numbers (routing 110000000; that page is not in the reference
#: store this was written from, so the ACH failure codes are the ones Stripe's ACH guide lists from memory:
#: check them before relying on one). Each debit is `processing` until finish_async_payment(), then succeeds
#: or fails as listed (None: succeeds). Enter a SEPA IBAN as is, a BACS account as "108800-<account>", an ACH
#: one as "110000000-<account>".
BANK_ACCOUNTS = {
    "DE89370400440532013000": None,
    "DE65370400440532013003": None,  # Stripe: succeeds after three minutes
    "AT611904300234573201": None,
    "DE62370400440532013001": ("insufficient_funds", "The customer's account has insufficient funds to cover "
                               "this payment."),
    "DE27370400440532013004": ("insufficient_funds", "The customer's account has insufficient funds to cover "
                               "this payment."),  # Stripe: fails after three minutes
    "AT861904300235473202": ("insufficient_funds", "The customer's account has insufficient funds to cover "
                             "this payment."),
    "DE08370400440532013005": ("charge_exceeds_source_limit", "This payment would exceed the weekly payment "
                               "volume limit of the customer's account."),
    "108800-00012345": None,
    "108800-90012345": ("insufficient_funds", "The customer's account has insufficient funds to cover this "
                        "payment."),
    "110000000-000123456789": None,
    "110000000-000111111113": ("account_closed", "The customer's bank account has been closed."),
    "110000000-000111111116": ("no_account", "The customer's bank account could not be located."),
    "110000000-000222222227": ("insufficient_funds", "The customer's account has insufficient funds to cover "
                               "this payment."),
    "110000000-000333333335": ("debit_not_authorized", "The customer has notified their bank that this payment "
                               "was unauthorized."),
}
IBAN_FAILURES = {number: failure for number, failure in BANK_ACCOUNTS.items() if failure}
BANK_FAILURE_MESSAGES = {code: message for code, message in IBAN_FAILURES.values()}
AUTHENTICATION_REQUIRED = ("authentication_required", "authentication_required",
                           "Your card was declined. This transaction requires authentication.")


def sign(payload: bytes | str, secret: str, timestamp: int | None = None) -> str:
    """The Stripe-Signature header for a webhook body, computed by the stripe library itself."""
    text = payload.decode("utf-8") if isinstance(payload, bytes) else payload
    return stripe.WebhookSignature.generate_signature_header(text, secret, timestamp=timestamp)


class FakeStripe(HttpServerMixin, ApiEndpoints):
    def __init__(self, api_key: str = "sk_test_fake"):
        super().__init__()
        self.http = HttpSide(api_key=api_key)
        #: where the hosted page delivers the events it causes (None: nowhere), signed with webhook_secret
        self.webhook_url: str | None = None
        self.webhook_secret = "whsec_test"
        #: the Connect endpoint's own secret: events on connected accounts (they carry `account`) are signed with it
        self.connect_webhook_secret = "whsec_connect_test"
        #: where Connect events go (None: nowhere)
        self.connect_webhook_url: str | None = None

    def reset(self) -> None:
        """Forget every object, request and key (between tests); the server keeps running."""
        with self.lock:
            self._reset_state()
            self.http.reset()
            self.webhook_url = None

    # -- the backer on the hosted page --------------------------------------------------------
    def complete_checkout(self, session_id: str, card: str = "4242424242424242", *, authenticate: bool = False,
                          email: str | None = None) -> list[dict]:
        """The backer submits `card` (or a test IBAN) on the hosted page; returns the events Stripe sends.

        Payment mode: paid → [checkout.session.completed (paid), payment_intent.succeeded]; declined →
        [payment_intent.payment_failed] and the session stays open; authentication cards → [] unless
        `authenticate`; IBAN → [checkout.session.completed (unpaid)], then finish_async_payment().
        Setup mode: [checkout.session.completed, setup_intent.succeeded] (payment_method, customer).
        """
        with self.lock:
            session = self._open_session(session_id)
            number = card.replace(" ", "").upper()
            email = email or session["customer_email"] or self._customer_email(session["customer"])
            method = self._new_method(number, email)
            if session["mode"] == "payment":
                return self._pay(session, method, number, authenticate, email)
            return self._save(session, method, number, authenticate, email)

    def _open_session(self, session_id: str) -> dict:
        session = self.objects.get(session_id)
        if session is None or session["object"] != "checkout.session":
            raise FakeStripeError(f"no checkout session {session_id}")
        if session["status"] != "open":
            raise FakeStripeError(f"checkout session {session_id} is {session['status']}: the page refuses payment")
        if session["expires_at"] <= self.now():
            raise FakeStripeError(f"checkout session {session_id} has expired: call expire_session() first")
        return session

    def _customer_email(self, customer_id: str | None) -> str:
        customer = self.objects.get(customer_id or "")
        return (customer or {}).get("email") or "backer@example.test"

    def _new_method(self, number: str, email: str) -> dict:
        if number[:2].isalpha():
            details = {"type": "sepa_debit", "sepa_debit": {"country": number[:2], "last4": number[-4:],
                                                            "bank_code": number[4:12]}}
        elif number.startswith("108800-"):
            details = {"type": "bacs_debit", "bacs_debit": {"sort_code": "108800", "last4": number[-4:],
                                                            "fingerprint": new_id("fp")}}
        elif number.startswith("110000000-"):
            details = {"type": "us_bank_account", "us_bank_account": {
                "routing_number": "110000000", "last4": number[-4:], "bank_name": "STRIPE TEST BANK",
                "account_type": "checking", "account_holder_type": "individual"}}
        elif number.isdigit() and _luhn(number):
            brand = {"4": "visa", "5": "mastercard", "3": "amex"}.get(number[0], "unknown")
            details = {"type": "card", "card": {"brand": brand, "last4": number[-4:], "exp_month": 12,
                                                "exp_year": 2034, "country": "US", "funding": "credit"}}
        else:
            raise FakeStripeError(f"{number!r} is not a card number the hosted page would accept")
        method = self.store({"id": new_id("pm"), "object": "payment_method", "created": self.now(),
                             "customer": None, "billing_details": {"email": email, "name": None},
                             "livemode": False, "metadata": {}, **details})
        self._private[method["id"]] = {"number": number}
        return method

    def _pay(self, session: dict, method: dict, number: str, authenticate: bool, email: str) -> list[dict]:
        data = self._private[session["id"]]["intent_data"]
        intent = self.objects.get(session["payment_intent"] or "")
        if intent is None:
            intent = self.new_intent(amount=session["amount_total"], currency=session["currency"],
                                     customer=session["customer"], payment_method=None,
                                     metadata=check_metadata(data.get("metadata")),
                                     description=data.get("description"), receipt_email=email)
            session["payment_intent"] = intent["id"]
        intent["payment_method"] = method["id"]
        if number in DECLINES:
            self._refuse(intent, method, DECLINES[number])
            return [self.event("payment_intent.payment_failed", intent)]
        if (number in AUTHENTICATE_ALWAYS or number in AUTHENTICATE_ONCE) and not authenticate:
            intent.update(status="requires_action", next_action={"type": "redirect_to_url"})
            return []
        session.update(status="complete", customer_details={"email": email, "name": None})
        if method["type"] != "card":
            intent.update(status="processing", last_payment_error=None)
            return [self.event("checkout.session.completed", session)]
        self.charge_succeeded(intent)
        session["payment_status"] = "paid"
        if data.get("setup_future_usage") in ("off_session", "on_session"):
            # "If a Customer has been provided or Checkout creates a new Customer, Checkout will attach the
            # payment method to the Customer" (payment_intent_data.setup_future_usage); the card is then
            # authenticated for later off-session use, so only cards that always ask fail off-session.
            intent["setup_future_usage"] = data["setup_future_usage"]
            if session["customer"]:
                method["customer"] = session["customer"]
            if number in AUTHENTICATE_ALWAYS:
                self.card_failures[method["id"]] = AUTHENTICATION_REQUIRED
            elif number in SAVED_THEN_DECLINED:
                self.card_failures[method["id"]] = DECLINES[number]
        return [self.event("checkout.session.completed", session), self.event("payment_intent.succeeded", intent)]

    def _refuse(self, intent: dict, method: dict, failure: tuple) -> None:
        code, decline_code, message = failure
        error = {"type": "card_error", "code": code, "message": message, "payment_method": self.snapshot(method)}
        if decline_code:
            error["decline_code"] = decline_code
        intent.update(status="requires_payment_method", last_payment_error=error, next_action=None)

    def _save(self, session: dict, method: dict, number: str, authenticate: bool, email: str) -> list[dict]:
        data = self._private[session["id"]]["intent_data"]
        customer = session["customer"]
        if customer is None:
            customer = self._create_customer({"email": email})["id"]
        intent = self.store({
            "id": new_id("seti"), "object": "setup_intent", "created": self.now(), "customer": customer,
            "payment_method": method["id"], "status": "requires_confirmation", "usage": "off_session",
            "metadata": check_metadata(data.get("metadata")), "description": data.get("description"),
            "last_setup_error": None, "next_action": None, "livemode": False,
            "payment_method_types": [method["type"]],
            "client_secret": f"seti_secret_{new_id('x')}",
            # a bank debit is saved with a mandate (the customer's authorization to debit later)
            "mandate": new_id("mandate") if method["type"] != "card" else None,
        })
        session["setup_intent"] = intent["id"]
        if number in DECLINES and number not in SAVED_THEN_DECLINED:
            code, decline_code, message = DECLINES[number]
            intent.update(status="requires_payment_method", payment_method=None,
                          last_setup_error={"type": "card_error", "code": code, "decline_code": decline_code,
                                            "message": message})
            return [self.event("setup_intent.setup_failed", intent)]
        if (number in AUTHENTICATE_ALWAYS or number in AUTHENTICATE_ONCE) and not authenticate:
            intent.update(status="requires_action", next_action={"type": "redirect_to_url"})
            return []
        method["customer"] = customer
        if number in AUTHENTICATE_ALWAYS:
            self.card_failures[method["id"]] = AUTHENTICATION_REQUIRED
        elif number in SAVED_THEN_DECLINED:
            self.card_failures[method["id"]] = DECLINES[number]
        intent["status"] = "succeeded"
        session.update(status="complete", customer=customer, customer_details={"email": email, "name": None})
        return [self.event("checkout.session.completed", session), self.event("setup_intent.succeeded", intent)]

    # -- time, the bank, the Dashboard ------------------------------------------------------------
    def expire_session(self, session_id: str) -> list[dict]:
        """Checkout's clock runs out: [checkout.session.expired] (the session must still be open)."""
        with self.lock:
            session = self.objects.get(session_id)
            if session is None or session["object"] != "checkout.session":
                raise FakeStripeError(f"no checkout session {session_id}")
            try:
                return self.expire(session, pending=False)
            except ApiError as exc:
                raise FakeStripeError(str(exc)) from None

    def finish_async_payment(self, ident: str, *, succeed: bool | None = None,
                             failure_code: str = "insufficient_funds") -> list[dict]:
        """The bank answers for a processing debit (session or payment intent id).

        By default the test account number decides (BANK_ACCOUNTS: DE89370400440532013000 succeeds,
        DE62370400440532013001 fails...); `succeed` forces the answer. Success: [charge.succeeded,
        payment_intent.succeeded] (after checkout.session.async_payment_succeeded for a session);
        failure: the intent back to requires_payment_method with last_payment_error, [charge.failed,
        payment_intent.payment_failed] (after checkout.session.async_payment_failed).
        """
        with self.lock:
            obj = self.objects.get(ident) or {}
            session = obj if obj.get("object") == "checkout.session" else next(
                (s for s in self.of_kind("checkout.session") if s["payment_intent"] == ident), None)
            intent = self.objects.get((session or {}).get("payment_intent") or ident)
            if intent is None or intent["status"] != "processing":
                raise FakeStripeError(f"{ident} has no processing payment")
            method = self.objects[intent["payment_method"]]
            failure = IBAN_FAILURES.get(self._private[method["id"]]["number"])
            if succeed is True:
                failure = None
            elif succeed is False:
                failure = failure or (failure_code, BANK_FAILURE_MESSAGES.get(
                    failure_code, "The customer's bank refused the debit."))
            events = []
            charge = self.objects.get(intent.get("latest_charge") or "")
            if failure:
                self._refuse(intent, method, (failure[0], None, failure[1]))
                intent["last_payment_error"]["type"] = "invalid_request_error" \
                    if method["type"] != "card" else "card_error"
                charge_events = []
                if charge is not None and charge["status"] == "pending":
                    charge.update(status="failed", failure_code=failure[0], failure_message=failure[1])
                    charge_events.append(self.event("charge.failed", charge))
                if session:
                    events.append(self.event("checkout.session.async_payment_failed", session))
                events += charge_events
                events.append(self.event("payment_intent.payment_failed", intent))
            else:
                charge = self.charge_succeeded(intent)
                if session:
                    session["payment_status"] = "paid"
                    events.append(self.event("checkout.session.async_payment_succeeded", session))
                elif charge is not None:
                    events.append(self.event("charge.succeeded", charge))
                events.append(self.event("payment_intent.succeeded", intent))
            return events

    def fail_card(self, payment_method_id: str, code: str | None = "authentication_required",
                  decline_code: str | None = None, message: str | None = None) -> None:
        """Make later charges on this saved method fail with `code` (None: succeed again)."""
        with self.lock:
            if payment_method_id not in self.objects:
                raise FakeStripeError(f"no payment method {payment_method_id}")
            if code is None:
                self.card_failures.pop(payment_method_id, None)
            elif code == "authentication_required":
                self.card_failures[payment_method_id] = AUTHENTICATION_REQUIRED
            else:
                self.card_failures[payment_method_id] = (
                    code, decline_code or ("generic_decline" if code == "card_declined" else None),
                    message or "Your card was declined.")

    def _charge_of(self, ident: str) -> dict:
        obj = self.objects.get(ident)
        if obj and obj["object"] == "payment_intent":
            obj = self.objects.get(obj["latest_charge"] or "")
        if not obj or obj["object"] != "charge":
            raise FakeStripeError(f"{ident} has no charge")
        return obj

    def refund(self, ident: str, amount: int | None = None, reason: str | None = None) -> list[dict]:
        """A refund made in the Dashboard (payment intent or charge id): [charge.refunded, refund.created]."""
        with self.lock:
            try:
                _, events = self.charge_refunded(self._charge_of(ident), amount, reason=reason,
                                                 pending_events=False)
            except ApiError as exc:
                raise FakeStripeError(str(exc)) from None
            return events

    def refund_events(self, refund_id: str) -> list[dict]:
        """The events a refund caused ([charge.refunded, refund.created]), to deliver or redeliver."""
        with self.lock:
            return list(self._private[refund_id]["events"])

    def confirm_refund(self, refund_id: str) -> list[dict]:
        """A pending refund (refund_status = "pending") succeeds: [refund.updated]."""
        with self.lock:
            refund = self.objects[refund_id]
            if refund["status"] != "pending":
                raise FakeStripeError(f"refund {refund_id} is {refund['status']}")
            refund["status"] = "succeeded"
            return [self.event("refund.updated", refund, {"status": "pending"})]

    def fail_refund(self, refund_id: str) -> list[dict]:
        """A pending refund fails; the money goes back to the balance: [refund.updated, refund.failed]."""
        with self.lock:
            refund = self.objects[refund_id]
            if refund["status"] != "pending":
                raise FakeStripeError(f"refund {refund_id} is {refund['status']}")
            refund.update(status="failed", failure_reason="expired_or_canceled_card")
            charge = self.objects[refund["charge"]]
            charge["amount_refunded"] -= refund["amount"]
            charge["refunded"] = False
            txn = self.objects[refund["balance_transaction"]]
            self.book(amount=-txn["amount"], currency=txn["currency"], type="refund_failure", source=refund_id,
                      description="REFUND FAILURE")
            return [self.event("refund.updated", refund, {"status": "pending"}), self.event("refund.failed", refund)]

    def dispute(self, ident: str, amount: int | None = None, reason: str = "fraudulent", *,
                inquiry: bool = False) -> list[dict]:
        """The backer's bank disputes a charge (payment intent or charge id).

        A chargeback: [charge.dispute.created (needs_response), charge.dispute.funds_withdrawn]; the
        amount leaves the balance and the dispute fee is charged, in one balance transaction (type
        adjustment, reporting_category dispute). An inquiry (`inquiry=True`, a pre-dispute the bank
        may escalate): [charge.dispute.created (warning_needs_response)] and no money moves.
        Then: close_dispute(id, won=...), escalate_inquiry(id), or our API calls (evidence, close).
        """
        with self.lock:
            return self.open_dispute(self._charge_of(ident), amount, reason, inquiry=inquiry)

    # -- balance transactions that appear late --------------------------------------------------
    def settle_late(self, charge_id: str) -> list[dict]:
        """Book a charge's balance transaction now (after `settle_immediately = False` left it null,
        as asynchronous capture does): [charge.updated] with previous_attributes balance_transaction null.

        https://docs.stripe.com/payments/payment-intents/asynchronous-capture: "The `balance_transaction`
        field on the Charge object might be `null` immediately after confirmation ... You can listen for
        the `charge.updated` event to know when the balance transaction becomes available."
        """
        with self.lock:
            charge = self.get("charge", charge_id)
            if charge["balance_transaction"]:
                raise FakeStripeError(f"charge {charge_id} already has its balance transaction")
            self.settle(charge_id)
            return [self.event("charge.updated", charge, {"balance_transaction": None})]

    # -- events in another API version ----------------------------------------------------------
    def event_in_version(self, event: dict, api_version: str) -> dict:
        """The same event as an endpoint pinned to another API version receives it (another
        `api_version`; the fake does not re-render the object's shape)."""
        with self.lock:
            return {**event, "api_version": api_version}

    def plant_balance_transaction(self, amount: int, currency: str, *, type: str = "adjustment", fee: int = 0,
                                  source: str | None = None, created: int | None = None,
                                  description: str | None = None) -> dict:
        """A balance transaction our ledger knows nothing about (for reconciliation tests)."""
        with self.lock:
            return self.snapshot(self.book(amount=amount, currency=currency.lower(), type=type, fee=fee,
                                           source=source, created=created, description=description))

    # -- webhooks -----------------------------------------------------------------------------
    def webhook_request(self, event: dict, secret: str | None = None,
                        timestamp: int | None = None) -> tuple[bytes, dict[str, str]]:
        """The body and headers of Stripe's POST delivering `event`, signed with `secret` (by default the
        Connect endpoint's secret for an event on a connected account, the platform endpoint's otherwise)."""
        body = json.dumps(event, indent=2).encode()
        default = self.connect_webhook_secret if event.get("account") else self.webhook_secret
        header = sign(body, secret or default, timestamp)
        return body, {"Stripe-Signature": header, "Content-Type": "application/json; charset=utf-8"}

    def deliver(self, events: list[dict], url: str | None = None, secret: str | None = None) -> list[int]:
        """POST each event, signed, to a webhook URL on loopback; returns the HTTP statuses."""
        url = url or self.webhook_url
        if not url or urlsplit(url).hostname not in ("127.0.0.1", "localhost"):
            raise FakeStripeError(f"refusing to deliver webhooks to {url!r}: loopback only")
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        statuses = []
        for event in events:
            body, headers = self.webhook_request(event, secret)
            request = urllib.request.Request(url, data=body, headers=headers, method="POST")
            try:
                with opener.open(request, timeout=10) as response:
                    statuses.append(response.status)
            except urllib.error.HTTPError as exc:
                statuses.append(exc.code)
        return statuses

    # -- the hosted page (for browser tests) --------------------------------------------------
    def hosted_page(self, method: str, path: str, body: str) -> tuple[int, dict[str, str], bytes]:
        parts = path.strip("/").split("/")
        session = self.objects.get(parts[-1]) if parts[:2] == ["c", "pay"] and len(parts) == 3 else None
        if session is None or session.get("object") != "checkout.session":
            return 404, {"Content-Type": "text/plain"}, b"Not found"
        message = ""
        if method == "POST":
            form = dict(parse_qsl(body))
            try:
                events = self.complete_checkout(session["id"], form.get("card", ""),
                                                authenticate=form.get("authenticate") == "yes")
            except FakeStripeError as exc:
                events, message = [], str(exc)
            if events and self.webhook_url:
                self.deliver(events)
            if session["status"] == "complete":
                target = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])
                return 303, {"Location": target, "Content-Length": "0"}, b""
            message = message or self._page_problem(session)
        return 200, {"Content-Type": "text/html; charset=utf-8"}, self._page_html(session, message).encode()

    def _page_problem(self, session: dict) -> str:
        intent = self.objects.get(session.get("payment_intent") or session.get("setup_intent") or "") or {}
        error = intent.get("last_payment_error") or intent.get("last_setup_error")
        if error:
            return error["message"]
        if intent.get("status") == "requires_action":
            return "Your bank asks you to authenticate this payment."
        return ""

    def _page_html(self, session: dict, message: str) -> str:
        esc = html.escape
        amount = (f"{session['amount_total']} {session['currency'].upper()} (minor units)"
                  if session["mode"] == "payment" else "Save your card")
        terms = ((session.get("custom_text") or {}).get("submit") or {}).get("message") or ""
        button = "Pay" if session["mode"] == "payment" else "Save card"
        return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Fake Stripe Checkout</title>
</head><body><main><h1>Fake Stripe Checkout</h1><p data-testid="amount">{esc(amount)}</p>
<p role="alert" data-testid="error">{esc(message)}</p>
<form method="post"><label>Card number <input name="card" value="4242 4242 4242 4242"></label>
<label><input type="checkbox" name="authenticate" value="yes"> Complete authentication</label>
<p data-testid="terms">{esc(terms)}</p><button type="submit">{button}</button></form>
<a href="{esc(session.get('cancel_url') or '')}">Cancel</a></main></body></html>"""


def _luhn(number: str) -> bool:
    digits = [int(d) for d in reversed(number)]
    total = sum(digits[0::2]) + sum(sum(divmod(2 * d, 10)) for d in digits[1::2])
    return len(number) >= 12 and total % 10 == 0
