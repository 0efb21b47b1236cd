"""The fake's objects have the fields the stripe library's resource classes declare for 2026-10-28.endive.

The library's classes (stripe.Dispute, stripe.Payout, ...) are generated from Stripe's OpenAPI spec
for the pinned version: a field the fake invents, or one it leaves out of the objects that move
money, is a field real Stripe would not send, or would.
"""
from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
import stripe
from stripe._object_classes import OBJECT_CLASSES

from tests.fake_stripe.client import library_client
from tests.payments.test_stripe_provider import checkout_request, paid_intent, saved_card
from webapp.clock import utcnow
from webapp.money import Money

#: the objects of balance and disputes, whose every field the fake sends
COMPLETE = {"dispute", "payout", "transfer", "transfer_reversal", "balance_transaction"}


def declared(kind: str) -> set[str]:
    module, name = OBJECT_CLASSES[kind]
    cls = getattr(importlib.import_module(module), name)
    base = {k for c in stripe.StripeObject.__mro__ for k in getattr(c, "__annotations__", {})}
    return {k for c in cls.__mro__ for k in getattr(c, "__annotations__", {})
            if not k.startswith("_") and k != "OBJECT_NAME"} - base


@pytest.fixture
def world(fake_stripe, stripe_provider):
    intent = paid_intent(fake_stripe, stripe_provider, Money(5000, "EUR"))
    stripe_provider.refund(intent["id"], Money(1000, "EUR"), "refund-1", {"pledge_id": "41"})
    setup = saved_card(fake_stripe, stripe_provider)
    stripe_provider.charge_off_session(setup["customer"], setup["payment_method"], Money(1500, "EUR"), "close-1",
                                       {"pledge_id": "42"})
    account = stripe_provider.create_connected_account("org@example.org", "FR", "account-1")
    fake_stripe.onboard(account)
    transfer = stripe_provider.create_transfer(Money(1000, "EUR"), account, "campaign-7", "transfer-1", {})
    client = library_client(fake_stripe)
    client.v1.transfers.reversals.create(transfer, params={"amount": 100})
    fake_stripe.dispute(intent["id"], amount=1000)
    fake_stripe.automatic_payout("eur")
    stripe_provider.list_balance_transactions(utcnow() - timedelta(days=1), utcnow() + timedelta(days=1))
    stripe_provider.create_checkout(checkout_request(idempotency_key="open-1"))
    return fake_stripe


def test_every_object_the_fake_keeps_has_only_fields_stripe_declares(world):
    kinds = {obj["object"] for obj in world.objects.values()}
    assert kinds >= COMPLETE | {"charge", "payment_intent", "refund", "customer", "checkout.session",
                                "setup_intent", "payment_method", "account"}
    invented = {kind: sorted(set().union(*(o.keys() for o in world.of_kind(kind))) - declared(kind))
                for kind in kinds}
    assert {kind: extra for kind, extra in invented.items() if extra} == {}


def test_the_objects_that_move_money_have_every_field_stripe_declares(world):
    missing = {kind: sorted(declared(kind) - set().union(*(o.keys() for o in world.of_kind(kind))))
               for kind in COMPLETE}
    assert {kind: gap for kind, gap in missing.items() if gap} == {}


def test_events_have_only_fields_stripe_declares(world):
    keys = {key for event in world.events for key in event}
    assert keys <= declared("event")
    assert keys >= {"id", "object", "api_version", "created", "data", "livemode", "pending_webhooks", "request",
                    "type"}


def _nested(cls: type, field: str):
    camel = "".join(part.capitalize() for part in field.split("_"))
    for name in (camel, camel.removesuffix("s"), camel.removesuffix("es")):
        if isinstance(getattr(cls, name, None), type):
            return getattr(cls, name)
    return None


def test_the_hashes_inside_disputes_payouts_and_balance_transactions_have_only_declared_fields(world):
    invented, checked = {}, set()
    for kind in COMPLETE:
        module, name = OBJECT_CLASSES[kind]
        cls = getattr(importlib.import_module(module), name)
        for obj in world.of_kind(kind):
            for field, value in obj.items():
                inner = _nested(cls, field)
                values = value if isinstance(value, list) else [value]
                for item in values:
                    if inner is None or not isinstance(item, dict):
                        continue
                    allowed = {k for c in inner.__mro__ for k in getattr(c, "__annotations__", {})}
                    checked.add(f"{kind}.{field}")
                    extra = set(item) - allowed
                    if extra:
                        invented[f"{kind}.{field}"] = sorted(extra)
    assert invented == {}
    assert checked >= {"dispute.evidence", "dispute.evidence_details", "dispute.payment_method_details",
                       "balance_transaction.fee_details", "payout.trace_id"}
