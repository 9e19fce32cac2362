"""check-in per event day: a ticket is let in once per Hanoi calendar day

Revision ID: 0003_checkin_per_day
Revises: 0002_event_registration
Create Date: 2026-11-24 09:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0003_checkin_per_day'
down_revision = '0002_event_registration'
branch_labels = None
depends_on = None

# checked_in_at is naive UTC; Vietnam has kept UTC+7 without daylight saving since 1975, so a fixed offset gives
# the Asia/Ho_Chi_Minh calendar date.
HANOI_DATE_OF_CHECKED_IN_AT = {
    'sqlite': "date(checked_in_at, '+7 hours')",
    'postgresql': "CAST(checked_in_at + INTERVAL '7 hours' AS DATE)",
}


def upgrade() -> None:
    with op.batch_alter_table('check_ins', schema=None) as batch_op:
        batch_op.add_column(sa.Column('day', sa.Date(), nullable=True))
    op.execute(f"UPDATE check_ins SET day = {HANOI_DATE_OF_CHECKED_IN_AT[op.get_bind().dialect.name]}")
    with op.batch_alter_table('check_ins', schema=None) as batch_op:
        batch_op.alter_column('day', existing_type=sa.Date(), nullable=False)
        batch_op.drop_constraint(batch_op.f('uq_check_ins_ticket_id'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_check_ins_ticket_id_day'), ['ticket_id', 'day'])
        batch_op.create_index('ix_check_ins_day_area', ['day', 'area'], unique=False)


def downgrade() -> None:
    # Only the first entry of each ticket survives: the old schema admits a ticket once per event.
    op.execute(
        "DELETE FROM check_ins WHERE EXISTS (SELECT 1 FROM check_ins AS earlier"
        " WHERE earlier.ticket_id = check_ins.ticket_id AND earlier.day < check_ins.day)"
    )
    with op.batch_alter_table('check_ins', schema=None) as batch_op:
        batch_op.drop_index('ix_check_ins_day_area')
        batch_op.drop_constraint(batch_op.f('uq_check_ins_ticket_id_day'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_check_ins_ticket_id'), ['ticket_id'])
        batch_op.drop_column('day')
