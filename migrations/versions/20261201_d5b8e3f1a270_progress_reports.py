"""progress reports: reports with photos, one email delivery per backer, opt-outs per campaign (issue 10)

Revision ID: d5b8e3f1a270
Revises: c4e7a1d2f903
Create Date: 2026-12-01 11:20:00

The link from a report to the expenses it covers comes later as its own association table
(progress_report_expenses: report_id, expense_id); nothing here needs to change for it.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd5b8e3f1a270'
down_revision = 'c4e7a1d2f903'
branch_labels = None
depends_on = None

STATES = sa.Enum('queued', 'sending', 'sent', 'skipped', 'failed', name='deliverystate', native_enum=False,
                 length=30)


def upgrade():
    op.create_table('progress_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('body_md', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('fanned_out_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_progress_reports_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_progress_reports_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_progress_reports'))
    )
    with op.batch_alter_table('progress_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_progress_reports_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('progress_report_photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['progress_reports.id'], name=op.f('fk_progress_report_photos_report_id_progress_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_progress_report_photos')),
    sa.UniqueConstraint('report_id', 'position', name=op.f('uq_progress_report_photos_report_id_position'))
    )
    with op.batch_alter_table('progress_report_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_progress_report_photos_report_id'), ['report_id'], unique=False)

    op.create_table('progress_report_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('locale', sa.String(length=10), nullable=False),
    sa.Column('state', STATES, nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('claimed_at', sa.DateTime(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('failure_reason', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['report_id'], ['progress_reports.id'], name=op.f('fk_progress_report_deliveries_report_id_progress_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_progress_report_deliveries')),
    sa.UniqueConstraint('report_id', 'email', name=op.f('uq_progress_report_deliveries_report_id_email'))
    )
    with op.batch_alter_table('progress_report_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_progress_report_deliveries_state_claimed_at', ['state', 'claimed_at'], unique=False)

    op.create_table('progress_report_unsubscribes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_progress_report_unsubscribes_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_progress_report_unsubscribes')),
    sa.UniqueConstraint('campaign_id', 'email', name=op.f('uq_progress_report_unsubscribes_campaign_id_email'))
    )
    with op.batch_alter_table('progress_report_unsubscribes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_progress_report_unsubscribes_campaign_id'), ['campaign_id'], unique=False)


def downgrade():
    op.drop_table('progress_report_unsubscribes')
    op.drop_table('progress_report_deliveries')
    op.drop_table('progress_report_photos')
    op.drop_table('progress_reports')
