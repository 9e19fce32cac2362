from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, UTCDateTime, str_enum, utcnow


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    #: an admin withdrew it before it was sent
    CANCELLED = "cancelled"


class OutboxMessage(Base):
    """An e-mail to send. The idempotency key makes a second attempt to queue the same mail a no-op."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: e.g. 'verify_email:12:3f9a…' or 'reminder:session:42:24h'; unique, so nothing is sent twice
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    to_address: Mapped[str] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(5))
    subject: Mapped[str] = mapped_column(String(255))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    #: for a body rendered by the sender: {"template", "builder", "args"} (services.ComposedAtSend); empty bodies until
    #: then
    compose: Mapped[dict | None] = mapped_column(JSON)
    #: files sent with the mail: [{"filename", "content_type", "data" (base64)}]
    attachments: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[OutboxStatus] = mapped_column(
        str_enum(OutboxStatus, "outbox_status"),
        default=OutboxStatus.PENDING,
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    #: the sender holding a SENDING row ('host:pid'), so a scheduler that takes over from a dead one frees its rows
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)


class SchedulerLeader(Base):
    """Which `flask scheduler run` process holds the leader lock, for the admins' page. The lock itself (an advisory
    lock, or a lock file on SQLite) decides who leads; this row only reports it."""

    __tablename__ = "scheduler_leaders"

    #: one row per lock name ('scheduler')
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    since: Mapped[datetime] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime())


class JobOutcome(enum.StrEnum):
    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"


class JobRun(Base):
    """One run of a scheduled job: when it started and ended, and how."""

    __tablename__ = "scheduler_job_runs"
    __table_args__ = (Index("ix_scheduler_job_runs_job_started", "job_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(String(80))
    #: 'host:pid' of the leader that ran it
    runner: Mapped[str] = mapped_column(String(120))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[JobOutcome] = mapped_column(str_enum(JobOutcome, "job_outcome"), default=JobOutcome.RUNNING)
    error: Mapped[str | None] = mapped_column(Text)
    #: what the job reported (e.g. {"sent": 12, "retry": 0, "failed": 0})
    result: Mapped[dict | None] = mapped_column(JSON)
