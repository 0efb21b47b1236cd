"""Connect payout route: accounts' country, service agreement and transfers capability; one transfer per charge

Revision ID: d5c0a7e31b42
Revises: e5b1c9a7d302
Create Date: 2026-12-01 11:30:00

Transfers were one per campaign, in the campaign's currency. They are now one per charge (pledge), in the
settlement currency, tied to the charge (`source_charge_id`), with the campaign-currency equivalent the
ledger books and what reversals took back. Rows made before keep their amount as both figures.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd5c0a7e31b42'
down_revision = 'e5b1c9a7d302'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('connected_accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('country', sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column('service_agreement', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('transfers_capability', sa.String(length=20), nullable=True))

    with op.batch_alter_table('transfers', schema=None) as batch_op:
        batch_op.drop_constraint('uq_transfers_campaign_id', type_='unique')
        batch_op.add_column(sa.Column('pledge_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('source_charge_id', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('campaign_amount', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('campaign_currency', sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column('reversed_amount', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('reversed_campaign_amount', sa.BigInteger(), server_default='0',
                                      nullable=False))
        batch_op.create_foreign_key(batch_op.f('fk_transfers_pledge_id_pledges'), 'pledges', ['pledge_id'], ['id'])
        batch_op.create_unique_constraint(batch_op.f('uq_transfers_pledge_id'), ['pledge_id'])
        batch_op.create_check_constraint(
            batch_op.f('ck_transfers_reversed_within_amount'), 'reversed_amount >= 0 AND reversed_amount <= amount')
        batch_op.create_index(batch_op.f('ix_transfers_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transfers_processor_transfer_id'), ['processor_transfer_id'],
                              unique=False)
    # a whole-campaign transfer made before: the campaign's currency was the one it was sent in
    op.execute("UPDATE transfers SET campaign_amount = amount, campaign_currency = currency "
               "WHERE campaign_currency IS NULL")


def downgrade():
    with op.batch_alter_table('transfers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transfers_processor_transfer_id'))
        batch_op.drop_index(batch_op.f('ix_transfers_campaign_id'))
        batch_op.drop_constraint(batch_op.f('ck_transfers_reversed_within_amount'), type_='check')
        batch_op.drop_constraint(batch_op.f('uq_transfers_pledge_id'), type_='unique')
        batch_op.drop_constraint(batch_op.f('fk_transfers_pledge_id_pledges'), type_='foreignkey')
        batch_op.drop_column('reversed_campaign_amount')
        batch_op.drop_column('reversed_amount')
        batch_op.drop_column('campaign_currency')
        batch_op.drop_column('campaign_amount')
        batch_op.drop_column('source_charge_id')
        batch_op.drop_column('pledge_id')
        batch_op.create_unique_constraint('uq_transfers_campaign_id', ['campaign_id'])

    with op.batch_alter_table('connected_accounts', schema=None) as batch_op:
        batch_op.drop_column('transfers_capability')
        batch_op.drop_column('service_agreement')
        batch_op.drop_column('country')
