"""Webhook signatures, Stripe's scheme: HMAC-SHA256 over "{timestamp}.{payload}"."""
from __future__ import annotations

import hashlib
import hmac
import time


class BadSignature(Exception):
    pass


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(payload: bytes, header: str | None, secret: str, tolerance: int) -> None:
    if not header:
        raise BadSignature("missing Stripe-Signature header")
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    timestamps = [v for k, v in parts if k.strip() == "t"]
    signatures = [v for k, v in parts if k.strip() == "v1"]
    if not timestamps or not signatures:
        raise BadSignature("malformed signature header")
    try:
        timestamp = int(timestamps[0])
    except ValueError:
        raise BadSignature("malformed timestamp") from None
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, s.strip()) for s in signatures):
        raise BadSignature("signature does not match")
    if abs(time.time() - timestamp) > tolerance:
        raise BadSignature("signature timestamp is outside the tolerance")
