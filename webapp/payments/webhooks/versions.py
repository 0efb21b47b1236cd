"""The API version of events: they follow the webhook endpoint's version, not the library's.

Stripe renders each event in the API version of the endpoint it is delivered to (the account's
default when the endpoint has none; https://docs.stripe.com/webhooks/versioning). The handlers read
the objects as STRIPE_API_VERSION (the stripe library's pinned version) shapes them, so an event in
another version is refused before anything is recorded: logged at ERROR, answered 400, and Stripe
retries it (for up to three days) until the endpoint is on the expected version. Nothing is ever
half-applied. STRIPE_EXTRA_EVENT_API_VERSIONS may name versions also accepted during an upgrade,
once the handlers have been checked against them.
"""
from __future__ import annotations

import logging

from flask import current_app

log = logging.getLogger(__name__)


def accepted_versions() -> set[str]:
    cfg = current_app.config
    return {cfg["STRIPE_API_VERSION"], *cfg.get("STRIPE_EXTRA_EVENT_API_VERSIONS", ())}


def refusal(event: dict) -> str | None:
    """Why the event cannot be applied (its api_version is not one we read), or None."""
    version = event.get("api_version")
    if version is None:  # the sandbox's events, and Stripe's own test fixtures, carry none
        return None
    if version in accepted_versions():
        return None
    expected = current_app.config["STRIPE_API_VERSION"]
    log.error("webhook %s (%s) is in API version %s, but the app reads %s: refused, Stripe will retry. Set the "
              "webhook endpoint's API version to %s (README, Stripe).", event.get("id"), event.get("type"),
              version, expected, expected)
    return f"event api_version {version} is not {expected}; set the webhook endpoint's API version to {expected}"
