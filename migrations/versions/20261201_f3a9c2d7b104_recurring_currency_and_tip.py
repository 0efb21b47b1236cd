"""Recurring support in the supporter's currency, with a tip: the organization's currency, the tip of each gift
and period, the rate a converted renewal was booked at

Revision ID: f3a9c2d7b104
Revises: f3a9c2e7b104
Create Date: 2026-12-01 12:45:00

Organizations made before book in EUR and accept their supporters' currencies; gifts made before have no tip.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f3a9c2d7b104'
down_revision = 'f3a9c2e7b104'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('currency', sa.String(length=3), server_default='EUR', nullable=False))
        batch_op.add_column(sa.Column('accepts_supporter_currency', sa.Boolean(), server_default=sa.true(),
                                      nullable=False))

    with op.batch_alter_table('recurring_supports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tip_amount', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.create_check_constraint(batch_op.f('ck_recurring_supports_tip_not_negative'), 'tip_amount >= 0')

    with op.batch_alter_table('recurring_charges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tip_amount', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('fx_rate', sa.Numeric(precision=24, scale=10), nullable=True))
        batch_op.add_column(sa.Column('fx_date', sa.Date(), nullable=True))
        batch_op.create_check_constraint(batch_op.f('ck_recurring_charges_tip_not_negative'), 'tip_amount >= 0')


def downgrade():
    with op.batch_alter_table('recurring_charges', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_recurring_charges_tip_not_negative'), type_='check')
        batch_op.drop_column('fx_date')
        batch_op.drop_column('fx_rate')
        batch_op.drop_column('tip_amount')

    with op.batch_alter_table('recurring_supports', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_recurring_supports_tip_not_negative'), type_='check')
        batch_op.drop_column('tip_amount')

    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_column('accepts_supporter_currency')
        batch_op.drop_column('currency')
