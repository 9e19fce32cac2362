"""Programmes, calls for applications, their forms, applications, reviews, decisions and cohorts."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Organisation, User
from portal.db import Base, UTCDateTime, str_enum, utcnow


class CallStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class ProgrammeBody(enum.StrEnum):
    """Which of the city's two bodies runs the programme."""

    INCUBATOR = "incubator"
    INNOVATION_CENTRE = "innovation_centre"


class ProgrammeKind(enum.StrEnum):
    INCUBATION = "incubation"
    PRE_INCUBATION = "pre_incubation"
    ACCELERATION = "acceleration"


class Programme(Base):
    """The city incubator or the innovation centre's programme; calls belong to one."""

    __tablename__ = "programmes"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    description_vi: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[ProgrammeBody] = mapped_column(
        str_enum(ProgrammeBody, "programme_body"), default=ProgrammeBody.INCUBATOR, server_default="incubator")
    kind: Mapped[ProgrammeKind] = mapped_column(
        str_enum(ProgrammeKind, "programme_kind"), default=ProgrammeKind.INCUBATION, server_default="incubation")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Call(Base):
    """A call for applications (đợt tuyển chọn): its dates, its eligibility rules, its form, rubric and reviewers."""

    __tablename__ = "calls"
    __table_args__ = (
        CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
        CheckConstraint("reviewers_per_application BETWEEN 1 AND 20", name="reviewers_per_application_range"),
        CheckConstraint("reviewer_cap > 0", name="reviewer_cap_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title_vi: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    description_vi: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    #: when reviewers should have finished; their reminders count back from it (None: not set)
    reviews_close_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[CallStatus] = mapped_column(
        str_enum(CallStatus, "call_status"),
        default=CallStatus.DRAFT,
    )
    #: startups the programme can take from this call; None: not announced
    capacity: Mapped[int | None] = mapped_column(Integer)
    #: rules checked at submission, set by managers without code (portal/incubation/eligibility.py)
    eligibility: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    #: reviewers each application gets from the automatic assignment (k), and the most any reviewer takes
    reviewers_per_application: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    reviewer_cap: Mapped[int] = mapped_column(Integer, default=15, server_default="15")

    programme: Mapped[Programme] = relationship()
    sections: Mapped[list[FormSection]] = relationship(
        back_populates="call", cascade="all, delete-orphan", order_by="FormSection.position")
    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="call", cascade="all, delete-orphan", order_by="Criterion.position")


# --- the form ---------------------------------------------------------------------------------------------------

class FieldKind(enum.StrEnum):
    SHORT_TEXT = "short_text"
    LONG_TEXT = "long_text"
    NUMBER = "number"
    DATE = "date"
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    URL = "url"
    FILE = "file"
    #: the founders: one row per person (name, role, e-mail)
    TEAM = "team"


class FormSection(Base):
    __tablename__ = "form_sections"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    title_vi: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    help_vi: Mapped[str] = mapped_column(Text, default="")
    help_en: Mapped[str] = mapped_column(Text, default="")

    call: Mapped[Call] = relationship(back_populates="sections")
    fields: Mapped[list[FormField]] = relationship(
        back_populates="section", cascade="all, delete-orphan", order_by="FormField.position")


class FormField(Base):
    """One question. Answers are stored under the field's id and, for choices, under each option's key, never its
    position, so reordering options or fields never changes what an answer means."""

    __tablename__ = "form_fields"
    __table_args__ = (
        UniqueConstraint("call_id", "key"),
        CheckConstraint("word_limit IS NULL OR word_limit > 0", name="word_limit_positive"),
        CheckConstraint("max_file_mb IS NULL OR max_file_mb BETWEEN 1 AND 20", name="max_file_mb_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: copied from the section so a key is unique across the whole form
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("form_sections.id", ondelete="CASCADE"), index=True)
    #: stable name, used by exports and by the eligibility rules (e.g. 'sector', 'founded_on')
    key: Mapped[str] = mapped_column(String(60))
    kind: Mapped[FieldKind] = mapped_column(str_enum(FieldKind, "form_field_kind"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    label_vi: Mapped[str] = mapped_column(String(300))
    label_en: Mapped[str] = mapped_column(String(300))
    help_vi: Mapped[str] = mapped_column(Text, default="")
    help_en: Mapped[str] = mapped_column(Text, default="")
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    word_limit: Mapped[int | None] = mapped_column(Integer)
    min_value: Mapped[int | None] = mapped_column(BigInteger)
    max_value: Mapped[int | None] = mapped_column(BigInteger)
    #: choices: [{"key": "agritech", "label_vi": "…", "label_en": "…", "retired": false}, …]
    options: Mapped[list] = mapped_column(JSON, default=list)
    max_file_mb: Mapped[int | None] = mapped_column(Integer)

    call: Mapped[Call] = relationship()
    section: Mapped[FormSection] = relationship(back_populates="fields")


# --- applications -------------------------------------------------------------------------------------------------

class ApplicationStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    WITHDRAWN = "withdrawn"


class Stage(enum.StrEnum):
    """Where a submitted application is in the review pipeline, in this order."""

    ELIGIBILITY = "eligibility"
    DOSSIER = "dossier"
    CALIBRATION = "calibration"
    PITCH = "pitch"
    COUNCIL = "council"
    DECIDED = "decided"


class Decision(enum.StrEnum):
    ACCEPT = "accept"
    WAITLIST = "waitlist"
    PRE_INCUBATION = "pre_incubation"
    REJECT = "reject"


class Application(Base):
    """A startup's application to a call, made as its organisation: every member may edit it."""

    __tablename__ = "applications"
    __table_args__ = (UniqueConstraint("call_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    status: Mapped[ApplicationStatus] = mapped_column(
        str_enum(ApplicationStatus, "application_status"), default=ApplicationStatus.DRAFT)
    stage: Mapped[Stage | None] = mapped_column(str_enum(Stage, "application_stage"), index=True)
    decision: Mapped[Decision | None] = mapped_column(str_enum(Decision, "application_decision"))
    #: the answer to the form's 'sector' question, kept here for filters, charts and the reviewer assignment
    sector: Mapped[str | None] = mapped_column(String(60), index=True)
    #: what the startup reads with its decision
    feedback: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    letter_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    call: Mapped[Call] = relationship()
    organisation: Mapped[Organisation] = relationship()
    answers: Mapped[list[Answer]] = relationship(back_populates="application", cascade="all, delete-orphan")
    section_states: Mapped[list[SectionState]] = relationship(cascade="all, delete-orphan")
    files: Mapped[list[ApplicationFile]] = relationship(back_populates="application", cascade="all, delete-orphan")


class SectionState(Base):
    """A section's version: a save names the version it started from, so two members editing one section at once
    are told instead of one silently overwriting the other."""

    __tablename__ = "application_sections"
    __table_args__ = (UniqueConstraint("application_id", "section_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("form_sections.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    updated_by: Mapped[User | None] = relationship()


class Answer(Base):
    __tablename__ = "application_answers"
    __table_args__ = (UniqueConstraint("application_id", "field_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    field_id: Mapped[int] = mapped_column(ForeignKey("form_fields.id", ondelete="CASCADE"), index=True)
    #: text, number, ISO date, option key or keys, or team rows, as the field's kind says
    value: Mapped[object] = mapped_column(JSON)

    application: Mapped[Application] = relationship(back_populates="answers")


class ApplicationFile(Base):
    """A pitch deck or document: stored outside static/ under a random name, served only to who may see it."""

    __tablename__ = "application_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    field_id: Mapped[int] = mapped_column(ForeignKey("form_fields.id", ondelete="CASCADE"))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    original_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(80))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    application: Mapped[Application] = relationship(back_populates="files")


# --- review -------------------------------------------------------------------------------------------------------

class Criterion(Base):
    """One line of the call's rubric: a weight (the weights add up to 100) and the scale a score is given on."""

    __tablename__ = "criteria"
    __table_args__ = (
        UniqueConstraint("call_id", "key"),
        CheckConstraint("weight > 0 AND weight <= 100", name="weight_range"),
        CheckConstraint("scale_max BETWEEN 2 AND 100", name="scale_max_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(Integer, default=0)
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    weight: Mapped[int] = mapped_column(Integer)
    #: scores go from 1 to scale_max
    scale_max: Mapped[int] = mapped_column(Integer, default=10)

    call: Mapped[Call] = relationship(back_populates="criteria")


class CallReviewer(Base):
    """A person in a call's reviewer pool: invited by mail, in the pool once they accept."""

    __tablename__ = "call_reviewers"
    __table_args__ = (
        UniqueConstraint("call_id", "user_id"),
        CheckConstraint("cap IS NULL OR cap >= 0", name="cap_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: the most applications this reviewer takes; None: the call's reviewer_cap
    cap: Mapped[int | None] = mapped_column(Integer)
    #: sectors and topics the reviewer knows, each with a level 1–5: {"agritech": 4, "fintech": 2}
    expertise: Mapped[dict] = mapped_column(JSON, default=dict)
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    call: Mapped[Call] = relationship()
    user: Mapped[User] = relationship()


class ConflictReason(enum.StrEnum):
    OWN_ORGANISATION = "own_organisation"
    KNOWS_FOUNDER = "knows_founder"
    OTHER = "other"


class ReviewerConflict(Base):
    """A conflict of interest a reviewer declared (or that membership of the startup makes obvious): the reviewer is
    never assigned to, and may never open, an application of that organisation."""

    __tablename__ = "reviewer_conflicts"
    __table_args__ = (UniqueConstraint("call_reviewer_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_reviewer_id: Mapped[int] = mapped_column(ForeignKey("call_reviewers.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    reason: Mapped[ConflictReason] = mapped_column(str_enum(ConflictReason, "conflict_reason"))
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Review(Base):
    """One reviewer's assignment to one application, and the review written for it."""

    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("application_id", "call_reviewer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    call_reviewer_id: Mapped[int] = mapped_column(ForeignKey("call_reviewers.id", ondelete="CASCADE"), index=True)
    #: True when the manager's assignment button chose it, False when a manager assigned it by hand
    automatic: Mapped[bool] = mapped_column(Boolean, default=True)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    comment_for_startup: Mapped[str] = mapped_column(Text, default="")
    comment_for_committee: Mapped[str] = mapped_column(Text, default="")

    application: Mapped[Application] = relationship()
    reviewer: Mapped[CallReviewer] = relationship()
    scores: Mapped[list[Score]] = relationship(back_populates="review", cascade="all, delete-orphan")


class Score(Base):
    __tablename__ = "review_scores"
    __table_args__ = (
        UniqueConstraint("review_id", "criterion_id"),
        CheckConstraint("value >= 1", name="value_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criteria.id", ondelete="CASCADE"))
    value: Mapped[int] = mapped_column(Integer)

    review: Mapped[Review] = relationship(back_populates="scores")


# --- cohorts ------------------------------------------------------------------------------------------------------

class Cohort(Base):
    __tablename__ = "cohorts"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"), index=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)

    programme: Mapped[Programme] = relationship()
    members: Mapped[list[CohortMember]] = relationship(back_populates="cohort", cascade="all, delete-orphan")
    milestones: Mapped[list[Milestone]] = relationship(
        back_populates="cohort", cascade="all, delete-orphan", order_by="Milestone.due_on")


class CohortMember(Base):
    __tablename__ = "cohort_members"
    __table_args__ = (UniqueConstraint("cohort_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id", ondelete="SET NULL"))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    cohort: Mapped[Cohort] = relationship(back_populates="members")
    organisation: Mapped[Organisation] = relationship()


class Milestone(Base):
    __tablename__ = "milestones"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    title_vi: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date] = mapped_column(Date)

    cohort: Mapped[Cohort] = relationship(back_populates="milestones")


class KpiReport(Base):
    """What one startup of a cohort reports for one period (a month's first day): the figures the city reports."""

    __tablename__ = "kpi_reports"
    __table_args__ = (
        UniqueConstraint("cohort_member_id", "period"),
        CheckConstraint("revenue_vnd >= 0 AND funding_vnd >= 0 AND employees >= 0 AND ip_filed >= 0 "
                        "AND products_launched >= 0", name="figures_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_member_id: Mapped[int] = mapped_column(ForeignKey("cohort_members.id", ondelete="CASCADE"), index=True)
    period: Mapped[date] = mapped_column(Date)
    revenue_vnd: Mapped[int] = mapped_column(BigInteger, default=0)
    employees: Mapped[int] = mapped_column(Integer, default=0)
    funding_vnd: Mapped[int] = mapped_column(BigInteger, default=0)
    ip_filed: Mapped[int] = mapped_column(Integer, default=0)
    products_launched: Mapped[int] = mapped_column(Integer, default=0)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
