"""Ledger entries: one debit and one credit of the same amount, never updated, never deleted."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DDL, BigInteger, CheckConstraint, Index, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from webapp.clock import utcnow
from webapp.extensions import db
from webapp.money import Money


class LedgerImmutable(Exception):
    """A ledger row was about to change: corrections are new entries."""


class LedgerEntry(db.Model):
    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("debit_account <> credit_account", name="two_accounts"),
        Index("ix_ledger_entries_debit", "debit_account", "currency"),
        Index("ix_ledger_entries_credit", "credit_account", "currency"),
        # rows are only ever inserted: PostgreSQL refuses UPDATE and DELETE (see the trigger below);
        # the tests' cleanup empties such tables with TRUNCATE
        {"info": {"append_only": True}},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: what booked it, unique: booking the same cause twice is refused by the database
    key: Mapped[str] = mapped_column(String(120), unique=True)
    #: charge, processor_fee, refund, dispute, match, match_return, platform_fee, tip, transfer, payout
    kind: Mapped[str] = mapped_column(String(30), index=True)
    debit_account: Mapped[str] = mapped_column(String(80))
    credit_account: Mapped[str] = mapped_column(String(80))
    #: minor units of `currency`
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    #: the campaign it concerns, for per-campaign statements (None for platform-wide movements)
    campaign_id: Mapped[int | None] = mapped_column(index=True)
    #: the cause: "pledge:12", "fund:3", "transfer:7"
    cause: Mapped[str] = mapped_column(String(60), index=True)
    #: what the processor moved when it differs from `amount` (another currency), for reconciliation
    processor_amount: Mapped[int | None] = mapped_column(BigInteger)
    processor_currency: Mapped[str | None] = mapped_column(String(3))
    #: the processor's id of the movement (charge, refund, transfer), for reconciliation
    processor_ref: Mapped[str | None] = mapped_column(String(255), index=True)
    #: a public line for the transparency page ("Pledge by Afiavi", "Match by Ville de Lyon")
    memo: Mapped[str | None] = mapped_column(String(200))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    @property
    def money(self) -> Money:
        return Money(self.amount, self.currency)


@event.listens_for(LedgerEntry, "before_update")
def _refuse_update(mapper, connection, target):
    raise LedgerImmutable(f"ledger entry {target.id} cannot change; book a correcting entry")


@event.listens_for(LedgerEntry, "before_delete")
def _refuse_delete(mapper, connection, target):
    raise LedgerImmutable(f"ledger entry {target.id} cannot be deleted; book a correcting entry")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(state):
    """`session.execute(update(LedgerEntry)...)` skips the per-row hooks above: refuse it here."""
    if (state.is_update or state.is_delete) and any(m.class_ is LedgerEntry for m in state.all_mappers):
        raise LedgerImmutable("ledger entries cannot be updated or deleted in bulk; book correcting entries")


# -- PostgreSQL holds the rule itself, for raw SQL and every other client --------------------------
#: kept identical in the migration that creates it on existing databases
REFUSE_CHANGE_FUNCTION = """
CREATE OR REPLACE FUNCTION ledger_entries_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = 'ledger entries are never changed: ' || TG_OP || ' refused; book a correcting entry',
        ERRCODE = 'integrity_constraint_violation';
END
$$
"""
IMMUTABLE_TRIGGER = """
CREATE TRIGGER ledger_entries_immutable BEFORE UPDATE OR DELETE ON ledger_entries
FOR EACH ROW EXECUTE FUNCTION ledger_entries_refuse_change()
"""

# metadata.create_all (the tests' schema) creates it too; migrations do on real databases
event.listen(LedgerEntry.__table__, "after_create", DDL(REFUSE_CHANGE_FUNCTION).execute_if(dialect="postgresql"))
event.listen(LedgerEntry.__table__, "after_create", DDL(IMMUTABLE_TRIGGER).execute_if(dialect="postgresql"))
