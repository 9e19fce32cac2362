"""the database refuses impossible values: negative sizes, prices and amounts, empty limits and periods, more paid
than due, more refunded than received

Written beside the models' CheckConstraints (same names, same conditions). Rows that break them are not repaired:
the pages never wrote such values, so an upgrade that fails here points at data to look at by hand. SQLite adds
constraints only by rebuilding a table, hence batch mode.

Revision ID: 0012_check_constraints
Revises: 0011_organisation_invitations
Create Date: 2026-12-07 10:30:00
"""
from alembic import op


revision = '0012_check_constraints'
down_revision = '0011_organisation_invitations'
branch_labels = None
depends_on = None

#: table → (constraint name without the ck_<table>_ prefix, condition), as the models declare them
CONSTRAINTS = {
    "events": [("pending_order_minutes_positive", "pending_order_minutes > 0"),
               ("waitlist_offer_hours_positive", "waitlist_offer_hours > 0")],
    "ticket_types": [("price_not_negative", "price >= 0"),
                     ("max_per_order_positive", "max_per_order >= 1")],
    "quotas": [("size_not_negative", "size >= 0")],
    "orders": [("total_not_negative", "total >= 0")],
    "tickets": [("price_not_negative", "price >= 0")],
    "booth_floor_plans": [("dimensions_positive",
                           "width >= 1 AND height >= 1 AND grid_size >= 1 AND metres_per_unit > 0")],
    "booths": [("price_not_negative", "price >= 0"),
               ("size_positive", "w >= 1 AND h >= 1 AND size_m2 > 0")],
    "booth_sale_settings": [("periods_positive", "hold_minutes >= 1 AND payment_days >= 1")],
    "booth_bookings": [("amount_due_not_negative", "amount_due >= 0"),
                       ("paid_within_due", "amount_paid BETWEEN 0 AND amount_due"),
                       ("deposit_within_due", "deposit_due BETWEEN 0 AND amount_due")],
    "payments": [("amount_received_not_negative", "amount_received >= 0"),
                 ("refunded_within_received", "amount_refunded BETWEEN 0 AND amount_received")],
}


def upgrade() -> None:
    for table, constraints in CONSTRAINTS.items():
        with op.batch_alter_table(table) as batch_op:
            for name, condition in constraints:
                batch_op.create_check_constraint(op.f(f"ck_{table}_{name}"), condition)


def downgrade() -> None:
    for table, constraints in reversed(CONSTRAINTS.items()):
        with op.batch_alter_table(table) as batch_op:
            for name, _ in constraints:
                batch_op.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")
