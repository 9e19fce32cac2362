"""The one process that runs scheduled jobs (`flask scheduler run`); web workers never start it.

Jobs only wake senders: what must happen once (a reminder, a mail) is a row in our own tables,
so a restart, a crash or an overlapping run never does it twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

log = logging.getLogger(__name__)

#: job id → (function taking the app, seconds between runs); domains add theirs in register_job()
JOBS: dict[str, tuple[Callable[[Flask], object], int]] = {}
_app: Flask | None = None


def register_job(job_id: str, func: Callable[[Flask], object], every_seconds: int) -> None:
    JOBS[job_id] = (func, every_seconds)


def run_job(job_id: str) -> None:
    """The stored reference every job points to: the job store keeps only this name and an id."""
    func, _ = JOBS[job_id]
    with _app.app_context():
        result = func(_app)
    if result and any(result.values()):
        log.info("job %s: %s", job_id, result)


def build_scheduler(app: Flask, *, blocking: bool = True) -> BaseScheduler:
    """The scheduler of `flask scheduler run` (blocking); tests inspect a background one."""
    global _app
    _app = app
    # APScheduler logs every run at INFO; a 5-second job would drown the log.
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
    scheduler = (BlockingScheduler if blocking else BackgroundScheduler)(
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
        )
    return scheduler
