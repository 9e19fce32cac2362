"""The registration rush: 2,000 order attempts from 32 clients on 500 seats, over HTTP, through the browser's route;
then the bare stack doing the same; then the rush again on a quota of 20,000 seats of which 18,000 are sold already.

    .venv/bin/python bench/registration_rush.py [--attempts 2000] [--clients 32] [--seats 500] [--presold 0]
        [--growth-seats 20000] [--growth-presold 18000] [--only-portal]

gunicorn (4 workers) serves the portal in production mode on a fresh PostgreSQL schema. Each client is a
different logged-in buyer who opens the registration form once (for its CSRF token) and then posts orders of one
free ticket, as the form does, until all attempts are used. Every answer is a confirmed order (a redirect to it)
or "sold out" (409); anything else is an error. `--presold N` sells N of the seats before the rush (orders and
tickets written straight to the database, then ANALYZE, as a live database has its statistics).

The bare reference (bench/bare_app.py: Flask + SQLAlchemy locking one quota row and inserting one row) is served
by the same gunicorn settings and takes the same rush, so the portal's speed reads as a share of its stack's.

It prints, per run, tickets sold, oversold (must be 0), orders per second while seats remain and p50/p95/p99
latency of the posts, and ends with one JSON line: orders_per_s, bare_orders_per_s, share_of_bare,
presold_orders_per_s, growth_ratio (pre-sold ÷ empty), p99_ms (the worse of the portal's runs), oversold.
Targets on a 2-core machine: 0 oversold, share_of_bare >= 0.35, growth_ratio >= 0.9, p99 < 200 ms. A busy machine
makes warnings (a client that could not get ready, errors), never a crash: every run reports what it measured.
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

from sqlalchemy import func, insert, select, text  # noqa: E402

from app import create_app  # noqa: E402
from bench import bare_app  # noqa: E402
from bench.common import (  # noqa: E402
    BASE_DATABASE_URL,
    HOST,
    StartLine,
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
TARGET_SHARE_OF_BARE, TARGET_GROWTH_RATIO, TARGET_P99_MS = 0.35, 0.9, 200


def prepare(database_url: str, seats: int, buyers: int, presold: int = 0) -> int:
    """The event with one free ticket type on a quota of `seats`, `presold` of them sold already, and the buyers'
    accounts; returns the type id."""
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
                if presold:
                    _presell(s, event, ticket_type, presold, now)
                type_id = ticket_type.id
            if presold:
                with db.engine.connect() as connection:
                    connection.execute(text("ANALYZE"))
                    connection.commit()
            return type_id
        finally:
            db.dispose()


def _presell(s, event: Event, ticket_type: TicketType, count: int, now) -> None:
    """`count` paid orders of one ticket each, as the till leaves them, counted on the quota."""
    buyer_id = s.scalar(select(User.id).limit(1))
    order_ids = s.scalars(insert(Order).returning(Order.id, sort_by_parameter_order=True), [
        {"code": f"PRE{n:09d}", "event_id": event.id, "buyer_id": buyer_id, "status": OrderStatus.PAID, "total": 0,
         "provider": "free", "locale": "vi", "created_at": now, "paid_at": now} for n in range(count)]).all()
    s.execute(insert(Ticket), [
        {"order_id": order_id, "ticket_type_id": ticket_type.id, "price": 0, "code": secrets.token_urlsafe(32),
         "attendee_name": f"Khách {n}", "attendee_email": f"presold{n}@rush.example.vn", "answers": {}}
        for n, order_id in enumerate(order_ids)])
    event.quotas[0].held = count


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


def client(port: int, email: str, ticket_type_id: int, rush: WorkQueue, start: StartLine) -> None:
    path = f"/events/{SLUG}/register"
    try:
        cookies = log_in(port, email, PASSWORD)
        status, page, new_cookies, _ = fetch(port, "GET", f"{path}?qty-{ticket_type_id}=1", cookies)
        cookies.update(new_cookies)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        if status != 200 or token is None:
            raise RuntimeError(f"the registration form answered HTTP {status} without a CSRF token")
    except (OSError, RuntimeError) as error:
        start.drop_out(f"{email}: {error!r}"[:300])
        return
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
        record_answer(rush, status, location, body, started, ended)


def record_answer(rush: WorkQueue, status: int, location: str | None, body: str, started: float,
                  ended: float) -> None:
    if status == 302 and location and "/orders/" in location:
        rush.record("ordered", started, ended)
    elif status == 409:
        rush.record("sold_out", started, ended)
    else:
        rush.record("error", started, ended, f"HTTP {status}: {body[:200]}")


def bare_client(port: int, rush: WorkQueue, start: StartLine) -> None:
    start.wait()
    while rush.take() is not None:
        started = time.monotonic()
        try:
            status, body, _, location = fetch(port, "POST", "/order", form={"attendee": "Khách"})
        except OSError as exc:
            rush.record("error", started, time.monotonic(), repr(exc))
            continue
        record_answer(rush, status, location, body, started, time.monotonic())


def rush_of(clients: list[threading.Thread], start: StartLine, rush: WorkQueue) -> tuple[float, float]:
    """Starts the clients together and waits for them; returns when the rush began and ended."""
    for thread in clients:
        thread.start()
    start.wait()
    began = time.monotonic()
    for thread in clients:
        thread.join(timeout=600)
    if any(thread.is_alive() for thread in clients):
        start.warn("clients still busy after 600 s were left behind")
    return began, time.monotonic()


def run_portal(attempts: int, clients: int, seats: int, presold: int) -> dict:
    with ExitStack() as stack:
        print(f"portal: a fresh PostgreSQL schema on {BASE_DATABASE_URL}, {presold} of {seats} seats sold ...",
              flush=True)
        database_url = stack.enter_context(scratch_database("rush"))
        ticket_type_id = prepare(database_url, seats, clients, presold)
        log_dir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        # 32 buyers log in from one address: the login throttle (30 a minute per address) would stop them.
        port = stack.enter_context(gunicorn(database_url, log_dir, GUNICORN_OPTIONS, RATE_LIMITS="false"))
        print(f"gunicorn {' '.join(GUNICORN_OPTIONS)} on {HOST}:{port}; {clients} buyers log in ...", flush=True)
        rush, start = WorkQueue(range(attempts)), StartLine(clients)
        threads = [threading.Thread(target=client, args=(port, f"buyer{n}@rush.example.vn", ticket_type_id, rush,
                                                          start), daemon=True) for n in range(clients)]
        print(f"{attempts} order attempts on {seats - presold} seats left ...", flush=True)
        began, finished = rush_of(threads, start, rush)
        sold = count_sold(database_url)
    return summarise(rush, start, began, finished, sold=sold, seats=seats, presold=presold)


def run_bare(attempts: int, clients: int, seats: int) -> dict:
    with ExitStack() as stack:
        print("bare reference: Flask + SQLAlchemy, one locked quota row, one inserted row ...", flush=True)
        database_url = stack.enter_context(scratch_database("bare"))
        bare_app.prepare(database_url, seats)
        log_dir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        port = stack.enter_context(gunicorn(database_url, log_dir, GUNICORN_OPTIONS,
                                            application="bench.bare_app:create_app()"))
        rush, start = WorkQueue(range(attempts)), StartLine(clients)
        threads = [threading.Thread(target=bare_client, args=(port, rush, start), daemon=True) for _ in range(clients)]
        began, finished = rush_of(threads, start, rush)
        sold = bare_app.sold(database_url)
    return summarise(rush, start, began, finished, sold=sold, seats=seats, presold=0)


def summarise(rush: WorkQueue, start: StartLine, began: float, finished: float, *, sold: int, seats: int,
              presold: int) -> dict:
    latencies = sorted(rush.latencies_ms)
    selling_seconds = (max(rush.ended_at["ordered"]) - began) if rush.ended_at["ordered"] else 0.0
    orders_per_s = round(rush.outcomes["ordered"] / selling_seconds, 1) if selling_seconds else 0.0
    warnings = list(start.warnings)
    if rush.outcomes["error"]:
        warnings.append(f"{rush.outcomes['error']} answers were errors, e.g. {rush.error_samples[:2]}")
    return {
        "seats": seats, "presold": presold, "sold": sold, "oversold": max(sold - seats, 0),
        "orders": rush.outcomes["ordered"], "sold_out_answers": rush.outcomes["sold_out"],
        "errors": rush.outcomes["error"], "orders_per_s": orders_per_s,
        "selling_seconds": round(selling_seconds, 2), "total_seconds": round(finished - began, 2),
        "p50_ms": round(percentile(latencies, 0.50), 1), "p95_ms": round(percentile(latencies, 0.95), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1), "warnings": warnings,
    }


def report(name: str, run: dict) -> None:
    print(f"\n{name}:")
    for key in ("seats", "presold", "sold", "oversold", "orders", "sold_out_answers", "errors", "orders_per_s",
                "selling_seconds", "p50_ms", "p95_ms", "p99_ms"):
        print(f"{key:>20}: {run[key]}")
    for warning in run["warnings"]:
        print(f"  WARNING: {warning}")


def _exit_on_sigterm(_signum, _frame):
    raise SystemExit(143)  # unwinds the ExitStack, so gunicorn and the schema go too


def main() -> None:
    parser = argparse.ArgumentParser(description="Concurrent orders on a limited quota, over HTTP, beside the bare "
                                                 "stack and with most seats sold already.")
    parser.add_argument("--attempts", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seats", type=int, default=500)
    parser.add_argument("--presold", type=int, default=0, help="seats already sold before the rush")
    parser.add_argument("--growth-seats", type=int, default=20_000)
    parser.add_argument("--growth-presold", type=int, default=18_000)
    parser.add_argument("--only-portal", action="store_true", help="one portal run, without the bare reference "
                                                                   "and the pre-sold run")
    args = parser.parse_args()
    if not 0 <= args.presold <= args.seats or not 0 <= args.growth_presold <= args.growth_seats:
        parser.error("the seats pre-sold must be between 0 and the seats")
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    background_load, calibration = os.getloadavg()[0], cpu_calibration_ms()
    portal = run_portal(args.attempts, args.clients, args.seats, args.presold)
    report("portal", portal)
    summary = {"orders_per_s": portal["orders_per_s"], "p99_ms": portal["p99_ms"], "oversold": portal["oversold"],
               "errors": portal["errors"]}
    runs = {"portal": portal}
    if not args.only_portal:
        bare = run_bare(args.attempts, args.clients, args.seats)
        report("bare reference", bare)
        presold = run_portal(args.attempts, args.clients, args.growth_seats, args.growth_presold)
        report(f"portal, {args.growth_presold} of {args.growth_seats} seats pre-sold", presold)
        runs.update(bare=bare, presold=presold)
        summary.update(
            bare_orders_per_s=bare["orders_per_s"],
            share_of_bare=round(portal["orders_per_s"] / bare["orders_per_s"], 3) if bare["orders_per_s"] else None,
            presold_orders_per_s=presold["orders_per_s"],
            growth_ratio=(round(presold["orders_per_s"] / portal["orders_per_s"], 3)
                          if portal["orders_per_s"] else None),
            p99_ms=max(portal["p99_ms"], presold["p99_ms"]), presold_p99_ms=presold["p99_ms"],
            oversold=portal["oversold"] + presold["oversold"], errors=portal["errors"] + presold["errors"])
        summary["target_met"] = (summary["oversold"] == 0 and summary["errors"] == 0
                                 and (summary["share_of_bare"] or 0) >= TARGET_SHARE_OF_BARE
                                 and (summary["growth_ratio"] or 0) >= TARGET_GROWTH_RATIO
                                 and summary["p99_ms"] < TARGET_P99_MS)
    summary.update(attempts=args.attempts, clients=args.clients, gunicorn=" ".join(GUNICORN_OPTIONS),
                   cpus=os.cpu_count(), background_load_1min=round(background_load, 2),
                   cpu_calibration_ms=calibration,
                   warnings=[f"{name}: {warning}" for name, run in runs.items() for warning in run["warnings"]])
    print(f"\ntargets: 0 oversold, share of the bare stack >= {TARGET_SHARE_OF_BARE}, pre-sold / empty >= "
          f"{TARGET_GROWTH_RATIO}, p99 < {TARGET_P99_MS} ms")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
