"""mentor matching runs: a cohort's matching runs in the scheduler process and its page follows the steps

Revision ID: 0017_mentor_matching_runs
Revises: 0016_short_codes_search
Create Date: 2026-12-07 13:40:00
"""
from alembic import op
import sqlalchemy as sa
import portal.db


revision = '0017_mentor_matching_runs'
down_revision = '0016_short_codes_search'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('mentor_matching_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=True),
    sa.Column('per_startup', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('queued', 'running', 'done', 'failed', name='mentor_matching_run_status', native_enum=False, length=32), nullable=False),
    sa.Column('step', sa.String(length=20), nullable=False),
    sa.Column('started_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', portal.db.UTCDateTime(), nullable=False),
    sa.Column('started_at', portal.db.UTCDateTime(), nullable=True),
    sa.Column('finished_at', portal.db.UTCDateTime(), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_mentor_matching_runs_cohort_id_cohorts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['started_by_id'], ['users.id'], name=op.f('fk_mentor_matching_runs_started_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mentor_matching_runs'))
    )


def downgrade() -> None:
    op.drop_table('mentor_matching_runs')
