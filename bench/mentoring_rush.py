"""The booking rush: 64 startups race for the 20 free hours of one popular mentor over HTTP, through the form of the
mentor's page.

    .venv/bin/python bench/mentoring_rush.py [--startups 64] [--slots 20]

gunicorn (4 workers) serves the portal on a fresh PostgreSQL schema. The mentor confirms bookings at once and has
exactly `--slots` free hours (two days of date overrides, no weekly hours, no limits that would refuse a booking).
Every founder logs in and opens the mentor's page (its CSRF token and the free times) before the race; then all
clients start together and each founder tries the free times in its own random order until one is booked (a
redirect) or every one answers "not free" (409). Anything else is an error.

Double bookings are counted twice: pairs of the mentor's confirmed sessions that overlap in the database (the
exclusion constraint should make that impossible), and "booked" answers beyond the sessions the database holds.

Prints double_booked (must be 0), booked, refused, errors, bookings answered per second and p50/p95/p99 of the
booking posts, and ends with one JSON line.
"""

from __future__ import annotations

import argparse
import random
import re
import secrets
import signal
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from datetime import time as clock_time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the root, where app.py lives

from sqlalchemy import and_, func, select  # noqa: E402
from sqlalchemy.orm import aliased  # noqa: E402

from app import create_app  # noqa: E402
from bench.common import (  # noqa: E402
    BASE_DATABASE_URL,
    StartLine,
    WorkQueue,
    fetch,
    gunicorn,
    log_in,
    report,
    scratch_database,
)
from bench.load import percentile  # noqa: E402
from portal.accounts.models import Organisation, OrganisationKind, OrganisationMember, Role, User, UserRole  # noqa: E402
from portal.accounts.services import hash_password  # noqa: E402
from portal.db import utcnow  # noqa: E402
from portal.i18n import hanoi_date  # noqa: E402
from portal.mentoring.models import (  # noqa: E402
    DateOverride,
    MentoringSession,
    MentorProfile,
    MentorStatus,
    SessionStatus,
)

GUNICORN_OPTIONS = ("--workers", "4", "--worker-class", "sync")
PASSWORD = "rush-founder-password"  # noqa: S105 - accounts of a throw-away schema
LOGIN_CLIENTS = 4
HOURS_A_DAY = 10  # each override day runs 08:00-18:00 Hanoi time: ten one-hour sessions


def prepare(database_url: str, startups: int, slots: int) -> int:
    """The mentor with `slots` free hours over the coming days, and the founders with a startup each; returns the
    mentor's profile id."""
    with tempfile.TemporaryDirectory() as instance:
        app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": secrets.token_urlsafe(32)},
                         instance_path=instance)
        db = app.extensions["portal.db"]
        try:
            with db.transaction() as s:
                now = utcnow()
                password_hash = hash_password(PASSWORD)
                mentor_user = User(email="mentor@rush.example.vn", full_name="Chuyên gia được săn đón",
                                   password_hash=password_hash, email_verified_at=now, locale="en")
                s.add(mentor_user)
                s.flush()
                s.add(UserRole(user_id=mentor_user.id, role=Role.MENTOR))
                first_day = hanoi_date(now) + timedelta(days=2)
                overrides = []
                for day in range(-(-slots // HOURS_A_DAY)):
                    hours = min(HOURS_A_DAY, slots - day * HOURS_A_DAY)
                    overrides.append(DateOverride(day=first_day + timedelta(days=day), starts=clock_time(8),
                                                  ends=clock_time(8 + hours)))
                mentor = MentorProfile(
                    user_id=mentor_user.id, status=MentorStatus.APPROVED, visible=True, headline_vi="Gọi vốn",
                    headline_en="Fundraising", sectors=["fintech"], functions=["fundraising"], languages=["vi"],
                    timezone="Asia/Ho_Chi_Minh", session_lengths=[60], buffer_minutes=0, minimum_notice_hours=0,
                    sessions_per_day=HOURS_A_DAY, sessions_per_week=slots, mentee_capacity=slots,
                    confirms_automatically=True, overrides=overrides)
                s.add(mentor)
                for n in range(startups):
                    founder = User(email=f"founder{n}@rush.example.vn", full_name=f"Nhà sáng lập {n}",
                                   password_hash=password_hash, email_verified_at=now, locale="en")
                    organisation = Organisation(name=f"Khởi nghiệp {n}", kind=OrganisationKind.STARTUP)
                    s.add_all([founder, organisation])
                    s.flush()
                    s.add_all([UserRole(user_id=founder.id, role=Role.STARTUP),
                               OrganisationMember(organisation_id=organisation.id, user_id=founder.id,
                                                  is_owner=True)])
                s.flush()
                return mentor.id
        finally:
            db.dispose()


def database_truth(database_url: str, mentor_id: int) -> tuple[int, int]:
    """(pairs of the mentor's confirmed sessions that overlap, confirmed sessions)."""
    with tempfile.TemporaryDirectory() as instance:
        app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "truth"}, instance_path=instance)
        db = app.extensions["portal.db"]
        try:
            with db.session_factory() as s:
                one, other = aliased(MentoringSession), aliased(MentoringSession)
                confirmed = [one.mentor_id == mentor_id, one.status == SessionStatus.CONFIRMED]
                overlapping = s.scalar(select(func.count()).select_from(one).join(other, and_(
                    other.mentor_id == one.mentor_id, other.id > one.id, other.status == SessionStatus.CONFIRMED,
                    other.starts_at < one.blocked_until, one.starts_at < other.blocked_until)).where(*confirmed))
                held = s.scalar(select(func.count()).select_from(one).where(*confirmed))
                return overlapping, held
        finally:
            db.dispose()


def sign_in(port: int, email: str, page_path: str) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """The founder's cookies, the booking form's fields and the free times the mentor's page offers."""
    cookies = log_in(port, email, PASSWORD)
    status, page, new_cookies, _ = fetch(port, "GET", page_path, cookies)
    cookies.update(new_cookies)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    organisation = re.search(r'name="organisation_id"[^>]*>\s*<option[^>]*value="(\d+)"', page)
    times = re.findall(r'name="slot" value="([^"]+)"', page)
    if status != 200 or token is None or organisation is None or not times:
        raise RuntimeError(f"the mentor's page answered HTTP {status} without a booking form")
    return cookies, {"csrf_token": token.group(1), "organisation_id": organisation.group(1), "length": "60"}, times


def race(port: int, book_path: str, rush: WorkQueue, start: StartLine) -> None:
    start.wait()
    while (founder := rush.take()) is not None:
        cookies, form, times = founder
        for slot in random.sample(times, len(times)):
            started = time.monotonic()
            try:
                status, body, _, _location = fetch(port, "POST", book_path, cookies, {**form, "slot": slot})
            except OSError as exc:
                rush.record("error", started, time.monotonic(), repr(exc))
                continue
            ended = time.monotonic()
            if status in (302, 303):
                rush.record("booked", started, ended)
                break
            if status == 409:
                rush.record("refused", started, ended)
            else:
                rush.record("error", started, ended, f"HTTP {status}: {body[:200]}")


def measure(startups: int, slots: int) -> dict:
    with ExitStack() as stack:
        print(f"preparing a fresh PostgreSQL schema on {BASE_DATABASE_URL} ...", flush=True)
        database_url = stack.enter_context(scratch_database("mentoring_rush"))
        mentor_id = prepare(database_url, startups, slots)
        log_dir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        # every founder logs in from one address: the login throttle would stop them
        port = stack.enter_context(gunicorn(database_url, log_dir, GUNICORN_OPTIONS, RATE_LIMITS="false"))
        page_path, book_path = f"/mentors/{mentor_id}", f"/mentors/{mentor_id}/book"
        emails = [f"founder{n}@rush.example.vn" for n in range(startups)]
        signed_in: list = []  # each append is atomic under the GIL

        def sign_in_all(chunk: list[str]) -> None:
            signed_in.extend(sign_in(port, email, page_path) for email in chunk)

        threads = [threading.Thread(target=sign_in_all, args=(emails[n::LOGIN_CLIENTS],), daemon=True)
                   for n in range(LOGIN_CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=600)
        if len(signed_in) != startups:
            raise RuntimeError(f"only {len(signed_in)} of {startups} founders could log in")
        offered = len(signed_in[0][2])
        rush = WorkQueue(signed_in)
        start = StartLine(startups, timeout=120)
        threads = [threading.Thread(target=race, args=(port, book_path, rush, start), daemon=True)
                   for _ in range(startups)]
        for thread in threads:
            thread.start()
        print(f"{startups} founders race for the {offered} free hours of one mentor ...", flush=True)
        start.wait()
        began = time.monotonic()
        for thread in threads:
            thread.join(timeout=600)
        seconds = time.monotonic() - began
        overlapping, held = database_truth(database_url, mentor_id)
    latencies = sorted(rush.latencies_ms)
    answered = rush.outcomes["booked"] + rush.outcomes["refused"]
    return {"startups": startups, "free_slots": offered, "gunicorn": " ".join(GUNICORN_OPTIONS),
            "double_booked": overlapping + max(rush.outcomes["booked"] - held, 0),
            "booked": rush.outcomes["booked"], "sessions_in_database": held, "refused": rush.outcomes["refused"],
            "errors": rush.outcomes["error"], "error_samples": rush.error_samples, "warnings": start.warnings,
            "race_seconds": round(seconds, 2),
            "bookings_answered_per_s": round(answered / seconds, 1) if seconds else 0,
            "p50_ms": round(percentile(latencies, 0.50), 1), "p95_ms": round(percentile(latencies, 0.95), 1),
            "p99_ms": round(percentile(latencies, 0.99), 1)}


def _exit_on_sigterm(_signum, _frame):
    raise SystemExit(143)  # unwinds the ExitStack, so gunicorn and the schema go too


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--startups", type=int, default=64)
    parser.add_argument("--slots", type=int, default=20)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    return report(lambda: measure(args.startups, args.slots),
                  lambda f: f["double_booked"] == 0 and f["errors"] == 0 and f["booked"] == f["free_slots"])


if __name__ == "__main__":
    sys.exit(main())
