"""pooled funds' money and members' SMS (issue 13): a recurring gift directed to a pooled fund; a member's phone
(with consent) and channel for vote links and reminders

A match fund's budget assigned to a pooled fund is a ledger entry only (kind match_assigned): no table.

Revision ID: b8d41f6e2a97
Revises: 62ba5514dc5a
Create Date: 2026-12-01 15:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b8d41f6e2a97'
down_revision = '62ba5514dc5a'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('recurring_supports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pooled_fund_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_recurring_supports_pooled_fund_id'), ['pooled_fund_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_recurring_supports_pooled_fund_id_pooled_funds'), 'pooled_funds',
                                    ['pooled_fund_id'], ['id'])

    with op.batch_alter_table('org_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('phone_consent_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('phone_entered_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('channel', sa.String(length=5), server_default='email', nullable=False))
        batch_op.create_foreign_key(batch_op.f('fk_org_members_phone_entered_by_id_users'), 'users',
                                    ['phone_entered_by_id'], ['id'], ondelete='SET NULL')
        batch_op.create_check_constraint(batch_op.f('ck_org_members_channel_known'),
                                         "channel IN ('email', 'sms', 'both')")
        batch_op.create_check_constraint(batch_op.f('ck_org_members_sms_needs_phone'),
                                         "channel = 'email' OR phone IS NOT NULL")
        batch_op.create_check_constraint(batch_op.f('ck_org_members_phone_with_consent'),
                                         "phone IS NULL OR phone_consent_at IS NOT NULL")


def downgrade():
    with op.batch_alter_table('org_members', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_org_members_phone_with_consent'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_org_members_sms_needs_phone'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_org_members_channel_known'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_org_members_phone_entered_by_id_users'), type_='foreignkey')
        batch_op.drop_column('channel')
        batch_op.drop_column('phone_entered_by_id')
        batch_op.drop_column('phone_consent_at')
        batch_op.drop_column('phone')

    with op.batch_alter_table('recurring_supports', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_recurring_supports_pooled_fund_id_pooled_funds'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_recurring_supports_pooled_fund_id'))
        batch_op.drop_column('pooled_fund_id')
