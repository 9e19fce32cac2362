"""outbox: bodies the sender composes (ComposedAtSend)

Revision ID: 0006_outbox_composed_at_send
Revises: 0005_payments
Create Date: 2026-11-23 14:45:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006_outbox_composed_at_send'
down_revision = '0005_payments'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('compose', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_column('compose')
