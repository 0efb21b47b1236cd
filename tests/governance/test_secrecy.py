"""Who voted is kept apart from what they voted: no table, no key order and no log line joins the two."""
from __future__ import annotations

import logging
import re

from sqlalchemy import DateTime, inspect, select

from tests.governance.helpers import fund_world, voter
from webapp.extensions import db
from webapp.governance import ballots, tally
from webapp.governance.models import Ballot, RoundVoter

PERSON_TABLES = {"users", "org_members", "round_voters"}


def test_no_table_joins_a_ballot_to_a_person():
    tables = db.metadata.tables
    ballot = tables["round_ballots"]
    assert {c.name for c in ballot.columns} == {"id", "round_id", "receipt_hash", "choices"}
    assert {fk.column.table.name for fk in ballot.foreign_keys} == {"funding_rounds"}
    assert not any(isinstance(c.type, DateTime) for c in ballot.columns)  # no time to match with a roll line
    roll = tables["round_voters"]
    assert not any(isinstance(c.type, DateTime) for c in roll.columns)
    assert not any("ballot" in c.name or "receipt" in c.name for c in roll.columns)
    for table in tables.values():  # nothing points at a ballot, so nothing can join one to anyone
        assert all(fk.column.table.name != "round_ballots" for fk in table.foreign_keys), table.name


def test_the_database_itself_has_no_such_column_either():
    insp = inspect(db.engine)
    assert {c["name"] for c in insp.get_columns("round_ballots")} == {"id", "round_id", "receipt_hash", "choices"}
    assert [fk["referred_table"] for fk in insp.get_foreign_keys("round_ballots")] == ["funding_rounds"]
    for name in insp.get_table_names():
        assert all(fk["referred_table"] != "round_ballots" for fk in insp.get_foreign_keys(name)), name
    assert not {c["name"] for c in insp.get_columns("round_voters")} & {"ballot_id", "receipt_hash", "voted_at"}


def test_ballot_keys_are_random_not_in_the_order_of_the_votes():
    w = fund_world(8)
    codes = [ballots.cast(w.round, voter(w, i), [w.proposals[0].id]) for i in range(8)]
    keys = [ballots.ballot_by_receipt(w.round, code).id for code in codes]  # in the order of the votes
    assert all(re.fullmatch(r"[0-9a-f]{32}", k) for k in keys)
    assert keys != sorted(keys)  # by luck, 1 chance in 40,320 to fail


def test_no_log_line_carries_a_receipt_or_a_ballot(caplog, client):
    caplog.set_level(logging.DEBUG, logger="webapp")
    caplog.set_level(logging.INFO)
    w = fund_world(3)
    db.session.commit()
    codes = [ballots.cast(w.round, voter(w, i), [w.proposals[i].id]) for i in range(3)]
    db.session.commit()  # the receipts' emails go out (the log backend in tests)
    ballots.change(w.round, codes[0], [w.proposals[1].id])
    tally.close(w.round, w.owner)
    db.session.commit()
    secrets = set(codes)
    for b in db.session.scalars(select(Ballot)):
        secrets |= {b.id, b.receipt_hash, b.fingerprint}
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "EMAIL to=" in logged  # the emails were logged, without their secret bodies
    assert not [s for s in secrets if s in logged]


def test_the_roll_says_who_voted_and_nothing_more():
    w = fund_world(2)
    ballots.cast(w.round, voter(w, 1), [w.proposals[0].id])
    rows = db.session.execute(select(RoundVoter.__table__)).mappings().all()
    assert {k for row in rows for k in row} == {"id", "round_id", "member_id", "user_id", "voted", "link_used",
                                                "reminded"}
