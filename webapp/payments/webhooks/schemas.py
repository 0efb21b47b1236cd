"""What each handled processor event must carry before a handler reads it: fields, types, bounds, enums.

A validly signed event can still be malformed (a processor bug, an API version we did not expect, a
test tool): the handlers read `obj.get(...)` and trust what they find, so a string where a dict was
expected, a 2**70 amount or a superscript digit in a pledge id was an AttributeError, an
OverflowError or a ValueError (a 500, and the processor delivering it again for days). Every field
a handler reads is described here; an event that does not fit is refused whole before anything is
written (issue 9). Fields we do not read are not checked: Stripe adds fields in every API version.

A small explicit validator rather than a library (pydantic was the candidate): some twenty event types
of a few fields each, checked once at the endpoint, with no compiled dependency to pin and upgrade.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from webapp.ids import MAX_ID, parse_int
from webapp.money import is_known_currency
from webapp.payments.pledging.saved_methods import is_owner_key

#: the largest amount of minor units an event may carry: beyond any real charge (Stripe's own limit
#: is eight digits for most currencies, twelve for a few), far within BIGINT
MAX_MINOR_UNITS = 10**12
#: Stripe's metadata limits: 50 keys, keys of 40 characters, values of 500
METADATA_KEYS, METADATA_KEY_LENGTH, METADATA_VALUE_LENGTH = 50, 40, 500
#: the processor's object and event ids: printable ASCII without spaces (evt_…, cs_…, pi_…, acct_…)
PROCESSOR_ID = re.compile(r"[\x21-\x7e]{1,255}")
EVENT_TYPE = re.compile(r"[a-z0-9_.]{1,100}")


class MalformedEvent(ValueError):
    """A validly signed event that does not carry what its handler reads; `path` names the field."""

    def __init__(self, path: str, problem: str):
        super().__init__(f"{path}: {problem}")
        self.path, self.problem = path, problem


@dataclass(frozen=True)
class Spec:
    kind: str  #: "str", "int", "bool", "enum", "ref", "object", "list"
    required: bool = False  #: present and not null
    nullable: bool = True  #: when present, may be null
    max_length: int = 255
    pattern: re.Pattern | None = None
    valid: Callable[[str], bool] | None = None  #: a last check of a string's meaning
    minimum: int = 0
    maximum: int = MAX_MINOR_UNITS
    values: frozenset[str] = frozenset()
    fields: Mapping[str, Spec] = field(default_factory=dict)
    item: Spec | None = None
    max_items: int = 100
    #: an object whose other keys are strings too (metadata), within Stripe's limits
    string_values: bool = False


def text(*, required: bool = False, nullable: bool = True, max_length: int = 255, pattern: re.Pattern | None = None,
         valid: Callable[[str], bool] | None = None) -> Spec:
    return Spec("str", required, nullable, max_length=max_length, pattern=pattern, valid=valid)


def processor_id(*, required: bool = False) -> Spec:
    return text(required=required, pattern=PROCESSOR_ID)


def amount(*, required: bool = False) -> Spec:
    return Spec("int", required, nullable=not required, minimum=0, maximum=MAX_MINOR_UNITS)


def signed_amount() -> Spec:
    """Minor units that may be negative (a balance transaction's withdrawal, a fee given back)."""
    return Spec("int", minimum=-MAX_MINOR_UNITS, maximum=MAX_MINOR_UNITS)


def currency(*, required: bool = False) -> Spec:
    return text(required=required, nullable=not required, max_length=3, valid=lambda c: is_known_currency(c.upper()))


def flag() -> Spec:
    return Spec("bool")


def one_of(*values: str, required: bool = False) -> Spec:
    return Spec("enum", required, nullable=not required, values=frozenset(values))


def ref() -> Spec:
    """Another object: its id, or the object itself when expanded (its `id` then)."""
    return Spec("ref")


def obj(fields: Mapping[str, Spec], *, required: bool = False, string_values: bool = False) -> Spec:
    return Spec("object", required, nullable=not required, fields=fields, string_values=string_values)


def list_of(item: Spec, *, max_items: int = 100) -> Spec:
    return Spec("list", item=item, max_items=max_items)


METADATA = obj({
    "pledge_id": text(nullable=False, valid=lambda v: parse_int(v, 0, MAX_ID) is not None),  # 0: no pledge (setup)
    "setup_for": text(nullable=False, valid=is_owner_key),
    # a recurring gift's payment (payments.recurring): its support and period ("2026-12" or "2026")
    "recurring_support_id": text(nullable=False, valid=lambda v: parse_int(v, 1, MAX_ID) is not None),
    "recurring_period": text(nullable=False, max_length=7, pattern=re.compile(r"[0-9]{4}(-(0[1-9]|1[0-2]))?")),
}, string_values=True)

_COMMON = {"id": processor_id(required=True), "metadata": METADATA}
_SESSION = {**_COMMON, "customer": ref(), "payment_intent": ref(), "setup_intent": ref()}

_DISPUTE = obj({
    **_COMMON, "payment_intent": ref(), "charge": ref(), "amount": amount(), "currency": currency(),
    "reason": text(), "status": one_of("warning_needs_response", "warning_under_review", "warning_closed",
                                       "needs_response", "under_review", "won", "lost", "prevented"),
    "balance_transactions": list_of(obj({
        "amount": signed_amount(), "fee": signed_amount(), "currency": currency(required=True)}))},
    required=True)
_PAYOUT = obj({
    **_COMMON, "amount": amount(), "currency": currency(),
    "created": Spec("int", minimum=0, maximum=253_402_300_799),  # a Unix time before the year 10000
    "balance_transaction": ref(), "failure_balance_transaction": ref(), "failure_code": text(),
    "status": one_of("paid", "pending", "in_transit", "canceled", "failed")}, required=True)

#: the statuses a capability can have (docs.stripe.com/api/capabilities/object)
CAPABILITY_STATUSES = ("active", "inactive", "pending", "unrequested", "disabled")

#: event type → what its data.object must carry; every type in handlers.HANDLERS has one (a test checks)
SCHEMAS: dict[str, Spec] = {
    "checkout.session.completed": obj({
        **_SESSION, "mode": one_of("payment", "setup", "subscription", required=True),
        "payment_status": one_of("paid", "unpaid", "no_payment_required")}, required=True),
    "checkout.session.async_payment_succeeded": obj(_SESSION, required=True),
    "checkout.session.async_payment_failed": obj(_SESSION, required=True),
    "checkout.session.expired": obj(_SESSION, required=True),
    "setup_intent.succeeded": obj({**_COMMON, "customer": ref(), "payment_method": ref()}, required=True),
    "payment_intent.succeeded": obj({**_COMMON, "customer": ref(), "latest_charge": ref(), "payment_method": ref(),
                                     "setup_future_usage": one_of("off_session", "on_session")}, required=True),
    "payment_intent.payment_failed": obj({
        **_COMMON, "last_payment_error": obj({"message": text(max_length=5000), "code": text(max_length=255)})},
        required=True),
    "charge.refunded": obj({**_COMMON, "payment_intent": ref(), "amount_refunded": amount(required=True)},
                           required=True),
    "charge.updated": obj({**_COMMON, "payment_intent": ref(), "balance_transaction": ref(),
                           "status": one_of("succeeded", "pending", "failed")}, required=True),
    **{name: _DISPUTE for name in ("charge.dispute.created", "charge.dispute.updated",
                                   "charge.dispute.funds_withdrawn", "charge.dispute.funds_reinstated",
                                   "charge.dispute.closed")},
    "account.updated": obj({"id": processor_id(required=True), "details_submitted": flag(),
                            "payouts_enabled": flag(), "charges_enabled": flag(),
                            "capabilities": obj({"transfers": one_of(*CAPABILITY_STATUSES)})}, required=True),
    # the Capability object (docs.stripe.com/api/capabilities/object): its id is the capability's name
    "capability.updated": obj({"id": text(required=True, pattern=EVENT_TYPE), "account": ref(),
                               "requested": flag(), "status": one_of(*CAPABILITY_STATUSES)}, required=True),
    "transfer.reversed": obj({**_COMMON, "reversals": obj({"data": list_of(obj({
        "id": processor_id(), "amount": amount(), "currency": currency()}))})}, required=True),
    **{name: _PAYOUT for name in ("payout.created", "payout.updated", "payout.paid", "payout.failed",
                                  "payout.canceled")},
}

ENVELOPE = obj({
    "id": text(required=True, pattern=PROCESSOR_ID),
    "account": processor_id(),  # the connected account a Connect event is about (docs.stripe.com/connect/webhooks)
    "type": text(required=True, pattern=EVENT_TYPE),
    "api_version": text(max_length=40),  # compared with ours by webhooks/versions.py
    "data": obj({"object": obj({}, required=True)}, required=True),
}, required=True)


def check(value: object, spec: Spec, path: str = "event") -> None:
    """Raise MalformedEvent unless `value` fits `spec`."""
    if value is None:
        if spec.required or not spec.nullable:
            raise MalformedEvent(path, "is missing" if spec.required else "is null")
        return
    kind = spec.kind
    if kind == "str":
        if not isinstance(value, str):
            raise MalformedEvent(path, "is not a string")
        if len(value) > spec.max_length:
            raise MalformedEvent(path, f"is longer than {spec.max_length} characters")
        if spec.pattern is not None and not spec.pattern.fullmatch(value):
            raise MalformedEvent(path, "is not of the expected form")
        if spec.valid is not None and not spec.valid(value):
            raise MalformedEvent(path, "is not a valid value")
    elif kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise MalformedEvent(path, "is not a whole number")
        if not spec.minimum <= value <= spec.maximum:
            raise MalformedEvent(path, f"is outside {spec.minimum}..{spec.maximum}")
    elif kind == "bool":
        if not isinstance(value, bool):
            raise MalformedEvent(path, "is not true or false")
    elif kind == "enum":
        if not isinstance(value, str) or value not in spec.values:
            raise MalformedEvent(path, f"is none of {sorted(spec.values)}")
    elif kind == "ref":
        if isinstance(value, dict):
            check(value.get("id"), processor_id(required=True), f"{path}.id")
        else:
            check(value, processor_id(), path)
    elif kind == "object":
        if not isinstance(value, dict):
            raise MalformedEvent(path, "is not an object")
        if spec.string_values:
            if len(value) > METADATA_KEYS:
                raise MalformedEvent(path, f"has more than {METADATA_KEYS} keys")
            for key, item in value.items():
                if len(key) > METADATA_KEY_LENGTH:
                    raise MalformedEvent(path, f"has a key longer than {METADATA_KEY_LENGTH} characters")
                check(item, text(nullable=False, max_length=METADATA_VALUE_LENGTH), f"{path}.{key}")
        for name, inner in spec.fields.items():
            if name in value:
                check(value[name], inner, f"{path}.{name}")
            elif inner.required:
                raise MalformedEvent(f"{path}.{name}", "is missing")
    elif kind == "list":
        if not isinstance(value, list):
            raise MalformedEvent(path, "is not a list")
        if len(value) > spec.max_items:
            raise MalformedEvent(path, f"has more than {spec.max_items} items")
        for index, item in enumerate(value):
            if item is None:
                raise MalformedEvent(f"{path}[{index}]", "is null")
            check(item, spec.item, f"{path}[{index}]")
    else:  # pragma: no cover - a spec written wrong
        raise AssertionError(f"unknown spec kind {kind!r}")


def parse(event: object) -> tuple[str, str, dict]:
    """(event id, type, data.object) of a decoded event, its object checked against its type's schema.

    Raises MalformedEvent when the envelope, or the object of a type with a schema, does not fit.
    """
    check(event, ENVELOPE)
    event_id, event_type, data_object = event["id"], event["type"], event["data"]["object"]
    schema = SCHEMAS.get(event_type)
    if schema is not None:
        check(data_object, schema, "data.object")
    return event_id, event_type, data_object
