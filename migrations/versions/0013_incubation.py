"""incubation: programmes' bodies and kinds, calls' eligibility and review settings, forms, applications, reviews,
scores, cohorts, milestones and KPI reports

Revision ID: 0013_incubation
Revises: 0012_check_constraints
Create Date: 2026-12-07 10:20:00
"""
from alembic import op
import sqlalchemy as sa
import portal.db


revision = '0013_incubation'
down_revision = '0012_check_constraints'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('applications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'submitted', 'withdrawn', name='application_status', native_enum=False, length=32), nullable=False),
    sa.Column('stage', sa.Enum('eligibility', 'dossier', 'calibration', 'pitch', 'council', 'decided', name='application_stage', native_enum=False, length=32), nullable=True),
    sa.Column('decision', sa.Enum('accept', 'waitlist', 'pre_incubation', 'reject', name='application_decision', native_enum=False, length=32), nullable=True),
    sa.Column('sector', sa.String(length=60), nullable=True),
    sa.Column('feedback', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', portal.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', portal.db.UTCDateTime(), nullable=False),
    sa.Column('submitted_at', portal.db.UTCDateTime(), nullable=True),
    sa.Column('decided_at', portal.db.UTCDateTime(), nullable=True),
    sa.Column('letter_sent_at', portal.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_applications_call_id_calls'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_applications_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_applications_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_applications')),
    sa.UniqueConstraint('call_id', 'organisation_id', name=op.f('uq_applications_call_id_organisation_id'))
    )
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_applications_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_applications_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_applications_sector'), ['sector'], unique=False)
        batch_op.create_index(batch_op.f('ix_applications_stage'), ['stage'], unique=False)

    op.create_table('call_reviewers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('cap', sa.Integer(), nullable=True),
    sa.Column('expertise', sa.JSON(), nullable=False),
    sa.Column('invited_at', portal.db.UTCDateTime(), nullable=False),
    sa.Column('accepted_at', portal.db.UTCDateTime(), nullable=True),
    sa.CheckConstraint('cap IS NULL OR cap >= 0', name=op.f('ck_call_reviewers_cap_not_negative')),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_call_reviewers_call_id_calls'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_call_reviewers_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_reviewers')),
    sa.UniqueConstraint('call_id', 'user_id', name=op.f('uq_call_reviewers_call_id_user_id'))
    )
    with op.batch_alter_table('call_reviewers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_reviewers_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_reviewers_user_id'), ['user_id'], unique=False)

    op.create_table('cohorts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_cohorts_call_id_calls'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], name=op.f('fk_cohorts_programme_id_programmes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cohorts'))
    )
    with op.batch_alter_table('cohorts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cohorts_programme_id'), ['programme_id'], unique=False)

    op.create_table('criteria',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name_vi', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('weight', sa.Integer(), nullable=False),
    sa.Column('scale_max', sa.Integer(), nullable=False),
    sa.CheckConstraint('scale_max BETWEEN 2 AND 100', name=op.f('ck_criteria_scale_max_range')),
    sa.CheckConstraint('weight > 0 AND weight <= 100', name=op.f('ck_criteria_weight_range')),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_criteria_call_id_calls'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_criteria')),
    sa.UniqueConstraint('call_id', 'key', name=op.f('uq_criteria_call_id_key'))
    )
    with op.batch_alter_table('criteria', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_criteria_call_id'), ['call_id'], unique=False)

    op.create_table('form_sections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title_vi', sa.String(length=200), nullable=False),
    sa.Column('title_en', sa.String(length=200), nullable=False),
    sa.Column('help_vi', sa.Text(), nullable=False),
    sa.Column('help_en', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_form_sections_call_id_calls'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_form_sections'))
    )
    with op.batch_alter_table('form_sections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_form_sections_call_id'), ['call_id'], unique=False)

    op.create_table('application_sections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('section_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', portal.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_application_sections_application_id_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['section_id'], ['form_sections.id'], name=op.f('fk_application_sections_section_id_form_sections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_application_sections_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_application_sections')),
    sa.UniqueConstraint('application_id', 'section_id', name=op.f('uq_application_sections_application_id_section_id'))
    )
    with op.batch_alter_table('application_sections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_application_sections_application_id'), ['application_id'], unique=False)

    op.create_table('cohort_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=True),
    sa.Column('joined_at', portal.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_cohort_members_application_id_applications'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_cohort_members_cohort_id_cohorts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_cohort_members_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cohort_members')),
    sa.UniqueConstraint('cohort_id', 'organisation_id', name=op.f('uq_cohort_members_cohort_id_organisation_id'))
    )
    with op.batch_alter_table('cohort_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cohort_members_cohort_id'), ['cohort_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cohort_members_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('form_fields',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('section_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=60), nullable=False),
    sa.Column('kind', sa.Enum('short_text', 'long_text', 'number', 'date', 'single_choice', 'multiple_choice', 'url', 'file', 'team', name='form_field_kind', native_enum=False, length=32), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('label_vi', sa.String(length=300), nullable=False),
    sa.Column('label_en', sa.String(length=300), nullable=False),
    sa.Column('help_vi', sa.Text(), nullable=False),
    sa.Column('help_en', sa.Text(), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('word_limit', sa.Integer(), nullable=True),
    sa.Column('min_value', sa.BigInteger(), nullable=True),
    sa.Column('max_value', sa.BigInteger(), nullable=True),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('max_file_mb', sa.Integer(), nullable=True),
    sa.CheckConstraint('max_file_mb IS NULL OR max_file_mb BETWEEN 1 AND 20', name=op.f('ck_form_fields_max_file_mb_range')),
    sa.CheckConstraint('word_limit IS NULL OR word_limit > 0', name=op.f('ck_form_fields_word_limit_positive')),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_form_fields_call_id_calls'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['section_id'], ['form_sections.id'], name=op.f('fk_form_fields_section_id_form_sections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_form_fields')),
    sa.UniqueConstraint('call_id', 'key', name=op.f('uq_form_fields_call_id_key'))
    )
    with op.batch_alter_table('form_fields', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_form_fields_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_form_fields_section_id'), ['section_id'], unique=False)

    op.create_table('milestones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('title_vi', sa.String(length=200), nullable=False),
    sa.Column('title_en', sa.String(length=200), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_milestones_cohort_id_cohorts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_milestones'))
    )
    with op.batch_alter_table('milestones', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_milestones_cohort_id'), ['cohort_id'], unique=False)

    op.create_table('reviewer_conflicts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_reviewer_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Enum('own_organisation', 'knows_founder', 'other', name='conflict_reason', native_enum=False, length=32), nullable=False),
    sa.Column('declared_at', portal.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['call_reviewer_id'], ['call_reviewers.id'], name=op.f('fk_reviewer_conflicts_call_reviewer_id_call_reviewers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_reviewer_conflicts_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviewer_conflicts')),
    sa.UniqueConstraint('call_reviewer_id', 'organisation_id', name=op.f('uq_reviewer_conflicts_call_reviewer_id_organisation_id'))
    )
    with op.batch_alter_table('reviewer_conflicts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reviewer_conflicts_call_reviewer_id'), ['call_reviewer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reviewer_conflicts_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('call_reviewer_id', sa.Integer(), nullable=False),
    sa.Column('automatic', sa.Boolean(), nullable=False),
    sa.Column('assigned_at', portal.db.UTCDateTime(), nullable=False),
    sa.Column('started_at', portal.db.UTCDateTime(), nullable=True),
    sa.Column('submitted_at', portal.db.UTCDateTime(), nullable=True),
    sa.Column('comment_for_startup', sa.Text(), nullable=False),
    sa.Column('comment_for_committee', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_reviews_application_id_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['call_reviewer_id'], ['call_reviewers.id'], name=op.f('fk_reviews_call_reviewer_id_call_reviewers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviews')),
    sa.UniqueConstraint('application_id', 'call_reviewer_id', name=op.f('uq_reviews_application_id_call_reviewer_id'))
    )
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reviews_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reviews_call_reviewer_id'), ['call_reviewer_id'], unique=False)

    op.create_table('application_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('field_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_application_answers_application_id_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['field_id'], ['form_fields.id'], name=op.f('fk_application_answers_field_id_form_fields'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_application_answers')),
    sa.UniqueConstraint('application_id', 'field_id', name=op.f('uq_application_answers_application_id_field_id'))
    )
    with op.batch_alter_table('application_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_application_answers_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_application_answers_field_id'), ['field_id'], unique=False)

    op.create_table('application_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('field_id', sa.Integer(), nullable=False),
    sa.Column('stored_name', sa.String(length=64), nullable=False),
    sa.Column('original_name', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=80), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', portal.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_application_files_application_id_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['field_id'], ['form_fields.id'], name=op.f('fk_application_files_field_id_form_fields'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_application_files_uploaded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_application_files')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_application_files_stored_name'))
    )
    with op.batch_alter_table('application_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_application_files_application_id'), ['application_id'], unique=False)

    op.create_table('kpi_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_member_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.Date(), nullable=False),
    sa.Column('revenue_vnd', sa.BigInteger(), nullable=False),
    sa.Column('employees', sa.Integer(), nullable=False),
    sa.Column('funding_vnd', sa.BigInteger(), nullable=False),
    sa.Column('ip_filed', sa.Integer(), nullable=False),
    sa.Column('products_launched', sa.Integer(), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', portal.db.UTCDateTime(), nullable=False),
    sa.CheckConstraint('revenue_vnd >= 0 AND funding_vnd >= 0 AND employees >= 0 AND ip_filed >= 0 AND products_launched >= 0', name=op.f('ck_kpi_reports_figures_not_negative')),
    sa.ForeignKeyConstraint(['cohort_member_id'], ['cohort_members.id'], name=op.f('fk_kpi_reports_cohort_member_id_cohort_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_kpi_reports_submitted_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kpi_reports')),
    sa.UniqueConstraint('cohort_member_id', 'period', name=op.f('uq_kpi_reports_cohort_member_id_period'))
    )
    with op.batch_alter_table('kpi_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kpi_reports_cohort_member_id'), ['cohort_member_id'], unique=False)

    op.create_table('review_scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('criterion_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.CheckConstraint('value >= 1', name=op.f('ck_review_scores_value_positive')),
    sa.ForeignKeyConstraint(['criterion_id'], ['criteria.id'], name=op.f('fk_review_scores_criterion_id_criteria'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], name=op.f('fk_review_scores_review_id_reviews'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_scores')),
    sa.UniqueConstraint('review_id', 'criterion_id', name=op.f('uq_review_scores_review_id_criterion_id'))
    )
    with op.batch_alter_table('review_scores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_scores_review_id'), ['review_id'], unique=False)

    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('capacity', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('eligibility', sa.JSON(), server_default='{}', nullable=False))
        batch_op.add_column(sa.Column('reviewers_per_application', sa.Integer(), server_default='3', nullable=False))
        batch_op.add_column(sa.Column('reviewer_cap', sa.Integer(), server_default='15', nullable=False))
        batch_op.create_check_constraint('capacity_positive', 'capacity IS NULL OR capacity > 0')
        batch_op.create_check_constraint('reviewers_per_application_range', 'reviewers_per_application BETWEEN 1 AND 20')
        batch_op.create_check_constraint('reviewer_cap_positive', 'reviewer_cap > 0')

    with op.batch_alter_table('programmes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('body', sa.Enum('incubator', 'innovation_centre', name='programme_body', native_enum=False, length=32), server_default='incubator', nullable=False))
        batch_op.add_column(sa.Column('kind', sa.Enum('incubation', 'pre_incubation', 'acceleration', name='programme_kind', native_enum=False, length=32), server_default='incubation', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('programmes', schema=None) as batch_op:
        batch_op.drop_column('kind')
        batch_op.drop_column('body')

    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_calls_capacity_positive'), type_='check')
        batch_op.drop_constraint(op.f('ck_calls_reviewers_per_application_range'), type_='check')
        batch_op.drop_constraint(op.f('ck_calls_reviewer_cap_positive'), type_='check')
        batch_op.drop_column('reviewer_cap')
        batch_op.drop_column('reviewers_per_application')
        batch_op.drop_column('eligibility')
        batch_op.drop_column('capacity')

    with op.batch_alter_table('review_scores', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_scores_review_id'))

    op.drop_table('review_scores')
    with op.batch_alter_table('kpi_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kpi_reports_cohort_member_id'))

    op.drop_table('kpi_reports')
    with op.batch_alter_table('application_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_application_files_application_id'))

    op.drop_table('application_files')
    with op.batch_alter_table('application_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_application_answers_field_id'))
        batch_op.drop_index(batch_op.f('ix_application_answers_application_id'))

    op.drop_table('application_answers')
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reviews_call_reviewer_id'))
        batch_op.drop_index(batch_op.f('ix_reviews_application_id'))

    op.drop_table('reviews')
    with op.batch_alter_table('reviewer_conflicts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reviewer_conflicts_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_reviewer_conflicts_call_reviewer_id'))

    op.drop_table('reviewer_conflicts')
    with op.batch_alter_table('milestones', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_milestones_cohort_id'))

    op.drop_table('milestones')
    with op.batch_alter_table('form_fields', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_form_fields_section_id'))
        batch_op.drop_index(batch_op.f('ix_form_fields_call_id'))

    op.drop_table('form_fields')
    with op.batch_alter_table('cohort_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cohort_members_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_cohort_members_cohort_id'))

    op.drop_table('cohort_members')
    with op.batch_alter_table('application_sections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_application_sections_application_id'))

    op.drop_table('application_sections')
    with op.batch_alter_table('form_sections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_form_sections_call_id'))

    op.drop_table('form_sections')
    with op.batch_alter_table('criteria', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_criteria_call_id'))

    op.drop_table('criteria')
    with op.batch_alter_table('cohorts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cohorts_programme_id'))

    op.drop_table('cohorts')
    with op.batch_alter_table('call_reviewers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_reviewers_user_id'))
        batch_op.drop_index(batch_op.f('ix_call_reviewers_call_id'))

    op.drop_table('call_reviewers')
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_applications_stage'))
        batch_op.drop_index(batch_op.f('ix_applications_sector'))
        batch_op.drop_index(batch_op.f('ix_applications_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_applications_call_id'))

    op.drop_table('applications')
