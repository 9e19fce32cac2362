"""booth sale settings: the balance of a deposit booking is due a set number of days before the event (NULL: the
usual days to pay, counted from the deposit)

Revision ID: 0019_booth_balance_deadline
Revises: 0018_payment_instructions
Create Date: 2026-12-07 13:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0019_booth_balance_deadline'
down_revision = '0018_payment_instructions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('booth_sale_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('balance_days_before_event', sa.Integer(), nullable=True))
        batch_op.create_check_constraint(op.f('ck_booth_sale_settings_balance_days_not_negative'), 'balance_days_before_event >= 0')


def downgrade() -> None:
    with op.batch_alter_table('booth_sale_settings', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_booth_sale_settings_balance_days_not_negative'), type_='check')
        batch_op.drop_column('balance_days_before_event')
