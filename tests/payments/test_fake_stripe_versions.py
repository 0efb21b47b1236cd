"""The fake refuses what API version 2026-10-28.endive refuses: removed parameters and the return_url rule.

Sources (cited next to each rule in tests/fake_stripe/versions.py and api.py):
- https://docs.stripe.com/changelog/endive/2026-09-30/removes-the-payment-method-types-parameter-from-payment-intents-and-setup-intents
- https://docs.stripe.com/changelog/endive/2026-09-30/remove-payment-method-types-checkout-sessions
- https://docs.stripe.com/changelog/dahlia/2026-07-29/allowed-payment-method-types-parameter
- https://docs.stripe.com/changelog/2023-08-16/automatic-payment-methods
"""
from __future__ import annotations

import pytest
import stripe

from tests.fake_stripe import API_VERSION
from tests.fake_stripe.client import library_client, refused
from tests.payments.test_stripe_provider import saved_card


@pytest.fixture
def client(fake_stripe) -> stripe.StripeClient:
    return library_client(fake_stripe)


def test_the_pinned_library_and_the_fake_speak_the_same_version():
    assert stripe.api_version == API_VERSION == "2026-10-28.endive"


def test_payment_method_types_on_a_payment_intent_is_refused_with_its_own_code(fake_stripe, client):
    error = refused(lambda: client.v1.payment_intents.create(params={
        "amount": 1000, "currency": "eur", "payment_method_types": ["card"]}))
    assert (error["code"], error["param"]) == ("payment_method_types_no_longer_supported", "payment_method_types")
    assert fake_stripe.count("payment_intent") == 0
    intent = client.v1.payment_intents.create(params={"amount": 1000, "currency": "eur"})
    for call in (lambda: client.v1.payment_intents.update(intent.id, params={"payment_method_types": ["card"]}),
                 lambda: client.v1.payment_intents.confirm(intent.id, params={"payment_method_types": ["card"]})):
        assert refused(call)["code"] == "payment_method_types_no_longer_supported"
    # still returned, read-only, as the computed list
    assert "card" in intent.payment_method_types


def test_payment_method_types_on_a_checkout_session_is_an_unknown_parameter(fake_stripe, client):
    error = refused(lambda: client.v1.checkout.sessions.create(params={
        "mode": "setup", "currency": "eur", "success_url": "http://127.0.0.1:9/ok",
        "payment_method_types": ["sepa_debit"]}))
    assert (error["code"], error["param"]) == ("parameter_unknown", "payment_method_types")
    # its replacement is accepted, and lets setup mode do without a currency
    session = client.v1.checkout.sessions.create(params={
        "mode": "setup", "success_url": "http://127.0.0.1:9/ok", "allowed_payment_method_types": ["sepa_debit"]})
    assert session.mode == "setup"


def test_allowed_payment_method_types_excludes_the_other_ways_of_choosing(fake_stripe, client):
    for other in ({"excluded_payment_method_types": ["card"]}, {"automatic_payment_methods": {"enabled": True}}):
        error = refused(lambda: client.v1.payment_intents.create(params={
            "amount": 1000, "currency": "eur", "allowed_payment_method_types": ["card"], **other}))
        assert error["code"] == "parameters_exclusive"
    intent = client.v1.payment_intents.create(params={"amount": 1000, "currency": "eur",
                                                      "allowed_payment_method_types": ["card"]})
    assert (intent.payment_method_types, intent.automatic_payment_methods) == (["card"], None)


def test_confirming_on_session_with_dynamic_payment_methods_needs_a_return_url(fake_stripe, client,
                                                                               stripe_provider):
    setup = saved_card(fake_stripe, stripe_provider)
    base = {"amount": 1000, "currency": "eur", "customer": setup["customer"],
            "payment_method": setup["payment_method"], "confirm": True}
    error = refused(lambda: client.v1.payment_intents.create(params=base))
    assert error["param"] == "return_url" and error["message"].startswith("A `return_url` must be specified")
    assert fake_stripe.count("payment_intent") == 0

    # ... unless the customer is away (off_session), or redirects are turned off, or a return_url is given
    assert client.v1.payment_intents.create(params={**base, "off_session": True}).status == "succeeded"
    assert client.v1.payment_intents.create(params={
        **base, "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"}}).status == "succeeded"
    assert client.v1.payment_intents.create(params={
        **base, "return_url": "http://127.0.0.1:9/back"}).status == "succeeded"

    # the same rule when confirming later
    intent = client.v1.payment_intents.create(params={k: v for k, v in base.items() if k != "confirm"})
    assert refused(lambda: client.v1.payment_intents.confirm(intent.id))["param"] == "return_url"
    assert client.v1.payment_intents.confirm(intent.id, params={"off_session": True}).status == "succeeded"


def test_error_on_requires_action_cannot_be_used_with_dynamic_payment_methods(fake_stripe, client,
                                                                              stripe_provider):
    setup = saved_card(fake_stripe, stripe_provider)
    error = refused(lambda: client.v1.payment_intents.create(params={
        "amount": 1000, "currency": "eur", "customer": setup["customer"], "payment_method": setup["payment_method"],
        "confirm": True, "off_session": True, "error_on_requires_action": True}))
    assert error["param"] == "error_on_requires_action"


def test_confirm_only_parameters_need_confirm(fake_stripe, client):
    error = refused(lambda: client.v1.payment_intents.create(params={
        "amount": 1000, "currency": "eur", "return_url": "http://127.0.0.1:9/back"}))
    assert error["param"] == "return_url"


def test_the_providers_off_session_charge_is_one_the_pinned_version_accepts(fake_stripe, stripe_provider):
    from webapp.money import Money

    setup = saved_card(fake_stripe, stripe_provider)
    result = stripe_provider.charge_off_session(setup["customer"], setup["payment_method"], Money(1500, "EUR"),
                                                "close-1", {"pledge_id": "42"})
    assert result.status == "succeeded"
    [create] = [r for r in fake_stripe.requests if r.path == "/v1/payment_intents"]
    assert create.validated and create.params["off_session"] == "true" and "payment_method_types" not in create.params
