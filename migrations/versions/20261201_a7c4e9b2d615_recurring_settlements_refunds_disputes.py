"""Recurring support's money after the charge: each period's settlement (net and fee), refunds and disputes of a
period, the currency a gift is booked in fixed at its start, and since when a bank debit has been on its way

Revision ID: a7c4e9b2d615
Revises: 8bc65c815577
Create Date: 2026-12-01 14:45:00

Refunds and disputes name a pledge or a period of a recurring gift (exactly one). Gifts started before keep
booking in their organization's currency (booked_in is NULL for them).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c4e9b2d615'
down_revision = '8bc65c815577'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('recurring_supports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('booked_in', sa.String(length=3), nullable=True))

    with op.batch_alter_table('recurring_charges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('settled_amount', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('settled_fee', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('settled_currency', sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column('refunded_amount', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('disputed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('processing_since', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_recurring_charges_charge_id'), ['charge_id'], unique=False)
        batch_op.create_check_constraint(batch_op.f('ck_recurring_charges_refunded_not_negative'),
                                         'refunded_amount >= 0')

    for table in ('refunds', 'disputes'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('recurring_charge_id', sa.Integer(), nullable=True))
            batch_op.alter_column('pledge_id', existing_type=sa.Integer(), nullable=True)
            batch_op.create_index(batch_op.f(f'ix_{table}_recurring_charge_id'), ['recurring_charge_id'], unique=False)
            batch_op.create_foreign_key(batch_op.f(f'fk_{table}_recurring_charge_id_recurring_charges'),
                                        'recurring_charges', ['recurring_charge_id'], ['id'])
            batch_op.create_check_constraint(batch_op.f(f'ck_{table}_one_payment'),
                                             '(pledge_id IS NULL) <> (recurring_charge_id IS NULL)')


def downgrade():
    for table in ('disputes', 'refunds'):
        op.execute(sa.text(f'DELETE FROM {table} WHERE pledge_id IS NULL'))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'ck_{table}_one_payment'), type_='check')
            batch_op.drop_constraint(batch_op.f(f'fk_{table}_recurring_charge_id_recurring_charges'),
                                     type_='foreignkey')
            batch_op.drop_index(batch_op.f(f'ix_{table}_recurring_charge_id'))
            batch_op.alter_column('pledge_id', existing_type=sa.Integer(), nullable=False)
            batch_op.drop_column('recurring_charge_id')

    with op.batch_alter_table('recurring_charges', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_recurring_charges_refunded_not_negative'), type_='check')
        batch_op.drop_index(batch_op.f('ix_recurring_charges_charge_id'))
        batch_op.drop_column('processing_since')
        batch_op.drop_column('disputed_at')
        batch_op.drop_column('refunded_amount')
        batch_op.drop_column('settled_currency')
        batch_op.drop_column('settled_fee')
        batch_op.drop_column('settled_amount')

    with op.batch_alter_table('recurring_supports', schema=None) as batch_op:
        batch_op.drop_column('booked_in')
