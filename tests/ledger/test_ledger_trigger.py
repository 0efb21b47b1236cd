"""PostgreSQL itself refuses to change a ledger row: raw SQL, which no ORM hook sees, is refused too,
and the tests' cleanup between tests still empties the table."""
from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.conftest import empty_database
from webapp.extensions import db
from webapp.ledger import services as ledger
from webapp.ledger.models import LedgerEntry
from webapp.money import Money

pytestmark = pytest.mark.pg_only


def _book() -> int:
    entry = ledger.book(key="charge:pledge:1", kind="charge", debit=ledger.processor("stripe"),
                        credit=ledger.campaign_account(1), money=Money(1_000, "EUR"), cause="pledge:1",
                        campaign_id=1)
    db.session.commit()
    return entry.id


@pytest.mark.parametrize("statement", [
    "UPDATE ledger_entries SET amount = 1",
    "UPDATE ledger_entries SET memo = 'edited' WHERE id = :id",
    "DELETE FROM ledger_entries",
    "DELETE FROM ledger_entries WHERE id = :id",
], ids=["update-all", "update-one", "delete-all", "delete-one"])
def test_raw_sql_cannot_change_a_ledger_row(statement):
    ident = _book()
    with db.engine.connect() as conn:  # a connection of its own: no ORM, no session hook
        with pytest.raises(DBAPIError, match="ledger entries"):
            conn.execute(text(statement), {"id": ident})
        conn.rollback()
    assert db.session.scalar(text("SELECT amount FROM ledger_entries WHERE id = :id"), {"id": ident}) == 1_000


def test_new_entries_are_still_booked():
    _book()
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO ledger_entries (key, kind, debit_account, credit_account, amount, currency, "
                          "cause, occurred_at) VALUES ('k2', 'charge', 'a', 'b', 5, 'EUR', 'pledge:2', now())"))
    assert db.session.scalar(text("SELECT count(*) FROM ledger_entries")) == 2


def test_the_trigger_is_created_with_the_tables():
    names = db.session.scalars(text(
        "SELECT tgname FROM pg_trigger WHERE tgrelid = 'ledger_entries'::regclass AND NOT tgisinternal")).all()
    assert "ledger_entries_immutable" in names


def test_the_tests_cleanup_still_empties_the_ledger():
    _book()
    db.session.remove()
    empty_database(db.engine)
    assert db.session.scalar(text("SELECT count(*) FROM ledger_entries")) == 0
    assert LedgerEntry.__table__.info.get("append_only") is True


def test_the_migrations_create_the_same_trigger_as_the_models():
    """The revision copies the models' SQL (a revision must not change when the models do): same text."""
    import importlib.util

    from tests.conftest import ROOT
    from webapp.ledger import models

    path = next((ROOT / "migrations" / "versions").glob("*_ledger_immutable_trigger.py"))
    spec = importlib.util.spec_from_file_location("ledger_trigger_revision", path)
    revision = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(revision)
    assert revision.REFUSE_CHANGE_FUNCTION == models.REFUSE_CHANGE_FUNCTION
    assert revision.IMMUTABLE_TRIGGER == models.IMMUTABLE_TRIGGER
