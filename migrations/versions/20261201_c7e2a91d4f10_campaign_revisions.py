"""campaign revisions: changes to an approved campaign's content, reviewed or applied directly, and their history

Revision ID: c7e2a91d4f10
Revises: a7d2e9c41f08
Create Date: 2026-12-01 08:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c7e2a91d4f10'
down_revision = 'a7d2e9c41f08'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('campaign_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'approved', 'refused', 'withdrawn', 'direct', name='revisionstatus', native_enum=False, length=30), nullable=False),
    sa.Column('before', sa.JSON(), nullable=False),
    sa.Column('after', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('proposed_by_id', sa.Integer(), nullable=False),
    sa.Column('contributor_ids', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.CheckConstraint('version > 0', name=op.f('ck_campaign_revisions_version_positive')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_revisions_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_campaign_revisions_decided_by_id_users')),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['users.id'], name=op.f('fk_campaign_revisions_proposed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_revisions'))
    )
    with op.batch_alter_table('campaign_revisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_revisions_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index('uq_campaign_revisions_one_pending', ['campaign_id'], unique=True,
                              sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))


def downgrade():
    with op.batch_alter_table('campaign_revisions', schema=None) as batch_op:
        batch_op.drop_index('uq_campaign_revisions_one_pending', sqlite_where=sa.text("status = 'pending'"),
                            postgresql_where=sa.text("status = 'pending'"))
        batch_op.drop_index(batch_op.f('ix_campaign_revisions_campaign_id'))

    op.drop_table('campaign_revisions')
