"""Mentors, their availability, startups' needs, matches and sessions.

Times of sessions are stored in UTC; availability is kept as the mentor states it, in their own time zone, and free
slots are computed from it, never stored. The database refuses two overlapping confirmed sessions of one mentor
(migration 0015: an exclusion constraint on PostgreSQL, a trigger on SQLite)."""

from __future__ import annotations

import enum
from datetime import date, datetime, time

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Organisation, User
from portal.db import Base, UTCDateTime, str_enum, utcnow


class MentorStatus(enum.StrEnum):
    #: invited by a manager, or applied: not in the directory until approved
    PENDING = "pending"
    APPROVED = "approved"
    #: no longer takes sessions; past sessions stay
    RETIRED = "retired"


class MentorProfile(Base):
    __tablename__ = "mentor_profiles"
    __table_args__ = (
        CheckConstraint("sessions_per_week >= 0 AND sessions_per_day >= 0 AND mentee_capacity >= 0",
                        name="capacities_not_negative"),
        CheckConstraint("buffer_minutes >= 0 AND minimum_notice_hours >= 0", name="buffers_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    status: Mapped[MentorStatus] = mapped_column(str_enum(MentorStatus, "mentor_status"), default=MentorStatus.PENDING)
    headline_vi: Mapped[str] = mapped_column(String(200), default="")
    headline_en: Mapped[str] = mapped_column(String(200), default="")
    bio_vi: Mapped[str] = mapped_column(Text, default="")
    bio_en: Mapped[str] = mapped_column(Text, default="")
    organisation_name: Mapped[str] = mapped_column(String(200), default="")
    #: sector keys (portal.incubation.defaults.SECTORS) and function keys (portal.mentoring.taxonomy.FUNCTIONS)
    sectors: Mapped[list] = mapped_column(JSON, default=list)
    functions: Mapped[list] = mapped_column(JSON, default=list)
    #: language codes the mentor works in: 'vi', 'en', 'fr', 'ja', 'ko', 'zh', 'de'
    languages: Mapped[list] = mapped_column(JSON, default=list)
    #: the IANA zone the mentor's weekly hours are written in
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Ho_Chi_Minh")
    #: session lengths offered, in minutes
    session_lengths: Mapped[list] = mapped_column(JSON, default=lambda: [60])
    #: a meeting link or a place
    location: Mapped[str] = mapped_column(String(300), default="")
    buffer_minutes: Mapped[int] = mapped_column(Integer, default=15)
    minimum_notice_hours: Mapped[int] = mapped_column(Integer, default=24)
    sessions_per_day: Mapped[int] = mapped_column(Integer, default=3)
    sessions_per_week: Mapped[int] = mapped_column(Integer, default=5)
    #: startups matched to the mentor at a time (cohort matching)
    mentee_capacity: Mapped[int] = mapped_column(Integer, default=3)
    #: confirm booked sessions at once, or wait for the mentor's acceptance
    confirms_automatically: Mapped[bool] = mapped_column(Boolean, default=True)
    visible: Mapped[bool] = mapped_column(Boolean, default=True)
    photo: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship()
    weekly_hours: Mapped[list[WeeklyHours]] = relationship(
        cascade="all, delete-orphan", order_by="(WeeklyHours.weekday, WeeklyHours.starts)")
    overrides: Mapped[list[DateOverride]] = relationship(cascade="all, delete-orphan", order_by="DateOverride.day")

    @property
    def has_weekly_hours(self) -> bool:
        return bool(self.weekly_hours)


class WeeklyHours(Base):
    """A stretch of a weekday the mentor is usually free, in the mentor's own time zone (0 = Monday)."""

    __tablename__ = "mentor_weekly_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("starts < ends", name="starts_before_ends"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("mentor_profiles.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)
    starts: Mapped[time] = mapped_column(Time)
    ends: Mapped[time] = mapped_column(Time)


class DateOverride(Base):
    """One day that differs from the week: no hours at all (day off), or these hours instead of the usual ones."""

    __tablename__ = "mentor_date_overrides"
    __table_args__ = (CheckConstraint("(starts IS NULL AND ends IS NULL) OR starts < ends", name="hours_in_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("mentor_profiles.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    #: None and None: the whole day off
    starts: Mapped[time | None] = mapped_column(Time)
    ends: Mapped[time | None] = mapped_column(Time)


class StartupNeeds(Base):
    """What a startup wants help with, for suggestions and matching."""

    __tablename__ = "startup_needs"

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"),
                                                 primary_key=True)
    sector: Mapped[str] = mapped_column(String(60), default="")
    stage: Mapped[str] = mapped_column(String(40), default="")
    functions: Mapped[list] = mapped_column(JSON, default=list)
    languages: Mapped[list] = mapped_column(JSON, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    organisation: Mapped[Organisation] = relationship()


class MatchingWeights(Base):
    """How much each reason counts in suggestions and matching, set by managers on a page (one row)."""

    __tablename__ = "matching_weights"
    __table_args__ = (CheckConstraint("sector >= 0 AND function >= 0 AND language >= 0 AND availability >= 0",
                                      name="weights_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sector: Mapped[int] = mapped_column(Integer, default=30)
    function: Mapped[int] = mapped_column(Integer, default=15)  # per need the mentor covers
    language: Mapped[int] = mapped_column(Integer, default=20)
    availability: Mapped[int] = mapped_column(Integer, default=10)


class MatchStatus(enum.StrEnum):
    PROPOSED = "proposed"
    PUBLISHED = "published"


class MentorMatch(Base):
    """A mentor matched to a startup by a manager's cohort matching: proposed, then published (both sides told)."""

    __tablename__ = "mentor_matches"
    __table_args__ = (UniqueConstraint("mentor_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("mentor_profiles.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    status: Mapped[MatchStatus] = mapped_column(str_enum(MatchStatus, "mentor_match_status"),
                                                default=MatchStatus.PROPOSED)
    score: Mapped[int] = mapped_column(Integer, default=0)
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    mentor: Mapped[MentorProfile] = relationship()
    organisation: Mapped[Organisation] = relationship()


class RunStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class MatchingRun(Base):
    """A manager's cohort matching, run by the scheduler process in the background (a cohort of thousands takes
    seconds), with the step it is at for the page that follows it."""

    __tablename__ = "mentor_matching_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: None: every startup
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id", ondelete="SET NULL"))
    per_startup: Mapped[int] = mapped_column(Integer)
    status: Mapped[RunStatus] = mapped_column(str_enum(RunStatus, "mentor_matching_run_status"),
                                              default=RunStatus.QUEUED)
    #: matching.Step while it runs
    step: Mapped[str] = mapped_column(String(20), default="")
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: matching.MatchingResult's figures once done
    result: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)


class SessionStatus(enum.StrEnum):
    PENDING = "pending"  # waits for the mentor's acceptance
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    CANCELLED = "cancelled"


class MentoringSession(Base):
    """A booked hour with a mentor. `blocked_until` is the end plus the mentor's buffer: confirmed sessions of one
    mentor never overlap up to it, which the database itself enforces."""

    __tablename__ = "mentoring_sessions"
    __table_args__ = (CheckConstraint("starts_at < ends_at AND ends_at <= blocked_until", name="times_in_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("mentor_profiles.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    booked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    blocked_until: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[SessionStatus] = mapped_column(str_enum(SessionStatus, "mentoring_session_status"))
    topic: Mapped[str] = mapped_column(String(300), default="")
    #: bumps on every reschedule, so a link mailed before it stops working
    link_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    mentor: Mapped[MentorProfile] = relationship()
    organisation: Mapped[Organisation] = relationship()
    feedback: Mapped[list[SessionFeedback]] = relationship(back_populates="session", cascade="all, delete-orphan")

    @property
    def holds_time(self) -> bool:
        """Requested or confirmed: the mentor's time is kept for it."""
        return self.status in (SessionStatus.PENDING, SessionStatus.CONFIRMED)

    def may_cancel(self, now: datetime) -> bool:
        return self.holds_time and self.starts_at > now

    def may_get_feedback(self, now: datetime) -> bool:
        return self.status == SessionStatus.CONFIRMED and self.ends_at <= now


class FeedbackSide(enum.StrEnum):
    MENTOR = "mentor"
    STARTUP = "startup"


class SessionFeedback(Base):
    __tablename__ = "mentoring_feedback"
    __table_args__ = (
        UniqueConstraint("session_id", "side"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("mentoring_sessions.id", ondelete="CASCADE"), index=True)
    side: Mapped[FeedbackSide] = mapped_column(str_enum(FeedbackSide, "feedback_side"))
    rating: Mapped[int] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text, default="")
    #: notes only managers read
    for_managers_only: Mapped[bool] = mapped_column(Boolean, default=False)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    session: Mapped[MentoringSession] = relationship(back_populates="feedback")
