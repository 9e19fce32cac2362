"""bank statements: imports and their lines, for reconciling transfers

Revision ID: 0007_bank_statements
Revises: 0006_outbox_composed_at_send
Create Date: 2026-11-23 15:30:00
"""
import sqlalchemy as sa
from alembic import op

from portal.db import UTCDateTime

revision = '0007_bank_statements'
down_revision = '0006_outbox_composed_at_send'
branch_labels = None
depends_on = None

LINE_STATUSES = ('matched', 'partial', 'excess', 'duplicate', 'unfulfilled', 'unmatched', 'linked', 'rejected')


def upgrade() -> None:
    op.create_table(
        'statement_imports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('bank_account_id', sa.Integer(), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('imported_by_id', sa.Integer(), nullable=True),
        sa.Column('imported_at', UTCDateTime(), nullable=False),
        sa.Column('lines_read', sa.Integer(), nullable=False),
        sa.Column('lines_already_imported', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['bank_account_id'], ['bank_accounts.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['imported_by_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('statement_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statement_imports_bank_account_id'), ['bank_account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_statement_imports_imported_at'), ['imported_at'], unique=False)

    op.create_table(
        'statement_lines',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('import_id', sa.Integer(), nullable=False),
        sa.Column('bank_account_id', sa.Integer(), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('line_number', sa.Integer(), nullable=False),
        sa.Column('booked_at', UTCDateTime(), nullable=False),
        sa.Column('amount', sa.Integer(), nullable=False),
        sa.Column('memo', sa.Text(), nullable=False),
        sa.Column('bank_transaction_id', sa.String(length=100), nullable=True),
        sa.Column('reference', sa.String(length=16), nullable=True),
        sa.Column('status', sa.Enum(*LINE_STATUSES, name='statement_line_status', native_enum=False, length=32),
                  nullable=False),
        sa.Column('payment_id', sa.Integer(), nullable=True),
        sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
        sa.Column('reviewed_at', UTCDateTime(), nullable=True),
        sa.Column('review_note', sa.Text(), nullable=False),
        sa.CheckConstraint('amount > 0', name=op.f('ck_statement_lines_amount_positive')),
        sa.ForeignKeyConstraint(['bank_account_id'], ['bank_accounts.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['import_id'], ['statement_imports.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('bank_account_id', 'fingerprint',
                            name=op.f('uq_statement_lines_bank_account_id_fingerprint')),
    )
    with op.batch_alter_table('statement_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statement_lines_import_id'), ['import_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_statement_lines_payment_id'), ['payment_id'], unique=False)
        batch_op.create_index('ix_statement_lines_status_booked', ['status', 'booked_at'], unique=False)


def downgrade() -> None:
    op.drop_table('statement_lines')
    op.drop_table('statement_imports')
