"""What the pinned API version (2026-10-28.endive) refuses that earlier versions accepted, as Stripe answers it.

Each rule names the changelog entry it follows. Rules that depend on an object's state (a
PaymentIntent's automatic_payment_methods at confirmation) live with the endpoint in api.py and
cite their source there.
"""
from __future__ import annotations

from typing import Any

from tests.fake_stripe.server import ApiError
from tests.fake_stripe.state import API_VERSION

#: "Removes the payment method types parameter from Payment Intents and Setup Intents"
#: https://docs.stripe.com/changelog/endive/2026-09-30/removes-the-payment-method-types-parameter-from-payment-intents-and-setup-intents
#: — create, update and confirm of Payment Intents, create and update of Setup Intents: "Passing
#: `payment_method_types` on this API version returns a 400 error with the code
#: `payment_method_types_no_longer_supported`." (The object still returns it, read-only.)
#: Checkout Sessions lost it too ("Removes the payment method types parameter from Checkout Sessions",
#: https://docs.stripe.com/changelog/endive/2026-09-30/remove-payment-method-types-checkout-sessions),
#: with no special code: the library's SessionCreateParams lacks it, so it is `parameter_unknown`.
PAYMENT_METHOD_TYPES_REMOVED = {
    ("POST", "/v1/payment_intents"), ("POST", "/v1/payment_intents/{id}"),
    ("POST", "/v1/payment_intents/{id}/confirm"),
    ("POST", "/v1/setup_intents"), ("POST", "/v1/setup_intents/{id}"),
}

#: "Adds the allowed payment method types parameter to Payment Intents and Setup Intents"
#: https://docs.stripe.com/changelog/dahlia/2026-07-29/allowed-payment-method-types-parameter
#: — "This parameter is mutually exclusive with `payment_method_types`, `excluded_payment_method_types`,
#: `automatic_payment_methods`, and `payment_method_configuration`."
ALLOWED_TYPES_EXCLUSIVE_WITH = ("excluded_payment_method_types", "automatic_payment_methods",
                                "payment_method_configuration")
ALLOWED_TYPES_ROUTES = {("POST", "/v1/payment_intents"), ("POST", "/v1/payment_intents/{id}"),
                        ("POST", "/v1/payment_intents/{id}/confirm"), ("POST", "/v1/checkout/sessions")}


def refuse_removed(method: str, template: str, params: dict[str, Any]) -> None:
    """Raise the 400 Stripe answers on API_VERSION for a parameter removed or restricted since."""
    if (method, template) in PAYMENT_METHOD_TYPES_REMOVED and "payment_method_types" in params:
        raise ApiError(400, f"`payment_method_types` is no longer supported on API version {API_VERSION}. Use "
                       "dynamic payment methods, `allowed_payment_method_types` or "
                       "`excluded_payment_method_types` instead.", param="payment_method_types",
                       code="payment_method_types_no_longer_supported")
    if (method, template) in ALLOWED_TYPES_ROUTES and "allowed_payment_method_types" in params:
        for other in ALLOWED_TYPES_EXCLUSIVE_WITH:
            if other in params:
                raise ApiError(400, f"You may only specify one of these parameters: allowed_payment_method_types, "
                               f"{other}.", param=other, code="parameters_exclusive")
