"""pledge access tokens: the hashed secrets that open a pledge's receipt and checkout pages (issue 9)

Revision ID: c4e7a1d2f903
Revises: c4d2e8a1f903
Create Date: 2026-12-01 08:40:00

Pledges made before this revision have no token: their receipt links (in emails already sent) open
for the backer signed in, or after asking for a new link, which is emailed to the pledge's address.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4e7a1d2f903'
down_revision = 'c4d2e8a1f903'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pledge_access_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pledge_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['pledge_id'], ['pledges.id'], name=op.f('fk_pledge_access_tokens_pledge_id_pledges'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pledge_access_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_pledge_access_tokens_token_hash'))
    )
    with op.batch_alter_table('pledge_access_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pledge_access_tokens_pledge_id'), ['pledge_id'], unique=False)


def downgrade():
    with op.batch_alter_table('pledge_access_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pledge_access_tokens_pledge_id'))

    op.drop_table('pledge_access_tokens')
