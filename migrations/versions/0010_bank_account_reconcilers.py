"""payments: who reconciles a bank account, and the account each bank transfer was asked into

Reconciling a bank account's statements becomes the right of admins and of the organisers an admin names on the
account (bank_account_reconcilers). A bank-transfer payment records the account its transfer page showed
(payments.bank_account_id): only that account's statement lines may pay it. Payments asked for before this revision
get the account a statement line already credited them from, otherwise the account payment pages show now (or,
with none shown, the newest), which is the account their buyers were most likely shown. Statement lines are looked up
by fingerprint under every account, so that lookup gets an index.

Revision ID: 0010_bank_account_reconcilers
Revises: 0009_payments_received_by_hand
Create Date: 2026-12-07 10:30:00
"""
import sqlalchemy as sa
from alembic import op

from portal.db import UTCDateTime


revision = '0010_bank_account_reconcilers'
down_revision = '0009_payments_received_by_hand'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'bank_account_reconcilers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('bank_account_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('added_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['bank_account_id'], ['bank_accounts.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('bank_account_id', 'user_id',
                            name=op.f('uq_bank_account_reconcilers_bank_account_id_user_id')),
    )
    with op.batch_alter_table('bank_account_reconcilers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bank_account_reconcilers_bank_account_id'), ['bank_account_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_bank_account_reconcilers_user_id'), ['user_id'], unique=False)
    # plain ALTER TABLE and CREATE INDEX, no batch: rebuilding payments on SQLite would drop the old table, and its
    # refunds with it by cascade (hence no foreign key on the column either)
    op.add_column('payments', sa.Column('bank_account_id', sa.Integer(), nullable=True))
    op.create_index(op.f('ix_payments_bank_account_id'), 'payments', ['bank_account_id'], unique=False)
    op.create_index('ix_statement_lines_fingerprint', 'statement_lines', ['fingerprint'], unique=False)
    op.execute(
        "UPDATE payments SET bank_account_id = COALESCE("
        "(SELECT MIN(l.bank_account_id) FROM statement_lines l WHERE l.payment_id = payments.id), "
        "(SELECT a.id FROM bank_accounts a WHERE a.active = TRUE), "
        "(SELECT MAX(a.id) FROM bank_accounts a)) "
        "WHERE provider = 'vietqr'"
    )


def downgrade() -> None:
    op.drop_index('ix_statement_lines_fingerprint', table_name='statement_lines')
    op.drop_index(op.f('ix_payments_bank_account_id'), table_name='payments')
    op.drop_column('payments', 'bank_account_id')  # SQLite ≥ 3.35 drops an unindexed column in place
    with op.batch_alter_table('bank_account_reconcilers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bank_account_reconcilers_user_id'))
        batch_op.drop_index(batch_op.f('ix_bank_account_reconcilers_bank_account_id'))
    op.drop_table('bank_account_reconcilers')
