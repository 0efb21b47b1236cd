"""impact checked from below (issue 13): indicators, reported values, beneficiaries, confirmation requests, answers

Requests (who was asked) and answers (what was said) are two tables with no key between them.

Revision ID: 62ba5514dc5a
Revises: a7c4e9b2d615
Create Date: 2026-12-01 14:29:03.393801

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '62ba5514dc5a'
down_revision = 'a7c4e9b2d615'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('impact_beneficiaries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('locale', sa.String(length=10), nullable=False),
    sa.Column('consent_on', sa.Date(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('email IS NOT NULL OR phone IS NOT NULL', name=op.f('ck_impact_beneficiaries_has_contact')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_impact_beneficiaries_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_impact_beneficiaries_recorded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_impact_beneficiaries')),
    sa.UniqueConstraint('campaign_id', 'email', name=op.f('uq_impact_beneficiaries_campaign_id_email')),
    sa.UniqueConstraint('campaign_id', 'phone', name=op.f('uq_impact_beneficiaries_campaign_id_phone'))
    )
    with op.batch_alter_table('impact_beneficiaries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_impact_beneficiaries_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_impact_beneficiaries_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_impact_beneficiaries_phone'), ['phone'], unique=False)

    op.create_table('impact_indicators',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Enum('sdg', 'catalog', 'custom', name='indicatorsource', native_enum=False, length=30), nullable=False),
    sa.Column('sdg_goal', sa.Integer(), nullable=True),
    sa.Column('sdg_target', sa.String(length=8), nullable=True),
    sa.Column('catalog_key', sa.String(length=40), nullable=True),
    sa.Column('title', sa.String(length=160), nullable=True),
    sa.Column('unit', sa.String(length=40), nullable=False),
    sa.Column('baseline', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('target', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('target_date', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("source != 'catalog' OR catalog_key IS NOT NULL", name=op.f('ck_impact_indicators_catalog_has_key')),
    sa.CheckConstraint("source != 'custom' OR title IS NOT NULL", name=op.f('ck_impact_indicators_custom_has_title')),
    sa.CheckConstraint("source != 'sdg' OR sdg_target IS NOT NULL", name=op.f('ck_impact_indicators_sdg_has_target')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_impact_indicators_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_impact_indicators'))
    )
    with op.batch_alter_table('impact_indicators', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_impact_indicators_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index('ix_impact_indicators_sdg_goal_campaign_id', ['sdg_goal', 'campaign_id'], unique=False)

    op.create_table('impact_values',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('measured_on', sa.Date(), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('asked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_impact_values_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['indicator_id'], ['impact_indicators.id'], name=op.f('fk_impact_values_indicator_id_impact_indicators'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['report_id'], ['progress_reports.id'], name=op.f('fk_impact_values_report_id_progress_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_impact_values')),
    sa.UniqueConstraint('report_id', 'indicator_id', name=op.f('uq_impact_values_report_id_indicator_id'))
    )
    with op.batch_alter_table('impact_values', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_impact_values_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_impact_values_indicator_id'), ['indicator_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_impact_values_report_id'), ['report_id'], unique=False)

    op.create_table('impact_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('value_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('audience', sa.Enum('beneficiary', 'member', 'backer', name='audience', native_enum=False, length=30), nullable=False),
    sa.Column('verdict', sa.Enum('confirm', 'doubt', 'comment', name='verdict', native_enum=False, length=30), nullable=False),
    sa.Column('comment', sa.String(length=500), nullable=True),
    sa.Column('signed_name', sa.String(length=80), nullable=True),
    sa.Column('answered_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_impact_answers_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['value_id'], ['impact_values.id'], name=op.f('fk_impact_answers_value_id_impact_values'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_impact_answers'))
    )
    with op.batch_alter_table('impact_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_impact_answers_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_impact_answers_value_id'), ['value_id'], unique=False)

    op.create_table('impact_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('value_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('audience', sa.Enum('beneficiary', 'member', 'backer', name='audience', native_enum=False, length=30), nullable=False),
    sa.Column('person_key', sa.String(length=80), nullable=False),
    sa.Column('beneficiary_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.Enum('email', 'sms', name='channel', native_enum=False, length=30), nullable=False),
    sa.Column('address', sa.String(length=254), nullable=True),
    sa.Column('locale', sa.String(length=10), nullable=False),
    sa.Column('nonce', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('answered_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['beneficiary_id'], ['impact_beneficiaries.id'], name=op.f('fk_impact_requests_beneficiary_id_impact_beneficiaries'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_impact_requests_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_impact_requests_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['value_id'], ['impact_values.id'], name=op.f('fk_impact_requests_value_id_impact_values'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_impact_requests')),
    sa.UniqueConstraint('value_id', 'person_key', name=op.f('uq_impact_requests_value_id_person_key'))
    )
    with op.batch_alter_table('impact_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_impact_requests_beneficiary_id'), ['beneficiary_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_impact_requests_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_impact_requests_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_impact_requests_value_id'), ['value_id'], unique=False)



def downgrade():
    with op.batch_alter_table('impact_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_impact_requests_value_id'))
        batch_op.drop_index(batch_op.f('ix_impact_requests_user_id'))
        batch_op.drop_index(batch_op.f('ix_impact_requests_campaign_id'))
        batch_op.drop_index(batch_op.f('ix_impact_requests_beneficiary_id'))

    op.drop_table('impact_requests')
    with op.batch_alter_table('impact_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_impact_answers_value_id'))
        batch_op.drop_index(batch_op.f('ix_impact_answers_campaign_id'))

    op.drop_table('impact_answers')
    with op.batch_alter_table('impact_values', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_impact_values_report_id'))
        batch_op.drop_index(batch_op.f('ix_impact_values_indicator_id'))
        batch_op.drop_index(batch_op.f('ix_impact_values_campaign_id'))

    op.drop_table('impact_values')
    with op.batch_alter_table('impact_indicators', schema=None) as batch_op:
        batch_op.drop_index('ix_impact_indicators_sdg_goal_campaign_id')
        batch_op.drop_index(batch_op.f('ix_impact_indicators_campaign_id'))

    op.drop_table('impact_indicators')
    with op.batch_alter_table('impact_beneficiaries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_impact_beneficiaries_phone'))
        batch_op.drop_index(batch_op.f('ix_impact_beneficiaries_email'))
        batch_op.drop_index(batch_op.f('ix_impact_beneficiaries_campaign_id'))

    op.drop_table('impact_beneficiaries')
