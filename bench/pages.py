"""The page benchmark: the home page and a logged-in dashboard served by gunicorn on PostgreSQL.

    .venv/bin/python bench/pages.py [--seconds 20] [--clients 16]

It builds everything it needs and removes it afterwards, even on error or Ctrl+C: a fresh schema on the
shared PostgreSQL database (BENCH_DATABASE_URL, default the test database), migrated, with the demo data and
a few hundred extra rows; gunicorn in production mode on a free loopback port; one logged-in demo founder.
Then `--clients` keep-alive clients (bench/load.py, a separate process) fetch each page for `--seconds`.

It also counts the SQL statements each page runs, in-process, on the demo data alone and with the extra rows:
the counts must not grow with the data.

Target on a 2-core machine: home page >= 300 requests/s with p99 < 100 ms. The last line printed is one JSON
object with the results and `target_met`.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the root, where app.py lives

from app import create_app  # noqa: E402
from bench.common import BASE_DATABASE_URL, HOST, ROOT, cpu_calibration_ms, gunicorn, log_in, scratch_database  # noqa: E402
from portal.accounts.demo import DEMO_PASSWORD  # noqa: E402
from portal.accounts.models import (  # noqa: E402
    Organisation,
    OrganisationKind,
    OrganisationMember,
    StartupProfile,
    StartupStage,
)
from portal.accounts.services import find_user_by_email  # noqa: E402
from portal.db import Database, utcnow  # noqa: E402
from portal.demo import load_demo  # noqa: E402
from portal.events.models import Event, EventStatus  # noqa: E402
from portal.incubation.models import Call, CallStatus, Programme  # noqa: E402
from tests.support.web import count_queries, post_form  # noqa: E402

FOUNDER_EMAIL = "startup@demo.dmst-hanoi.vn"
PAGES = (("home", "/"), ("dashboard", "/dashboard/startup"))
WARM_UP_SECONDS = 2
TARGET_RPS, TARGET_P99_MS = 300, 100

# Each request is CPU-bound Python (routing, ORM, templates) with a few short waits on PostgreSQL, and the two
# cores also run PostgreSQL. Three sync workers: one process per core plus one, so a core does not idle while a
# worker waits for the database; more processes only take turns on the same cores. Sync workers take requests
# from the one listening socket in arrival order, whichever worker is free, which keeps the slowest requests
# close to the median. gthread pins each keep-alive connection to one worker and shares that worker's GIL among
# its threads: measured here, its p99 was several times its p50. Sync workers close the connection after each
# answer, which costs a loopback connection per request here and nothing in production, where the TLS proxy in
# front of gunicorn keeps the browsers' connections open.
GUNICORN_OPTIONS = ("--workers", "3", "--worker-class", "sync")


# --- the data -----------------------------------------------------------------------------------------------

def add_rows_beyond_the_demo(db: Database, events: int = 200, calls: int = 100,
                             organisations: int = 50) -> None:
    """Published and draft events, open and closed calls, and organisations, the founder in a few of them."""
    now = utcnow()
    with db.transaction() as s:
        programme = Programme(slug="bench-programme", name_vi="Chương trình thử tải",
                              name_en="Load-test programme")
        s.add_all(
            Event(slug=f"bench-event-{n}", name_vi=f"Sự kiện thử tải {n}", name_en=f"Load-test event {n}",
                  description_vi="Mô tả sự kiện. " * 20, description_en="Event description. " * 20,
                  venue_vi="Hà Nội", venue_en="Hanoi",
                  starts_at=now + timedelta(days=n % 90 - 10), ends_at=now + timedelta(days=n % 90 - 9),
                  status=EventStatus.DRAFT if n % 4 == 0 else EventStatus.PUBLISHED)
            for n in range(events)
        )
        s.add_all(
            Call(programme=programme, slug=f"bench-call-{n}", title_vi=f"Đợt thử tải {n}",
                 title_en=f"Load-test call {n}", description_vi="Mô tả đợt tuyển chọn. " * 20,
                 description_en="Call description. " * 20, opens_at=now - timedelta(days=30),
                 closes_at=now + timedelta(days=n - 10),
                 status=CallStatus.CLOSED if n % 3 == 0 else CallStatus.OPEN)
            for n in range(calls)
        )
        founder = find_user_by_email(s, FOUNDER_EMAIL)
        for n in range(organisations):
            org = Organisation(name=f"Doanh nghiệp thử tải {n}", kind=OrganisationKind.STARTUP)
            org.startup_profile = StartupProfile(sector="FinTech", stage=StartupStage.IDEA)
            if n % 10 == 0:
                org.members.append(OrganisationMember(user=founder))
            s.add(org)


def count_page_statements(app) -> dict[str, int]:
    """SQL statements per page, as a warm server runs them (the first request of a client fills caches)."""
    anonymous, founder = app.test_client(), app.test_client()
    response = post_form(founder, app, "/login", {"email": FOUNDER_EMAIL, "password": DEMO_PASSWORD})
    if response.status_code != 302:
        raise RuntimeError(f"in-process login failed: HTTP {response.status_code}")
    counts = {}
    for (name, path), client in zip(PAGES, (anonymous, founder), strict=True):
        client.get(path)
        with count_queries(app.extensions["portal.db"].engine) as statements:
            status = client.get(path).status_code
        if status != 200:
            raise RuntimeError(f"{path} answered HTTP {status} in-process")
        counts[name] = len(statements)
    return counts


@contextmanager
def benchmark_database() -> Iterator[tuple[str, dict[str, dict[str, int]]]]:
    """A migrated schema with the demo data and extra rows; yields its URL and the statement counts."""
    with scratch_database("pages") as url, tempfile.TemporaryDirectory() as instance:
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": secrets.token_urlsafe(32)}, instance_path=instance)
        db = app.extensions["portal.db"]
        try:
            load_demo(app)
            counts = {"demo data": count_page_statements(app)}
            add_rows_beyond_the_demo(db)
            counts["demo + extra rows"] = count_page_statements(app)
        finally:
            db.dispose()
        yield url, counts


# --- the load -----------------------------------------------------------------------------------------------

def load(port: int, path: str, cookies: dict[str, str], clients: int, seconds: float) -> dict:
    command = [sys.executable, str(ROOT / "bench" / "load.py"), "--port", str(port), "--path", path,
               "--clients", str(clients), "--seconds", str(seconds)]
    if cookies:
        command += ["--header", "Cookie: " + "; ".join(f"{k}={v}" for k, v in cookies.items())]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0:
        raise RuntimeError(f"the load generator failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(seconds: float, clients: int) -> dict:
    # Other processes on the machine share its cores with the server: the load before we start says how many.
    background_load, calibration = os.getloadavg()[0], cpu_calibration_ms()
    with ExitStack() as stack:
        print(f"preparing a fresh PostgreSQL schema on {BASE_DATABASE_URL} ...", flush=True)
        database_url, statement_counts = stack.enter_context(benchmark_database())
        log_dir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        port = stack.enter_context(gunicorn(database_url, log_dir, GUNICORN_OPTIONS))
        print(f"gunicorn {' '.join(GUNICORN_OPTIONS)} on {HOST}:{port}", flush=True)
        session_cookies = log_in(port, FOUNDER_EMAIL, DEMO_PASSWORD)
        results = {}
        for (name, path), cookies in zip(PAGES, ({}, session_cookies), strict=True):
            print(f"{name}: {clients} clients, {WARM_UP_SECONDS} s warm-up, then {seconds:g} s ...",
                  flush=True)
            load(port, path, cookies, clients, WARM_UP_SECONDS)
            results[name] = load(port, path, cookies, clients, seconds)
    return {"pages": results, "statements": statement_counts, "background_load": background_load,
            "calibration": calibration}


def summarise(outcome: dict, seconds: float, clients: int) -> dict:
    pages, statements = outcome["pages"], outcome["statements"]
    by_size = list(statements.values())
    constant = all(counts == by_size[0] for counts in by_size)
    summary: dict = {"clients": clients, "seconds": seconds, "gunicorn": " ".join(GUNICORN_OPTIONS),
                     "cpus": os.cpu_count(), "background_load_1min": outcome["background_load"],
                     "cpu_calibration_ms": outcome["calibration"]}
    for name, result in pages.items():
        summary.update({f"{name}_rps": result["rps"], f"{name}_p50_ms": result["p50_ms"],
                        f"{name}_p95_ms": result["p95_ms"], f"{name}_p99_ms": result["p99_ms"],
                        f"{name}_errors": sum(result["errors"].values())})
    for name, _ in PAGES:
        summary[f"{name}_sql_statements"] = by_size[-1][name]
    summary["sql_statements_constant"] = constant
    summary["target_met"] = (pages["home"]["rps"] >= TARGET_RPS and pages["home"]["p99_ms"] < TARGET_P99_MS
                             and constant and not any(r["errors"] for r in pages.values()))
    return summary


def print_table(outcome: dict) -> None:
    print()
    print(f"{'page':<28}{'requests':>9}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'max ms':>8}"
          f"{'errors':>8}{'load-gen CPU':>14}")
    for name, path in PAGES:
        r = outcome["pages"][name]
        print(f"{name + ' ' + path:<28}{r['requests']:>9}{r['rps']:>8.1f}{r['p50_ms']:>8.1f}"
              f"{r['p95_ms']:>8.1f}{r['p99_ms']:>8.1f}{r['max_ms']:>8.1f}{sum(r['errors'].values()):>8}"
              f"{r['load_generator_cpu_share']:>13.0%}")
        if r["errors"]:
            print(f"    errors: {r['errors']}")
    print()
    print("SQL statements per page: " + "; ".join(
        f"{size}: " + ", ".join(f"{name} {count}" for name, count in counts.items())
        for size, counts in outcome["statements"].items()))
    print(f"load average before the run: {outcome['background_load']:.2f} on {os.cpu_count()} CPUs; "
          f"CPU calibration loop {outcome['calibration']} ms")
    print(f"target: home >= {TARGET_RPS} requests/s with p99 < {TARGET_P99_MS} ms, statements constant")


def _exit_on_sigterm(_signum, _frame):
    raise SystemExit(143)  # unwinds the ExitStack, so gunicorn and the schema go too


def main() -> None:
    parser = argparse.ArgumentParser(description="Home page and dashboard throughput under gunicorn.")
    parser.add_argument("--seconds", type=float, default=20, help="measured seconds per page (default 20)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent keep-alive clients (default 16)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    outcome = run(args.seconds, args.clients)
    print_table(outcome)
    print(json.dumps(summarise(outcome, args.seconds, args.clients)))


if __name__ == "__main__":
    main()
