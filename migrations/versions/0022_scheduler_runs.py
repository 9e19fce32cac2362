"""scheduler: the leader's row, each job run, the outbox's claimer, its cancelled status and an index of mail sent

Revision ID: 0022_scheduler_runs
Revises: 0021_reminders
Create Date: 2026-12-07 13:10:00
"""
from alembic import op
import sqlalchemy as sa
import portal.db


revision = '0022_scheduler_runs'
down_revision = '0021_reminders'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('scheduler_leaders',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('since', portal.db.UTCDateTime(), nullable=False),
    sa.Column('heartbeat_at', portal.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_scheduler_leaders'))
    )
    op.create_table('scheduler_job_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.String(length=80), nullable=False),
    sa.Column('runner', sa.String(length=120), nullable=False),
    sa.Column('started_at', portal.db.UTCDateTime(), nullable=False),
    sa.Column('finished_at', portal.db.UTCDateTime(), nullable=True),
    sa.Column('outcome', sa.Enum('running', 'ok', 'failed', name='job_outcome', native_enum=False, length=32), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scheduler_job_runs'))
    )
    with op.batch_alter_table('scheduler_job_runs', schema=None) as batch_op:
        batch_op.create_index('ix_scheduler_job_runs_job_started', ['job_id', 'started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_scheduler_job_runs_started_at'), ['started_at'], unique=False)
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=120), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_messages_sent_at'), ['sent_at'], unique=False)
        batch_op.alter_column('status', existing_type=sa.Enum('pending', 'sending', 'sent', 'failed', name='outbox_status', native_enum=False, length=32),
                              type_=sa.Enum('pending', 'sending', 'sent', 'failed', 'cancelled', name='outbox_status', native_enum=False, length=32),
                              existing_nullable=False)


def downgrade() -> None:
    op.execute("UPDATE outbox_messages SET status = 'failed' WHERE status = 'cancelled'")
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_messages_sent_at'))
        batch_op.drop_column('claimed_by')
    with op.batch_alter_table('scheduler_job_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scheduler_job_runs_started_at'))
        batch_op.drop_index('ix_scheduler_job_runs_job_started')
    op.drop_table('scheduler_job_runs')
    op.drop_table('scheduler_leaders')
