"""Payment providers: the interface (base), Stripe (stripe) and the local sandbox (sandbox); get_provider picks one."""
from __future__ import annotations

from flask import current_app

from webapp.payments.providers.base import PaymentProvider


def get_provider() -> PaymentProvider:
    provider = current_app.extensions.get("harambee.payment_provider")
    if provider is None:
        name = current_app.config["PAYMENT_PROVIDER"]
        if name == "stripe":
            from webapp.payments.installation import key_prefix
            from webapp.payments.providers.stripe import StripeProvider

            provider = StripeProvider.from_config(current_app.config, key_prefix=key_prefix)
        elif name == "sandbox":
            from webapp.payments.providers.sandbox import SandboxProvider

            provider = SandboxProvider()
        else:
            raise RuntimeError(f"Unknown PAYMENT_PROVIDER {name!r}: use stripe or sandbox")
        current_app.extensions["harambee.payment_provider"] = provider
    return provider
