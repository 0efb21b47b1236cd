"""collection never repeats a charge: collecting pledges, the installation's key prefix, members' customers

Revision ID: c7a1e5d2f901
Revises: 9d2e4f6a8b10
Create Date: 2026-12-01 08:40:00

"""
import secrets
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c7a1e5d2f901'
down_revision = '9d2e4f6a8b10'
branch_labels = None
depends_on = None


def upgrade():
    installation = op.create_table('installation',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('key_prefix', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_installation_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_installation')),
    sa.UniqueConstraint('key_prefix', name=op.f('uq_installation_key_prefix'))
    )
    # Each database gets its own prefix, once, here (webapp.payments.installation.new_prefix's shape).
    op.bulk_insert(installation, [{"id": 1, "key_prefix": "h" + secrets.token_hex(8),
                                   "created_at": datetime.now(timezone.utc).replace(tzinfo=None)}])
    op.create_table('processor_customers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('customer_id', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_processor_customers_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_processor_customers')),
    sa.UniqueConstraint('user_id', 'provider', name=op.f('uq_processor_customers_user_id_provider'))
    )
    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('collecting_since', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('completion_session_id', sa.String(length=255), nullable=True))


def downgrade():
    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.drop_column('completion_session_id')
        batch_op.drop_column('collecting_since')
    op.drop_table('processor_customers')
    op.drop_table('installation')
