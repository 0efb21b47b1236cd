"""hosts, payout routes, budget lines and expenses (issue 10): where a campaign's money goes and who pays it

Revision ID: d5b8e2f41a07
Revises: d5c0a7e31b42
Create Date: 2026-12-01 11:06:18.721573

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd5b8e2f41a07'
down_revision = 'd5c0a7e31b42'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('host_profiles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('countries', sa.JSON(), nullable=False),
    sa.Column('currencies', sa.JSON(), nullable=False),
    sa.Column('fee_basis_points', sa.Integer(), server_default='0', nullable=False),
    sa.Column('methods', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('granted_by_id', sa.Integer(), nullable=False),
    sa.Column('granted_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('fee_basis_points >= 0 AND fee_basis_points <= 5000', name=op.f('ck_host_profiles_fee_in_range')),
    sa.ForeignKeyConstraint(['granted_by_id'], ['users.id'], name=op.f('fk_host_profiles_granted_by_id_users')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_host_profiles_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_host_profiles')),
    sa.UniqueConstraint('organization_id', name=op.f('uq_host_profiles_organization_id'))
    )
    op.create_table('budget_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('required', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('position', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_budget_lines_amount_positive')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_budget_lines_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_budget_lines'))
    )
    with op.batch_alter_table('budget_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_budget_lines_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('payout_routes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('connect', 'host', name='payoutroutekind', native_enum=False, length=30), nullable=False),
    sa.Column('host_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('requested', 'accepted', 'refused', name='routestatus', native_enum=False, length=30), nullable=False),
    sa.Column('chosen_by_id', sa.Integer(), nullable=False),
    sa.Column('chosen_at', sa.DateTime(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("kind != 'host' OR host_id IS NOT NULL", name=op.f('ck_payout_routes_host_route_names_host')),
    sa.ForeignKeyConstraint(['chosen_by_id'], ['users.id'], name=op.f('fk_payout_routes_chosen_by_id_users')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_payout_routes_decided_by_id_users')),
    sa.ForeignKeyConstraint(['host_id'], ['host_profiles.id'], name=op.f('fk_payout_routes_host_id_host_profiles')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_payout_routes_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payout_routes')),
    sa.UniqueConstraint('organization_id', name=op.f('uq_payout_routes_organization_id'))
    )
    with op.batch_alter_table('payout_routes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payout_routes_host_id'), ['host_id'], unique=False)

    op.create_table('expenses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('budget_line_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('spent_on', sa.Date(), nullable=False),
    sa.Column('payee_kind', sa.Enum('supplier', 'staff', 'member', 'other', name='payeekind', native_enum=False, length=30), nullable=False),
    sa.Column('payee_details', sa.Text(), nullable=False),
    sa.Column('state', sa.Enum('draft', 'submitted', 'changes_requested', 'rejected', 'approved', 'paid', name='expensestate', native_enum=False, length=30), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('checked_by_host', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_expenses_amount_positive')),
    sa.ForeignKeyConstraint(['budget_line_id'], ['budget_lines.id'], name=op.f('fk_expenses_budget_line_id_budget_lines')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_expenses_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_expenses_created_by_id_users')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_expenses_submitted_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expenses'))
    )
    with op.batch_alter_table('expenses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_expenses_budget_line_id'), ['budget_line_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_expenses_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index('ix_expenses_campaign_state', ['campaign_id', 'state'], unique=False)

    op.create_table('expense_payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('expense_id', sa.Integer(), nullable=False),
    sa.Column('method', sa.Enum('bank_transfer', 'mobile_money', 'cash', 'other', name='paymentmethod', native_enum=False, length=30), nullable=False),
    sa.Column('reference', sa.String(length=120), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('amount_paid', sa.BigInteger(), nullable=False),
    sa.Column('currency_paid', sa.String(length=3), nullable=False),
    sa.Column('rate', sa.Numeric(precision=18, scale=8), nullable=False),
    sa.Column('fee_amount', sa.BigInteger(), nullable=False),
    sa.Column('proof_key', sa.String(length=255), nullable=True),
    sa.Column('proof_content_type', sa.String(length=40), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('amount_paid > 0', name=op.f('ck_expense_payments_amount_paid_positive')),
    sa.CheckConstraint('rate > 0', name=op.f('ck_expense_payments_rate_positive')),
    sa.ForeignKeyConstraint(['expense_id'], ['expenses.id'], name=op.f('fk_expense_payments_expense_id_expenses')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_expense_payments_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expense_payments')),
    sa.UniqueConstraint('expense_id', name=op.f('uq_expense_payments_expense_id'))
    )
    op.create_table('expense_receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('expense_id', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['expense_id'], ['expenses.id'], name=op.f('fk_expense_receipts_expense_id_expenses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_expense_receipts_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expense_receipts'))
    )
    with op.batch_alter_table('expense_receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_expense_receipts_expense_id'), ['expense_id'], unique=False)

    op.create_table('expense_transitions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('expense_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('from_state', sa.Enum('draft', 'submitted', 'changes_requested', 'rejected', 'approved', 'paid', name='expensestate', native_enum=False, length=30), nullable=False),
    sa.Column('to_state', sa.Enum('draft', 'submitted', 'changes_requested', 'rejected', 'approved', 'paid', name='expensestate', native_enum=False, length=30), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_expense_transitions_actor_id_users')),
    sa.ForeignKeyConstraint(['expense_id'], ['expenses.id'], name=op.f('fk_expense_transitions_expense_id_expenses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expense_transitions'))
    )
    with op.batch_alter_table('expense_transitions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_expense_transitions_expense_id'), ['expense_id'], unique=False)



def downgrade():
    with op.batch_alter_table('expense_transitions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_expense_transitions_expense_id'))

    op.drop_table('expense_transitions')
    with op.batch_alter_table('expense_receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_expense_receipts_expense_id'))

    op.drop_table('expense_receipts')
    op.drop_table('expense_payments')
    with op.batch_alter_table('expenses', schema=None) as batch_op:
        batch_op.drop_index('ix_expenses_campaign_state')
        batch_op.drop_index(batch_op.f('ix_expenses_campaign_id'))
        batch_op.drop_index(batch_op.f('ix_expenses_budget_line_id'))

    op.drop_table('expenses')
    with op.batch_alter_table('payout_routes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payout_routes_host_id'))

    op.drop_table('payout_routes')
    with op.batch_alter_table('budget_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_budget_lines_campaign_id'))

    op.drop_table('budget_lines')
    op.drop_table('host_profiles')
