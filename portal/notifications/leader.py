"""One scheduler leads, the others stand by: the leader holds a lock that dies with its process.

On PostgreSQL the lock is a session-level advisory lock on a connection of its own, so the server frees it when the
connection ends (the process killed, the machine gone, the network cut: TCP keepalives notice within seconds). On
SQLite it is an exclusive flock on a file beside the database, freed by the kernel with the file descriptor. The
`scheduler_leaders` row only reports who leads (for the admins' page); the lock decides.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
from pathlib import Path

from sqlalchemy import create_engine, delete, select, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.pool import NullPool

from portal.db import Database, utcnow
from portal.notifications.models import SchedulerLeader

log = logging.getLogger(__name__)

LOCK_NAME = "scheduler"
#: the advisory lock's first key (the second is the schema's hash, so test schemas on one database do not share it)
_ADVISORY_CLASS = 18_0518


class PostgresLeaderLock:
    def __init__(self, url: str) -> None:
        # A connection outside the pool: the pool would recycle or share it, and the lock would go with it.
        self.engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT", connect_args={
            "connect_timeout": 5, "keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2,
            "keepalives_count": 2, "tcp_user_timeout": 8000, "options": _options(url) + " -c statement_timeout=5000",
        })
        self.connection: Connection | None = None

    def try_acquire(self) -> bool:
        try:
            if self.connection is None:
                self.connection = self.engine.connect()
            return bool(self.connection.scalar(
                text("SELECT pg_try_advisory_lock(:class, hashtext(current_schema()))"), {"class": _ADVISORY_CLASS}))
        except Exception:  # noqa: BLE001 - the database is unreachable: stay standby and try again
            log.warning("cannot reach the database to take the scheduler lock", exc_info=True)
            self.release()
            return False

    def still_held(self) -> bool:
        """Whether the lock's connection still answers (the lock lives exactly as long as it)."""
        try:
            return bool(self.connection.scalar(text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted "
                "AND classid = :class"), {"class": _ADVISORY_CLASS}))
        except Exception:  # noqa: BLE001 - whatever the driver raises, the connection and its lock are gone
            log.warning("the scheduler lock's connection failed", exc_info=True)
            return False

    def release(self) -> None:
        if self.connection is not None:
            try:
                self.connection.close()  # closing the session frees its advisory locks
            except Exception:  # noqa: BLE001 - a broken connection's lock is freed by the server anyway
                log.debug("closing the lock connection failed", exc_info=True)
            self.connection = None
        self.engine.dispose()


def _options(url: str) -> str:
    """Keeps the URL's own options (a test schema's search_path) next to ours."""
    return make_url(url).query.get("options", "")


class FileLeaderLock:
    """SQLite: `<database>.scheduler.lock`, locked with flock."""

    def __init__(self, database_path: str) -> None:
        self.path = Path(f"{database_path}.scheduler.lock")
        self.fd: int | None = None

    def try_acquire(self) -> bool:
        if self.fd is None:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def still_held(self) -> bool:
        # the descriptor holds the lock as long as it is open; the lock file removed means another could take one
        try:
            return os.fstat(self.fd).st_ino == os.stat(self.path).st_ino
        except OSError:
            return False

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def leader_lock(db: Database) -> PostgresLeaderLock | FileLeaderLock:
    if db.is_sqlite:
        return FileLeaderLock(make_url(db.url).database)
    return PostgresLeaderLock(db.url)


def process_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def current_leader(db: Database) -> SchedulerLeader | None:
    with db.session_factory() as session:
        return session.get(SchedulerLeader, LOCK_NAME)


def record_leadership(db: Database) -> SchedulerLeader | None:
    """Writes this process as the leader; returns the row of the one before it, if any."""
    now = utcnow()
    with db.transaction() as session:
        previous = session.get(SchedulerLeader, LOCK_NAME)
        if previous is not None:
            session.expunge(previous)
            session.execute(delete(SchedulerLeader).where(SchedulerLeader.name == LOCK_NAME))
        session.add(SchedulerLeader(name=LOCK_NAME, host=socket.gethostname(), pid=os.getpid(), since=now,
                                    heartbeat_at=now))
    return previous


def beat(db: Database) -> None:
    with db.transaction() as session:
        row = session.scalar(select(SchedulerLeader).where(SchedulerLeader.name == LOCK_NAME,
                                                           SchedulerLeader.pid == os.getpid(),
                                                           SchedulerLeader.host == socket.gethostname()))
        if row is not None:
            row.heartbeat_at = utcnow()
