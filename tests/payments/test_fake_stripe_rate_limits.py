"""429s on demand and test mode's rate limiter, and what the stripe library does with them.

https://docs.stripe.com/rate-limits: test mode allows 25 requests per second (reads and writes);
beyond that, and on lock contention, the API answers 429 with `rate_limit` or `lock_timeout`.

What stripe 16.1.0 does with a 429 (stripe/_http_client.py `_should_retry`): it retries only when
the response carries `Stripe-Should-Retry: true` (the API sends it, for example, on lock timeouts),
or on 409 and 5xx; a plain 429 is *not* retried, even with max_network_retries=2, and surfaces as
stripe.RateLimitError, which the provider turns into a retryable ProviderError.
"""
from __future__ import annotations

import pytest
import stripe

from tests.fake_stripe.client import library_client
from webapp.errors import ProviderError


@pytest.fixture
def client(fake_stripe) -> stripe.StripeClient:
    return library_client(fake_stripe, retries=2)


def test_the_next_request_gets_stripes_rate_limit_answer(fake_stripe, client):
    fake_stripe.rate_limit_next()

    with pytest.raises(stripe.RateLimitError) as caught:
        client.v1.customers.create(params={"email": "a@example.org"})

    assert caught.value.http_status == 429
    error = caught.value.json_body["error"]
    assert (error["type"], error["code"]) == ("invalid_request_error", "rate_limit")
    assert "rate limit" in error["message"].lower()
    # a plain 429 is not retried by the library, and nothing was created
    assert [r.status for r in fake_stripe.requests] == [429]
    assert fake_stripe.count("customer") == 0
    assert client.v1.customers.create(params={"email": "a@example.org"}).email == "a@example.org"


def test_a_lock_timeout_tells_the_library_to_retry_and_it_does(fake_stripe, client):
    fake_stripe.rate_limit_next(1, code="lock_timeout")

    customer = client.v1.customers.create(params={"email": "a@example.org"},
                                          options={"idempotency_key": "customer-1"})

    assert customer.email == "a@example.org"
    assert [r.status for r in fake_stripe.requests] == [429, 200]
    assert fake_stripe.idempotency_keys["customer-1"] == 2  # the retry carries the same key
    assert fake_stripe.count("customer") == 1


def test_should_retry_can_be_set_either_way(fake_stripe, client):
    fake_stripe.rate_limit_next(1, code="rate_limit", should_retry=True)
    assert client.v1.customers.create(params={"email": "a@example.org"}).object == "customer"
    fake_stripe.rate_limit_next(1, code="lock_timeout", should_retry=False)
    with pytest.raises(stripe.RateLimitError) as caught:
        client.v1.customers.create(params={"email": "b@example.org"})
    assert caught.value.json_body["error"]["code"] == "lock_timeout"


def test_only_the_named_path_is_limited(fake_stripe, client):
    fake_stripe.rate_limit_next(2, "/v1/payment_intents")
    assert client.v1.customers.create(params={}).object == "customer"
    for _ in range(2):
        with pytest.raises(stripe.RateLimitError):
            client.v1.payment_intents.create(params={"amount": 1000, "currency": "eur"})
    assert client.v1.payment_intents.create(params={"amount": 1000, "currency": "eur"}).status == \
        "requires_payment_method"


def test_the_limiter_refuses_the_26th_request_in_a_second_reads_included(fake_stripe, client):
    now = [1000.0]
    fake_stripe.http.clock = lambda: now[0]  # every request in the same instant
    fake_stripe.limit_rate(25)
    customer = client.v1.customers.create(params={})  # a write counts too

    def statuses(count: int) -> list[int]:
        found = []
        for _ in range(count):
            try:
                client.v1.customers.retrieve(customer.id)
                found.append(200)
            except stripe.RateLimitError as exc:
                assert exc.json_body["error"]["code"] == "rate_limit"
                found.append(429)
        return found

    assert statuses(26) == [200] * 24 + [429] * 2
    now[0] += 0.5
    assert statuses(1) == [429]  # still within the same second
    now[0] += 0.6
    assert statuses(25) == [200] * 25 and statuses(1) == [429]
    fake_stripe.limit_rate(None)
    assert client.v1.customers.retrieve(customer.id).id == customer.id


def test_the_provider_reports_a_rate_limit_as_a_retryable_failure(fake_stripe, stripe_provider):
    from tests.payments.test_stripe_provider import checkout_request

    # the provider retries a 429 itself (test_collection_never_repeats covers how); once its retries
    # are spent, the error goes up as a retryable ProviderError
    stripe_provider.sleep = lambda seconds: None
    fake_stripe.rate_limit_next(stripe_provider.rate_limit_retries + 1, "/v1/checkout/sessions")
    with pytest.raises(ProviderError) as caught:
        stripe_provider.create_checkout(checkout_request())
    assert caught.value.retryable is True
    assert fake_stripe.count("checkout.session") == 0
    assert stripe_provider.create_checkout(checkout_request()).id.startswith("cs_test_")


def test_an_unknown_code_is_refused(fake_stripe):
    with pytest.raises(ValueError):
        fake_stripe.rate_limit_next(1, code="slow_down")
