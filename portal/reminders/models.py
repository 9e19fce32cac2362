from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, UTCDateTime, utcnow


class ReminderRule(Base):
    """One reminder an organiser or a manager set: which kind (kinds.KINDS) for which event, call or programme
    (`scope_id`; None for a kind without one, such as mentoring sessions), to whom, when, in which words."""

    __tablename__ = "reminder_rules"
    __table_args__ = (
        Index("ix_reminder_rules_kind_scope", "kind", "scope_id"),
        CheckConstraint("late_minutes >= 0", name="late_minutes_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    scope_id: Mapped[int | None] = mapped_column(Integer)
    #: one of the kind's audiences ("both", "mentor", "startup" …)
    audience: Mapped[str] = mapped_column(String(20))
    #: minutes from the moment reminded of: negative before it, positive after it
    offset_minutes: Mapped[int] = mapped_column(Integer)
    #: a reminder that fell due while the scheduler was down still goes out this long after its time, never later
    late_minutes: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: the organiser's own words; None: the kind's default text in the recipient's language
    subject_vi: Mapped[str | None] = mapped_column(String(255))
    subject_en: Mapped[str | None] = mapped_column(String(255))
    body_vi: Mapped[str | None] = mapped_column(Text)
    body_en: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Reminder(Base):
    """A reminder that fell due: one per rule, target, recipient and moment, which the unique key makes so in the
    database. The moment is in the key, so a session moved to another time is reminded again at its new time."""

    __tablename__ = "reminders"
    # only the rows still to write to the outbox: the index stays small however many were sent
    __table_args__ = (Index("ix_reminders_unqueued", "id", postgresql_where=text("queued_at IS NULL"),
                            sqlite_where=text("queued_at IS NULL")),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: reminder:<rule>:<target>:<recipient>:<moment>, also the outbox message's key
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    #: no foreign key: checking one costs the planner a trigger per row (a third of its time for 50,000 tickets);
    #: deleting a rule deletes its reminders (rules.delete_rule)
    rule_id: Mapped[int] = mapped_column(Integer)
    target_id: Mapped[int] = mapped_column(Integer)
    #: who within the target ("u12": user 12; "t": the ticket's attendee)
    recipient_ref: Mapped[str] = mapped_column(String(40))
    email: Mapped[str] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(5))
    occurs_at: Mapped[datetime] = mapped_column(UTCDateTime())
    planned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: when its mail went into the outbox; None: planned, not yet written
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())



class ReminderOptOut(Base):
    """A person who wants no more reminders of one kind, by address: ticket holders need no account."""

    __tablename__ = "reminder_opt_outs"
    __table_args__ = (UniqueConstraint("email", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: lower-cased
    email: Mapped[str] = mapped_column(String(254))
    kind: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
