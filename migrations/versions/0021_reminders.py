"""reminders: rules per event, call or programme (and one set for mentoring), the reminders they made, opt-outs;
every existing event, call, programme and the mentoring network get the default rules; calls get a date reviews are due

Revision ID: 0021_reminders
Revises: 0020_names_review_messages
Create Date: 2026-12-07 13:10:00
"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa
import portal.db


revision = '0021_reminders'
down_revision = '0020_names_review_messages'
branch_labels = None
depends_on = None

#: the defaults as they were when this revision was written: (kind, offset minutes, late minutes, audience)
EVENT_DEFAULTS = [("event_ticket", -7 * 1440, 2 * 1440, "attendees"), ("event_ticket", -1440, 720, "attendees"),
                  ("order_payment", -18 * 60, 6 * 60, "buyer"), ("booth_hold", -5, 4, "exhibitor"),
                  ("booth_payment", -2 * 1440, 1440, "exhibitor")]
CALL_DEFAULTS = [("application_deadline", -7 * 1440, 2 * 1440, "members"),
                 ("application_deadline", -1440, 720, "members"),
                 ("review_deadline", -3 * 1440, 1440, "reviewers"), ("review_deadline", -1440, 720, "reviewers")]
PROGRAMME_DEFAULTS = [("cohort_milestone", -7 * 1440, 2 * 1440, "members"),
                      ("cohort_milestone", -1440, 720, "members"), ("kpi_report", -3 * 1440, 1440, "members")]
MENTORING_DEFAULTS = [("mentoring_session", -1440, 720, "both"), ("mentoring_session", -60, 45, "both"),
                      ("mentoring_feedback", 120, 2 * 1440, "both")]


def upgrade() -> None:
    op.create_table('reminder_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('scope_id', sa.Integer(), nullable=True),
    sa.Column('audience', sa.String(length=20), nullable=False),
    sa.Column('offset_minutes', sa.Integer(), nullable=False),
    sa.Column('late_minutes', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('subject_vi', sa.String(length=255), nullable=True),
    sa.Column('subject_en', sa.String(length=255), nullable=True),
    sa.Column('body_vi', sa.Text(), nullable=True),
    sa.Column('body_en', sa.Text(), nullable=True),
    sa.Column('created_at', portal.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', portal.db.UTCDateTime(), nullable=False),
    sa.CheckConstraint('late_minutes >= 0', name=op.f('ck_reminder_rules_late_minutes_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_rules'))
    )
    op.create_index('ix_reminder_rules_kind_scope', 'reminder_rules', ['kind', 'scope_id'], unique=False)
    op.create_table('reminder_opt_outs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('created_at', portal.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_opt_outs')),
    sa.UniqueConstraint('email', 'kind', name=op.f('uq_reminder_opt_outs_email_kind'))
    )
    op.create_table('reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('recipient_ref', sa.String(length=40), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('locale', sa.String(length=5), nullable=False),
    sa.Column('occurs_at', portal.db.UTCDateTime(), nullable=False),
    sa.Column('planned_at', portal.db.UTCDateTime(), nullable=False),
    sa.Column('queued_at', portal.db.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminders')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_reminders_idempotency_key'))
    )
    op.create_index('ix_reminders_unqueued', 'reminders', ['id'], unique=False,
                    postgresql_where=sa.text('queued_at IS NULL'), sqlite_where=sa.text('queued_at IS NULL'))
    with op.batch_alter_table('calls') as batch_op:
        batch_op.add_column(sa.Column('reviews_close_at', portal.db.UTCDateTime(), nullable=True))
    _add_defaults()


def _add_defaults() -> None:
    now = datetime.now(UTC).replace(tzinfo=None)  # UTCDateTime stores naive UTC
    insert = ("INSERT INTO reminder_rules (kind, scope_id, audience, offset_minutes, late_minutes, active, created_at, "
              "updated_at) SELECT :kind, {scope}, :audience, :offset, :late, :active, :now, :now {source}")
    for defaults, scope, source in ((EVENT_DEFAULTS, "id", "FROM events"), (CALL_DEFAULTS, "id", "FROM calls"),
                                    (PROGRAMME_DEFAULTS, "id", "FROM programmes"),
                                    (MENTORING_DEFAULTS, "NULL", "")):
        for kind, offset, late, audience in defaults:
            op.execute(sa.text(insert.format(scope=scope, source=source)).bindparams(
                kind=kind, audience=audience, offset=offset, late=late, active=True, now=now))


def downgrade() -> None:
    with op.batch_alter_table('calls') as batch_op:
        batch_op.drop_column('reviews_close_at')
    op.drop_index('ix_reminders_unqueued', table_name='reminders')
    op.drop_table('reminders')
    op.drop_table('reminder_opt_outs')
    op.drop_index('ix_reminder_rules_kind_scope', table_name='reminder_rules')
    op.drop_table('reminder_rules')
