"""The interface a payout API (mobile money, bank) will implement; none is wired in yet.

Today a host pays by itself and records each payment (method, reference, proof). When a mobile-money
operator's payout API is added, it implements PayoutProvider and the host's "record a payment" form
can offer "send it" instead. Do not fake one: a payment the platform claims to have sent must have been.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from webapp.money import Money


@dataclass(frozen=True)
class PayoutOrder:
    expense_id: int
    money: Money
    #: the payee's wallet number or account, read from the expense's private details
    destination: str
    idempotency_key: str


@dataclass(frozen=True)
class PayoutReceipt:
    reference: str
    #: "sent", "pending" or "failed", as the operator reports it
    status: str


class PayoutProvider(Protocol):
    name: str

    def send(self, order: PayoutOrder) -> PayoutReceipt: ...

    def status(self, reference: str) -> PayoutReceipt: ...
