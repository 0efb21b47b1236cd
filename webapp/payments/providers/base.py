"""The payment-provider interface: what every caller may ask of a processor, and the values it answers with."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

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
    #: the backer's customer at the processor (a member's, or the one a pledge already has): payment mode
    #: charges it (completing a pledge that needed the backer), setup mode saves the method on it
    customer_id: str | None = None
    #: payment mode: also save the method on the customer for off-session charges later (recurring support)
    save_for_off_session: bool = False


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


@dataclass(frozen=True)
class PaymentAttempt:
    """What the processor says now of a payment made for a pledge (an off-session charge or a checkout's)."""

    payment_intent_id: str
    #: Stripe's PaymentIntent status: requires_payment_method, requires_confirmation, requires_action,
    #: processing, requires_capture, succeeded or canceled
    status: str
    #: our attempt number (metadata charge_attempt) for off-session charges; None for a checkout's payment
    attempt: int | None = None
    created: int = 0  #: seconds since the epoch
    failure_code: str | None = None
    failure_message: str | None = None


class PaymentProvider(Protocol):
    """Every method the payments domain calls on a processor; Stripe and the sandbox implement all of them.

    Calls that change money at the processor take an idempotency key, so a retry after a crash asks
    the same question and gets the same answer. Outcomes that the processor confirms later (a
    charge settling, a refund, an account finishing onboarding) arrive as webhook events, never as
    return values, so both providers reach the same handlers.
    """

    #: stored on each pledge (Pledge.provider) and on processed events
    name: str

    # -- hosted checkout ---------------------------------------------------------------------
    def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        """Open the processor's hosted page for a pledge (payment or setup mode)."""
        ...

    def expire_checkout(self, session_id: str) -> str | None:
        """Close a hosted page the backer left, so it cannot be paid any more.

        Returns how the page ended: "expired", or "complete" when the backer paid on it first (None:
        the provider cannot tell).
        """
        ...

    def settlement(self, payment_intent_id: str) -> Settlement | None:
        """The net and fee of a settled charge, in the balance currency; None while unknown."""
        ...

    # -- saved methods, off-session charges, refunds -----------------------------------------
    def charge_off_session(self, customer_id: str, payment_method_id: str, charge: Money, idempotency_key: str,
                           metadata: Mapping[str, str], *, description: str | None = None,
                           transfer_group: str | None = None) -> ChargeResult:
        """Charge a saved method without the backer; a success is also confirmed by payment_intent.succeeded."""
        ...

    def payment_attempts(self, customer_id: str, pledge_id: int, created_since: datetime) -> list[PaymentAttempt]:
        """Every payment the processor holds for this pledge on this customer (newest first): one read.

        The collector asks before every new attempt, so an attempt whose answer was lost (a crash
        between the processor's answer and our commit) is found instead of being made again.
        """
        ...

    def attempts_with(self, customer_id: str, metadata: Mapping[str, str], created_since: datetime) -> list[PaymentAttempt]:
        """Every payment on this customer whose metadata carries all of `metadata` (newest first): one read.

        Recurring support asks it before each renewal, with the support and the period.
        """
        ...

    def payment_attempt(self, payment_intent_id: str) -> PaymentAttempt | None:
        """One payment as the processor has it now; None when it does not know it."""
        ...

    def create_customer(self, email: str, metadata: Mapping[str, str], idempotency_key: str) -> str:
        """A customer at the processor (a member's, reused for all their pledges); returns its id."""
        ...

    def detach_payment_method(self, payment_method_id: str) -> None:
        """Forget a saved method (the campaign failed): it can never be charged again."""
        ...

    def method_label(self, payment_method_id: str) -> tuple[str | None, str | None]:
        """What the payer recognizes a saved method by: (brand or kind, last four digits); (None, None) unknown."""
        return None, None

    def refund(self, payment_intent_id: str, amount: Money | None, idempotency_key: str,
               metadata: Mapping[str, str], *, reason: str | None = None) -> str:
        """Ask for a refund (None: all that remains) in the charged currency; charge.refunded confirms it."""
        ...

    # -- Connect: organizations' accounts and payouts ---------------------------------------
    def create_connected_account(self, email: str, country: str, idempotency_key: str, *,
                                 service_agreement: str = "recipient") -> str:
        """Create an organization's Express account in `country`, on that service agreement, requesting only
        the `transfers` capability; returns its id."""
        ...

    def create_account_link(self, account_id: str, refresh_url: str, return_url: str) -> str:
        """A one-time URL of the processor's onboarding for that account."""
        ...

    def create_transfer(self, amount: Money, destination: str, transfer_group: str, idempotency_key: str,
                        metadata: Mapping[str, str], *, source_transaction: str | None = None) -> str:
        """Move money from the platform's balance to a connected account; returns the transfer id.

        `amount` is in the settlement currency; `source_transaction` ties it to the charge it pays out.
        """
        ...

    def reverse_transfer(self, transfer_id: str, amount: Money, idempotency_key: str,
                         metadata: Mapping[str, str]) -> str:
        """Take `amount` of a transfer back from the connected account; returns the reversal's id
        (transfer.reversed follows)."""
        ...

    # -- reconciliation ----------------------------------------------------------------------
    def list_balance_transactions(self, created_gte: datetime | int, created_lt: datetime | int, *,
                                  expand_sources: bool = False) -> list[dict]:
        """The processor's balance history for a period, shaped like Stripe's balance transactions."""
        ...
