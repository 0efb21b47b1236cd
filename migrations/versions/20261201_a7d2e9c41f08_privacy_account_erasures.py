"""privacy: account erasures

Revision ID: a7d2e9c41f08
Revises: b3c1b6006e0f
Create Date: 2026-12-01 08:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7d2e9c41f08'
down_revision = 'b3c1b6006e0f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('account_erasures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Enum('member', 'unverified', name='erasurereason', native_enum=False, length=20), nullable=False),
    sa.Column('erased_at', sa.DateTime(), nullable=False),
    sa.Column('finalized_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_account_erasures_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_erasures')),
    sa.UniqueConstraint('user_id', name=op.f('uq_account_erasures_user_id'))
    )
    with op.batch_alter_table('account_erasures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_erasures_erased_at'), ['erased_at'], unique=False)


def downgrade():
    with op.batch_alter_table('account_erasures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_erasures_erased_at'))

    op.drop_table('account_erasures')
