"""payments: money recorded by hand becomes payments of the manual provider, so that it can be refunded

An order an organiser marked paid, and the booth instalments they recorded, had no payment: the finance page counted
them apart and nothing could refund them. Each gets the payment that recording it writes from now on
(Payment.received_by_hand): an order's total, and what a booking's paid amount holds beyond its settled payments.

Revision ID: 0009_payments_received_by_hand
Revises: 0008_organisation_tax_code
Create Date: 2026-12-07 06:30:00
"""
from alembic import op


revision = '0009_payments_received_by_hand'
down_revision = '0008_organisation_tax_code'
branch_labels = None
depends_on = None

COLLECTED = "('succeeded', 'partially_refunded', 'refunded')"
#: what a booking's settled payments paid (finance.summary's booths_paid)
SETTLED_FOR_BOOKING = (f"(SELECT COALESCE(SUM(p.amount), 0) FROM payments p WHERE p.booth_booking_id = b.id "
                       f"AND p.status IN {COLLECTED} AND p.review_reason IS NULL)")
COLUMNS = ("amount, currency, provider, status, amount_received, amount_refunded, review_note, created_at, "
           "updated_at, succeeded_at")


def upgrade() -> None:
    op.execute(
        f"INSERT INTO payments (order_id, {COLUMNS}) "
        "SELECT o.id, o.total, 'VND', 'manual', 'succeeded', o.total, 0, '', "
        "COALESCE(o.paid_at, o.created_at), COALESCE(o.paid_at, o.created_at), COALESCE(o.paid_at, o.created_at) "
        "FROM orders o WHERE o.status = 'paid' AND o.total > 0 AND NOT EXISTS "
        f"(SELECT 1 FROM payments p WHERE p.order_id = o.id AND p.status IN {COLLECTED})"
    )
    recorded_at = "COALESCE(b.paid_at, b.decided_at, b.submitted_at, b.held_at)"
    op.execute(
        f"INSERT INTO payments (booth_booking_id, {COLUMNS}) "
        f"SELECT b.id, b.amount_paid - {SETTLED_FOR_BOOKING}, 'VND', 'manual', 'succeeded', "
        f"b.amount_paid - {SETTLED_FOR_BOOKING}, 0, '', {recorded_at}, {recorded_at}, {recorded_at} "
        f"FROM booth_bookings b WHERE b.amount_paid > {SETTLED_FOR_BOOKING}"
    )


def downgrade() -> None:
    # before this revision money recorded by hand had no payment; one refunded since keeps its payment (the older
    # finance page counts a refunded payment as money received through the portal)
    op.execute("DELETE FROM payments WHERE provider = 'manual' AND NOT EXISTS "
               "(SELECT 1 FROM refunds r WHERE r.payment_id = payments.id)")
