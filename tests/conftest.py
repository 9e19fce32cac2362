"""The test harness: an app on SQLite or PostgreSQL (TEST_DATABASE_URL), clean tables for every test,
a real SMTP sink, users of every role, a query counter, and a live server with Chromium for browser tests."""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass

import pytest
from sqlalchemy import text
from werkzeug.serving import make_server

from app import create_app
from portal.accounts.models import Role, User, UserRole
from portal.accounts.services import hash_password
from portal.db import utcnow
from portal.extensions import limiter
from portal.migrate import upgrade
from portal.models import metadata
from portal.notifications.services import deliver_outbox
from tests.support.mail import SmtpSink
from tests.support.scratch_schema import drop_postgres_schema, fresh_postgres_schema
from tests.support.web import csrf_token, post_form

PASSWORD = "correct-horse-battery"
_password_hash = hash_password(PASSWORD)


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


_created_schemas: list[tuple[str, str]] = []


def pytest_sessionfinish(session, exitstatus):
    for base, schema in _created_schemas:
        drop_postgres_schema(base, schema)


def fresh_database_url(tmp_path_factory, name: str) -> str:
    base = os.environ.get("TEST_DATABASE_URL")
    if base and base.startswith("postgresql"):
        # the process id keeps two runs on one machine (two developers, CI) out of each other's way
        schema = f"t_{name}_{_worker()}_{os.getpid()}"
        _created_schemas.append((base, schema))
        return fresh_postgres_schema(base, schema)
    return f"sqlite:///{tmp_path_factory.mktemp(name) / 'portal.sqlite3'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = fresh_database_url(tmp_path_factory, "app")
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def smtp_sink():
    sink = SmtpSink(free_port())
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
def live_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def app(database_url, smtp_sink, live_port, tmp_path_factory):
    application = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret-key",
            "MAIL_TRANSPORT": "smtp",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": smtp_sink.port,
            "BASE_URL": f"http://127.0.0.1:{live_port}",
            # payment providers are offered only where a test turns them on (tests.support.payments)
            "DEMO_CARD": False,
        },
        instance_path=tmp_path_factory.mktemp("instance"),
    )
    yield application
    application.extensions["portal.db"].dispose()


@pytest.fixture(scope="session")
def db(app):
    return app.extensions["portal.db"]


def _clean_tables(db) -> None:
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if db.is_sqlite:
            for name in tables:
                conn.execute(text(f'DELETE FROM "{name}"'))  # noqa: S608 - our own table names
        else:
            # A test that leaks an open transaction would make TRUNCATE wait forever: fail loudly instead.
            conn.execute(text("SET LOCAL lock_timeout = '30s'"))
            conn.execute(text("TRUNCATE " + ", ".join(f'"{n}"' for n in tables) + " RESTART IDENTITY CASCADE"))


@pytest.fixture(autouse=True)
def _isolation(request):
    """Every test starts with empty tables, an empty mailbox and fresh rate limits."""
    if "app" not in request.fixturenames:
        yield
        return
    db, sink = request.getfixturevalue("db"), request.getfixturevalue("smtp_sink")
    yield
    _clean_tables(db)
    limiter.reset()
    sink.clear()


@pytest.fixture
def session(db):
    with db.session_factory() as s:
        yield s


@pytest.fixture
def client(app):
    return app.test_client()


@dataclass
class Mailbox:
    app: object
    sink: SmtpSink

    def deliver(self) -> dict:
        """Runs the outbox sender, as the scheduler does every few seconds."""
        return deliver_outbox(self.app)

    def to(self, address: str):
        return self.sink.to(address)

    def wait_for(self, address: str, count: int = 1, timeout: float = 5.0):
        return self.sink.wait_for(address, count, timeout)


@pytest.fixture
def mailbox(app, smtp_sink) -> Mailbox:
    return Mailbox(app, smtp_sink)


@pytest.fixture
def make_user(db):
    """Creates a confirmed user with the given roles; the password is tests.conftest.PASSWORD."""
    counter = {"n": 0}

    def factory(*roles: Role, email: str | None = None, name: str = "Test User", locale: str = "vi",
                verified: bool = True) -> User:
        counter["n"] += 1
        with db.transaction() as s:
            user = User(
                email=email or f"user{counter['n']}-{'-'.join(r.value for r in roles) or 'plain'}@example.vn",
                full_name=name, locale=locale, password_hash=_password_hash,
                email_verified_at=utcnow() if verified else None,
            )
            user.roles = [UserRole(role=r) for r in roles]
            s.add(user)
        return user

    return factory


def login(client, app, user_or_email, password: str = PASSWORD, remember: bool = False):
    email = getattr(user_or_email, "email", user_or_email)
    data = {"email": email, "password": password}
    if remember:
        data["remember"] = "y"
    response = post_form(client, app, "/login", data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return response


@pytest.fixture
def login_as(app, make_user):
    """A fresh test client logged in as a new user holding `roles`."""

    def factory(*roles: Role, **user_kwargs):
        user = make_user(*roles, **user_kwargs)
        c = app.test_client()
        login(c, app, user)
        c.user = user
        return c

    return factory


@pytest.fixture
def form(app):
    """post a form with a valid CSRF token: form(client, url, data)."""
    return lambda client, url, data=None, **kw: post_form(client, app, url, data, **kw)


@pytest.fixture
def csrf(app):
    return lambda client: csrf_token(client, app)


# --- browser tests ---------------------------------------------------------------------------

@pytest.fixture(scope="session")
def live_server(app, live_port):
    server = make_server("127.0.0.1", live_port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{live_port}"
    server.shutdown()


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-gpu", "--no-first-run"]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is missing: `make test` installs it (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server, locale="vi-VN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    pg = context.new_page()
    yield pg
    context.close()
