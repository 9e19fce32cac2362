"""The booth rush: 200 exhibitors race for the 10 most popular of 200 booths over HTTP, 32 at a time, through the
POST route the plan page's "Choose" buttons use.

    .venv/bin/python bench/booth_rush.py [--exhibitors 200] [--clients 32] [--booths 200] [--popular 10]

gunicorn (4 workers) serves the portal in production mode on a fresh PostgreSQL schema. Every exhibitor logs in
and opens the plan (for its CSRF token) before the race; then 32 clients take exhibitors in turn, and each
exhibitor tries the popular booths in its own random order until one is held (a redirect to the application) or
all answer "just taken" (409). Anything else is an error.

Double bookings are counted twice: booths with more than one active booking in the database, and "held" answers
beyond the booths the database shows held (the page telling two exhibitors yes). Then the plan page with 200
booths is loaded by 4 keep-alive clients (bench/load.py) for its p95, and its SQL statements counted in-process.

Prints double bookings (must be 0), hold requests answered per second, p50/p95/p99 of the hold posts, the plan's
p95 and statement count, the machine's load, and ends with one JSON line. Targets: 0 double bookings, plan page
p95 < 100 ms with a number of SQL statements that does not grow with the booths.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import signal
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the root, where app.py lives

from sqlalchemy import func, select  # noqa: E402

from app import create_app  # noqa: E402
from bench.common import (  # noqa: E402
    BASE_DATABASE_URL,
    HOST,
    StartLine,
    WorkQueue,
    checkpoint,
    cpu_calibration_ms,
    fetch,
    gunicorn,
    log_in,
    scratch_database,
)
from bench.load import percentile  # noqa: E402
from bench.pages import load  # noqa: E402
from portal.accounts.models import User  # noqa: E402
from portal.accounts.services import hash_password  # noqa: E402
from portal.booths.models import ACTIVE_STATUSES, Booth, BoothBooking, BoothSaleSettings  # noqa: E402
from portal.db import utcnow  # noqa: E402
from portal.events.models import Event, EventStatus  # noqa: E402
from tests.support.web import count_queries, post_form  # noqa: E402

GUNICORN_OPTIONS = ("--workers", "4", "--worker-class", "sync")
PASSWORD = "rush-exhibitor-password"  # noqa: S105 - accounts of a throw-away schema
SLUG = "booth-rush"
PLAN = f"/events/{SLUG}/booths"
#: booths per row of the hall; each booth is 3 × 3 grid units
ROW = 20
PLAN_CLIENTS, PLAN_SECONDS, WARM_UP_SECONDS = 4, 10, 2
LOGIN_CLIENTS = 4
TARGET_PLAN_P95_MS = 100


def in_process_app(database_url: str, instance: str):
    return create_app({"DATABASE_URL": database_url, "SECRET_KEY": secrets.token_urlsafe(32)}, instance_path=instance)


def prepare(database_url: str, booths: int, exhibitors: int) -> list[int]:
    """The event, its hall of `booths` booths open for selection, and the exhibitors; returns the booth ids."""
    with tempfile.TemporaryDirectory() as instance:
        db = in_process_app(database_url, instance).extensions["portal.db"]
        try:
            with db.transaction() as s:
                now = utcnow()
                event = Event(slug=SLUG, name_vi="Thử tải gian hàng", name_en="Booth rush",
                              status=EventStatus.PUBLISHED, starts_at=now + timedelta(days=30),
                              ends_at=now + timedelta(days=31))
                s.add(event)
                s.flush()
                s.add(BoothSaleSettings(event_id=event.id, selection_opens_at=now - timedelta(days=1)))
                rows = [Booth(event_id=event.id, number=f"{chr(65 + n // ROW)}-{n % ROW + 1:02d}",
                              zone=chr(65 + n // ROW), x=(n % ROW) * 3, y=(n // ROW) * 3, w=3, h=3, size_m2=9.0,
                              price=20_000_000 + (n % 7) * 1_000_000, corner=n % ROW in (0, ROW - 1),
                              power=n % 2 == 0)
                        for n in range(booths)]
                s.add_all(rows)
                password_hash = hash_password(PASSWORD)
                s.add_all(User(email=f"exhibitor{n}@rush.example.vn", full_name=f"Đơn vị trưng bày {n}",
                               password_hash=password_hash, email_verified_at=now, locale="en")
                          for n in range(exhibitors))
                s.flush()
                return [booth.id for booth in rows]
        finally:
            db.dispose()


def database_truth(database_url: str) -> tuple[int, int]:
    """(booths with more than one active booking, booths held or booked at all)."""
    with tempfile.TemporaryDirectory() as instance:
        db = in_process_app(database_url, instance).extensions["portal.db"]
        try:
            with db.session_factory() as s:
                per_booth = (select(BoothBooking.booth_id, func.count().label("n"))
                             .where(BoothBooking.status.in_(ACTIVE_STATUSES)).group_by(BoothBooking.booth_id)
                             .subquery())
                doubled = s.scalar(select(func.count()).select_from(per_booth).where(per_booth.c.n > 1))
                occupied = s.scalar(select(func.count()).select_from(per_booth))
                return doubled, occupied
        finally:
            db.dispose()


def plan_statements(database_url: str, email: str) -> int:
    """SQL statements of the plan page for a logged-in exhibitor, as a warm server runs it."""
    with tempfile.TemporaryDirectory() as instance:
        app = in_process_app(database_url, instance)
        try:
            exhibitor = app.test_client()
            if post_form(exhibitor, app, "/login", {"email": email, "password": PASSWORD}).status_code != 302:
                raise RuntimeError("in-process login failed")
            exhibitor.get(PLAN)
            with count_queries(app.extensions["portal.db"].engine) as statements:
                status = exhibitor.get(PLAN).status_code
            if status != 200:
                raise RuntimeError(f"the plan page answered HTTP {status} in-process")
            return len(statements)
        finally:
            app.extensions["portal.db"].dispose()


def sign_in(port: int, email: str) -> tuple[dict[str, str], str]:
    """The exhibitor's cookies and the CSRF token of their plan page."""
    cookies = log_in(port, email, PASSWORD)
    status, page, new_cookies, _ = fetch(port, "GET", PLAN, cookies)
    cookies.update(new_cookies)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    if status != 200 or token is None:
        raise RuntimeError(f"the plan page answered HTTP {status} without a CSRF token")
    return cookies, token.group(1)


def race(port: int, popular: list[int], rush: WorkQueue, start: StartLine) -> None:
    start.wait()
    while (exhibitor := rush.take()) is not None:
        cookies, token = exhibitor
        for booth_id in random.sample(popular, len(popular)):
            started = time.monotonic()
            try:
                status, body, _, location = fetch(port, "POST", f"{PLAN}/hold", cookies,
                                                  {"csrf_token": token, "booth": str(booth_id)})
            except OSError as exc:
                rush.record("error", started, time.monotonic(), repr(exc))
                continue
            ended = time.monotonic()
            if status == 302 and location and "/booths/bookings/" in location:
                rush.record("held", started, ended)
                break
            if status == 409:
                rush.record("taken", started, ended)
            else:
                rush.record("error", started, ended, f"HTTP {status}: {body[:200]}")


def run(exhibitors: int, clients: int, booths: int, popular_count: int) -> dict:
    background_load, calibration = os.getloadavg(), cpu_calibration_ms()
    with ExitStack() as stack:
        print(f"preparing a fresh PostgreSQL schema on {BASE_DATABASE_URL} ...", flush=True)
        database_url = stack.enter_context(scratch_database("booths"))
        booth_ids = prepare(database_url, booths, exhibitors)
        popular = booth_ids[:popular_count]
        log_dir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        # 200 exhibitors log in from one address: the login throttle would stop them.
        port = stack.enter_context(gunicorn(database_url, log_dir, GUNICORN_OPTIONS, RATE_LIMITS="false"))
        print(f"gunicorn {' '.join(GUNICORN_OPTIONS)} on {HOST}:{port}; {exhibitors} exhibitors log in ...",
              flush=True)
        emails = [f"exhibitor{n}@rush.example.vn" for n in range(exhibitors)]
        signed_in: list[tuple[dict[str, str], str]] = []  # each append is atomic under the GIL

        def sign_in_all(chunk: list[str]) -> None:
            signed_in.extend(sign_in(port, email) for email in chunk)

        # Logging in is preparation, not the race: one client per worker, so password hashing on a loaded
        # machine does not run past the clients' timeout.
        threads = [threading.Thread(target=sign_in_all, args=(emails[n::LOGIN_CLIENTS],), daemon=True)
                   for n in range(LOGIN_CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=600)
        if len(signed_in) != exhibitors:
            raise RuntimeError(f"only {len(signed_in)} of {exhibitors} exhibitors could log in")

        rush = WorkQueue(signed_in)
        start = StartLine(clients, timeout=120)
        threads = [threading.Thread(target=race, args=(port, popular, rush, start), daemon=True)
                   for _ in range(clients)]
        for thread in threads:
            thread.start()
        print(f"{exhibitors} exhibitors, {clients} at a time, race for {popular_count} of {booths} booths ...",
              flush=True)
        start.wait()
        began = time.monotonic()
        for thread in threads:
            thread.join(timeout=600)
        finished = time.monotonic()
        doubled, occupied = database_truth(database_url)

        print(f"plan page: {PLAN_CLIENTS} clients, {WARM_UP_SECONDS} s warm-up, then {PLAN_SECONDS} s ...",
              flush=True)
        plan_cookies = signed_in[0][0]
        checkpoint()  # the race's writes reach the disk before the plan is measured, not during it
        load(port, PLAN, plan_cookies, PLAN_CLIENTS, WARM_UP_SECONDS)
        plan = load(port, PLAN, plan_cookies, PLAN_CLIENTS, PLAN_SECONDS)
        statements = plan_statements(database_url, emails[0])
    return {"rush": rush, "seconds": finished - began, "doubled": doubled, "occupied": occupied, "plan": plan,
            "plan_statements": statements, "background_load": background_load, "calibration": calibration,
            "load_after": os.getloadavg(), "warnings": start.warnings}


def summarise(outcome: dict, exhibitors: int, clients: int, booths: int, popular: int) -> dict:
    rush: WorkQueue = outcome["rush"]
    latencies = sorted(rush.latencies_ms)
    answered = rush.outcomes["held"] + rush.outcomes["taken"]
    double_booked = outcome["doubled"] + max(rush.outcomes["held"] - outcome["occupied"], 0)
    summary = {
        "exhibitors": exhibitors, "clients": clients, "booths": booths, "popular_booths": popular,
        "gunicorn": " ".join(GUNICORN_OPTIONS), "cpus": os.cpu_count(),
        "load_average_before": [round(n, 2) for n in outcome["background_load"]],
        "load_average_after": [round(n, 2) for n in outcome["load_after"]],
        "cpu_calibration_ms": outcome["calibration"],
        "double_booked": double_booked, "held": rush.outcomes["held"], "just_taken": rush.outcomes["taken"],
        "errors": rush.outcomes["error"], "booths_occupied": outcome["occupied"], "warnings": outcome["warnings"],
        "hold_requests": len(latencies), "race_seconds": round(outcome["seconds"], 2),
        "holds_per_s": round(answered / outcome["seconds"], 1) if outcome["seconds"] else 0.0,
        "p50_ms": round(percentile(latencies, 0.50), 1), "p95_ms": round(percentile(latencies, 0.95), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "plan_rps": outcome["plan"]["rps"], "plan_p50_ms": outcome["plan"]["p50_ms"],
        "plan_p95_ms": outcome["plan"]["p95_ms"], "plan_errors": sum(outcome["plan"]["errors"].values()),
        "plan_sql_statements": outcome["plan_statements"],
    }
    summary["target_met"] = (double_booked == 0 and summary["errors"] == 0 and summary["plan_errors"] == 0
                             and summary["booths_occupied"] == popular
                             and summary["plan_p95_ms"] < TARGET_PLAN_P95_MS)
    return summary


def _exit_on_sigterm(_signum, _frame):
    raise SystemExit(143)  # unwinds the ExitStack, so gunicorn and the schema go too


def main() -> None:
    parser = argparse.ArgumentParser(description="Exhibitors racing for the same booths, over HTTP.")
    parser.add_argument("--exhibitors", type=int, default=200)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--booths", type=int, default=200)
    parser.add_argument("--popular", type=int, default=10)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    outcome = run(args.exhibitors, args.clients, args.booths, args.popular)
    summary = summarise(outcome, args.exhibitors, args.clients, args.booths, args.popular)
    print()
    for key in ("double_booked", "held", "just_taken", "errors", "booths_occupied", "hold_requests", "holds_per_s",
                "p50_ms", "p95_ms", "p99_ms", "plan_rps", "plan_p95_ms", "plan_sql_statements",
                "load_average_before", "load_average_after", "cpu_calibration_ms"):
        print(f"{key:>20}: {summary[key]}")
    for sample in outcome["rush"].error_samples:
        print(f"  error: {sample}")
    print("holds_per_s counts hold requests answered (held or just taken) per second of the race.")
    print(f"targets: 0 double bookings, plan page p95 < {TARGET_PLAN_P95_MS} ms")
    headline = {key: summary[key] for key in ("double_booked", "holds_per_s", "p99_ms", "plan_p95_ms")}
    print(json.dumps(headline | summary))


if __name__ == "__main__":
    main()
