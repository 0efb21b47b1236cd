"""campaign content in several languages (issue 11): a campaign's own language, translations of it and of updates

Revision ID: f3a9c2e7b104
Revises: b3e9f0c2d718
Create Date: 2026-12-01 12:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f3a9c2e7b104'
down_revision = 'b3e9f0c2d718'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), server_default='en', nullable=False))
    op.create_table('campaign_translations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('summary', sa.String(length=200), nullable=False),
    sa.Column('story_md', sa.Text(), nullable=False),
    sa.Column('story_html', sa.Text(), nullable=False),
    sa.Column('tiers', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_translations_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_translations')),
    sa.UniqueConstraint('campaign_id', 'language', name=op.f('uq_campaign_translations_campaign_id_language'))
    )
    with op.batch_alter_table('campaign_translations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_translations_campaign_id'), ['campaign_id'], unique=False)
    op.create_table('campaign_update_translations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('update_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('body_md', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_update_translations_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['update_id'], ['campaign_updates.id'], name=op.f('fk_campaign_update_translations_update_id_campaign_updates'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_update_translations')),
    sa.UniqueConstraint('update_id', 'language', name=op.f('uq_campaign_update_translations_update_id_language'))
    )
    with op.batch_alter_table('campaign_update_translations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_update_translations_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaign_update_translations_update_id'), ['update_id'], unique=False)


def downgrade():
    with op.batch_alter_table('campaign_update_translations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_update_translations_update_id'))
        batch_op.drop_index(batch_op.f('ix_campaign_update_translations_campaign_id'))
    op.drop_table('campaign_update_translations')
    with op.batch_alter_table('campaign_translations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_translations_campaign_id'))
    op.drop_table('campaign_translations')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('language')
