"""What the benchmarks share: a scratch PostgreSQL schema, gunicorn on a free loopback port, and HTTP as a
browser does it (cookies, CSRF tokens, redirects). Everything started here is stopped here, even on error."""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from http.client import HTTPConnection
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # app.py lives at the root, outside the installed package

import psycopg  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from portal.migrate import upgrade  # noqa: E402
from tests.support.scratch_schema import drop_postgres_schema, fresh_postgres_schema  # noqa: E402

BASE_DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = "redis://127.0.0.1:6379/0"
HOST = "127.0.0.1"


def cpu_calibration_ms() -> float:
    """The best of three runs of a fixed pure-Python loop: this machine's speed at the moment of the run. Shared
    virtual machines vary (the same loop has taken 0.6 s and 1.0 s on one machine within an hour), so figures are
    comparable only next to it."""
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        sum(range(10_000_000))
        timings.append(time.perf_counter() - started)
    return round(min(timings) * 1000, 1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]



@contextmanager
def scratch_database(name: str) -> Iterator[str]:
    """A fresh, migrated schema of its own on the shared PostgreSQL database, dropped afterwards."""
    schema = f"bench_{name}_{os.getpid()}"
    url = fresh_postgres_schema(BASE_DATABASE_URL, schema)
    try:
        upgrade(url)
        yield url
    finally:
        drop_postgres_schema(BASE_DATABASE_URL, schema)


# --- the server ---------------------------------------------------------------------------------------------

def checkpoint() -> None:
    """Writes what the preparation changed to disk now: a checkpoint that falls inside the measurement takes a
    core from the server being measured (seen here: the checkpointer at 40 % of a CPU right after a test run)."""
    url = make_url(BASE_DATABASE_URL)
    with psycopg.connect(host=url.host, port=url.port or 5432, user=url.username, dbname=url.database,
                         autocommit=True) as connection:
        # On a machine whose disk others keep busy a checkpoint can take minutes: the run goes on without it.
        connection.execute("SET statement_timeout = '60s'")
        try:
            connection.execute("CHECKPOINT")
        except psycopg.errors.QueryCanceled:
            print("WARNING: the checkpoint before the run took over 60 s (a busy disk); measuring without it",
                  flush=True)


@contextmanager
def gunicorn(database_url: str, log_dir: Path, options: tuple[str, ...], *, application: str = "app:create_app()",
             **extra_env: str) -> Iterator[int]:
    """Serves `application` (the portal unless told) with `options` on a free port until the block ends."""
    checkpoint()
    port = free_port()
    env = {**os.environ, "PORTAL_ENV": "production", "DATABASE_URL": database_url,
           "SECRET_KEY": secrets.token_urlsafe(32), "REDIS_URL": REDIS_URL, "MAIL_TRANSPORT": "sink", **extra_env}
    log_path = log_dir / "gunicorn.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", application, "--bind", f"{HOST}:{port}",
             *options],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        wait_until_healthy(server, port, log_path)
        yield port
    finally:
        stop(server)


def wait_until_healthy(server: subprocess.Popen, port: int, log_path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            status, *_ = fetch(port, "GET", "/healthz")
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer /healthz in {timeout} s:\n{log_path.read_text()[-3000:]}")


def stop(server: subprocess.Popen) -> None:
    """Ends gunicorn and its workers (its own process group), gracefully first."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


# --- HTTP as a browser does it ------------------------------------------------------------------------------

def fetch(port: int, method: str, path: str, cookies: dict[str, str] | None = None,
          form: dict[str, str] | None = None) -> tuple[int, str, dict[str, str], str | None]:
    """One request; returns the status, the body, the cookies the answer sets and where it redirects."""
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in (cookies or {}).items())} if cookies else {}
    body = None
    if form is not None:
        body = urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    connection = HTTPConnection(HOST, port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        jar = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or ():
            jar.load(header)
        return (response.status, response.read().decode(), {name: m.value for name, m in jar.items()},
                response.headers.get("Location"))
    finally:
        connection.close()


def log_in(port: int, email: str, password: str) -> dict[str, str]:
    """Logs in through the real form (with its CSRF token) and follows the redirects to the dashboard, keeping
    every cookie the answers set, as a browser does; returns the cookies."""
    status, page, cookies, _ = fetch(port, "GET", "/login")
    field = re.search(r'<input[^>]*name="csrf_token"[^>]*>', page)
    token = field and re.search(r'value="([^"]+)"', field.group(0))
    if status != 200 or not token:
        raise RuntimeError(f"the login page answered HTTP {status} without a CSRF token")
    form = {"csrf_token": token.group(1), "email": email, "password": password}
    status, _, new_cookies, location = fetch(port, "POST", "/login", cookies, form)
    cookies.update(new_cookies)
    while status in (301, 302, 303) and location:
        status, _, new_cookies, location = fetch(port, "GET", urlsplit(location).path, cookies)
        cookies.update(new_cookies)
    if status != 200:
        raise RuntimeError(f"logging in as {email} ended with HTTP {status}, not on a dashboard")
    return cookies


# --- the clients' shared work ------------------------------------------------------------------------------------

class StartLine:
    """Concurrent clients start together once all are ready, and a busy machine does not crash the run: a client
    that cannot get ready (a login timing out) drops out and the others start without it; if some are still not
    ready after `timeout`, those ready start anyway. Each such event becomes a warning the benchmark reports."""

    def __init__(self, clients: int, timeout: float = 120) -> None:
        self.barrier = threading.Barrier(clients + 1)  # the clients and the thread that times the run
        self.timeout = timeout
        self.lock = threading.Lock()
        self.warnings: list[str] = []

    def warn(self, warning: str) -> None:
        with self.lock:
            if warning not in self.warnings and len(self.warnings) < 10:
                self.warnings.append(warning)

    def wait(self) -> None:
        try:
            self.barrier.wait(timeout=self.timeout)
        except threading.BrokenBarrierError:
            self.warn("not every client was ready at the start; the run went on with those that were")

    def drop_out(self, reason: str) -> None:
        self.warn(f"a client dropped out before the start: {reason}")
        self.barrier.abort()  # the others need not wait for it


class WorkQueue:
    """Work handed to concurrent clients one item at a time, and every answer with its time: a benchmark's clients
    take items until none are left and record what each request answered."""

    def __init__(self, items) -> None:
        self.items = list(items)
        self.lock = threading.Lock()
        self.latencies_ms: list[float] = []
        self.outcomes: Counter[str] = Counter()
        #: when each answer of a kind came (monotonic seconds), for rates over part of a run
        self.ended_at: defaultdict[str, list[float]] = defaultdict(list)
        self.error_samples: list[str] = []

    def take(self):
        """The next item, or None when the work is done."""
        with self.lock:
            return self.items.pop() if self.items else None

    def record(self, outcome: str, started: float, ended: float, detail: str = "") -> None:
        with self.lock:
            self.latencies_ms.append((ended - started) * 1000)
            self.outcomes[outcome] += 1
            self.ended_at[outcome].append(ended)
            if detail and len(self.error_samples) < 5:
                self.error_samples.append(detail)



def report(measure, targets_met) -> int:
    """Runs `measure()` (the figures as a dict), prints them one a line, warns on a busy machine, and ends with the
    one JSON line: the figures, the calibration and `targets_met(figures)`. A failure is reported, never raised."""
    calibration = cpu_calibration_ms()
    try:
        figures = measure()
    except Exception as error:  # a benchmark reports what happened instead of dying with a traceback
        traceback.print_exc()
        print(json.dumps({"error": repr(error), "cpu_calibration_ms": calibration}))
        return 1
    for key, value in figures.items():
        print(f"{key:>22}: {value}")
    if calibration > 150:
        print(f"warning: this machine is busy (calibration {calibration} ms): times are higher than usual")
    figures["cpu_calibration_ms"] = calibration
    figures["target_met"] = bool(targets_met(figures))
    print(json.dumps(figures))
    return 0
