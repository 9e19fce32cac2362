"""The connection pool hands out no connection the server dropped once it sat idle, and pings no busy one."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

import portal.db
from portal.db import Database


@pytest.fixture
def pool(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite opens a connection per use: there is no pool to go stale")
    database = Database(database_url, pool_size=1, max_overflow=0)
    yield database
    database.dispose()


def _backend_pid(database: Database) -> int:
    with database.engine.connect() as connection:
        return connection.scalar(text("SELECT pg_backend_pid()"))


def _drop(database: Database, pid: int) -> None:
    """What a server restart or a firewall does to an idle connection."""
    killer = Database(database.url, pool_size=1, max_overflow=0)
    with killer.engine.connect() as connection:
        assert connection.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}) is True
    killer.dispose()


def test_a_dropped_idle_connection_is_replaced_without_an_error(pool, monkeypatch):
    dropped = _backend_pid(pool)
    _drop(pool, dropped)
    monkeypatch.setattr(portal.db, "IDLE_BEFORE_PING_SECONDS", 0.0)  # it has sat idle long enough
    with pool.session_factory() as session:
        assert session.scalar(text("SELECT 1")) == 1
    assert _backend_pid(pool) != dropped


def test_a_connection_used_a_moment_ago_is_trusted_and_a_dropped_one_fails_once(pool):
    # no ping for a busy connection (a round trip fewer per request): if the server dropped it anyway, its next
    # statement fails, SQLAlchemy renews the pool, and the one after works
    _drop(pool, _backend_pid(pool))
    with pool.session_factory() as session, pytest.raises(DBAPIError) as failed:
        session.scalar(text("SELECT 1"))
    assert failed.value.connection_invalidated
    with pool.session_factory() as session:
        assert session.scalar(text("SELECT 1")) == 1
