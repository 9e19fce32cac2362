"""booths: floor plans, booths, sale settings, priority windows, bookings; exhibitor-badge ticket types

Revision ID: 0004_booths
Revises: 0003_checkin_per_day
Create Date: 2026-11-23 15:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import portal.db


revision = '0004_booths'
down_revision = '0003_checkin_per_day'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('booth_floor_plans',
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('background', sa.String(length=120), nullable=True),
    sa.Column('background_kind', sa.Enum('png', 'jpeg', 'svg', name='plan_image_kind', native_enum=False, length=32), nullable=True),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('grid_size', sa.Integer(), nullable=False),
    sa.Column('metres_per_unit', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_booth_floor_plans_event_id_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_booth_floor_plans'))
    )
    op.create_table('booth_priority_windows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('name_vi', sa.String(length=120), nullable=False),
    sa.Column('name_en', sa.String(length=120), nullable=False),
    sa.Column('opens_at', portal.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_booth_priority_windows_event_id_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booth_priority_windows'))
    )
    with op.batch_alter_table('booth_priority_windows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_booth_priority_windows_event_id'), ['event_id'], unique=False)

    op.create_table('booth_sale_settings',
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('hold_minutes', sa.Integer(), nullable=False),
    sa.Column('approval_required', sa.Boolean(), nullable=False),
    sa.Column('deposit_percent', sa.Integer(), nullable=False),
    sa.Column('payment_days', sa.Integer(), nullable=False),
    sa.Column('selection_opens_at', portal.db.UTCDateTime(), nullable=True),
    sa.Column('selection_closes_at', portal.db.UTCDateTime(), nullable=True),
    sa.Column('badge_rules', sa.JSON(), nullable=False),
    sa.CheckConstraint('deposit_percent BETWEEN 0 AND 100', name=op.f('ck_booth_sale_settings_deposit_percent')),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_booth_sale_settings_event_id_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_booth_sale_settings'))
    )
    op.create_table('booths',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=12), nullable=False),
    sa.Column('zone', sa.String(length=40), nullable=False),
    sa.Column('x', sa.Integer(), nullable=False),
    sa.Column('y', sa.Integer(), nullable=False),
    sa.Column('w', sa.Integer(), nullable=False),
    sa.Column('h', sa.Integer(), nullable=False),
    sa.Column('size_m2', sa.Float(), nullable=False),
    sa.Column('price', sa.Integer(), nullable=False),
    sa.Column('corner', sa.Boolean(), nullable=False),
    sa.Column('power', sa.Boolean(), nullable=False),
    sa.Column('water', sa.Boolean(), nullable=False),
    sa.Column('blocked', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_booths_event_id_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booths')),
    sa.UniqueConstraint('event_id', 'number', name=op.f('uq_booths_event_id_number'))
    )
    op.create_table('booth_bookings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('booth_id', sa.Integer(), nullable=False),
    sa.Column('exhibitor_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('held', 'awaiting_approval', 'awaiting_payment', 'sold', 'released', 'expired', 'rejected', 'lapsed', 'cancelled', name='booth_booking_status', native_enum=False, length=32), nullable=False),
    sa.Column('held_at', portal.db.UTCDateTime(), nullable=False),
    sa.Column('hold_expires_at', portal.db.UTCDateTime(), nullable=False),
    sa.Column('company_name', sa.String(length=200), nullable=False),
    sa.Column('tax_code', sa.String(length=14), nullable=False),
    sa.Column('products', sa.Text(), nullable=False),
    sa.Column('contact_name', sa.String(length=120), nullable=False),
    sa.Column('contact_email', sa.String(length=254), nullable=False),
    sa.Column('contact_phone', sa.String(length=32), nullable=False),
    sa.Column('logo', sa.String(length=120), nullable=True),
    sa.Column('submitted_at', portal.db.UTCDateTime(), nullable=True),
    sa.Column('decided_at', portal.db.UTCDateTime(), nullable=True),
    sa.Column('decision_message', sa.Text(), nullable=False),
    sa.Column('amount_due', sa.Integer(), nullable=False),
    sa.Column('deposit_due', sa.Integer(), nullable=False),
    sa.Column('amount_paid', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=True),
    sa.Column('payment_due_at', portal.db.UTCDateTime(), nullable=True),
    sa.Column('paid_at', portal.db.UTCDateTime(), nullable=True),
    sa.Column('ended_at', portal.db.UTCDateTime(), nullable=True),
    sa.Column('badge_order_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['badge_order_id'], ['orders.id'], name=op.f('fk_booth_bookings_badge_order_id_orders'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['booth_id'], ['booths.id'], name=op.f('fk_booth_bookings_booth_id_booths')),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_booth_bookings_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['exhibitor_id'], ['users.id'], name=op.f('fk_booth_bookings_exhibitor_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_booth_bookings_organisation_id_organisations'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booth_bookings'))
    )
    with op.batch_alter_table('booth_bookings', schema=None) as batch_op:
        batch_op.create_index('ix_booth_bookings_event_status', ['event_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_booth_bookings_exhibitor_id'), ['exhibitor_id'], unique=False)
        batch_op.create_index('uq_booth_bookings_active_booth', ['booth_id'], unique=True, postgresql_where=sa.text("status IN ('held', 'awaiting_approval', 'awaiting_payment', 'sold')"), sqlite_where=sa.text("status IN ('held', 'awaiting_approval', 'awaiting_payment', 'sold')"))

    op.create_table('booth_priority_window_organisations',
    sa.Column('window_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_booth_priority_window_organisations_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['window_id'], ['booth_priority_windows.id'], name=op.f('fk_booth_priority_window_organisations_window_id_booth_priority_windows'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('window_id', 'organisation_id', name=op.f('pk_booth_priority_window_organisations'))
    )
    with op.batch_alter_table('ticket_types', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.Enum('public', 'exhibitor_badge', name='ticket_kind', native_enum=False, length=32), server_default='public', nullable=False))
        batch_op.create_index('uq_ticket_types_badge_type', ['event_id'], unique=True, postgresql_where=sa.text("kind = 'exhibitor_badge'"), sqlite_where=sa.text("kind = 'exhibitor_badge'"))


def downgrade() -> None:
    with op.batch_alter_table('ticket_types', schema=None) as batch_op:
        batch_op.drop_index('uq_ticket_types_badge_type', postgresql_where=sa.text("kind = 'exhibitor_badge'"), sqlite_where=sa.text("kind = 'exhibitor_badge'"))
        batch_op.drop_column('kind')

    op.drop_table('booth_priority_window_organisations')
    with op.batch_alter_table('booth_bookings', schema=None) as batch_op:
        batch_op.drop_index('uq_booth_bookings_active_booth', postgresql_where=sa.text("status IN ('held', 'awaiting_approval', 'awaiting_payment', 'sold')"), sqlite_where=sa.text("status IN ('held', 'awaiting_approval', 'awaiting_payment', 'sold')"))
        batch_op.drop_index(batch_op.f('ix_booth_bookings_exhibitor_id'))
        batch_op.drop_index('ix_booth_bookings_event_status')

    op.drop_table('booth_bookings')
    op.drop_table('booths')
    op.drop_table('booth_sale_settings')
    with op.batch_alter_table('booth_priority_windows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_booth_priority_windows_event_id'))

    op.drop_table('booth_priority_windows')
    op.drop_table('booth_floor_plans')
