"""progress report expenses: a report links the expenses paid since the previous one (issue 10)

Revision ID: b3e9f0c2d718
Revises: d5b8e2f41a07
Create Date: 2026-12-01 12:40:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b3e9f0c2d718'
down_revision = 'd5b8e2f41a07'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('progress_report_expenses',
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('expense_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['expense_id'], ['expenses.id'], name=op.f('fk_progress_report_expenses_expense_id_expenses')),
    sa.ForeignKeyConstraint(['report_id'], ['progress_reports.id'], name=op.f('fk_progress_report_expenses_report_id_progress_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('report_id', 'expense_id', name=op.f('pk_progress_report_expenses'))
    )
    op.create_index('ix_progress_report_expenses_expense_id', 'progress_report_expenses', ['expense_id'], unique=False)


def downgrade():
    op.drop_index('ix_progress_report_expenses_expense_id', table_name='progress_report_expenses')
    op.drop_table('progress_report_expenses')
