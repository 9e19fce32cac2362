"""organisations: tax code for receipts

Revision ID: 0008_organisation_tax_code
Revises: 0007_bank_statements
Create Date: 2026-11-23 16:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008_organisation_tax_code'
down_revision = '0007_bank_statements'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tax_code', sa.String(length=14), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('tax_code')
