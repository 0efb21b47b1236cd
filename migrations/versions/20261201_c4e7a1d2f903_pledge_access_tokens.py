"""pledge access tokens: the hashed secrets that open a pledge's receipt and checkout pages (issue 9)

Revision ID: c4e7a1d2f903
Revises: 9d2e4f6a8b10, 5e55a0c1d2f3
Create Date: 2026-12-01 08:40:00

Pledges made before this revision have no token: their receipt links (in emails already sent) open
for the backer signed in, or after asking for a new link, which is emailed to the pledge's address.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4e7a1d2f903'
# Both heads of this branch: the ledger trigger (sec-input, not yet on main) and main's user sessions.
# Once the lead has chained those two, this can follow the one head left.
down_revision = ('9d2e4f6a8b10', '5e55a0c1d2f3')
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
