"""The registration rush: 2,000 order attempts from 32 clients on 500 seats, over HTTP, through the browser's route.

    .venv/bin/python bench/registration_rush.py [--attempts 2000] [--clients 32] [--seats 500]

gunicorn (4 workers) serves the portal in production mode on a fresh PostgreSQL schema. Each client is a
different logged-in buyer who opens the registration form once (for its CSRF token) and then posts orders of one
free ticket, as the form does, until all attempts are used. Every answer is a confirmed order (a redirect to it)
or "sold out" (409); anything else is an error.

It prints tickets sold, oversold (must be 0), orders per second while seats remain, and p50/p95/p99 latency of
the posts, and ends with one JSON line. Targets on a 2-core machine: 0 oversold, >= 150 orders/s while selling,
p99 < 300 ms.
"""

from __future__ import annotations

import argparse
import json
import os
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
    WorkQueue,
    cpu_calibration_ms,
    fetch,
    gunicorn,
    log_in,
    scratch_database,
)
from bench.load import percentile  # noqa: E402
from portal.accounts.models import User  # noqa: E402
from portal.accounts.services import hash_password  # noqa: E402
from portal.db import utcnow  # noqa: E402
from portal.events.models import Event, EventStatus, Order, OrderStatus, Quota, Ticket, TicketType  # noqa: E402

GUNICORN_OPTIONS = ("--workers", "4", "--worker-class", "sync")
PASSWORD = "rush-buyer-password"  # noqa: S105 - accounts of a throw-away schema
SLUG = "registration-rush"
TARGET_ORDERS_PER_S, TARGET_P99_MS = 150, 300


def prepare(database_url: str, seats: int, buyers: int) -> int:
    """The event with one free ticket type on a quota of `seats`, and the buyers' accounts; returns the type id."""
    with tempfile.TemporaryDirectory() as instance:
        app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": secrets.token_urlsafe(32)},
                         instance_path=instance)
        db = app.extensions["portal.db"]
        try:
            with db.transaction() as s:
                now = utcnow()
                event = Event(slug=SLUG, name_vi="Thử tải đăng ký", name_en="Registration rush",
                              status=EventStatus.PUBLISHED, starts_at=now + timedelta(days=30),
                              ends_at=now + timedelta(days=31))
                ticket_type = TicketType(name_vi="Vé tham quan", name_en="Visitor pass", price=0, max_per_order=2)
                event.ticket_types.append(ticket_type)
                event.quotas.append(Quota(name="Hall", size=seats, ticket_types=[ticket_type]))
                s.add(event)
                password_hash = hash_password(PASSWORD)
                s.add_all(User(email=f"buyer{n}@rush.example.vn", full_name=f"Người mua {n}",
                               password_hash=password_hash, email_verified_at=now) for n in range(buyers))
                s.flush()
                return ticket_type.id
        finally:
            db.dispose()


def count_sold(database_url: str) -> int:
    with tempfile.TemporaryDirectory() as instance:
        app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "x" * 32}, instance_path=instance)
        db = app.extensions["portal.db"]
        try:
            with db.session_factory() as s:
                return s.scalar(select(func.count(Ticket.id)).join(Order)
                                .where(Order.status == OrderStatus.PAID, Ticket.cancelled_at.is_(None)))
        finally:
            db.dispose()


def client(port: int, email: str, ticket_type_id: int, rush: WorkQueue, start: threading.Barrier) -> None:
    cookies = log_in(port, email, PASSWORD)
    path = f"/events/{SLUG}/register"
    status, page, new_cookies, _ = fetch(port, "GET", f"{path}?qty-{ticket_type_id}=1", cookies)
    cookies.update(new_cookies)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    if status != 200 or token is None:
        raise RuntimeError(f"the registration form answered HTTP {status} without a CSRF token")
    start.wait()
    while (attempt := rush.take()) is not None:
        form = {"csrf_token": token.group(1), "attendees-0-ticket_type_id": str(ticket_type_id),
                "attendees-0-name": f"Khách {attempt}", "attendees-0-email": f"guest{attempt}@rush.example.vn",
                "attendees-0-organisation": "", "provider": "manual"}
        started = time.monotonic()
        try:
            status, body, _, location = fetch(port, "POST", path, cookies, form)
        except OSError as exc:
            rush.record("error", started, time.monotonic(), repr(exc))
            continue
        ended = time.monotonic()
        if status == 302 and location and "/orders/" in location:
            rush.record("ordered", started, ended)
        elif status == 409:
            rush.record("sold_out", started, ended)
        else:
            rush.record("error", started, ended, f"HTTP {status}: {body[:200]}")


def run(attempts: int, clients: int, seats: int) -> dict:
    background_load, calibration = os.getloadavg()[0], cpu_calibration_ms()
    with ExitStack() as stack:
        print(f"preparing a fresh PostgreSQL schema on {BASE_DATABASE_URL} ...", flush=True)
        database_url = stack.enter_context(scratch_database("rush"))
        ticket_type_id = prepare(database_url, seats, clients)
        log_dir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        # 32 buyers log in from one address: the login throttle (30 a minute per address) would stop them.
        port = stack.enter_context(gunicorn(database_url, log_dir, GUNICORN_OPTIONS, RATE_LIMITS="false"))
        print(f"gunicorn {' '.join(GUNICORN_OPTIONS)} on {HOST}:{port}; {clients} buyers log in ...", flush=True)
        rush = WorkQueue(range(attempts))
        start = threading.Barrier(clients + 1)
        threads = [threading.Thread(target=client, args=(port, f"buyer{n}@rush.example.vn", ticket_type_id, rush,
                                                          start), daemon=True) for n in range(clients)]
        for thread in threads:
            thread.start()
        start.wait(timeout=120)
        began = time.monotonic()
        print(f"{attempts} order attempts on {seats} seats ...", flush=True)
        for thread in threads:
            thread.join(timeout=600)
        finished = time.monotonic()
        sold = count_sold(database_url)
    return {"rush": rush, "began": began, "finished": finished, "sold": sold, "seats": seats,
            "background_load": background_load,
            "calibration": calibration}


def summarise(outcome: dict, attempts: int, clients: int) -> dict:
    rush: WorkQueue = outcome["rush"]
    latencies = sorted(rush.latencies_ms)
    selling_seconds = (max(rush.ended_at["ordered"]) - outcome["began"]) if rush.ended_at["ordered"] else 0.0
    orders_per_s = round(rush.outcomes["ordered"] / selling_seconds, 1) if selling_seconds else 0.0
    summary = {
        "attempts": attempts, "clients": clients, "seats": outcome["seats"], "gunicorn": " ".join(GUNICORN_OPTIONS),
        "cpus": os.cpu_count(), "background_load_1min": round(outcome["background_load"], 2),
        "cpu_calibration_ms": outcome["calibration"],
        "sold": outcome["sold"], "oversold": max(outcome["sold"] - outcome["seats"], 0),
        "orders": rush.outcomes["ordered"], "sold_out_answers": rush.outcomes["sold_out"],
        "errors": rush.outcomes["error"], "orders_per_s": orders_per_s,
        "selling_seconds": round(selling_seconds, 2), "total_seconds": round(outcome["finished"] - outcome["began"], 2),
        "p50_ms": round(percentile(latencies, 0.50), 1), "p95_ms": round(percentile(latencies, 0.95), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
    }
    summary["target_met"] = (summary["oversold"] == 0 and summary["errors"] == 0
                             and orders_per_s >= TARGET_ORDERS_PER_S and summary["p99_ms"] < TARGET_P99_MS)
    return summary


def _exit_on_sigterm(_signum, _frame):
    raise SystemExit(143)  # unwinds the ExitStack, so gunicorn and the schema go too


def main() -> None:
    parser = argparse.ArgumentParser(description="Concurrent orders on a limited quota, over HTTP.")
    parser.add_argument("--attempts", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seats", type=int, default=500)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    outcome = run(args.attempts, args.clients, args.seats)
    summary = summarise(outcome, args.attempts, args.clients)
    print()
    for key in ("sold", "oversold", "orders", "sold_out_answers", "errors", "orders_per_s", "selling_seconds",
                "p50_ms", "p95_ms", "p99_ms", "background_load_1min", "cpu_calibration_ms"):
        print(f"{key:>20}: {summary[key]}")
    for sample in outcome["rush"].error_samples:
        print(f"  error: {sample}")
    print(f"targets: 0 oversold, >= {TARGET_ORDERS_PER_S} orders/s while selling, p99 < {TARGET_P99_MS} ms")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
