"""The payment-provider interface that the Stripe and sandbox implementations share."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from flask import current_app

from webapp.money import Money


@dataclass(frozen=True)
class CheckoutRequest:
    """What we ask the processor for one pledge's hosted checkout."""

    pledge_id: int
    reference: str
    mode: str  #: "payment" (charge now) or "setup" (save the payment method)
    charge: Money  #: amount and currency to charge, or to save a method for
    email: str
    description: str  #: line shown on the hosted page
    terms: str | None  #: text shown above the button in setup mode
    locale: str
    success_url: str
    cancel_url: str
    expires_at: datetime
    idempotency_key: str
    metadata: dict[str, str] = field(default_factory=dict)
    #: charge a known customer on-session (completing a pledge that needed the backer)
    customer_id: str | None = None


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str
    customer_id: str | None = None


@dataclass(frozen=True)
class Settlement:
    """What the processor reports once a charge settles: the net, the fee, in its balance currency."""

    amount: Money
    fee: Money
    charge_id: str | None


@dataclass(frozen=True)
class ChargeResult:
    """The outcome of charging a saved payment method without the backer present."""

    status: str  #: "succeeded", "processing" (bank debits), "requires_action" (the backer must authenticate) or "failed"
    payment_intent_id: str | None
    failure_code: str | None = None  #: the processor's code, e.g. "authentication_required", "card_declined"
    failure_message: str | None = None  #: the processor's explanation, for logs and the organizer


class PaymentProvider(Protocol):
    name: str

    def create_checkout(self, request: CheckoutRequest) -> CheckoutSession: ...

    def expire_checkout(self, session_id: str) -> None: ...

    def settlement(self, payment_intent_id: str) -> Settlement | None: ...


def get_provider() -> PaymentProvider:
    provider = current_app.extensions.get("harambee.payment_provider")
    if provider is None:
        name = current_app.config["PAYMENT_PROVIDER"]
        if name == "stripe":
            from webapp.payments.stripe_provider import StripeProvider

            provider = StripeProvider.from_config(current_app.config)
        elif name == "sandbox":
            from webapp.payments.sandbox import SandboxProvider

            provider = SandboxProvider()
        else:
            raise RuntimeError(f"Unknown PAYMENT_PROVIDER {name!r}: use stripe or sandbox")
        current_app.extensions["harambee.payment_provider"] = provider
    return provider
