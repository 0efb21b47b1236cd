"""Domain exceptions raised by services and translated by views."""
from __future__ import annotations


class DomainError(Exception):
    """A business rule refused an operation; the message is safe to show."""


class PermissionDenied(DomainError):
    pass


class InvalidTransition(DomainError):
    """A state machine was asked for a move its table does not allow."""

    def __init__(self, entity: str, current: str, target: str):
        self.entity, self.current, self.target = entity, current, target
        super().__init__(f"{entity} cannot go from {current} to {target}")


class FrozenField(DomainError):
    """A field that may not change once a campaign is live."""


class InvalidMoney(DomainError, ValueError):
    pass


class UnsupportedCurrency(InvalidMoney):
    pass


class InvalidUpload(DomainError):
    pass


class TokenInvalid(DomainError):
    pass


class DuplicateSlug(DomainError):
    pass


class ProviderError(DomainError):
    """The payment processor refused or failed a call; the message is safe to show, the detail is logged.

    `retryable` says whether the same call (with the same idempotency key) may succeed later:
    true for timeouts, rate limits and the processor's own errors, false for refusals.
    """

    def __init__(self, message: str, *, code: str | None = None, retryable: bool = False):
        self.code = code  #: the processor's error code, e.g. "card_declined", "idempotency_error"
        self.retryable = retryable
        super().__init__(message)
