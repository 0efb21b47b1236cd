"""The Stripe implementation of the payment provider: the only module that imports `stripe`."""
from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

import stripe
from flask_babel import gettext as _

from webapp.errors import InvalidMoney, ProviderError
from webapp.money import Money
from webapp.payments.currencies import processor_amount
from webapp.payments.providers.base import ChargeResult, CheckoutRequest, CheckoutSession, PaymentAttempt, Settlement

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Locales Stripe Checkout can display; anything else lets Checkout follow the browser ("auto").
CHECKOUT_LOCALES = frozenset({
    "bg", "cs", "da", "de", "el", "en", "en-GB", "es", "es-419", "et", "fi", "fil", "fr", "fr-CA", "hi-IN", "hr",
    "hu", "id", "it", "ja", "ko", "lt", "lv", "ms", "mt", "nb", "nl", "pl", "pt", "pt-BR", "ro", "ru", "sk", "sl",
    "sv", "th", "tr", "vi", "zh", "zh-HK", "zh-TW",
})

#: Our locales whose name means another variety in Checkout: our "pt" catalog is Brazilian Portuguese, while
#: Checkout's "pt" is Portugal's (its "pt-BR" is Brazil's), as its "es" is Spain's and its "fr" France's.
CHECKOUT_LOCALE_FOR = {"pt": "pt-BR"}

#: Checkout shows at most this many characters above the submit button.
MAX_SUBMIT_MESSAGE = 1200


class StripeProvider:
    """Stripe Checkout for pledges, PaymentIntents for off-session charges, refunds and balance history.

    Every call that moves money or creates an object carries the caller's idempotency key, so a
    retry (ours, or the library's own after a lost response) never creates a second charge.
    Stripe's exceptions never leave this class: they become `ProviderError` with a safe message.
    """

    name = "stripe"

    def __init__(self, api_key: str, api_base: str = stripe.DEFAULT_API_BASE, *, max_network_retries: int = 2,
                 key_prefix: Callable[[], str] | None = None, rate_limit_retries: int = 4,
                 rate_limit_backoff: float = 0.5, rate_limit_backoff_cap: float = 8.0,
                 sleep: Callable[[float], None] = time.sleep):
        if not api_key:
            raise RuntimeError("STRIPE_SECRET_KEY is not set: the stripe payment provider cannot start")
        self.api_base = api_base.rstrip("/")
        # The library retries connection errors, 409s, 5xx and the 429s Stripe marks Stripe-Should-Retry
        # (lock timeouts), each with the same idempotency key; a plain 429 (rate_limit) it raises at
        # once, and _rate_limited retries it here, with backoff.
        self.client = stripe.StripeClient(
            api_key, base_addresses={"api": self.api_base}, max_network_retries=max_network_retries
        )
        #: the installation's prefix (webapp.payments.installation), read at each call that carries a key
        self.key_prefix = key_prefix
        self.rate_limit_retries = rate_limit_retries
        self.rate_limit_backoff, self.rate_limit_backoff_cap = rate_limit_backoff, rate_limit_backoff_cap
        self.sleep = sleep

    @classmethod
    def from_config(cls, config: Mapping[str, Any], key_prefix: Callable[[], str] | None = None) -> StripeProvider:
        return cls(config.get("STRIPE_SECRET_KEY", ""), config.get("STRIPE_API_BASE") or stripe.DEFAULT_API_BASE,
                   max_network_retries=int(config.get("STRIPE_MAX_NETWORK_RETRIES", 2)), key_prefix=key_prefix,
                   rate_limit_retries=int(config.get("STRIPE_RATE_LIMIT_RETRIES", 4)),
                   rate_limit_backoff=float(config.get("STRIPE_RATE_LIMIT_BACKOFF_SECONDS", 0.5)),
                   rate_limit_backoff_cap=float(config.get("STRIPE_RATE_LIMIT_BACKOFF_CAP_SECONDS", 8.0)))

    def _key(self, key: str) -> str:
        """Our key, behind this installation's prefix (Stripe keys are at most 255 characters)."""
        prefix = self.key_prefix() if self.key_prefix else ""
        return f"{prefix}-{key}"[:255] if prefix else key

    def _rate_limited(self, request: Callable[[], T]) -> T:
        """Run `request`; a 429 is retried after an exponential, fully jittered, bounded pause.

        Every request we retry is a read or carries its idempotency key, so a retry never does
        anything twice. After the last retry the RateLimitError goes up (a retryable ProviderError):
        it is never a decline, and the caller counts no attempt for it.
        """
        for retry in range(self.rate_limit_retries + 1):
            try:
                return request()
            except stripe.RateLimitError:
                if retry == self.rate_limit_retries:
                    raise
                ceiling = min(self.rate_limit_backoff_cap, self.rate_limit_backoff * 2 ** retry)
                pause = random.uniform(0, ceiling)  # "full jitter": workers that collided spread out
                log.info("Stripe rate limit: retry %d in %.2f s", retry + 1, pause)
                self.sleep(pause)
        raise AssertionError("unreachable")

    # -- hosted checkout ----------------------------------------------------------------------
    def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        if request.mode not in ("payment", "setup"):
            raise ValueError(f"unknown checkout mode {request.mode!r}")
        try:
            amount = processor_amount(request.charge)  # refuse before calling anyone
        except ValueError as exc:
            raise InvalidMoney(str(exc)) from None
        metadata = {**request.metadata, "pledge_id": str(request.pledge_id)}
        params: dict[str, Any] = {
            "mode": request.mode,
            "client_reference_id": request.reference,
            "metadata": metadata,
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "expires_at": _unix(request.expires_at),
            "locale": checkout_locale(request.locale),
        }
        customer_id = request.customer_id
        if request.mode == "payment":
            if customer_id:  # completing a pledge: the backer's saved customer, so the card can be reused
                params["customer"] = customer_id
            else:
                params["customer_email"] = request.email
            params["line_items"] = [{
                "price_data": {
                    "currency": request.charge.currency.lower(),
                    "unit_amount": amount,
                    "product_data": {"name": request.description},
                },
                "quantity": 1,
            }]
            params["payment_intent_data"] = {"metadata": metadata, "description": request.description}
            if request.save_for_off_session:
                # Checkout attaches the method to the customer and authenticates it for later charges
                # without the supporter (https://docs.stripe.com/payments/checkout/save-during-payment)
                params["payment_intent_data"]["setup_future_usage"] = "off_session"
        else:
            # A saved method needs a customer to belong to, so off-session charges can use it later.
            if not customer_id:  # a guest: a customer for this pledge
                customer_id = self.create_customer(request.email, metadata, f"{request.idempotency_key}-customer")
            params["customer"] = customer_id
            params["currency"] = request.charge.currency.lower()
            params["setup_intent_data"] = {"metadata": metadata, "description": request.description}
            if request.terms:
                params["custom_text"] = {"submit": {"message": request.terms[:MAX_SUBMIT_MESSAGE]}}
        with _stripe_errors("create a checkout session"):
            session = self._rate_limited(lambda: self.client.v1.checkout.sessions.create(
                params=params, options={"idempotency_key": self._key(request.idempotency_key)}
            ))
        return CheckoutSession(id=session.id, url=session.url, customer_id=customer_id)

    def expire_checkout(self, session_id: str) -> str | None:
        """Close an open checkout so nobody can pay on it; one that already ended is left alone.

        Returns the session's status: "expired", or "complete" when it was paid (or saved) first.
        """
        try:
            return self._rate_limited(lambda: self.client.v1.checkout.sessions.expire(session_id)).status
        except stripe.InvalidRequestError as exc:
            status = self._session_status(session_id)
            if status in ("expired", "complete"):
                log.info("checkout session %s was already %s; not expiring it", session_id, status)
                return status
            _raise_provider_error("expire a checkout session", exc)
        except stripe.StripeError as exc:
            _raise_provider_error("expire a checkout session", exc)

    def _session_status(self, session_id: str) -> str | None:
        try:
            return self._rate_limited(lambda: self.client.v1.checkout.sessions.retrieve(session_id)).status
        except stripe.StripeError:
            return None

    def settlement(self, payment_intent_id: str) -> Settlement | None:
        """The net and fee of the intent's charge, once Stripe has booked it to the balance."""
        with _stripe_errors("read a payment's settlement"):
            intent = self._rate_limited(lambda: self.client.v1.payment_intents.retrieve(
                payment_intent_id, params={"expand": ["latest_charge.balance_transaction"]}
            )).to_dict()
        charge = intent.get("latest_charge")
        if not isinstance(charge, dict) or charge.get("status") != "succeeded":
            return None
        txn = charge.get("balance_transaction")
        if not isinstance(txn, dict):
            return None  # Stripe books it a moment after the charge succeeds
        currency = txn["currency"].upper()
        return Settlement(amount=Money(txn["net"], currency), fee=Money(txn["fee"], currency), charge_id=charge["id"])

    # -- money out (closing campaigns, refunds, reconciliation) -------------------------------
    def charge_off_session(self, customer_id: str, payment_method_id: str, charge: Money, idempotency_key: str,
                           metadata: Mapping[str, str], *, description: str | None = None,
                           transfer_group: str | None = None) -> ChargeResult:
        """Charge a saved method while the backer is away; refusals are results, not exceptions."""
        try:
            amount = processor_amount(charge)
        except ValueError as exc:
            raise InvalidMoney(str(exc)) from None
        params: dict[str, Any] = {
            "amount": amount,
            "currency": charge.currency.lower(),
            "customer": customer_id,
            "payment_method": payment_method_id,
            "off_session": True,
            "confirm": True,
            "metadata": dict(metadata),
        }
        if description:
            params["description"] = description
        if transfer_group:
            params["transfer_group"] = transfer_group
        try:
            intent = self._rate_limited(lambda: self.client.v1.payment_intents.create(
                params=params, options={"idempotency_key": self._key(idempotency_key)}
            )).to_dict()
        except stripe.CardError as exc:
            error = (exc.json_body or {}).get("error", {}) if isinstance(exc.json_body, dict) else {}
            pi = error.get("payment_intent") or {}
            status = "requires_action" if exc.code == "authentication_required" else "failed"
            log.info("off-session charge %s refused: %s (%s)", idempotency_key, exc.code, error.get("decline_code"))
            return ChargeResult(status, pi.get("id"), exc.code, exc.user_message)
        except stripe.StripeError as exc:
            _raise_provider_error("charge a saved payment method", exc)
        return _charge_result(intent)

    def payment_attempts(self, customer_id: str, pledge_id: int, created_since: datetime) -> list[PaymentAttempt]:
        """The customer's PaymentIntents for this pledge (metadata pledge_id), newest first.

        A list filtered by customer and creation time (GET /v1/payment_intents, which is consistent
        at once, unlike the search API's index); a member's other pledges are skipped here.
        """
        params: dict[str, Any] = {"customer": customer_id, "limit": 100,
                                  "created": {"gte": _unix(created_since, ceil=False) - 60}}
        with _stripe_errors("read the earlier payments of a pledge"):
            page = self._rate_limited(lambda: self.client.v1.payment_intents.list(params=params))
            intents = [intent.to_dict() for intent in page.auto_paging_iter()]
        return [_attempt(intent) for intent in intents
                if str((intent.get("metadata") or {}).get("pledge_id", "")) == str(pledge_id)]

    def attempts_with(self, customer_id: str, metadata: Mapping[str, str], created_since: datetime) -> list[PaymentAttempt]:
        """The customer's PaymentIntents since then whose metadata carries all of `metadata`, newest first."""
        params: dict[str, Any] = {"customer": customer_id, "limit": 100,
                                  "created": {"gte": _unix(created_since, ceil=False) - 60}}
        with _stripe_errors("read the earlier payments of a recurring gift"):
            page = self._rate_limited(lambda: self.client.v1.payment_intents.list(params=params))
            intents = [intent.to_dict() for intent in page.auto_paging_iter()]
        wanted = {key: str(value) for key, value in metadata.items()}
        return [_attempt(intent) for intent in intents
                if all(str((intent.get("metadata") or {}).get(k, "")) == v for k, v in wanted.items())]

    def payment_attempt(self, payment_intent_id: str) -> PaymentAttempt | None:
        try:
            intent = self._rate_limited(lambda: self.client.v1.payment_intents.retrieve(payment_intent_id))
        except stripe.InvalidRequestError as exc:
            if exc.http_status == 404:
                return None
            _raise_provider_error("read a payment", exc)
        except stripe.StripeError as exc:
            _raise_provider_error("read a payment", exc)
        return _attempt(intent.to_dict())

    def create_customer(self, email: str, metadata: Mapping[str, str], idempotency_key: str) -> str:
        with _stripe_errors("create a customer"):
            customer = self._rate_limited(lambda: self.client.v1.customers.create(
                params={"email": email, "metadata": dict(metadata)},
                options={"idempotency_key": self._key(idempotency_key)}))
        return customer.id

    def refund(self, payment_intent_id: str, amount: Money | None, idempotency_key: str,
               metadata: Mapping[str, str], *, reason: str | None = None) -> str:
        """Ask for a refund (all that remains when `amount` is None); returns the refund's id.

        The refund is final only when Stripe confirms it (`charge.refunded`, `refund.updated`).
        """
        params: dict[str, Any] = {"payment_intent": payment_intent_id, "metadata": dict(metadata)}
        if amount is not None:
            try:
                params["amount"] = processor_amount(amount)
            except ValueError as exc:
                raise InvalidMoney(str(exc)) from None
        if reason in ("duplicate", "fraudulent", "requested_by_customer"):
            params["reason"] = reason
        with _stripe_errors("refund a payment"):
            refund = self._rate_limited(lambda: self.client.v1.refunds.create(
                params=params, options={"idempotency_key": self._key(idempotency_key)}))
        return refund.id

    def detach_payment_method(self, payment_method_id: str) -> None:
        """Forget a saved method (a failed campaign releases its backers); an already detached one is fine."""
        try:
            self._rate_limited(lambda: self.client.v1.payment_methods.detach(payment_method_id))
        except stripe.InvalidRequestError as exc:
            if self._is_detached(payment_method_id):
                log.info("payment method %s was already detached", payment_method_id)
                return
            _raise_provider_error("release a saved payment method", exc)
        except stripe.StripeError as exc:
            _raise_provider_error("release a saved payment method", exc)

    def method_label(self, payment_method_id: str) -> tuple[str | None, str | None]:
        """GET /v1/payment_methods/{id}: a card's `card.brand` and `card.last4` (docs.stripe.com/api/payment_methods/object;
        last4 may be absent for some American Express cards); a bank debit's type and its `last4`."""
        try:
            method = self._rate_limited(lambda: self.client.v1.payment_methods.retrieve(payment_method_id))
        except stripe.StripeError as exc:
            log.warning("payment method %s: no label (%s)", payment_method_id, exc)
            return None, None
        kind = getattr(method, "type", None)
        details = getattr(method, kind, None) if isinstance(kind, str) else None
        if details is None:
            return None, None
        brand = getattr(details, "brand", None) if kind == "card" else kind
        last4 = getattr(details, "last4", None)
        return (str(brand)[:30] if brand else None), (str(last4)[-4:] if last4 else None)

    def _is_detached(self, payment_method_id: str) -> bool:
        try:
            return self._rate_limited(lambda: self.client.v1.payment_methods.retrieve(payment_method_id)).customer is None
        except stripe.StripeError:
            return False

    # -- Connect: organizations' accounts and transfers -----------------------------------------
    def create_connected_account(self, email: str, country: str, idempotency_key: str, *,
                                 service_agreement: str = "recipient") -> str:
        """An Express account, its country explicit, on the given agreement, asking only for `transfers`.

        https://docs.stripe.com/connect/service-agreement-types: "Cross-border payouts only work with
        accounts under the recipient service agreement. You must explicitly pass in the country code if it
        differs from the platform country"; a recipient account "can't process payments or request the
        card_payments capability", which our organizations never need (the platform charges).
        """
        with _stripe_errors("create the organization's payout account"):
            account = self._rate_limited(lambda: self.client.v1.accounts.create(
                params={"type": "express", "email": email, "country": country,
                        "capabilities": {"transfers": {"requested": True}},
                        "tos_acceptance": {"service_agreement": service_agreement}},
                options={"idempotency_key": self._key(idempotency_key)}))
        return account.id

    def create_account_link(self, account_id: str, refresh_url: str, return_url: str) -> str:
        with _stripe_errors("open the payout account's onboarding"):
            link = self._rate_limited(lambda: self.client.v1.account_links.create(params={
                "account": account_id, "refresh_url": refresh_url, "return_url": return_url,
                "type": "account_onboarding"}))
        return link.url

    def create_transfer(self, amount: Money, destination: str, transfer_group: str, idempotency_key: str,
                        metadata: Mapping[str, str], *, source_transaction: str | None = None) -> str:
        """Separate charges and transfers: a charge's money moves to the organization's account.

        With `source_transaction` (the charge) the transfer "executes when that charge's funds become
        available" and cannot exceed it (https://docs.stripe.com/connect/separate-charges-and-transfers,
        "Transfer availability"); its currency is the balance's, the settlement currency.
        """
        try:
            value = processor_amount(amount)
        except ValueError as exc:
            raise InvalidMoney(str(exc)) from None
        params: dict[str, Any] = {"amount": value, "currency": amount.currency.lower(), "destination": destination,
                                  "transfer_group": transfer_group, "metadata": dict(metadata)}
        if source_transaction:
            params["source_transaction"] = source_transaction
        with _stripe_errors("transfer the money to the organization"):
            transfer = self._rate_limited(lambda: self.client.v1.transfers.create(
                params=params, options={"idempotency_key": self._key(idempotency_key)}))
        return transfer.id

    def reverse_transfer(self, transfer_id: str, amount: Money, idempotency_key: str,
                         metadata: Mapping[str, str]) -> str:
        """POST /v1/transfers/{id}/reversals: part of a transfer comes back from the connected account."""
        try:
            value = processor_amount(amount)
        except ValueError as exc:
            raise InvalidMoney(str(exc)) from None
        with _stripe_errors("take money back from the organization's account"):
            reversal = self._rate_limited(lambda: self.client.v1.transfers.reversals.create(
                transfer_id, params={"amount": value, "metadata": dict(metadata)},
                options={"idempotency_key": self._key(idempotency_key)}))
        return reversal.id

    def list_balance_transactions(self, created_gte: datetime | int, created_lt: datetime | int, *,
                                  expand_sources: bool = False) -> list[dict]:
        """Every balance transaction created in [created_gte, created_lt), as plain dicts, all pages.

        With `expand_sources`, each one's `source` is the charge, refund or dispute object itself
        (with its payment intent and metadata), which reconciliation needs to find the pledge.
        """
        params: dict[str, Any] = {"created": {"gte": _unix(created_gte, ceil=False),
                                              "lt": _unix(created_lt, ceil=False)}, "limit": 100}
        if expand_sources:
            params["expand"] = ["data.source"]
        with _stripe_errors("read the balance history"):
            page = self._rate_limited(lambda: self.client.v1.balance_transactions.list(params=params))
            return [txn.to_dict() for txn in page.auto_paging_iter()]


def checkout_locale(locale: str | None) -> str:
    """Stripe's name for our locale, or "auto" (the browser's language) when Checkout lacks it."""
    if not locale:
        return "auto"
    tag = locale.replace("_", "-")
    tag = CHECKOUT_LOCALE_FOR.get(tag, tag)
    if tag in CHECKOUT_LOCALES:
        return tag
    language = tag.split("-")[0].lower()
    return language if language in CHECKOUT_LOCALES else "auto"


def _charge_result(intent: dict) -> ChargeResult:
    status = intent.get("status")
    error = intent.get("last_payment_error") or {}
    if status == "succeeded":
        return ChargeResult("succeeded", intent["id"])
    if status == "processing":
        return ChargeResult("processing", intent["id"])
    if status == "requires_action":
        return ChargeResult("requires_action", intent["id"], error.get("code") or "authentication_required",
                            error.get("message"))
    return ChargeResult("failed", intent["id"], error.get("code") or status, error.get("message"))


def _attempt(intent: dict) -> PaymentAttempt:
    error = intent.get("last_payment_error") or {}
    attempt = str((intent.get("metadata") or {}).get("charge_attempt", ""))
    return PaymentAttempt(payment_intent_id=intent["id"], status=intent.get("status") or "",
                          attempt=int(attempt) if attempt.isdigit() else None, created=int(intent.get("created") or 0),
                          failure_code=error.get("code"), failure_message=error.get("message"))


def _unix(moment: datetime | int, *, ceil: bool = True) -> int:
    """Seconds since the epoch; naive datetimes are UTC, as everywhere in the application.

    Checkout refuses an `expires_at` under 30 minutes away, so it is rounded up, never down.
    """
    if isinstance(moment, int):
        return moment
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = moment.timestamp()
    return math.ceil(seconds) if ceil else math.floor(seconds)


@contextmanager
def _stripe_errors(action: str) -> Iterator[None]:
    try:
        yield
    except stripe.StripeError as exc:
        _raise_provider_error(action, exc)


def _raise_provider_error(action: str, exc: stripe.StripeError):
    """Log what Stripe said and raise a `ProviderError` whose message may be shown to anyone."""
    code = getattr(exc, "code", None)
    detail = f"Stripe refused to {action}: {type(exc).__name__} {exc.http_status} {code}: {exc.user_message}"
    if isinstance(exc, (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)):
        log.warning("%s (request %s)", detail, exc.request_id)
        message = _("The payment service is not answering at the moment. Please try again in a few minutes.")
        raise ProviderError(message, code=code or "unavailable", retryable=True) from None
    if isinstance(exc, (stripe.AuthenticationError, stripe.PermissionError)):
        log.error("%s (request %s): check STRIPE_SECRET_KEY", detail, exc.request_id)
        code = code or "configuration"
    elif isinstance(exc, stripe.IdempotencyError):
        log.error("%s (request %s): an idempotency key was reused with other parameters", detail, exc.request_id)
        code = "idempotency_error"
    else:
        log.error("%s (request %s)", detail, exc.request_id)
    if isinstance(exc, stripe.CardError):
        message = _("Your card was declined. Nothing was charged.")
    else:
        message = _("The payment service could not handle this request. Please try again later or contact us.")
    raise ProviderError(message, code=code, retryable=False) from None
