"""The fake Stripe's objects and the money rules they follow: charges, fees, refunds, balance transactions, events."""
from __future__ import annotations

import copy
import re
import secrets
import threading
import time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from tests.fake_stripe.server import FakeStripeError, invalid, not_found

#: what the stripe library pins in 16.x; events carry it as Stripe's would
API_VERSION = "2026-10-28.endive"

#: Stripe's zero-decimal currencies and the three-decimal ones whose last digit must be 0
ZERO_DECIMAL = {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf",
                "xof", "xpf"}
THREE_DECIMAL = {"bhd", "jod", "kwd", "omr", "tnd"}
#: Stripe's published minimum charge amounts (minor units) for the currencies that have one
MINIMUM_CHARGE = {"usd": 50, "eur": 50, "gbp": 30, "cad": 50, "chf": 50, "jpy": 50, "aud": 50, "dkk": 250,
                  "nok": 300, "sek": 300}
#: Stripe's minimum per settlement currency (minor units), which a charge in any currency must convert to
SETTLEMENT_MINIMUM = {"usd": 50, "aed": 200, "aud": 50, "bgn": 100, "brl": 50, "cad": 50, "chf": 50, "czk": 1500,
                      "dkk": 250, "eur": 50, "gbp": 30, "hkd": 400, "huf": 17500, "inr": 50, "jpy": 50, "mxn": 1000,
                      "myr": 200, "nok": 300, "nzd": 50, "pln": 200, "ron": 200, "sek": 300, "sgd": 50, "thb": 1000}
#: "The amount value supports up to eight digits" (Stripe's limit without a special arrangement)
MAXIMUM_AMOUNT = 99_999_999


def exponent(currency: str) -> int:
    return 0 if currency in ZERO_DECIMAL else 3 if currency in THREE_DECIMAL else 2


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


class StripeState:
    """Stripe's side of the world. Every public object is a plain dict shaped like Stripe's JSON."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._reset_state()

    def _reset_state(self) -> None:
        #: seconds since the epoch for `created` and expiry checks; a test may replace it
        self.clock = time.time
        #: fee on every successful charge: 1.5% (rounded half up) plus 25 minor units
        self.fee_rate = Decimal("0.015")
        self.fee_fixed = 25
        #: fee Stripe takes when a dispute opens, in the disputed charge's balance currency
        self.dispute_fee = 1500
        self.objects: dict[str, dict[str, Any]] = {}
        #: the same objects by kind, in the same order (a list reads its kind, not every object of a big run)
        self._by_kind: dict[str, dict[str, dict[str, Any]]] = {}
        self._order: dict[str, int] = {}
        #: every balance transaction, in the order booked (tests may plant or remove some)
        self.balance_transactions: list[dict[str, Any]] = []
        #: events caused by API calls (refunds, off-session charges, expiries), waiting for take_events()
        self.pending_events: list[dict[str, Any]] = []
        #: every event the fake produced, in order
        self.events: list[dict[str, Any]] = []
        #: payment method id -> (code, decline_code, message) for its future off-session charges
        self.card_failures: dict[str, tuple[str, str | None, str]] = {}
        #: None: balance transactions in the charge's currency; else e.g. "eur" with `exchange_rates`
        self.settlement_currency: str | None = None
        #: charge currency -> units of settlement currency per unit, e.g. {"xof": Decimal("0.0015245")}
        self.exchange_rates: dict[str, Decimal] = {}
        #: False: charges wait for settle(charge_id) before they have a balance transaction
        self.settle_immediately = True
        #: status of new refunds: "succeeded" or "pending" (then confirm_refund(id))
        self.refund_status = "succeeded"
        #: True: transfers and payouts need that much available balance (balance_insufficient otherwise)
        self.check_balance = False
        #: the platform account's country: Connect accounts elsewhere need the recipient service agreement
        self.platform_country = "FR"
        #: the API version events are rendered in: the webhook endpoint's version (Stripe renders each
        #: event in the endpoint's api_version, or the account's default when the endpoint has none)
        self.event_api_version = API_VERSION
        self._private: dict[str, dict[str, Any]] = {}

    # -- storage ------------------------------------------------------------------------------
    def now(self) -> int:
        return int(self.clock())

    def store(self, obj: dict[str, Any]) -> dict[str, Any]:
        self.objects[obj["id"]] = obj
        self._by_kind.setdefault(obj["object"], {})[obj["id"]] = obj
        self._order.setdefault(obj["id"], len(self._order))
        return obj

    def get(self, kind: str, ident: str, param: str = "id") -> dict[str, Any]:
        obj = self.objects.get(ident)
        if obj is None or obj["object"] != kind:
            raise not_found(kind, ident, param)
        return obj

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [obj for obj in self._by_kind.get(kind, {}).values() if obj["object"] == kind]

    def count(self, kind: str) -> int:
        """How many objects of this kind exist, e.g. count("payment_intent")."""
        return len(self.of_kind(kind))

    def snapshot(self, obj: dict[str, Any], expand: list[str] | None = None) -> dict[str, Any]:
        """A deep copy for a response, with `expand` paths such as "latest_charge.balance_transaction"."""
        data = copy.deepcopy(obj)
        for path in expand or []:
            if len(path.split(".")) > 4:
                # https://docs.stripe.com/expand: "You can expand recursively ... up to four levels deep"
                raise invalid(f"You cannot expand more than 4 levels of a property. Property: {path}",
                              param="expand")
            self._expand(data, path.split("."))
        return data

    def _expand(self, data: Any, parts: list[str]) -> None:
        if not parts or not isinstance(data, dict):
            return
        head, rest = parts[0], parts[1:]
        if head == "data" and isinstance(data.get("data"), list):
            for item in data["data"]:
                self._expand(item, rest)
            return
        value = data.get(head)
        if isinstance(value, str) and value in self.objects:
            data[head] = value = copy.deepcopy(self.objects[value])
        elif head not in data or not (value is None or isinstance(value, dict)
                                      or isinstance(value, str) and re.fullmatch(r"[a-z]+_\w+", value)):
            # only ids of other objects expand (a null one stays null): "This property cannot be expanded"
            raise invalid(f"This property cannot be expanded ({head}).", param="expand")
        self._expand(value, rest)

    def page(self, items: list[dict[str, Any]], params: dict[str, Any], url: str) -> dict[str, Any]:
        """A list object: newest first, filtered by `created`, cut by limit/starting_after/ending_before."""
        created = params.get("created")
        if isinstance(created, dict):
            bounds = {op: as_int(value, f"created[{op}]") for op, value in created.items()}
            for op, value in bounds.items():
                test = {"gt": int.__gt__, "gte": int.__ge__, "lt": int.__lt__, "lte": int.__le__}.get(op)
                if test is None:
                    raise invalid(f"Invalid created[{op}]", param="created")
                items = [o for o in items if test(o["created"], value)]
        elif created is not None:
            items = [o for o in items if o["created"] == as_int(created, "created")]
        for name in ("type", "source", "currency", "customer"):
            if params.get(name):
                items = [o for o in items if o.get(name) == params[name]]
        # Sorted after filtering (the same order): a customer's few intents, not every intent of a big run
        items = sorted(items, key=lambda o: (o.get("created", 0), self._order.get(o["id"], 0)), reverse=True)
        limit = as_int(params.get("limit", 10), "limit")
        if not 1 <= limit <= 100:
            raise invalid("Invalid limit: must be between 1 and 100", param="limit")
        ids = [o["id"] for o in items]
        if params.get("starting_after"):
            if params["starting_after"] not in ids:
                raise invalid(f"Invalid starting_after id: {params['starting_after']}", param="starting_after")
            items = items[ids.index(params["starting_after"]) + 1:]
            chosen, has_more = items[:limit], len(items) > limit
        elif params.get("ending_before"):
            if params["ending_before"] not in ids:
                raise invalid(f"Invalid ending_before id: {params['ending_before']}", param="ending_before")
            items = items[:ids.index(params["ending_before"])]
            chosen, has_more = items[-limit:], len(items) > limit
        else:
            chosen, has_more = items[:limit], len(items) > limit
        expand = params.get("expand") or []
        return {"object": "list", "data": [self.snapshot(o, expand and [p.removeprefix("data.") for p in expand])
                                           for o in chosen],
                "has_more": has_more, "url": url}

    # -- events -------------------------------------------------------------------------------
    def event(self, type: str, obj: dict[str, Any], previous_attributes: dict | None = None,
              *, pending: bool = False, api_version: str | None = None, account: str | None = None) -> dict[str, Any]:
        """An event; `account`: it happened on that connected account (Stripe delivers those to Connect endpoints)."""
        data: dict[str, Any] = {"object": copy.deepcopy(obj)}
        if previous_attributes is not None:
            data["previous_attributes"] = previous_attributes
        evt = {"id": new_id("evt"), "object": "event", "api_version": api_version or self.event_api_version,
               "created": self.now(),
               "data": data, "livemode": False, "pending_webhooks": 1,
               "request": dict(getattr(self, "request_context", None) or {"id": None, "idempotency_key": None}),
               "type": type}
        if account:
            evt["account"] = account
        self.events.append(evt)
        if pending:
            self.pending_events.append(evt)
        return evt

    def take_events(self) -> list[dict[str, Any]]:
        """The events that API calls caused since the last call (what Stripe would now deliver)."""
        with self.lock:
            taken, self.pending_events = self.pending_events, []
            return taken

    # -- money --------------------------------------------------------------------------------
    def check_amount(self, amount: int, currency: str, param: str) -> None:
        if amount > MAXIMUM_AMOUNT:
            raise invalid("Amount must be no more than 99,999,999 minor units", param=param, code="amount_too_large")
        if currency in THREE_DECIMAL and amount % 10:
            raise invalid(f"Invalid amount for {currency}: the last digit must be 0", param=param)
        target = self.settlement_currency
        if target and target != currency:
            self.check_settlement_minimum(amount, currency, param)
            return
        minimum = MINIMUM_CHARGE.get(currency)
        if minimum is not None and amount < minimum:
            raise invalid(f"Amount must be at least {minimum} {currency}", param=param, code="amount_too_small")

    def check_settlement_minimum(self, amount: int, currency: str, param: str) -> None:
        """A charge in another currency must convert to at least the settlement currency's minimum.

        https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts: "The amount must
        convert to at least the minimum amount in your settlement currency"; Stripe answers
        `amount_too_small` with "Amount must convert to at least 50 cents. ¥49 converts to
        approximately €0.30." The conversion uses `exchange_rates` (Stripe's rate, not the app's).
        """
        target = self.settlement_currency
        minimum = SETTLEMENT_MINIMUM.get(target)
        if minimum is None:
            return
        if currency not in self.exchange_rates:
            raise FakeStripeError(f"the fake has no exchange rate for {currency} -> {target}: set exchange_rates")
        converted, _currency, _rate = self._to_settlement(amount, currency)
        if converted < minimum:
            major = Decimal(minimum).scaleb(-exponent(target))
            raise invalid(f"Amount must convert to at least {major} {target.upper()}. {Decimal(amount).scaleb(-exponent(currency))} {currency.upper()} "
                          f"converts to approximately {Decimal(converted).scaleb(-exponent(target))} {target.upper()}.",
                          param=param, code="amount_too_small")

    def fee_for(self, amount: int) -> int:
        return int((Decimal(amount) * self.fee_rate).quantize(Decimal(1), rounding=ROUND_HALF_UP)) + self.fee_fixed

    def _to_settlement(self, amount: int, currency: str) -> tuple[int, str, Decimal | None]:
        target = self.settlement_currency or currency
        if target == currency:
            return amount, currency, None
        rate = self.exchange_rates[currency]
        major = Decimal(amount).scaleb(-exponent(currency)) * rate
        converted = int(major.scaleb(exponent(target)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        return converted, target, rate

    def book(self, *, amount: int, currency: str, type: str, source: str, fee: int = 0,
             reporting_category: str | None = None, description: str | None = None,
             exchange_rate: Decimal | None = None, created: int | None = None, available_now: bool = False,
             fee_description: str = "Stripe processing fees") -> dict[str, Any]:
        """Add a balance transaction (amounts already in the balance currency).

        Incoming funds become available two days later; money leaving the balance (transfers,
        payouts) is debited from the available balance at once (`available_now`).
        """
        created = self.now() if created is None else created
        txn = {"id": new_id("txn"), "object": "balance_transaction", "amount": amount, "currency": currency,
               "fee": fee, "net": amount - fee, "created": created,
               "available_on": created if available_now else created + 2 * 86400,
               "status": "available" if available_now else "pending", "type": type, "source": source,
               "balance_type": "payments",
               "description": description, "reporting_category": reporting_category or type,
               "exchange_rate": float(exchange_rate) if exchange_rate is not None else None,
               "fee_details": [{"amount": fee, "currency": currency, "type": "stripe_fee",
                                "description": fee_description, "application": None}] if fee else []}
        self.store(txn)
        self.balance_transactions.append(txn)
        return txn

    def charge_succeeded(self, intent: dict[str, Any]) -> dict[str, Any]:
        """A successful charge for the intent, its balance transaction, and the intent marked succeeded.

        A pending charge (a bank debit while processing) becomes the succeeded one.
        """
        pending = self.objects.get(intent.get("latest_charge") or "")
        if pending is not None and pending["status"] == "pending":
            pending.update(status="succeeded", paid=True, captured=True, amount_captured=pending["amount"])
            if self.settle_immediately:
                self.settle(pending["id"])
            intent.update(status="succeeded", amount_received=intent["amount"], last_payment_error=None,
                          next_action=None)
            return pending
        charge = self.new_charge(intent, "succeeded")
        if self.settle_immediately:
            self.settle(charge["id"])
        intent.update(status="succeeded", latest_charge=charge["id"], amount_received=intent["amount"],
                      last_payment_error=None, next_action=None)
        return charge

    def new_charge(self, intent: dict[str, Any], status: str) -> dict[str, Any]:
        """A charge object for the intent's payment method: succeeded, pending (bank debits) or failed."""
        method = self.objects.get(intent.get("payment_method") or "") or {}
        details = {"type": method.get("type", "card")}
        if method.get("type"):
            details[method["type"]] = copy.deepcopy(method.get(method["type"]))
        return self.store({
            "id": new_id("ch"), "object": "charge", "amount": intent["amount"],
            "amount_captured": intent["amount"] if status == "succeeded" else 0, "amount_refunded": 0,
            "balance_transaction": None, "captured": status == "succeeded", "created": self.now(),
            "currency": intent["currency"], "customer": intent["customer"],
            "description": intent.get("description"), "disputed": False, "failure_code": None,
            "failure_message": None, "livemode": False, "metadata": dict(intent["metadata"]),
            "paid": status == "succeeded",
            "payment_intent": intent["id"], "payment_method": intent["payment_method"], "refunded": False,
            "status": status, "transfer_group": intent.get("transfer_group"),
            "billing_details": {"email": intent.get("receipt_email")}, "payment_method_details": details,
        })

    def settle(self, charge_id: str) -> dict[str, Any]:
        """Book a charge's balance transaction (done at once unless settle_immediately is False)."""
        with self.lock:
            charge = self.get("charge", charge_id)
            if charge["balance_transaction"]:
                return self.objects[charge["balance_transaction"]]
            amount, currency, rate = self._to_settlement(charge["amount"], charge["currency"])
            txn = self.book(amount=amount, currency=currency, type="charge", source=charge["id"],
                            fee=self.fee_for(amount), exchange_rate=rate, description=charge.get("description"))
            charge["balance_transaction"] = txn["id"]
            return txn

    def charge_refunded(self, charge: dict[str, Any], amount: int | None, *, reason: str | None = None,
                        metadata: dict | None = None, pending_events: bool = True) -> tuple[dict, list[dict]]:
        """A refund of `amount` (all that remains if None); returns it and the events Stripe would send."""
        remaining = charge["amount"] - charge["amount_refunded"]
        if remaining <= 0:
            raise invalid(f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded")
        amount = remaining if amount is None else amount
        if amount <= 0:
            raise invalid("Invalid positive integer", param="amount")
        if amount > remaining:
            raise invalid(f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})",
                          param="amount", code="amount_too_large")
        refund = self.store({
            "id": new_id("re"), "object": "refund", "amount": amount, "currency": charge["currency"],
            "charge": charge["id"], "payment_intent": charge["payment_intent"], "created": self.now(),
            "metadata": dict(metadata or {}), "reason": reason, "status": self.refund_status,
            "balance_transaction": None,
        })
        previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        txn_amount, currency, rate = self._to_settlement(amount, charge["currency"])
        txn = self.book(amount=-txn_amount, currency=currency, type="refund", source=refund["id"],
                        exchange_rate=rate, description="REFUND FOR CHARGE")
        refund["balance_transaction"] = txn["id"]
        events = [self.event("charge.refunded", charge, previous, pending=pending_events),
                  self.event("refund.created", refund, pending=pending_events)]
        self._private.setdefault(refund["id"], {})["events"] = events
        return refund, events


def check_metadata(value: Any, param: str = "metadata") -> dict[str, str]:
    """Stripe's metadata rules: at most 50 keys of up to 40 characters, values up to 500 characters."""
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise invalid("Invalid hash", param=param)
    if len(value) > 50:
        raise invalid("Metadata can have at most 50 keys", param=param)
    for key, item in value.items():
        # https://docs.stripe.com/metadata: "up to 50 keys, with key names up to 40 characters long and
        # values up to 500 characters long"; keys may not contain square brackets
        if len(key) > 40 or "[" in key or "]" in key or not isinstance(item, str) or len(item) > 500:
            raise invalid(f"Invalid metadata entry {key!r}", param=f"{param}[{key}]")
    return {key: item for key, item in value.items() if item != ""}


def as_int(value: Any, param: str) -> int:
    try:
        if isinstance(value, bool):
            raise ValueError
        return int(value)
    except (TypeError, ValueError):
        raise invalid(f"Invalid integer: {value}", param=param) from None


def as_bool(value: Any, param: str) -> bool:
    if value in (True, "true"):
        return True
    if value in (False, "false", None, ""):
        return False
    raise invalid(f"Invalid boolean: {value}", param=param)
