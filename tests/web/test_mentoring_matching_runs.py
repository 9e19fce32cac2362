"""A manager's cohort matching runs in the background: the page queues it and follows its steps until its figures
show; one runs at a time; a failure says so and changes nothing; a run lost with its process blocks nothing."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from portal.accounts.models import Role
from portal.db import utcnow
from portal.mentoring import matching, profiles, runs
from portal.mentoring.models import MatchingRun, MentorMatch, RunStatus
from portal.notifications.scheduler import JOBS
from tests.support.mentoring import make_mentor, make_startup
from tests.support.web import post_form


def cohort_to_match(db, make_user, startups: int = 3) -> None:
    make_mentor(db, make_user, name="Banker", capacity=5)
    for number in range(startups):
        _founder, organisation_id = make_startup(db, make_user, f"Startup {number}")
        with db.transaction() as s:
            profiles.save_needs(s, organisation_id, {"sector": "fintech", "stage": "mvp",
                                                     "functions": ["fundraising"], "languages": ["en"]}, utcnow())


def test_a_matching_is_queued_followed_step_by_step_and_shows_its_figures_when_the_scheduler_has_run_it(
        app, db, make_user, login_as):
    cohort_to_match(db, make_user)
    manager = login_as(Role.INCUBATOR_MANAGER, locale="en")
    started = post_form(manager, app, "/mentoring/manage/matching", {"cohort_id": "0", "per_startup": "1"})
    assert started.status_code == 303
    run_page = started.headers["Location"]
    waiting = manager.get(run_page).get_data(as_text=True)
    assert "Waiting for the scheduler to start it" in waiting and 'http-equiv="refresh"' in waiting
    assert re.search(r'<progress[^>]*value="0"', waiting)
    again = post_form(manager, app, "/mentoring/manage/matching", {"cohort_id": "0", "per_startup": "1"})
    assert again.status_code == 409 and "A matching is already under way" in again.get_data(as_text=True)
    with db.transaction() as s:
        s.scalar(select(MatchingRun)).status = RunStatus.RUNNING
        s.scalar(select(MatchingRun)).step = matching.Step.SOLVING
    solving = manager.get(run_page).get_data(as_text=True)
    assert "Finding the best total score" in solving and re.search(r'<progress[^>]*value="55"', solving)
    with db.transaction() as s:
        s.scalar(select(MatchingRun)).status = RunStatus.QUEUED
    assert JOBS["run_mentor_matchings"][0](app) == {"matchings_run": 1}
    done = manager.get(run_page).get_data(as_text=True)
    assert "3 matches proposed, with the best total score" in done and 'http-equiv="refresh"' not in done
    assert "3 matches" in manager.get("/mentoring/manage/matching").get_data(as_text=True)
    with db.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(MentorMatch)) == 3
        assert s.scalar(select(MatchingRun.step)) == matching.Step.SAVING
    assert JOBS["run_mentor_matchings"][0](app) == {"matchings_run": 0}  # nothing is run twice


def test_a_matching_that_fails_says_so_changes_nothing_and_lets_the_next_one_start(
        app, db, make_user, login_as, monkeypatch):
    cohort_to_match(db, make_user)
    manager = login_as(Role.INCUBATOR_MANAGER, locale="en")
    run_page = post_form(manager, app, "/mentoring/manage/matching",
                         {"cohort_id": "0", "per_startup": "1"}).headers["Location"]

    def broken(*_args, **_kwargs):
        raise MemoryError("out of memory")

    monkeypatch.setattr(matching, "solve", broken)
    runs.run_queued(app)
    failed = manager.get(run_page).get_data(as_text=True)
    assert "The matching failed; nothing was changed." in failed and "MemoryError: out of memory" in failed
    with db.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(MentorMatch)) == 0
    monkeypatch.undo()
    assert post_form(manager, app, "/mentoring/manage/matching",
                     {"cohort_id": "0", "per_startup": "1"}).status_code == 303


def test_a_run_lost_with_its_process_no_longer_blocks_the_next_and_nonsense_is_refused_before_queuing(
        app, db, make_user, login_as):
    manager = login_as(Role.INCUBATOR_MANAGER, locale="en")
    nothing = post_form(manager, app, "/mentoring/manage/matching", {"cohort_id": "0", "per_startup": "1"})
    assert nothing.status_code == 409
    assert "There must be startups to match and mentors in the directory." in nothing.get_data(as_text=True)
    cohort_to_match(db, make_user, startups=1)
    too_many = post_form(manager, app, "/mentoring/manage/matching", {"cohort_id": "0", "per_startup": "9"})
    assert too_many.status_code == 400
    with db.transaction() as s:
        s.add(MatchingRun(per_startup=1, status=RunStatus.RUNNING, step="solving",
                          started_at=utcnow() - runs.LOST_AFTER - timedelta(minutes=1)))
    assert post_form(manager, app, "/mentoring/manage/matching",
                     {"cohort_id": "0", "per_startup": "1"}).status_code == 303
    with db.session_factory() as s:
        assert [status for (status,) in s.execute(select(MatchingRun.status).order_by(MatchingRun.id))] == [
            RunStatus.FAILED, RunStatus.QUEUED]
    assert login_as(Role.MENTOR).get("/mentoring/manage/matching/runs/1").status_code == 403
    assert manager.get("/mentoring/manage/matching/runs/999").status_code == 404
