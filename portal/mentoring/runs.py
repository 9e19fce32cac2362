"""A manager's cohort matching, run in the background: the page queues it, the scheduler process runs it and
records each step, the page follows it until its figures show.

Matching 20,000 startups with 3,000 mentors takes seconds: longer than a request should hold a web worker, and a
manager should see that it is moving. One run at a time, so two managers cannot overwrite each other's proposal.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from portal.accounts.models import Organisation, OrganisationKind, User
from portal.audit.services import record
from portal.db import Database, utcnow
from portal.errors import Conflict, Invalid, NotFound
from portal.incubation.models import CohortMember
from portal.mentoring import matching
from portal.mentoring.models import MatchingRun, RunStatus

log = logging.getLogger(__name__)

#: a run "running" for longer was lost with its process (a restart): it no longer blocks the next one
LOST_AFTER = timedelta(minutes=10)
#: how far along a run is at each step, for the progress bar
PERCENT = {"": 0, matching.Step.LOADING: 10, matching.Step.SCORING: 35, matching.Step.SOLVING: 55,
           matching.Step.SAVING: 85}


def startups_query(cohort_id: int | None) -> Select:
    """The organisations a run matches: a cohort's members, or every startup."""
    if cohort_id is None:
        return select(Organisation.id).where(Organisation.kind == OrganisationKind.STARTUP).order_by(Organisation.id)
    return (select(CohortMember.organisation_id).where(CohortMember.cohort_id == cohort_id)
            .order_by(CohortMember.organisation_id))


def start(session: Session, actor: User, cohort_id: int | None, per_startup: int, now: datetime) -> MatchingRun:
    """Queues a matching; refused while another one is queued or running."""
    if not 1 <= per_startup <= 5:
        raise Invalid(_l("Each startup gets from 1 to 5 mentors."), "per_startup")
    if session.scalar(startups_query(cohort_id).limit(1)) is None or not matching.has_mentors(session):
        raise Conflict(_l("There must be startups to match and mentors in the directory."))
    for lost in session.scalars(select(MatchingRun).where(MatchingRun.status == RunStatus.RUNNING,
                                                          MatchingRun.started_at < now - LOST_AFTER)):
        lost.status, lost.finished_at, lost.error = RunStatus.FAILED, now, "lost: its process stopped"
    if session.scalar(select(MatchingRun.id).where(MatchingRun.status.in_([RunStatus.QUEUED, RunStatus.RUNNING]))
                      .with_for_update()):
        raise Conflict(_l("A matching is already under way. Wait for it to finish, then start another."))
    run = MatchingRun(cohort_id=cohort_id, per_startup=per_startup, started_by_id=actor.id, created_at=now,
                      status=RunStatus.QUEUED, step="")
    session.add(run)
    session.flush()
    record(session, "mentoring.matching_started", actor_id=actor.id, run=run.id, cohort=cohort_id,
           per_startup=per_startup)
    return run


def run_of(session: Session, run_id: int) -> MatchingRun:
    found = session.get(MatchingRun, run_id)
    if found is None:
        raise NotFound()
    return found


def latest(session: Session) -> MatchingRun | None:
    return session.scalar(select(MatchingRun).order_by(MatchingRun.id.desc()).limit(1))


def percent(run: MatchingRun) -> int:
    return 100 if run.status in (RunStatus.DONE, RunStatus.FAILED) else PERCENT.get(run.step, 0)


def _claim(db: Database) -> int | None:
    with db.transaction() as session:
        run = session.scalar(select(MatchingRun).where(MatchingRun.status == RunStatus.QUEUED)
                             .order_by(MatchingRun.id).limit(1).with_for_update(skip_locked=True))
        if run is None:
            return None
        run.status, run.started_at = RunStatus.RUNNING, utcnow()
        return run.id


def _set(db: Database, run_id: int, **values) -> None:
    with db.transaction() as session:
        run = session.get(MatchingRun, run_id)
        for name, value in values.items():
            setattr(run, name, value)


def execute(db: Database, run_id: int) -> None:
    """Runs a claimed matching: it reads and solves in one transaction and records each step from another (so
    the page sees the steps), then saves the proposal in a third; a failure is recorded with its message."""
    try:
        with db.session_factory() as reading:
            run = run_of(reading, run_id)
            proposal = matching.propose(reading, startups_query(run.cohort_id), run.per_startup, utcnow(),
                                        progress=lambda step: _set(db, run_id, step=step))
        _set(db, run_id, step=matching.Step.SAVING)
        with db.transaction() as session:
            run = run_of(session, run_id)
            matching.save_proposal(session, proposal, session.get(User, run.started_by_id), utcnow())
            result = proposal.result
            run.status, run.finished_at = RunStatus.DONE, utcnow()
            run.result = {"proposed": result.proposed, "unmatched": result.unmatched,
                          "objective": result.objective, "optimal": result.optimal,
                          "solve_seconds": round(result.solve_seconds, 3)}
    except Exception as error:  # the run must end failed, not stay "running" for ever; the log keeps the trace
        log.exception("mentor matching run %s failed", run_id)
        _set(db, run_id, status=RunStatus.FAILED, finished_at=utcnow(), error=f"{type(error).__name__}: {error}")


def run_queued(app: Flask) -> dict[str, int]:
    """The scheduler's job: runs every queued matching, oldest first."""
    database = app.extensions["portal.db"]
    done = 0
    while (run_id := _claim(database)) is not None:
        execute(database, run_id)
        done += 1
    return {"matchings_run": done}
