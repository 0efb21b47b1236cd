"""Booking entries and reading balances. Every figure of money shown comes from, or is checked against, here."""
from __future__ import annotations

from collections import defaultdict
from contextlib import contextmanager
from datetime import date, datetime

from sqlalchemy import case, func, select

from webapp.clock import utcnow
from webapp.extensions import db
from webapp.ledger.models import LedgerEntry  # noqa: F401  (re-exported for callers)
from webapp.money import Money

#: Accounts, by name. Per-object accounts carry the object's id.
EXTERNAL_BACKERS = "external:backers"
PLATFORM_REVENUE = "platform:revenue"
PROCESSOR_FEES = "expense:processor_fees"


def processor(provider: str) -> str:
    return f"processor:{provider}"


def campaign_account(campaign_id: int) -> str:
    return f"campaign:{campaign_id}"


def organization_account(organization_id: int) -> str:
    return f"organization:{organization_id}"


def organization_bank(organization_id: int) -> str:
    return f"external:bank:organization:{organization_id}"


def pooled_fund_account(fund_id: int) -> str:
    """What an organization's pooled fund holds for its members to allocate (webapp.governance)."""
    return f"pooled_fund:{fund_id}"


def fund_account(fund_id: int) -> str:
    """What an institution has committed through its match fund and owes the campaigns."""
    return f"fund:{fund_id}"


def book(*, key: str, kind: str, debit: str, credit: str, money: Money, cause: str,
         campaign_id: int | None = None, memo: str | None = None, processor_ref: str | None = None,
         processor_money: Money | None = None, occurred_at: datetime | None = None) -> LedgerEntry | None:
    """Book one movement. Idempotent by `key`: booking the same cause again books nothing."""
    if money.amount == 0:
        return None
    if money.amount < 0:
        debit, credit, money = credit, debit, Money(-money.amount, money.currency)
    values = dict(key=key, kind=kind, debit_account=debit, credit_account=credit, amount=money.amount,
                  currency=money.currency, campaign_id=campaign_id, cause=cause, memo=memo,
                  processor_ref=processor_ref,
                  processor_amount=processor_money.amount if processor_money else None,
                  processor_currency=processor_money.currency if processor_money else None)
    if occurred_at is not None:
        values["occurred_at"] = occurred_at
    queued = db.session.info.get(_QUEUED)
    if queued is not None:  # inside booked_together(): one INSERT for all at its end
        values.setdefault("occurred_at", utcnow())  # every row of one multi-row INSERT names the same columns
        queued.setdefault(key, values)
        return None
    # One statement: the unique key decides. INSERT ... ON CONFLICT (key) DO NOTHING RETURNING the row
    # as an ORM object of this session; nothing returned means the key was booked before (by this unit
    # of work, flushed first, or committed earlier), and that entry is the answer. A concurrent booking
    # of the same key waits on the key's index and then books nothing.
    # No autoflush: the ledger has no foreign key and nothing but book() writes it, so the pending changes of
    # the unit of work (a pledge's new state, its event) cannot change what this INSERT does; they go in
    # with the unit of work's next flush, one UPDATE per row however many entries it books.
    with db.session.no_autoflush:
        entry = db.session.scalar(_insert_for(db.session.get_bind().dialect.name)(LedgerEntry).values(**values)
                                  .on_conflict_do_nothing(index_elements=[LedgerEntry.key]).returning(LedgerEntry))
    if entry is None:
        entry = db.session.scalar(select(LedgerEntry).where(LedgerEntry.key == key))
    return entry


#: db.session.info key of the entries booked inside booked_together(), by key, not inserted yet
_QUEUED = "harambee.ledger_queued"


@contextmanager
def booked_together():
    """Within it, book() inserts nothing and returns None; the entries go in at its end, in one
    INSERT ... ON CONFLICT (key) DO NOTHING, in the same transaction, so the unique key decides as it does
    for one (a key booked before, or twice inside, books once). For loops that book many entries and
    read no balance meanwhile (a collection batch): a balance read inside would not see them.
    """
    if db.session.info.get(_QUEUED) is not None:  # already inside one: its end inserts these too
        yield
        return
    db.session.info[_QUEUED] = queued = {}
    try:
        yield
    finally:
        db.session.info.pop(_QUEUED, None)
    if queued:
        db.session.execute(_insert_for(db.session.get_bind().dialect.name)(LedgerEntry)
                           .values(list(queued.values()))
                           .on_conflict_do_nothing(index_elements=[LedgerEntry.key]))


def _insert_for(dialect: str):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def balance(account: str, currency: str) -> Money:
    """Credits minus debits: what the account holds (for the campaign: what it may still pay out)."""
    value = db.session.scalar(
        select(func.coalesce(func.sum(case((LedgerEntry.credit_account == account, LedgerEntry.amount),
                                           else_=-LedgerEntry.amount)), 0))
        .where((LedgerEntry.credit_account == account) | (LedgerEntry.debit_account == account),
               LedgerEntry.currency == currency))
    return Money(int(value or 0), currency)


def flows(campaign_id: int, currency: str) -> dict[str, Money]:
    """Per kind, the total booked for a campaign: charges, fees, refunds, matches, transfers... (one query)."""
    rows = db.session.execute(
        select(LedgerEntry.kind, func.sum(LedgerEntry.amount))
        .where(LedgerEntry.campaign_id == campaign_id, LedgerEntry.currency == currency)
        .group_by(LedgerEntry.kind))
    totals: dict[str, Money] = defaultdict(lambda: Money(0, currency))
    for kind, amount in rows:
        totals[kind] = Money(int(amount), currency)
    return totals


def daily_inflows(campaign_id: int, currency: str) -> list[tuple[date, Money, int]]:
    """Money in by day for the transparency page: (day, amount, number of pledges)."""
    day = func.date(LedgerEntry.occurred_at)
    rows = db.session.execute(
        select(day, func.sum(LedgerEntry.amount), func.count(LedgerEntry.id))
        .where(LedgerEntry.campaign_id == campaign_id, LedgerEntry.currency == currency,
               LedgerEntry.kind.in_(("charge", "match")))
        .group_by(day).order_by(day))
    return [(d if isinstance(d, date) else date.fromisoformat(str(d)), Money(int(a), currency), int(n))
            for d, a, n in rows]


def entries_for(campaign_id: int, limit: int = 500) -> list[LedgerEntry]:
    return list(db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.campaign_id == campaign_id)
        .order_by(LedgerEntry.occurred_at, LedgerEntry.id).limit(limit)))


def trial_balance() -> dict[tuple[str, str], int]:
    """Every account's balance per currency; the sum over accounts is zero for every currency."""
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for debit, credit, amount, currency in db.session.execute(
            select(LedgerEntry.debit_account, LedgerEntry.credit_account, LedgerEntry.amount, LedgerEntry.currency)):
        totals[(debit, currency)] -= amount
        totals[(credit, currency)] += amount
    return dict(totals)
