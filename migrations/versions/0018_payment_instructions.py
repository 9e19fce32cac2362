"""events: the organisers' own payment instructions (bank details, where to pay, invoices), shown to buyers and
exhibitors who pay the organiser

Revision ID: 0018_payment_instructions
Revises: 0017_mentor_matching_runs
Create Date: 2026-12-07 13:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0018_payment_instructions'
down_revision = '0017_mentor_matching_runs'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payment_instructions_vi', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('payment_instructions_en', sa.Text(), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('payment_instructions_en')
        batch_op.drop_column('payment_instructions_vi')
