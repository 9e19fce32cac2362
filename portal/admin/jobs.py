"""What the admins' scheduler page shows: the jobs and their runs, who leads, what failed, the outbox's queue and the
mail sent each day. Every list is bounded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, inspect, select, text
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.i18n import HANOI
from portal.notifications.models import JobOutcome, JobRun, OutboxMessage, OutboxStatus, SchedulerLeader
from portal.notifications.scheduler import HEARTBEAT_SECONDS, JOBS

LIST_LIMIT = 50
CHART_DAYS = 14
#: Hanoi keeps UTC+7 all year (no daylight saving), so a day's mail is counted in SQL by shifting the stored UTC
HANOI_OFFSET_HOURS = 7


@dataclass(frozen=True)
class JobStatus:
    job_id: str
    every_seconds: int
    last_run: JobRun | None
    next_run_at: datetime | None


def job_statuses(session: Session) -> list[JobStatus]:
    next_runs = _next_runs(session)
    statuses = []
    for job_id, (_func, seconds) in sorted(JOBS.items()):
        last = session.scalar(select(JobRun).where(JobRun.job_id == job_id)
                              .order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(1))
        statuses.append(JobStatus(job_id, seconds, last, next_runs.get(job_id)))
    return statuses


def _next_runs(session: Session) -> dict[str, datetime]:
    """From APScheduler's job store, which the leader creates when it first starts."""
    if not inspect(session.connection()).has_table("apscheduler_jobs"):
        return {}
    rows = session.execute(text("SELECT id, next_run_time FROM apscheduler_jobs")).all()
    return {job_id: datetime.fromtimestamp(at, UTC) for job_id, at in rows if at is not None}


@dataclass(frozen=True)
class Leadership:
    leader: SchedulerLeader | None
    #: no heartbeat for three beats: the leader is likely dead and no standby has taken over
    silent: bool


def leadership(session: Session) -> Leadership:
    leader = session.get(SchedulerLeader, "scheduler")
    silent = leader is None or utcnow() - leader.heartbeat_at > timedelta(seconds=3 * HEARTBEAT_SECONDS)
    return Leadership(leader, silent)


def failed_runs(session: Session) -> list[JobRun]:
    return list(session.scalars(select(JobRun).where(JobRun.outcome == JobOutcome.FAILED)
                                .order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(LIST_LIMIT)))


def queue_counts(session: Session) -> dict[OutboxStatus, int]:
    counts = dict(session.execute(select(OutboxMessage.status, func.count()).where(
        OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.FAILED]))
        .group_by(OutboxMessage.status)).all())
    return {status: counts.get(status, 0) for status in (OutboxStatus.PENDING, OutboxStatus.SENDING,
                                                         OutboxStatus.FAILED)}


def queue(session: Session) -> list[OutboxMessage]:
    """What waits, is being sent or failed: failures and retries first (the admin's business), then by due time."""
    unsent = (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.FAILED)
    return list(session.scalars(
        select(OutboxMessage).where(OutboxMessage.status.in_(unsent))
        .order_by(OutboxMessage.last_error.is_(None), OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(LIST_LIMIT)))


def sent_per_day(session: Session, today: date | None = None) -> list[tuple[date, int]]:
    """Mail sent on each of the last CHART_DAYS days in Hanoi, oldest first, days without mail as 0."""
    today = today or utcnow().astimezone(HANOI).date()
    first = today - timedelta(days=CHART_DAYS - 1)
    since = datetime(first.year, first.month, first.day, tzinfo=HANOI).astimezone(UTC)
    if session.get_bind().dialect.name == "sqlite":
        day = func.date(OutboxMessage.sent_at, f"+{HANOI_OFFSET_HOURS} hours")
    else:
        day = func.date(OutboxMessage.sent_at + text(f"interval '{HANOI_OFFSET_HOURS} hours'"))
    counts = {str(d): n for d, n in session.execute(
        select(day, func.count()).where(OutboxMessage.status == OutboxStatus.SENT, OutboxMessage.sent_at >= since)
        .group_by(day)).all()}
    days = [first + timedelta(days=n) for n in range(CHART_DAYS)]
    return [(d, counts.get(d.isoformat(), 0)) for d in days]
