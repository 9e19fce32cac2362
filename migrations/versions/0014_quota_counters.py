"""quotas carry the seats they have given away (held), checked between zero and the size; pending orders and open
offers are found by when they run out

Revision ID: 0014_quota_counters
Revises: 0013_incubation
Create Date: 2026-12-07 11:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0014_quota_counters'
down_revision = '0013_incubation'
branch_labels = None
depends_on = None

# Seats held today: live tickets of orders awaiting approval, pending (even past their time: the minute job
# releases them) or paid, and open waiting-list offers, of each ticket type the quota counts.
FILL_HELD = """
UPDATE quotas SET held = (
    SELECT count(*) FROM tickets
    JOIN orders ON orders.id = tickets.order_id
    JOIN quota_ticket_types ON quota_ticket_types.ticket_type_id = tickets.ticket_type_id
    WHERE quota_ticket_types.quota_id = quotas.id AND tickets.cancelled_at IS NULL
      AND orders.status IN ('awaiting_approval', 'pending', 'paid')
) + (
    SELECT count(*) FROM waiting_list_entries
    JOIN quota_ticket_types ON quota_ticket_types.ticket_type_id = waiting_list_entries.ticket_type_id
    WHERE quota_ticket_types.quota_id = quotas.id AND waiting_list_entries.status = 'offered'
)
"""


def upgrade() -> None:
    with op.batch_alter_table('quotas', schema=None) as batch_op:
        batch_op.add_column(sa.Column('held', sa.Integer(), server_default='0', nullable=False))
    op.execute(FILL_HELD)
    # A quota sold beyond its size before the counter (a size lowered by hand) keeps what it sold: its size grows
    # to what it holds, so the check below holds for every row.
    op.execute("UPDATE quotas SET size = held WHERE held > size")
    with op.batch_alter_table('quotas', schema=None) as batch_op:
        batch_op.create_check_constraint(op.f('ck_quotas_held_not_negative'), 'held >= 0')
        batch_op.create_check_constraint(op.f('ck_quotas_held_within_size'), 'held <= size')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_pending_expiry', ['expires_at'], unique=False,
                              postgresql_where=sa.text("status = 'pending'"),
                              sqlite_where=sa.text("status = 'pending'"))
    with op.batch_alter_table('waiting_list_entries', schema=None) as batch_op:
        batch_op.create_index('ix_waiting_list_entries_offer_expiry', ['offer_expires_at'], unique=False,
                              postgresql_where=sa.text("status = 'offered'"),
                              sqlite_where=sa.text("status = 'offered'"))


def downgrade() -> None:
    with op.batch_alter_table('waiting_list_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_waiting_list_entries_offer_expiry')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_pending_expiry')
    with op.batch_alter_table('quotas', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_quotas_held_within_size'), type_='check')
        batch_op.drop_constraint(op.f('ck_quotas_held_not_negative'), type_='check')
        batch_op.drop_column('held')
