"""Reconciliation: the ledger against the processor's balance transactions for a period.

The processor's balance history is the other half of every entry the ledger books against
`processor:<provider>`: a charge (and its fee), a refund, a dispute (and its fee). Both sides are
grouped by payment — a pledge, or a period of a recurring gift (bookkeeping.Payment) — the
processor's side through the expanded source of each balance transaction (its charge, refund or
dispute, which name the payment intent, the charge and our pledge id or recurring support and
period) — and compared payment by payment:

* a charge, refund, dispute or fee at the processor with nothing in the ledger (`missing_in_ledger`),
  including a second charge for a pledge the ledger booked once;
* a ledger entry with no movement at the processor (`missing_at_processor`);
* both present but for different amounts (`amount_differs`), compared in the processor's currency
  for charges and fees (the entry's processor_amount/processor_currency, or the pledge's settled
  net + fee when the processor converted), and in the campaign's currency for refunds and disputes
  (converted as the webhooks convert them, so one minor unit of rounding is tolerated there).

Balance transactions that concern no pledge (a transfer to an organization and its reversals, a
payout to the platform's bank and its failure, an adjustment) must match a ledger entry against
the processor's account whose processor_ref names them (the transfer, the reversal, the payout's
balance transaction), or they are listed too. Refunds, disputes and fees are compared net: a won
dispute's reinstatement offsets its withdrawal on both sides.

Movements near the edges of the period are paired across a margin (a day by default), so a
charge booked at 23:59:59 that the processor dated 00:00:01 the next day is not a difference.
`compare` is the pure part; `reconcile` reads both sides and calls it.
"""
from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import or_, select

from webapp.extensions import db
from webapp.ledger.models import LedgerEntry
from webapp.money import Money
from webapp.payments.bookkeeping import Payment, payment_of
from webapp.payments.models import Pledge
from webapp.payments.recurring.models import RecurringCharge
from webapp.payments.recurring.services import PERIOD_KEY, SUPPORT_KEY

MISSING_IN_LEDGER = "missing_in_ledger"
MISSING_AT_PROCESSOR = "missing_at_processor"
AMOUNT_DIFFERS = "amount_differs"

CHARGE_TYPES = frozenset({"charge", "payment"})
REFUND_TYPES = frozenset({"refund", "payment_refund", "refund_failure", "payment_failure_refund"})
#: ledger kinds that move money at the processor, and what they are there
LEDGER_MOVEMENT = {"charge": "charge", "recurring_charge": "charge", "tip": "charge", "processor_fee": "fee", "processor_fee_return": "fee",
                   "refund": "refund", "tip_refund": "refund", "dispute": "dispute", "tip_dispute": "dispute",
                   "dispute_reinstated": "dispute", "tip_dispute_reinstated": "dispute"}


@dataclass(frozen=True)
class Difference:
    problem: str  #: MISSING_IN_LEDGER, MISSING_AT_PROCESSOR or AMOUNT_DIFFERS
    movement: str  #: charge, fee, refund, dispute or other
    pledge_id: int | None
    #: the processor's ids: balance transactions, or the charge the ledger names
    processor_ref: str | None
    ledger: Money | None = None
    processor: Money | None = None
    note: str = ""
    #: a period of a recurring gift ("recurring:<support>:<period>"), when it is about one
    subject: str = ""

    def describe(self) -> str:
        who = (f"pledge {self.pledge_id}" if self.pledge_id is not None
               else self.subject.replace(":", " ", 1) if self.subject else "no pledge")
        figures = []
        if self.ledger is not None:
            figures.append(f"ledger {_fmt(self.ledger)}")
        if self.processor is not None:
            figures.append(f"processor {_fmt(self.processor)}")
        text = f"{self.problem:<20} {self.movement:<8} {who:<14} {self.processor_ref or '-'}"
        if figures:
            text += "  " + ", ".join(figures)
        return text + (f"  ({self.note})" if self.note else "")


def _fmt(money: Money) -> str:
    return f"{money.amount} {money.currency}"


# -- the processor's side -----------------------------------------------------------------------
@dataclass(frozen=True)
class Movement:
    """One balance transaction, classified, in the processor's (balance) currency."""

    txn_id: str
    movement: str  #: charge, refund, dispute or other
    amount: int  #: as the processor signs it: + into the balance, - out of it
    fee: int
    currency: str
    created: int
    source: dict[str, Any]

    @classmethod
    def of(cls, txn: dict[str, Any]) -> Movement:
        source = txn.get("source")
        source = source if isinstance(source, dict) else {"id": source}
        kind, category = txn.get("type"), txn.get("reporting_category")
        if kind in CHARGE_TYPES:
            movement = "charge"
        elif kind in REFUND_TYPES or category in ("refund", "refund_failure"):
            movement = "refund"
        elif category == "dispute" or source.get("object") == "dispute" or str(source.get("id") or "").startswith("dp_"):
            movement = "dispute"
        else:
            movement = "other"
        return cls(txn_id=txn["id"], movement=movement, amount=int(txn["amount"]), fee=int(txn.get("fee") or 0),
                   currency=str(txn["currency"]).upper(), created=int(txn["created"]), source=source)

    def ids(self) -> set[str]:
        """Every processor id this movement names: its own, its source's, the source's charge and intent."""
        found = {self.txn_id}
        for key in ("id", "charge", "payment_intent"):
            value = self.source.get(key)
            if isinstance(value, dict):
                value = value.get("id")
            if value:
                found.add(str(value))
        return found

    def pledge_hint(self) -> int | None:
        value = str((self.source.get("metadata") or {}).get("pledge_id") or "")
        return int(value) if value.isdigit() else None

    def subject_hint(self) -> str | None:
        """The payment its source's metadata names: "pledge:<id>" or "recurring:<support>:<period>"."""
        metadata = self.source.get("metadata") or {}
        if self.pledge_hint() is not None:
            return f"pledge:{self.pledge_hint()}"
        support, period = str(metadata.get(SUPPORT_KEY) or ""), str(metadata.get(PERIOD_KEY) or "")
        return f"recurring:{support}:{period}" if support.isdigit() and period else None


# -- comparing ------------------------------------------------------------------------------------
@dataclass
class _Side:
    """What one side holds for one pledge."""

    movements: list[Movement] = field(default_factory=list)
    entries: list[LedgerEntry] = field(default_factory=list)


def compare(transactions: Iterable[dict[str, Any]], entries: Iterable[LedgerEntry],
            pledges: Iterable[Pledge | RecurringCharge], period: tuple[datetime, datetime]) -> list[Difference]:
    """Every difference between the processor's balance transactions and the ledger's entries.

    `pledges` are the payments concerned: pledges and periods of recurring gifts. `transactions` and
    `entries` may reach beyond `period` (the margin); only payments and movements with something inside
    the period are examined.
    """
    start, end = period
    start_ts, end_ts = _unix(start), _unix(end)
    by_subject: dict[str, Payment] = {}
    by_ref: dict[str, str] = {}
    for row in pledges:
        payment = payment_of(row)
        by_subject[payment.subject] = payment
        for ref in (row.charge_id, row.payment_intent_id):
            if ref:
                by_ref[ref] = payment.subject

    sides: dict[str, _Side] = defaultdict(_Side)
    examined: set[str] = set()
    loose_movements: list[Movement] = []
    for movement in map(Movement.of, transactions):
        hint = movement.subject_hint()
        subject = hint if hint in by_subject else next(
            (by_ref[i] for i in sorted(movement.ids()) if i in by_ref), None)
        inside = start_ts <= movement.created < end_ts
        if subject is None:
            if inside:
                loose_movements.append(movement)
            continue
        sides[subject].movements.append(movement)
        if inside:
            examined.add(subject)

    loose_entries: list[LedgerEntry] = []
    for entry in entries:
        subject = _subject_of(entry)
        inside = start <= entry.occurred_at < end
        if subject is None or subject not in by_subject or entry.kind not in LEDGER_MOVEMENT:
            if inside:
                loose_entries.append(entry)
            continue
        sides[subject].entries.append(entry)
        if inside:
            examined.add(subject)

    differences: list[Difference] = []
    for subject in sorted(examined, key=_subject_order):
        differences += _compare_payment(by_subject[subject], sides[subject])
    differences += _compare_loose(loose_movements, loose_entries)
    return differences


def _subject_order(subject: str) -> tuple:
    kind, _, rest = subject.partition(":")
    return (kind != "pledge", int(rest) if rest.isdigit() else 0, rest)


#: a period of a recurring gift in an entry's key ("fee:recurring:3:2026-12", "refund:recurring:3:2026:2500")
_RECURRING_IN_KEY = re.compile(r"(?:^|:)recurring:(\d+):(\d{4}(?:-\d{2})?)(?::|$)")


def _subject_of(entry: LedgerEntry) -> str | None:
    """The payment an entry is about: its cause names a pledge; a recurring gift's entries name the period in
    their key (their cause is the gift)."""
    pledge_id = _pledge_of(entry)
    if pledge_id is not None:
        return f"pledge:{pledge_id}"
    if (entry.cause or "").startswith("recurring:"):
        found = _RECURRING_IN_KEY.search(entry.key or "")
        if found:
            return f"recurring:{found.group(1)}:{found.group(2)}"
    return None


def _pledge_of(entry: LedgerEntry) -> int | None:
    kind, _, ident = (entry.cause or "").partition(":")
    return int(ident) if kind == "pledge" and ident.isdigit() else None


def _compare_payment(pledge: Payment, side: _Side) -> list[Difference]:
    found: list[Difference] = []
    of = defaultdict(list)
    for movement in side.movements:
        of[movement.movement].append(movement)
    booked = defaultdict(list)
    for entry in side.entries:
        booked[LEDGER_MOVEMENT[entry.kind]].append(entry)
    found += _charges(pledge, of["charge"], booked["charge"])
    found += _fees(pledge, of["charge"] + of["dispute"], booked["fee"])
    found += _takebacks(pledge, "refund", of["refund"], booked["refund"])
    found += _takebacks(pledge, "dispute", of["dispute"], booked["dispute"])
    for movement in of["other"]:  # an adjustment the processor tied to this pledge's charge
        found.append(Difference(MISSING_IN_LEDGER, "other", _pid(pledge), movement.txn_id,
                                processor=Money(movement.amount, movement.currency)))
    return [replace(d, subject=_sid(pledge)) for d in found]


def _charges(pledge: Payment, movements: list[Movement], entries: list[LedgerEntry]) -> list[Difference]:
    charge = next((e for e in entries if e.kind in ("charge", "recurring_charge")), None)
    tips = [e for e in entries if e.kind == "tip"]
    if not movements:
        if charge is None:
            return []
        return [Difference(MISSING_AT_PROCESSOR, "charge", _pid(pledge), charge.processor_ref,
                           ledger=_processor_money(charge))]
    if charge is None:
        return [Difference(MISSING_IN_LEDGER, "charge", _pid(pledge), m.txn_id, processor=Money(m.amount, m.currency))
                for m in movements]
    first, *extra = sorted(movements, key=lambda m: (m.created, m.txn_id))
    found = [Difference(MISSING_IN_LEDGER, "charge", _pid(pledge), m.txn_id, processor=Money(m.amount, m.currency),
                        note="a further charge for a pledge the ledger booked once") for m in extra]
    expected = _processor_money(charge)
    tip = sum(_processor_money(e).amount for e in tips if _processor_money(e).currency == expected.currency)
    expected = Money(expected.amount + tip, expected.currency)
    if expected.currency != first.currency:
        settled, fee = pledge.settled, pledge.fee
        if settled is not None and settled.currency.upper() == first.currency:
            expected = Money(settled.amount + (fee.amount if fee else 0), first.currency)
        else:
            return found + [Difference(AMOUNT_DIFFERS, "charge", _pid(pledge), first.txn_id, ledger=expected,
                                       processor=Money(first.amount, first.currency),
                                       note="the processor converted it and the pledge has no settled figures")]
    if expected.amount != first.amount:
        found.append(Difference(AMOUNT_DIFFERS, "charge", _pid(pledge), first.txn_id, ledger=expected,
                                processor=Money(first.amount, first.currency)))
    return found


def _processor_money(entry: LedgerEntry) -> Money:
    """What the processor moved for this entry: its own figure when it differs from the ledger's."""
    if entry.processor_amount is not None and entry.processor_currency:
        return Money(entry.processor_amount, entry.processor_currency.upper())
    return entry.money


def _fees(pledge: Payment, movements: list[Movement], entries: list[LedgerEntry]) -> list[Difference]:
    processor: dict[str, int] = defaultdict(int)
    refs: dict[str, list[str]] = defaultdict(list)
    for movement in movements:
        if movement.fee:
            processor[movement.currency] += movement.fee
            refs[movement.currency].append(movement.txn_id)
    ledger: dict[str, int] = defaultdict(int)
    for entry in entries:  # a fee the processor took, less one it gave back (a won dispute's)
        money = _processor_money(entry)
        ledger[money.currency] += money.amount * _outwards(entry)
    found = []
    for currency in sorted(set(processor) | set(ledger)):
        theirs, ours = processor.get(currency, 0), ledger.get(currency, 0)
        if theirs == ours:
            continue
        ref = ",".join(refs.get(currency, [])) or pledge.charge_id
        if not ours:
            found.append(Difference(MISSING_IN_LEDGER, "fee", _pid(pledge), ref, processor=Money(theirs, currency)))
        elif not theirs:
            found.append(Difference(MISSING_AT_PROCESSOR, "fee", _pid(pledge), ref, ledger=Money(ours, currency)))
        else:
            found.append(Difference(AMOUNT_DIFFERS, "fee", _pid(pledge), ref, ledger=Money(ours, currency),
                                    processor=Money(theirs, currency)))
    return found


def _takebacks(pledge: Payment, what: str, movements: list[Movement], entries: list[LedgerEntry]) -> list[Difference]:
    """Refunds or disputes, per pledge, in the campaign's currency as the ledger books them.

    Both sides are net: a won dispute's reinstatement (money back into the processor's balance)
    offsets its withdrawal on each side.
    """
    ours = sum(e.amount * _outwards(e) for e in entries)
    ref = ",".join(m.txn_id for m in movements) or pledge.charge_id
    if not movements:
        if not ours:
            return []
        return [Difference(MISSING_AT_PROCESSOR, what, _pid(pledge), ref, ledger=Money(ours, pledge.money.currency))]
    taken = 0  # in the charge's currency
    for movement in movements:
        value = _in_charge_currency(pledge, movement)
        if value is None:
            return [Difference(AMOUNT_DIFFERS, what, _pid(pledge), ref, ledger=Money(ours, pledge.money.currency),
                               processor=Money(-movement.amount, movement.currency),
                               note="the processor converted it; no amount in the charge's currency to compare")]
        taken += value
    theirs = _to_campaign_currency(pledge, taken, what)
    shown = Money(theirs, pledge.money.currency)
    if not ours and theirs:
        return [Difference(MISSING_IN_LEDGER, what, _pid(pledge), ref, processor=shown)]
    # converted as the webhooks convert (floor of a share), one minor unit per movement may differ
    slack = 0 if pledge.charge.currency == pledge.money.currency else len(movements)
    if abs(theirs - ours) > slack:
        return [Difference(AMOUNT_DIFFERS, what, _pid(pledge), ref, ledger=Money(ours, pledge.money.currency), processor=shown)]
    return []


def _pid(payment: Payment) -> int | None:
    return payment.owner.get("pledge_id")


def _sid(payment: Payment) -> str:
    """Differences about a pledge name it by its id; about a period of a recurring gift, by the period."""
    return "" if "pledge_id" in payment.owner else payment.subject


def _outwards(entry: LedgerEntry) -> int:
    """+1 for an entry that takes money out of the processor's balance (credits it), -1 for one that brings it in."""
    return 1 if entry.credit_account.startswith("processor:") else -1


def _in_charge_currency(pledge: Payment, movement: Movement) -> int | None:
    """What the movement took back from the backer's charge, in the charge's currency (+ out, - back in)."""
    if movement.currency == pledge.charge.currency.upper():
        return -movement.amount
    amount, currency = movement.source.get("amount"), str(movement.source.get("currency") or "").upper()
    if amount is None or currency != pledge.charge.currency.upper():
        return None
    return -int(amount) if movement.amount > 0 else int(amount)


def _to_campaign_currency(pledge: Payment, charged: int, what: str) -> int:
    """As the webhooks convert: a share of pledge and tip, which the charge carried both.

    A refund gives the tip back only when it is whole; a dispute takes back all that was not refunded.
    """
    whole = pledge.money.amount + pledge.tip.amount
    if charged >= pledge.charge.amount:
        return whole
    share = whole * charged // pledge.charge.amount
    return min(pledge.money.amount, share) if what == "refund" else share


def _compare_loose(movements: list[Movement], entries: list[LedgerEntry]) -> list[Difference]:
    """Movements and entries that concern no pledge: paired by the processor's id in the entry."""
    found = []
    unmatched = list(entries)
    for movement in movements:
        entry = next((e for e in unmatched if e.processor_ref and e.processor_ref in movement.ids()), None)
        theirs = Money(movement.amount, movement.currency)
        if entry is None:
            found.append(Difference(MISSING_IN_LEDGER, movement.movement, None, movement.txn_id, processor=theirs,
                                    note=f"{movement.source.get('object') or 'balance transaction'} "
                                         f"{movement.source.get('id') or ''}".strip()))
            continue
        unmatched.remove(entry)
        ours = _processor_money(entry)
        if (abs(movement.amount), movement.currency) != (ours.amount, ours.currency):
            found.append(Difference(AMOUNT_DIFFERS, movement.movement, None, movement.txn_id, ledger=ours,
                                    processor=theirs))
    for entry in unmatched:
        found.append(Difference(MISSING_AT_PROCESSOR, entry.kind, None, entry.processor_ref,
                                ledger=_processor_money(entry), note=f"ledger entry {entry.key}"))
    return found


def _unix(moment: datetime) -> int:
    return int(moment.replace(tzinfo=UTC).timestamp()) if moment.tzinfo is None else int(moment.timestamp())


# -- reading both sides -----------------------------------------------------------------------------
def period_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """[first 00:00, the day after last 00:00), naive UTC as everywhere in the application."""
    if last < first:
        raise ValueError("the period ends before it starts")
    return datetime.combine(first, time.min), datetime.combine(last + timedelta(days=1), time.min)


def supports_reconciliation(provider) -> bool:
    return callable(getattr(provider, "list_balance_transactions", None))


def reconcile(first: date, last: date, provider=None, margin: timedelta = timedelta(days=1)) -> list[Difference]:
    """Every difference between the ledger and the processor's balance for the days first..last (UTC)."""
    from webapp.ledger import services as ledger
    from webapp.payments.providers import get_provider

    provider = provider or get_provider()
    if not supports_reconciliation(provider):
        raise RuntimeError(f"the {provider.name} provider has no balance history to reconcile against")
    start, end = period_bounds(first, last)
    transactions = provider.list_balance_transactions(start - margin, end + margin, expand_sources=True)
    account = ledger.processor(provider.name)
    entries = db.session.scalars(
        select(LedgerEntry).where(or_(LedgerEntry.debit_account == account, LedgerEntry.credit_account == account),
                                  LedgerEntry.occurred_at >= start - margin, LedgerEntry.occurred_at < end + margin)
        .order_by(LedgerEntry.id)).all()
    movements = [Movement.of(t) for t in transactions]
    refs = set().union(*(m.ids() for m in movements)) if movements else set()
    hinted = {m.pledge_hint() for m in movements} | {_pledge_of(e) for e in entries}
    hinted.discard(None)
    conditions = [Pledge.id.in_(hinted)] if hinted else []
    if refs:
        conditions += [Pledge.charge_id.in_(refs), Pledge.payment_intent_id.in_(refs)]
    pledges = db.session.scalars(select(Pledge).where(or_(*conditions))).all() if conditions else []
    return compare(transactions, entries, [*pledges, *_renewals(movements, entries, refs)], (start, end))


def _renewals(movements: list[Movement], entries: list[LedgerEntry], refs: set[str]) -> list[RecurringCharge]:
    """The periods of recurring gifts the movements or the entries name (by metadata, key or processor id)."""
    named = {m.subject_hint() for m in movements} | {_subject_of(e) for e in entries}
    pairs = {tuple(s.split(":")[1:3]) for s in named if s and s.startswith("recurring:")}
    conditions = []
    if pairs:
        conditions.append(RecurringCharge.support_id.in_({int(support) for support, _ in pairs}))
    if refs:
        conditions += [RecurringCharge.charge_id.in_(refs), RecurringCharge.payment_intent_id.in_(refs)]
    if not conditions:
        return []
    found = db.session.scalars(select(RecurringCharge).where(or_(*conditions))).all()
    return [c for c in found if (str(c.support_id), c.period) in pairs
            or c.charge_id in refs or c.payment_intent_id in refs]
