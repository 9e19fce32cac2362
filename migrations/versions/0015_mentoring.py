"""mentoring: mentor profiles with weekly hours and date overrides, startups' needs, matching weights, matches,
sessions and their feedback; the database refuses two overlapping confirmed sessions of one mentor (an exclusion
constraint with btree_gist on PostgreSQL, triggers on SQLite)

Revision ID: 0015_mentoring
Revises: 0014_quota_counters
Create Date: 2026-12-07 11:20:00
"""
from alembic import op
import sqlalchemy as sa
import portal.db


revision = '0015_mentoring'
down_revision = '0014_quota_counters'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('matching_weights',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sector', sa.Integer(), nullable=False),
    sa.Column('function', sa.Integer(), nullable=False),
    sa.Column('language', sa.Integer(), nullable=False),
    sa.Column('availability', sa.Integer(), nullable=False),
    sa.CheckConstraint('sector >= 0 AND function >= 0 AND language >= 0 AND availability >= 0', name=op.f('ck_matching_weights_weights_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_matching_weights'))
    )
    op.create_table('mentor_profiles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'approved', 'retired', name='mentor_status', native_enum=False, length=32), nullable=False),
    sa.Column('headline_vi', sa.String(length=200), nullable=False),
    sa.Column('headline_en', sa.String(length=200), nullable=False),
    sa.Column('bio_vi', sa.Text(), nullable=False),
    sa.Column('bio_en', sa.Text(), nullable=False),
    sa.Column('organisation_name', sa.String(length=200), nullable=False),
    sa.Column('sectors', sa.JSON(), nullable=False),
    sa.Column('functions', sa.JSON(), nullable=False),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('session_lengths', sa.JSON(), nullable=False),
    sa.Column('location', sa.String(length=300), nullable=False),
    sa.Column('buffer_minutes', sa.Integer(), nullable=False),
    sa.Column('minimum_notice_hours', sa.Integer(), nullable=False),
    sa.Column('sessions_per_day', sa.Integer(), nullable=False),
    sa.Column('sessions_per_week', sa.Integer(), nullable=False),
    sa.Column('mentee_capacity', sa.Integer(), nullable=False),
    sa.Column('confirms_automatically', sa.Boolean(), nullable=False),
    sa.Column('visible', sa.Boolean(), nullable=False),
    sa.Column('photo', sa.String(length=64), nullable=True),
    sa.Column('created_at', portal.db.UTCDateTime(), nullable=False),
    sa.CheckConstraint('buffer_minutes >= 0 AND minimum_notice_hours >= 0', name=op.f('ck_mentor_profiles_buffers_not_negative')),
    sa.CheckConstraint('sessions_per_week >= 0 AND sessions_per_day >= 0 AND mentee_capacity >= 0', name=op.f('ck_mentor_profiles_capacities_not_negative')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_mentor_profiles_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mentor_profiles')),
    sa.UniqueConstraint('user_id', name=op.f('uq_mentor_profiles_user_id'))
    )
    op.create_table('startup_needs',
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('sector', sa.String(length=60), nullable=False),
    sa.Column('stage', sa.String(length=40), nullable=False),
    sa.Column('functions', sa.JSON(), nullable=False),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('updated_at', portal.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_startup_needs_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('organisation_id', name=op.f('pk_startup_needs'))
    )
    op.create_table('mentor_date_overrides',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mentor_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('starts', sa.Time(), nullable=True),
    sa.Column('ends', sa.Time(), nullable=True),
    sa.CheckConstraint('(starts IS NULL AND ends IS NULL) OR starts < ends', name=op.f('ck_mentor_date_overrides_hours_in_order')),
    sa.ForeignKeyConstraint(['mentor_id'], ['mentor_profiles.id'], name=op.f('fk_mentor_date_overrides_mentor_id_mentor_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mentor_date_overrides'))
    )
    with op.batch_alter_table('mentor_date_overrides', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mentor_date_overrides_mentor_id'), ['mentor_id'], unique=False)

    op.create_table('mentor_matches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mentor_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('proposed', 'published', name='mentor_match_status', native_enum=False, length=32), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', portal.db.UTCDateTime(), nullable=False),
    sa.Column('published_at', portal.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_mentor_matches_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['mentor_id'], ['mentor_profiles.id'], name=op.f('fk_mentor_matches_mentor_id_mentor_profiles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_mentor_matches_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mentor_matches')),
    sa.UniqueConstraint('mentor_id', 'organisation_id', name=op.f('uq_mentor_matches_mentor_id_organisation_id'))
    )
    with op.batch_alter_table('mentor_matches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mentor_matches_mentor_id'), ['mentor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mentor_matches_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('mentor_weekly_hours',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mentor_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('starts', sa.Time(), nullable=False),
    sa.Column('ends', sa.Time(), nullable=False),
    sa.CheckConstraint('starts < ends', name=op.f('ck_mentor_weekly_hours_starts_before_ends')),
    sa.CheckConstraint('weekday BETWEEN 0 AND 6', name=op.f('ck_mentor_weekly_hours_weekday_range')),
    sa.ForeignKeyConstraint(['mentor_id'], ['mentor_profiles.id'], name=op.f('fk_mentor_weekly_hours_mentor_id_mentor_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mentor_weekly_hours'))
    )
    with op.batch_alter_table('mentor_weekly_hours', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mentor_weekly_hours_mentor_id'), ['mentor_id'], unique=False)

    op.create_table('mentoring_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mentor_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('booked_by_id', sa.Integer(), nullable=True),
    sa.Column('starts_at', portal.db.UTCDateTime(), nullable=False),
    sa.Column('ends_at', portal.db.UTCDateTime(), nullable=False),
    sa.Column('blocked_until', portal.db.UTCDateTime(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'confirmed', 'declined', 'cancelled', name='mentoring_session_status', native_enum=False, length=32), nullable=False),
    sa.Column('topic', sa.String(length=300), nullable=False),
    sa.Column('link_version', sa.Integer(), nullable=False),
    sa.Column('created_at', portal.db.UTCDateTime(), nullable=False),
    sa.Column('decided_at', portal.db.UTCDateTime(), nullable=True),
    sa.CheckConstraint('starts_at < ends_at AND ends_at <= blocked_until', name=op.f('ck_mentoring_sessions_times_in_order')),
    sa.ForeignKeyConstraint(['booked_by_id'], ['users.id'], name=op.f('fk_mentoring_sessions_booked_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['mentor_id'], ['mentor_profiles.id'], name=op.f('fk_mentoring_sessions_mentor_id_mentor_profiles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_mentoring_sessions_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mentoring_sessions'))
    )
    with op.batch_alter_table('mentoring_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mentoring_sessions_mentor_id'), ['mentor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mentoring_sessions_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mentoring_sessions_starts_at'), ['starts_at'], unique=False)

    op.create_table('mentoring_feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('side', sa.Enum('mentor', 'startup', name='feedback_side', native_enum=False, length=32), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('for_managers_only', sa.Boolean(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('created_at', portal.db.UTCDateTime(), nullable=False),
    sa.CheckConstraint('rating BETWEEN 1 AND 5', name=op.f('ck_mentoring_feedback_rating_range')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_mentoring_feedback_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['mentoring_sessions.id'], name=op.f('fk_mentoring_feedback_session_id_mentoring_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mentoring_feedback')),
    sa.UniqueConstraint('session_id', 'side', name=op.f('uq_mentoring_feedback_session_id_side'))
    )
    with op.batch_alter_table('mentoring_feedback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mentoring_feedback_session_id'), ['session_id'], unique=False)

    _refuse_overlapping_sessions()


OVERLAP = ("s.mentor_id = NEW.mentor_id AND s.status = 'confirmed' AND s.starts_at < NEW.blocked_until "
           "AND NEW.starts_at < s.blocked_until")


def _refuse_overlapping_sessions() -> None:
    """Confirmed sessions of one mentor never overlap, up to their buffer: PostgreSQL checks it with an exclusion
    constraint (btree_gist lets a gist index compare the mentor's id), SQLite, which has none, with triggers (it
    lets one writer in at a time, so a trigger's look cannot race another insert)."""
    if op.get_bind().dialect.name == "postgresql":
        # in public, not in a test's or a benchmark's own schema, which are dropped with what they hold
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist SCHEMA public")
        op.execute("ALTER TABLE mentoring_sessions ADD CONSTRAINT ex_mentoring_sessions_no_overlap "
                   "EXCLUDE USING gist (mentor_id WITH =, tsrange(starts_at, blocked_until) WITH &&) "
                   "WHERE (status = 'confirmed')")
        return
    for event in ("INSERT", "UPDATE"):
        same_row = " AND s.id != NEW.id" if event == "UPDATE" else ""
        op.execute(f"CREATE TRIGGER mentoring_sessions_no_overlap_{event.lower()} BEFORE {event} ON mentoring_sessions "
                   f"WHEN NEW.status = 'confirmed' AND EXISTS (SELECT 1 FROM mentoring_sessions s WHERE {OVERLAP}"
                   f"{same_row}) BEGIN SELECT RAISE(ABORT, 'mentoring session overlaps another'); END")


def _allow_overlapping_sessions() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE mentoring_sessions DROP CONSTRAINT ex_mentoring_sessions_no_overlap")
        return
    for event in ("insert", "update"):
        op.execute(f"DROP TRIGGER mentoring_sessions_no_overlap_{event}")

def downgrade() -> None:
    _allow_overlapping_sessions()
    with op.batch_alter_table('mentoring_feedback', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mentoring_feedback_session_id'))

    op.drop_table('mentoring_feedback')
    with op.batch_alter_table('mentoring_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mentoring_sessions_starts_at'))
        batch_op.drop_index(batch_op.f('ix_mentoring_sessions_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_mentoring_sessions_mentor_id'))

    op.drop_table('mentoring_sessions')
    with op.batch_alter_table('mentor_weekly_hours', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mentor_weekly_hours_mentor_id'))

    op.drop_table('mentor_weekly_hours')
    with op.batch_alter_table('mentor_matches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mentor_matches_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_mentor_matches_mentor_id'))

    op.drop_table('mentor_matches')
    with op.batch_alter_table('mentor_date_overrides', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mentor_date_overrides_mentor_id'))

    op.drop_table('mentor_date_overrides')
    op.drop_table('startup_needs')
    op.drop_table('mentor_profiles')
    op.drop_table('matching_weights')
