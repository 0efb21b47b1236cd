"""ledger: PostgreSQL refuses UPDATE and DELETE on ledger rows (a trigger); nothing on SQLite

Revision ID: 9d2e4f6a8b10
Revises: 5e55a0c1d2f3
Create Date: 2026-12-01 08:10:00

SQLite keeps the ORM hooks of webapp/ledger/models.py, which the app's own writes go through.
The SQL is the same as the models' (REFUSE_CHANGE_FUNCTION, IMMUTABLE_TRIGGER), copied here so
that this revision stays what it was when the models change.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '9d2e4f6a8b10'
down_revision = '5e55a0c1d2f3'
branch_labels = None
depends_on = None


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


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    if _postgres():
        op.execute(REFUSE_CHANGE_FUNCTION)
        op.execute(IMMUTABLE_TRIGGER)


def downgrade():
    if _postgres():
        op.execute("DROP TRIGGER IF EXISTS ledger_entries_immutable ON ledger_entries")
        op.execute("DROP FUNCTION IF EXISTS ledger_entries_refuse_change()")
