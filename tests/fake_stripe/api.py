"""The fake Stripe's REST endpoints: customers, checkout sessions, payment and setup intents, refunds, balance."""
from __future__ import annotations

import secrets
from typing import Any

from tests.fake_stripe.balance import BalanceEndpoints
from tests.fake_stripe.server import ApiError, invalid, route
from tests.fake_stripe.state import as_bool, as_int, check_metadata, new_id

#: where a platform in the US, the UK, the EEA, Canada or Switzerland can transfer (docs.stripe.com/connect/cross-border-payouts)
CROSS_BORDER_REGION = frozenset({
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU",
    "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO", "US", "GB", "CA", "CH",
})

#: Checkout's display locales (and "auto")
LOCALES = {"auto", "bg", "cs", "da", "de", "el", "en", "en-GB", "es", "es-419", "et", "fi", "fil", "fr", "fr-CA",
           "hi-IN", "hr", "hu", "id", "it", "ja", "ko", "lt", "lv", "ms", "mt", "nb", "nl", "pl", "pt", "pt-BR", "ro",
           "ru", "sk", "sl", "sv", "th", "tr", "vi", "zh", "zh-HK", "zh-TW"}
#: seconds of slack on Checkout's "expires_at at least 30 minutes from now" for the request's own travel time
EXPIRY_SLACK = 5

#: the bank debits whose payments are processing until the bank answers
BANK_DEBITS = {"sepa_debit", "bacs_debit", "us_bank_account"}

PAYMENT_INTENT_DATA = {"metadata", "description", "setup_future_usage", "capture_method", "receipt_email",
                       "statement_descriptor", "statement_descriptor_suffix", "transfer_group", "on_behalf_of",
                       "transfer_data", "application_fee_amount"}
SETUP_INTENT_DATA = {"metadata", "description", "on_behalf_of"}


def check_keys(value: Any, allowed: set[str], param: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid("Invalid hash", param=param)
    for key in value:
        if key not in allowed:
            raise invalid(f"Received unknown parameter: {param}[{key}]", param=f"{param}[{key}]",
                          code="parameter_unknown")
    return value


def required(params: dict[str, Any], name: str) -> Any:
    if params.get(name) in (None, ""):
        raise invalid(f"Missing required param: {name}.", param=name, code="parameter_missing")
    return params[name]


def currency_of(value: Any, param: str = "currency") -> str:
    if not isinstance(value, str) or len(value) != 3 or not value.isalpha():
        raise invalid(f"Invalid currency: {value}", param=param)
    return value.lower()


class ApiEndpoints(BalanceEndpoints):
    """The endpoints our code calls. Handlers take the decoded parameters and return a Stripe object."""

    url: str  # supplied by the HTTP side

    def __init__(self) -> None:
        super().__init__()
        # every route's parameters are checked against the stripe library's params type for it
        # (tests/fake_stripe/params.py ROUTE_PARAMS) before its handler runs
        self.routes = [
            route("POST", "/v1/customers", self._create_customer),
            route("GET", "/v1/customers/{id}", self._retrieve("customer")),
            route("POST", "/v1/checkout/sessions", self._create_session),
            route("GET", "/v1/checkout/sessions/{id}", self._retrieve("checkout.session")),
            route("POST", "/v1/checkout/sessions/{id}/expire", self._expire_session),
            route("POST", "/v1/payment_intents", self._create_intent),
            route("GET", "/v1/payment_intents", self._list_intents),
            route("GET", "/v1/payment_intents/{id}", self._retrieve("payment_intent")),
            route("POST", "/v1/payment_intents/{id}", self._update_intent),
            route("POST", "/v1/payment_intents/{id}/confirm", self._confirm_intent),
            route("POST", "/v1/payment_intents/{id}/cancel", self._cancel_intent),
            route("GET", "/v1/setup_intents/{id}", self._retrieve("setup_intent")),
            route("GET", "/v1/payment_methods/{id}", self._retrieve("payment_method")),
            route("POST", "/v1/payment_methods/{id}/detach", self._detach_payment_method),
            route("POST", "/v1/refunds", self._create_refund),
            route("GET", "/v1/refunds/{id}", self._retrieve("refund")),
            route("GET", "/v1/charges/{id}", self._retrieve("charge")),
            route("GET", "/v1/balance_transactions", self._list_balance_transactions),
            route("GET", "/v1/balance_transactions/{id}", self._retrieve("balance_transaction")),
            # Connect: Express accounts, onboarding links and transfers (separate charges and transfers)
            route("POST", "/v1/accounts", self._create_account),
            route("GET", "/v1/accounts/{id}", self._retrieve("account")),
            route("POST", "/v1/account_links", self._create_account_link),
            route("POST", "/v1/transfers", self._create_transfer),
            route("GET", "/v1/transfers/{id}", self._retrieve("transfer")),
            route("POST", "/v1/transfers/{id}/reversals", self._reverse_transfer),
            # payouts from the platform balance to its bank account
            route("POST", "/v1/payouts", self._create_payout),
            route("GET", "/v1/payouts", self._list_payouts),
            route("GET", "/v1/payouts/{id}", self._retrieve("payout")),
            # disputes: evidence, acceptance
            route("GET", "/v1/disputes", self._list_disputes),
            route("GET", "/v1/disputes/{id}", self._retrieve("dispute")),
            route("POST", "/v1/disputes/{id}", self._update_dispute),
            route("POST", "/v1/disputes/{id}/close", self._close_dispute),
        ]

    def _retrieve(self, kind: str):
        def handler(params: dict, ident: str) -> dict:
            return self.snapshot(self.get(kind, ident), params.get("expand"))
        return handler

    # -- customers ----------------------------------------------------------------------------
    def _create_customer(self, p: dict) -> dict:
        return self.snapshot(self.store({
            "id": new_id("cus"), "object": "customer", "created": self.now(), "email": p.get("email"),
            "name": p.get("name"), "description": p.get("description"), "livemode": False,
            "metadata": check_metadata(p.get("metadata")), "preferred_locales": p.get("preferred_locales") or [],
        }))

    # -- Connect --------------------------------------------------------------------------------
    def _create_account(self, p: dict) -> dict:
        """An Express account (https://docs.stripe.com/api/accounts/create), as Connect's rules allow it.

        Cross-border (country ≠ the platform's): only on the recipient service agreement, and only within
        the regions Stripe allows platform transfers between (docs.stripe.com/connect/cross-border-payouts);
        a recipient account cannot request card_payments (docs.stripe.com/connect/service-agreement-types).
        """
        if p.get("type") != "express":
            raise invalid("only Express accounts are faked", "type")
        country = str(p.get("country") or self.platform_country).upper()
        agreement = (p.get("tos_acceptance") or {}).get("service_agreement") or "full"
        if agreement not in ("full", "recipient"):
            raise invalid(f"Invalid tos_acceptance[service_agreement]: must be one of full, recipient",
                          "tos_acceptance[service_agreement]")
        if country not in CROSS_BORDER_REGION:
            raise invalid(f"Connected accounts in {country} cannot receive transfers from a platform in "
                          f"{self.platform_country}.", "country")
        if country != self.platform_country and agreement != "recipient":
            raise invalid("Cross-border transfers are only supported for accounts under the recipient service "
                          "agreement: pass tos_acceptance[service_agreement]=recipient.",
                          "tos_acceptance[service_agreement]")
        requested = {name for name, value in (p.get("capabilities") or {}).items()
                     if as_bool((value or {}).get("requested"), f"capabilities[{name}][requested]")}
        if agreement == "recipient" and "card_payments" in requested:
            raise invalid("Accounts under the recipient service agreement cannot request card_payments.",
                          "capabilities[card_payments]")
        return self.snapshot(self.store({
            "id": new_id("acct"), "object": "account", "type": "express", "email": p.get("email"),
            "country": country, "details_submitted": False, "payouts_enabled": False,
            "charges_enabled": False, "created": self.now(), "metadata": check_metadata(p.get("metadata")),
            "capabilities": {name: "inactive" for name in sorted(requested)},
            "tos_acceptance": {"service_agreement": agreement, "date": None, "ip": None, "user_agent": None}}))

    def _create_account_link(self, p: dict) -> dict:
        account = self.get("account", required(p, "account"))
        return {"object": "account_link", "created": self.now(), "expires_at": self.now() + 300,
                "url": f"{self.url}/connect/onboarding/{account['id']}"}

    def onboard(self, account_id: str, *, transfers: str = "active") -> list[dict]:
        """The organization completes the hosted onboarding: [account.updated, capability.updated], both
        Connect events (they carry `account`). `transfers`: the capability's status Stripe then reports."""
        account = self.get("account", account_id)
        account.update(details_submitted=True, payouts_enabled=True,
                       charges_enabled="card_payments" in account["capabilities"])
        events = []
        if "transfers" in account["capabilities"]:
            account["capabilities"]["transfers"] = transfers
        events.append(self.event("account.updated", account, account=account_id))
        if "transfers" in account["capabilities"]:
            events.append(self.capability_event(account_id, "transfers"))
        return events

    def set_capability(self, account_id: str, name: str, status: str) -> list[dict]:
        """Stripe changes a capability's status (a review, missing information): [capability.updated]."""
        account = self.get("account", account_id)
        account["capabilities"][name] = status
        return [self.capability_event(account_id, name)]

    def capability_event(self, account_id: str, name: str) -> dict:
        account = self.get("account", account_id)
        capability = {"id": name, "object": "capability", "account": account_id,
                      "requested": True, "requested_at": account["created"], "status": account["capabilities"][name],
                      "requirements": {"currently_due": [], "past_due": [], "eventually_due": [],
                                       "disabled_reason": None}}
        return self.event("capability.updated", capability, account=account_id)

    # -- checkout sessions --------------------------------------------------------------------
    def _create_session(self, p: dict) -> dict:
        mode = required(p, "mode")
        if mode not in ("payment", "setup"):
            raise invalid(f"The fake Stripe supports mode payment and setup, not {mode}", param="mode")
        required(p, "success_url")
        if p.get("customer") and p.get("customer_email"):
            raise invalid("You may only specify one of these parameters: customer, customer_email.",
                          param="customer_email")
        if p.get("customer"):
            self.get("customer", p["customer"], "customer")
        now = self.now()
        expires_at = as_int(p["expires_at"], "expires_at") if "expires_at" in p else now + 86400
        if not now + 1800 - EXPIRY_SLACK <= expires_at <= now + 86400:
            raise invalid("The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout "
                          "Session creation.", param="expires_at")
        locale = p.get("locale") or "auto"
        if locale not in LOCALES:
            raise invalid(f"Invalid locale: {locale}", param="locale")
        custom_text = check_keys(p.get("custom_text"), {"submit", "after_submit", "shipping_address",
                                                        "terms_of_service_acceptance"}, "custom_text")
        submit = check_keys(custom_text.get("submit"), {"message"}, "custom_text[submit]")
        if len(submit.get("message", "")) > 1200:
            raise invalid("custom_text[submit][message] must be at most 1200 characters",
                          param="custom_text[submit][message]")
        private: dict[str, Any] = {}
        if mode == "payment":
            if "setup_intent_data" in p:
                raise invalid("setup_intent_data can only be used in setup mode.", param="setup_intent_data")
            currency, total, private["line_items"] = self._line_items(p)
            intent_data = check_keys(p.get("payment_intent_data"), PAYMENT_INTENT_DATA, "payment_intent_data")
            check_metadata(intent_data.get("metadata"), "payment_intent_data[metadata]")
            private["intent_data"] = intent_data
        else:
            if "line_items" in p:
                raise invalid("You cannot pass `line_items` in `setup` mode.", param="line_items")
            if "payment_intent_data" in p:
                raise invalid("payment_intent_data can only be used in payment mode.", param="payment_intent_data")
            # SessionCreateParams.currency: "Required in `setup` mode when `allowed_payment_method_types`
            # is not set." (the stripe library's docstring for 2026-10-28.endive)
            if not p.get("currency") and not p.get("allowed_payment_method_types"):
                raise invalid("`currency` is required in setup mode when `allowed_payment_method_types` is not "
                              "passed.", param="currency", code="parameter_missing")
            currency = currency_of(p["currency"]) if p.get("currency") else None
            total = None
            intent_data = check_keys(p.get("setup_intent_data"), SETUP_INTENT_DATA, "setup_intent_data")
            check_metadata(intent_data.get("metadata"), "setup_intent_data[metadata]")
            private["intent_data"] = intent_data
        ident = "cs_test_" + secrets.token_hex(16)
        session = self.store({
            "id": ident, "object": "checkout.session", "mode": mode, "status": "open",
            "payment_status": "unpaid" if mode == "payment" else "no_payment_required",
            "amount_subtotal": total, "amount_total": total, "currency": currency,
            "cancel_url": p.get("cancel_url"), "success_url": p["success_url"],
            "client_reference_id": p.get("client_reference_id"), "created": now, "expires_at": expires_at,
            "customer": p.get("customer"), "customer_email": p.get("customer_email"), "customer_details": None,
            "custom_text": {"submit": submit or None, "after_submit": None, "shipping_address": None,
                            "terms_of_service_acceptance": None},
            "livemode": False, "locale": locale, "metadata": check_metadata(p.get("metadata")),
            "payment_intent": None, "setup_intent": None, "url": f"{self.url}/c/pay/{ident}",
        })
        self._private[ident] = private
        return self.snapshot(session, p.get("expand"))

    def _line_items(self, p: dict) -> tuple[str, int, list[dict]]:
        items = required(p, "line_items")
        if not isinstance(items, list):
            raise invalid("Invalid array", param="line_items")
        currency, total = None, 0
        for index, item in enumerate(items):
            param = f"line_items[{index}]"
            check_keys(item, {"price_data", "quantity", "price"}, param)
            if "price" in item:
                raise invalid("The fake Stripe only supports price_data", param=f"{param}[price]")
            data = check_keys(item.get("price_data"), {"currency", "unit_amount", "product_data"},
                              f"{param}[price_data]")
            this = currency_of(required(data, "currency"), f"{param}[price_data][currency]")
            if currency not in (None, this):
                raise invalid("All line items must use the same currency", param=f"{param}[price_data][currency]")
            currency = this
            unit = as_int(required(data, "unit_amount"), f"{param}[price_data][unit_amount]")
            if unit < 0:
                raise invalid("Invalid non-negative integer", param=f"{param}[price_data][unit_amount]")
            product = check_keys(data.get("product_data"), {"name", "description", "images", "metadata"},
                                 f"{param}[price_data][product_data]")
            required(product, "name")
            quantity = as_int(item.get("quantity", 1), f"{param}[quantity]")
            if quantity < 1:
                raise invalid("Invalid positive integer", param=f"{param}[quantity]")
            total += unit * quantity
        self.check_amount(total, currency, "line_items[0][price_data][unit_amount]")
        return currency, total, items

    def _expire_session(self, p: dict, ident: str) -> dict:
        session = self.get("checkout.session", ident)
        self.expire(session, pending=True)
        return self.snapshot(session)

    def expire(self, session: dict, *, pending: bool) -> list[dict]:
        if session["status"] != "open":
            raise invalid(f"Only Checkout Sessions with a status in [\"open\"] can be expired. This session has "
                          f"status \"{session['status']}\".", code="checkout_session_not_open")
        session["status"] = "expired"
        intent = self.objects.get(session["payment_intent"] or "")
        if intent and intent["status"] not in ("succeeded", "processing", "canceled"):
            intent.update(status="canceled", cancellation_reason="abandoned", canceled_at=self.now())
        return [self.event("checkout.session.expired", session, pending=pending)]

    # -- payment intents ----------------------------------------------------------------------
    def new_intent(self, *, amount: int, currency: str, customer: str | None, payment_method: str | None,
                   metadata: dict, description: str | None = None, transfer_group: str | None = None,
                   receipt_email: str | None = None, automatic_payment_methods: dict | None = None,
                   allowed_payment_method_types: list[str] | None = None) -> dict:
        ident = new_id("pi")
        if allowed_payment_method_types:
            automatic, types = None, list(allowed_payment_method_types)
        else:
            # dynamic payment methods are the default since 2023-08-16 ("Enables automatic payment methods
            # by default for PaymentIntents and SetupIntents",
            # https://docs.stripe.com/changelog/2023-08-16/automatic-payment-methods)
            automatic = {"enabled": True, "allow_redirects": "always", **(automatic_payment_methods or {})}
            types = ["card", "sepa_debit"] if currency == "eur" else ["card"]
        return self.store({
            "id": ident, "object": "payment_intent", "amount": amount, "amount_received": 0,
            "currency": currency, "customer": customer, "payment_method": payment_method,
            "status": "requires_confirmation" if payment_method else "requires_payment_method",
            "metadata": metadata, "description": description, "created": self.now(), "latest_charge": None,
            "last_payment_error": None, "next_action": None, "transfer_group": transfer_group,
            "receipt_email": receipt_email, "capture_method": "automatic", "confirmation_method": "automatic",
            "client_secret": f"{ident}_secret_{secrets.token_hex(12)}", "livemode": False,
            "automatic_payment_methods": automatic, "payment_method_types": types,
            "cancellation_reason": None, "canceled_at": None,
        })

    def _create_intent(self, p: dict) -> dict:
        amount = as_int(required(p, "amount"), "amount")
        if amount < 1:
            raise invalid("Invalid positive integer", param="amount")
        currency = currency_of(required(p, "currency"))
        self.check_amount(amount, currency, "amount")
        customer = p.get("customer")
        if customer:
            self.get("customer", customer, "customer")
        method = p.get("payment_method")
        if method:
            self._usable_method(method, customer)
        off_session = self._off_session(p)
        confirm = as_bool(p.get("confirm"), "confirm")
        for name in ("off_session", "return_url", "error_on_requires_action", "mandate_data"):
            # PaymentIntentCreateParams: "This parameter can only be used with `confirm=true`."
            if name in p and not confirm:
                raise invalid(f"{name} can only be used when confirm=true.", param=name)
        automatic = p.get("automatic_payment_methods")
        if automatic is not None:
            automatic = {"enabled": as_bool(automatic["enabled"], "automatic_payment_methods[enabled]"),
                         "allow_redirects": automatic.get("allow_redirects") or "always"}
        allowed = p.get("allowed_payment_method_types")
        if confirm:  # refused before anything is created
            effective = None if allowed else {"enabled": True, "allow_redirects": "always", **(automatic or {})}
            self.check_confirmable({"automatic_payment_methods": effective}, p, off_session)
        intent = self.new_intent(amount=amount, currency=currency, customer=customer, payment_method=method,
                                 metadata=check_metadata(p.get("metadata")), description=p.get("description"),
                                 transfer_group=p.get("transfer_group"), receipt_email=p.get("receipt_email"),
                                 automatic_payment_methods=automatic, allowed_payment_method_types=allowed)
        self.event("payment_intent.created", intent, pending=True)
        if confirm:
            self.confirm(intent, off_session=off_session)
        return self.snapshot(intent, p.get("expand"))

    def check_confirmable(self, intent: dict, p: dict, off_session: bool) -> None:
        """The 2023-08-16 rules for confirming with automatic payment methods, still in force on endive.

        https://docs.stripe.com/changelog/2023-08-16/automatic-payment-methods: "When confirming a
        PaymentIntent, you're now required to provide a `return_url`, unless `off_session=true`."; "you
        can't use `error_on_requires_action`"; "You can bypass the `return_url` requirement using
        `automatic_payment_methods[allow_redirects]=never`". The message is the one the API answers.
        """
        automatic = intent.get("automatic_payment_methods") or {}
        if not automatic.get("enabled"):
            return
        if "error_on_requires_action" in p:
            raise invalid("You cannot use `error_on_requires_action` when confirming a PaymentIntent that uses "
                          "automatic payment methods.", param="error_on_requires_action")
        if automatic.get("allow_redirects") != "never" and not off_session and not p.get("return_url"):
            raise invalid("A `return_url` must be specified because this Payment Intent is configured to "
                          "automatically accept the payment methods enabled in the Dashboard, some of which may "
                          "require a full page redirect to succeed. If you do not want to accept redirect-based "
                          "payment methods, set `automatic_payment_methods[enabled]` to `true` and "
                          "`automatic_payment_methods[allow_redirects]` to `never` when creating Setup Intents "
                          "and Payment Intents.", param="return_url", code="parameter_missing")

    def _off_session(self, p: dict) -> bool:
        value = p.get("off_session")
        return value in ("one_off", "recurring") or as_bool(value, "off_session")

    def _usable_method(self, method_id: str, customer: str | None) -> dict:
        method = self.get("payment_method", method_id, "payment_method")
        if self._private.get(method_id, {}).get("detached"):
            raise invalid(f"The PaymentMethod {method_id} was previously detached from a Customer. It may not be "
                          "used again.", param="payment_method", code="payment_method_unexpected_state")
        if method["customer"] and method["customer"] != customer:
            raise invalid(f"The provided PaymentMethod {method_id} belongs to another Customer; pass its customer.",
                          param="payment_method")
        return method

    def confirm(self, intent: dict, *, off_session: bool) -> dict:
        """Try to charge the intent's payment method; a refused card answers 402 as Stripe does."""
        if intent["status"] not in ("requires_payment_method", "requires_confirmation", "requires_action"):
            raise invalid(f"This PaymentIntent's status is {intent['status']}; it cannot be confirmed.",
                          code="payment_intent_unexpected_state")
        if not intent["payment_method"]:
            raise invalid("You cannot confirm this PaymentIntent because it's missing a payment method.",
                          code="payment_intent_unexpected_state")
        method = self.objects[intent["payment_method"]]
        if method["type"] in BANK_DEBITS:
            # a bank debit is submitted and waits for the bank: the charge is pending, the intent
            # processing, until finish_async_payment() (https://docs.stripe.com/payments/sepa-debit)
            charge = self.new_charge(intent, "pending")
            intent.update(status="processing", last_payment_error=None, next_action=None,
                          latest_charge=charge["id"])
            self.event("charge.pending", charge, pending=True)
            self.event("payment_intent.processing", intent, pending=True)
            return intent
        failure = self.card_failures.get(method["id"])
        if failure is None:
            charge = self.charge_succeeded(intent)
            self.event("charge.succeeded", charge, pending=True)
            self.event("payment_intent.succeeded", intent, pending=True)
            return intent
        code, decline_code, message = failure
        if code == "authentication_required" and not off_session:
            intent.update(status="requires_action", next_action={"type": "use_stripe_sdk", "use_stripe_sdk": {}})
            self.event("payment_intent.requires_action", intent, pending=True)
            return intent
        error = {"type": "card_error", "code": code, "message": message, "payment_method": self.snapshot(method),
                 "doc_url": f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"}
        if decline_code:
            error["decline_code"] = decline_code
        intent.update(status="requires_payment_method", last_payment_error=error, next_action=None)
        self.event("payment_intent.payment_failed", intent, pending=True)
        extra = {"decline_code": decline_code} if decline_code else {}
        raise ApiError(402, message, type="card_error", code=code, payment_intent=self.snapshot(intent),
                       payment_method=self.snapshot(method), doc_url=error["doc_url"], **extra)

    def _confirm_intent(self, p: dict, ident: str) -> dict:
        intent = self.get("payment_intent", ident)
        self.check_confirmable(intent, p, self._off_session(p))
        if p.get("payment_method"):
            self._usable_method(p["payment_method"], intent["customer"])
            intent["payment_method"] = p["payment_method"]
        self.confirm(intent, off_session=self._off_session(p))
        return self.snapshot(intent)

    def _update_intent(self, p: dict, ident: str) -> dict:
        intent = self.get("payment_intent", ident)
        if "metadata" in p:
            check_metadata(p["metadata"])
            for key, value in (p["metadata"] or {}).items():  # an empty value removes the key
                if value == "":
                    intent["metadata"].pop(key, None)
                else:
                    intent["metadata"][key] = value
        if "description" in p:
            intent["description"] = p["description"] or None
        return self.snapshot(intent)

    def _cancel_intent(self, p: dict, ident: str) -> dict:
        intent = self.get("payment_intent", ident)
        if intent["status"] in ("succeeded", "processing", "canceled"):
            raise invalid(f"You cannot cancel this PaymentIntent because it has a status of {intent['status']}.",
                          code="payment_intent_unexpected_state")
        intent.update(status="canceled", cancellation_reason=p.get("cancellation_reason"), canceled_at=self.now())
        self.event("payment_intent.canceled", intent, pending=True)
        return self.snapshot(intent)

    def _list_intents(self, p: dict) -> dict:
        return self.page(self.of_kind("payment_intent"), p, "/v1/payment_intents")

    # -- payment methods, refunds, balance ----------------------------------------------------
    def _detach_payment_method(self, p: dict, ident: str) -> dict:
        method = self.get("payment_method", ident)
        if not method["customer"]:
            raise invalid("The payment method you provided is not attached to a customer so detachment is "
                          "impossible.", code="payment_method_unexpected_state")
        method["customer"] = None
        self._private.setdefault(ident, {})["detached"] = True
        self.event("payment_method.detached", method, pending=True)
        return self.snapshot(method)

    def _create_refund(self, p: dict) -> dict:
        if p.get("charge"):
            charge = self.get("charge", p["charge"], "charge")
        elif p.get("payment_intent"):
            intent = self.get("payment_intent", p["payment_intent"], "payment_intent")
            charge = self.objects.get(intent["latest_charge"] or "")
            if charge is None or intent["status"] != "succeeded":
                raise invalid(f"This PaymentIntent ({intent['id']}) does not have a successful charge to refund.",
                              param="payment_intent")
        else:
            raise invalid("One of the following params should be provided for this request: payment_intent or "
                          "charge.", code="parameter_missing")
        dispute = self.open_dispute_of(charge["id"])
        if dispute is not None and not dispute["is_charge_refundable"]:
            raise invalid(f"Charge {charge['id']} has been charged back; cannot issue a refund.",
                          code="charge_disputed")
        reason = p.get("reason")
        if reason not in (None, "duplicate", "fraudulent", "requested_by_customer"):
            raise invalid(f"Invalid reason: {reason}", param="reason")
        amount = as_int(p["amount"], "amount") if "amount" in p else None
        refund, _ = self.charge_refunded(charge, amount, reason=reason, metadata=check_metadata(p.get("metadata")))
        return self.snapshot(refund, p.get("expand"))

    def _list_balance_transactions(self, p: dict) -> dict:
        items = list(self.balance_transactions)
        if p.get("payout"):
            # "For automatic Stripe payouts only, only returns transactions that were paid out on the
            # specified payout ID." (BalanceTransactionListParams.payout)
            payout = self.get("payout", p["payout"], "payout")
            covered = set(self._private.get(payout["id"], {}).get("transactions") or [])
            if not payout["automatic"]:  # the docs do not say what a manual payout answers; the fake refuses
                raise invalid("The payout parameter is only supported for automatic payouts.", param="payout")
            items = [t for t in items if t["id"] in covered]
        return self.page(items, p, "/v1/balance_transactions")
