"""Processor events: signed (signatures), applied once each in one transaction (endpoint), by type (handlers)."""
from __future__ import annotations

from webapp.payments.webhooks.endpoint import receive
from webapp.payments.webhooks.signatures import BadSignature, sign, verify

__all__ = ["BadSignature", "receive", "sign", "verify"]
