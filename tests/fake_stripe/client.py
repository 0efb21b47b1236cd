"""The real stripe library pointed at the fake, and how a test reads the refusal Stripe would answer."""
from __future__ import annotations

import pytest
import stripe


def library_client(fake, retries: int = 0) -> stripe.StripeClient:
    """A StripeClient on the fake's address; no retries unless a test is about them."""
    return stripe.StripeClient("sk_test_fake", base_addresses={"api": fake.url}, max_network_retries=retries)


def refused(call) -> dict:
    """Run `call`, which Stripe must refuse with a 400, and return the error's body."""
    with pytest.raises(stripe.InvalidRequestError) as caught:
        call()
    assert caught.value.http_status == 400
    return caught.value.json_body["error"]
