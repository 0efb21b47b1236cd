"""Every request the fake serves, checked against the stripe library's own generated parameter types.

stripe 16 ships a TypedDict for the parameters of every API method (`stripe.params.PaymentIntentCreateParams`,
`stripe.params.checkout.SessionCreateParams`, ...), generated from Stripe's OpenAPI spec for the pinned
API version. `ROUTE_PARAMS` maps each (HTTP method, path) the fake serves to its TypedDict, and
`validate()` walks the decoded form parameters against it the way the API answers:

- a key the TypedDict lacks: 400 `parameter_unknown`, "Received unknown parameter: a[b]";
- a required key missing (`Required[...]` / keys of a total TypedDict): 400 `parameter_missing`,
  "Missing required param: a[b].";
- an integer that is not one: 400 `parameter_invalid_integer`, "Invalid integer: x";
- an empty string where the type does not allow `Literal['']` (the API's "unset" value): 400
  `parameter_invalid_empty`;
- a boolean, enum value (`Literal[...]`), array or hash of the wrong shape: 400 with `param` and the
  API's message ("Invalid boolean: x", "Invalid array", "Invalid hash", "Invalid x: must be one of
  ..."). Stripe's error-code list (https://docs.stripe.com/error-codes) names no code for these, so
  the fake sends `parameter_invalid` for them.

`Literal[...]|str` unions: the generated types add `|str` to every enum so that new values do not
break old SDKs; the API itself accepts only the listed values, so the fake does too. (`Literal['']|str`,
"a string, or empty to unset", accepts any string.)

Form encoding: `a[b][c]=v` nests hashes, `a[0]=v` / `a[]=v` are arrays (see server.parse_params);
`expand[]` is a list of strings on every endpoint (the TypedDicts carry it); `metadata[k]=v` is a
hash of strings, and `metadata=` (empty) unsets it where the type allows `Literal['']`.
"""
from __future__ import annotations

import importlib
import re
import sys
import types
import typing
from functools import lru_cache
from typing import Any, Literal, Union, get_args, get_origin

import stripe
from stripe._request_options import RequestOptions
from stripe._stripe_object import UntypedStripeObject
from typing_extensions import NotRequired, Required

from tests.fake_stripe.server import ApiError

#: (HTTP method, path as the fake routes it) -> the stripe library's params TypedDict (module, class)
ROUTE_PARAMS: dict[tuple[str, str], str] = {
    ("POST", "/v1/customers"): "CustomerCreateParams",
    ("GET", "/v1/customers/{id}"): "CustomerRetrieveParams",
    ("POST", "/v1/checkout/sessions"): "checkout.SessionCreateParams",
    ("GET", "/v1/checkout/sessions/{id}"): "checkout.SessionRetrieveParams",
    ("POST", "/v1/checkout/sessions/{id}/expire"): "checkout.SessionExpireParams",
    ("POST", "/v1/payment_intents"): "PaymentIntentCreateParams",
    ("GET", "/v1/payment_intents"): "PaymentIntentListParams",
    ("GET", "/v1/payment_intents/{id}"): "PaymentIntentRetrieveParams",
    ("POST", "/v1/payment_intents/{id}"): "PaymentIntentUpdateParams",
    ("POST", "/v1/payment_intents/{id}/confirm"): "PaymentIntentConfirmParams",
    ("POST", "/v1/payment_intents/{id}/cancel"): "PaymentIntentCancelParams",
    ("GET", "/v1/setup_intents/{id}"): "SetupIntentRetrieveParams",
    ("GET", "/v1/payment_methods/{id}"): "PaymentMethodRetrieveParams",
    ("POST", "/v1/payment_methods/{id}/detach"): "PaymentMethodDetachParams",
    ("POST", "/v1/refunds"): "RefundCreateParams",
    ("GET", "/v1/refunds/{id}"): "RefundRetrieveParams",
    ("GET", "/v1/charges/{id}"): "ChargeRetrieveParams",
    ("GET", "/v1/balance_transactions"): "BalanceTransactionListParams",
    ("GET", "/v1/balance_transactions/{id}"): "BalanceTransactionRetrieveParams",
    ("POST", "/v1/accounts"): "AccountCreateParams",
    ("GET", "/v1/accounts/{id}"): "AccountRetrieveParams",
    ("POST", "/v1/account_links"): "AccountLinkCreateParams",
    ("POST", "/v1/transfers"): "TransferCreateParams",
    ("GET", "/v1/transfers/{id}"): "TransferRetrieveParams",
    ("POST", "/v1/transfers/{id}/reversals"): "TransferReversalCreateParams",
    ("POST", "/v1/payouts"): "PayoutCreateParams",
    ("GET", "/v1/payouts"): "PayoutListParams",
    ("GET", "/v1/payouts/{id}"): "PayoutRetrieveParams",
    ("GET", "/v1/disputes"): "DisputeListParams",
    ("GET", "/v1/disputes/{id}"): "DisputeRetrieveParams",
    ("POST", "/v1/disputes/{id}"): "DisputeUpdateParams",
    ("POST", "/v1/disputes/{id}/close"): "DisputeCloseParams",
}

#: keys of the library's RequestOptions (api_key, idempotency_key...): options, never sent as parameters
OPTION_KEYS = frozenset(RequestOptions.__annotations__)


def params_type(method: str, path: str) -> type:
    """The TypedDict for a route, e.g. params_type("POST", "/v1/payment_intents")."""
    name = ROUTE_PARAMS[(method, path)]
    module, _, cls = name.rpartition(".")
    return getattr(importlib.import_module("stripe.params" + (f".{module}" if module else "")), cls)


def _invalid(message: str, param: str, code: str = "parameter_invalid") -> ApiError:
    return ApiError(400, message, param=param, code=code)


@lru_cache(maxsize=None)
def hints(cls: type) -> dict[str, Any]:
    """get_type_hints for a generated TypedDict (its forward references resolved in its own module)."""
    namespace = dict(vars(typing))
    namespace.update({"StripeContext": getattr(stripe, "StripeContext", Any),
                      "UntypedStripeObject": UntypedStripeObject})
    return typing.get_type_hints(cls, globalns=dict(vars(sys.modules[cls.__module__])), localns=namespace,
                                 include_extras=True)


def _is_typeddict(tp: Any) -> bool:
    return isinstance(tp, type) and hasattr(tp, "__required_keys__") and hasattr(tp, "__annotations__")


def _unwrap(tp: Any) -> Any:
    while get_origin(tp) in (Required, NotRequired, typing.Required, typing.NotRequired, typing.Annotated):
        tp = get_args(tp)[0]
    return tp


def _alternatives(tp: Any) -> list[Any]:
    tp = _unwrap(tp)
    if get_origin(tp) in (Union, types.UnionType):
        found: list[Any] = []
        for arg in get_args(tp):
            found.extend(_alternatives(arg))
        return found
    return [tp]


def validate(cls: type, params: dict[str, Any]) -> dict[str, Any]:
    """Check decoded parameters against a params TypedDict; returns them with arrays/hashes normalized.

    Raises ApiError (400) with Stripe's code and `param` at the first problem found.
    """
    return _typeddict(params, cls, "", top=True)


def _name(path: str, key: str) -> str:
    return f"{path}[{key}]" if path else key


def _typeddict(value: Any, cls: type, path: str, *, top: bool = False) -> dict[str, Any]:
    if isinstance(value, list) and not value and path:
        value = {}
    if not isinstance(value, dict):
        raise _invalid("Invalid hash", path)
    fields = hints(cls)
    known = set(fields) - (OPTION_KEYS if top else set())
    for key in value:
        if key not in known:
            raise _invalid(f"Received unknown parameter: {_name(path, key)}", _name(path, key), "parameter_unknown")
    for key in sorted(cls.__required_keys__ & known):
        if key not in value:
            raise _invalid(f"Missing required param: {_name(path, key)}.", _name(path, key), "parameter_missing")
    return {key: check(item, fields[key], _name(path, key)) for key, item in value.items()}


def check(value: Any, tp: Any, path: str) -> Any:
    """Check one value against one annotation; returns the value (lists/hashes normalized)."""
    options = _alternatives(tp)
    literals = [arg for opt in options if get_origin(opt) is Literal for arg in get_args(opt)]
    enum = [v for v in literals if v != ""]
    # `Literal[...]|str`: the `str` only keeps old SDKs working when the API adds values
    kinds = [opt for opt in options if get_origin(opt) is not Literal and not (opt is str and enum)]
    if value == "":
        if "" in literals:
            return value
        raise _invalid(f"You passed an empty string for '{path}'. We assume empty values are an attempt to unset a "
                       f"parameter; however '{path}' cannot be unset. You should remove '{path}' from your request "
                       "or supply a non-empty value.", path, "parameter_invalid_empty")
    if isinstance(value, str) and value in enum:
        return value
    ordered = sorted(kinds, key=lambda t: 0 if _shape_matches(value, t) else 1)
    errors: list[ApiError] = []
    for opt in ordered:
        try:
            return _check_one(value, opt, path)
        except ApiError as exc:
            errors.append(exc)
    if enum and isinstance(value, str):
        choices = [*map(str, enum), *(["true", "false"] if bool in kinds else [])]
        raise _invalid(f"Invalid {path}: must be one of {', '.join(choices)}", path)
    if errors:
        raise errors[0]
    raise _invalid(f"Invalid value for {path}", path)


def _is_dict_type(tp: Any) -> bool:
    return _is_typeddict(tp) or get_origin(tp) in (dict, typing.Dict, typing.Mapping) or _is_untyped(tp)


def _is_untyped(tp: Any) -> bool:
    return tp is UntypedStripeObject or get_origin(tp) is UntypedStripeObject


def _shape_matches(value: Any, tp: Any) -> bool:
    if _is_dict_type(tp):
        return isinstance(value, dict)
    if get_origin(tp) in (list, typing.List):
        return isinstance(value, list)
    return isinstance(value, str)


_INTEGER = re.compile(r"-?\d+")
_NUMBER = re.compile(r"-?(\d+(\.\d*)?|\.\d+)")


def _check_one(value: Any, tp: Any, path: str) -> Any:
    if tp is Any or tp is object:
        return value
    if _is_typeddict(tp):
        return _typeddict(value, tp, path)
    origin = get_origin(tp)
    if origin in (list, typing.List):
        if isinstance(value, dict) and all(key.isdigit() for key in value):
            value = [value[key] for key in sorted(value, key=int)]
        if not isinstance(value, list):
            raise _invalid("Invalid array", path)
        [item_type] = get_args(tp) or [Any]
        return [check(item, item_type, f"{path}[{index}]") for index, item in enumerate(value)]
    if _is_dict_type(tp):
        if isinstance(value, list):  # a hash whose keys are all digits decodes as an array
            value = {str(index): item for index, item in enumerate(value)}
        if not isinstance(value, dict):
            raise _invalid("Invalid hash", path)
        args = get_args(tp)
        item_type = args[-1] if args else Any
        return {key: (item if item == "" and item_type is str else check(item, item_type, f"{path}[{key}]"))
                for key, item in value.items()}
    if isinstance(value, (dict, list)):
        raise _invalid(f"Invalid {_scalar_name(tp)}: {path} must be a {_scalar_name(tp)}, not a "
                       f"{'hash' if isinstance(value, dict) else 'array'}", path)
    if tp is bool:
        if value not in ("true", "false"):
            raise _invalid(f"Invalid boolean: {value}", path)
        return value
    if tp is int:
        if not _INTEGER.fullmatch(value):
            raise _invalid(f"Invalid integer: {value}", path, "parameter_invalid_integer")
        return value
    if tp is float:
        if not _NUMBER.fullmatch(value):
            raise _invalid(f"Invalid decimal: {value}", path)
        return value
    if tp is str:
        return value
    raise _invalid(f"Invalid value for {path}", path)


def _scalar_name(tp: Any) -> str:
    return {bool: "boolean", int: "integer", float: "decimal", str: "string"}.get(tp, "value")


def validate_request(method: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
    """Validate a request for a route given as ROUTE_PARAMS names it; KeyError if the route has no type."""
    return validate(params_type(method, path), params)
