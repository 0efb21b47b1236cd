"""a pooled fund's giving campaign (issue 13): one-off pledges to an ongoing campaign booked into the fund

Revision ID: c4e7a1d9f2b3
Revises: b8d41f6e2a97
Create Date: 2026-12-01 16:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4e7a1d9f2b3'
down_revision = 'b8d41f6e2a97'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pooled_fund_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_campaigns_pooled_fund_id'), ['pooled_fund_id'])
        batch_op.create_foreign_key(batch_op.f('fk_campaigns_pooled_fund_id_pooled_funds'), 'pooled_funds',
                                    ['pooled_fund_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_campaigns_pooled_fund_id_pooled_funds'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_campaigns_pooled_fund_id'), type_='unique')
        batch_op.drop_column('pooled_fund_id')
