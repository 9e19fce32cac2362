"""The process that runs scheduled jobs (`flask scheduler run`); web workers never start it.

Jobs only wake senders: what must happen once (a reminder, a mail) is a row in our own tables, so a restart, a crash
or an overlapping run never does it twice. Several may be started on one database (say one per machine): one leads
and runs the jobs, the others stand by and one of them takes over within seconds when the leader dies
(`leader.py`). Every run is recorded in `scheduler_job_runs` for the admins' page.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from sqlalchemy import update

from portal.db import utcnow
from portal.notifications import leader
from portal.notifications.models import JobOutcome, JobRun
from portal.notifications.services import free_claims_of

log = logging.getLogger(__name__)

#: job id → (function taking the app, seconds between runs); domains add theirs in register_job()
JOBS: dict[str, tuple[Callable[[Flask], object], int]] = {}
_app: Flask | None = None
#: set when this process stops leading: long jobs (the mail sender) stop between two messages
stepping_down = threading.Event()
#: how often a standby tries the lock and a leader checks it still holds it
POLL_SECONDS = 1.0
HEARTBEAT_SECONDS = 5.0


def register_job(job_id: str, func: Callable[[Flask], object], every_seconds: int) -> None:
    JOBS[job_id] = (func, every_seconds)


def still_leading() -> bool:
    return not stepping_down.is_set()


def run_job(job_id: str) -> None:
    """The stored reference every job points to: the job store keeps only this name and an id."""
    func, _ = JOBS[job_id]
    db = _app.extensions["portal.db"]
    with db.transaction() as session:
        run = JobRun(job_id=job_id, runner=leader.process_name(), started_at=utcnow())
        session.add(run)
    outcome, error, result = JobOutcome.OK, None, None
    try:
        with _app.app_context():
            result = func(_app)
    except Exception as exc:
        outcome, error = JobOutcome.FAILED, f"{type(exc).__name__}: {exc}"
        log.exception("job %s failed", job_id)
    with db.transaction() as session:
        session.execute(update(JobRun).where(JobRun.id == run.id).values(
            finished_at=utcnow(), outcome=outcome, error=error, result=result if isinstance(result, dict) else None))
    if result and isinstance(result, dict) and any(result.values()):
        log.info("job %s: %s", job_id, result)


def build_scheduler(app: Flask) -> BackgroundScheduler:
    """The leader's scheduler, its jobs stored in the database so their next runs survive a restart."""
    global _app
    _app = app
    # APScheduler logs every run at INFO; a 5-second job would drown the log.
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=app.extensions["portal.db"].engine)},
        executors={"default": ThreadPoolExecutor(2)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
        timezone="UTC",
    )
    for job_id, (_func, seconds) in JOBS.items():
        scheduler.add_job(
            "portal.notifications.scheduler:run_job",
            "interval",
            seconds=seconds,
            args=[job_id],
            id=job_id,
            replace_existing=True,
            # a new leader runs every job at once: mail its predecessor left due goes out now, not in a while
            next_run_time=utcnow(),
        )
    return scheduler


def run_scheduler(app: Flask, stop: threading.Event) -> None:
    """Stands by until this process holds the leader lock, then runs the jobs until `stop` is set or the lock is
    lost (its connection dead); after losing it, stands by again."""
    db = app.extensions["portal.db"]
    while not stop.is_set():
        lock = leader.leader_lock(db)
        try:
            if _wait_for_lock(db, lock, stop):
                _lead(app, lock, stop)
        finally:
            lock.release()


def _wait_for_lock(db, lock, stop: threading.Event) -> bool:
    said = False
    while not stop.is_set():
        if lock.try_acquire():
            return True
        if not said:
            current = _safe(leader.current_leader, db)
            who = f"{current.host} pid {current.pid}, since {current.since:%Y-%m-%d %H:%M:%S} UTC" if current \
                else "another process"
            log.info("scheduler standby: %s leads; taking over when its lock is freed", who)
            said = True
        stop.wait(POLL_SECONDS)
    return False


def _lead(app: Flask, lock, stop: threading.Event) -> None:
    db = app.extensions["portal.db"]
    stepping_down.clear()
    previous = leader.record_leadership(db)
    previous_name = previous and f"{previous.host}:{previous.pid}"
    if previous_name and previous_name != leader.process_name():
        # the lock is ours, so the process that held it is gone: what it was sending is due again now
        freed = free_claims_of(db, previous_name)
        log.info("took over from %s pid %s; %d message(s) it was sending are due again", previous.host,
                 previous.pid, freed)
    log.info("scheduler leader: %s", leader.process_name())
    scheduler = build_scheduler(app)
    scheduler.start()
    last_beat = time.monotonic()
    try:
        while not stop.wait(POLL_SECONDS):
            if not lock.still_held():
                log.error("lost the scheduler lock (its database connection); stepping down")
                return
            if time.monotonic() - last_beat >= HEARTBEAT_SECONDS:
                _safe(leader.beat, db)
                last_beat = time.monotonic()
    finally:
        stepping_down.set()
        scheduler.shutdown(wait=True)


def _safe(func, db):
    """A report (who leads, the heartbeat) must not take the scheduler down when the database hiccups."""
    try:
        return func(db)
    except Exception:  # noqa: BLE001 - logged; the lock, not this row, decides who leads
        log.warning("%s failed", func.__name__, exc_info=True)
        return None
