"""Engine, sessions and the declarative base: one way to open a transaction, one way to lock."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from flask import current_app, g, has_request_context, request
from sqlalchemy import Column, DateTime, MetaData, Table, TextClause, bindparam, create_engine, event, text
from sqlalchemy import Enum as SqlEnum
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
#: the largest value an Integer column holds (32 bits on PostgreSQL): amounts, prices and ids the portal keeps
INTEGER_MAX = 2**31 - 1


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Stores naive UTC on every backend and always returns aware UTC datetimes.

    SQLite has no time zones; storing one convention everywhere keeps comparisons honest.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not pysqlite, emit BEGIN, so SAVEPOINT and BEGIN IMMEDIATE work.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        immediate = connection.get_execution_options().get("sqlite_immediate", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str, **kwargs) -> Engine:
    if url.startswith("sqlite"):
        # A pool of file connections buys nothing for SQLite and keeps locks around.
        engine = create_engine(url, poolclass=NullPool, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    engine = create_engine(url, **kwargs)
    _ping_when_idle(engine)
    return engine


#: a pooled connection unused for longer than this is checked before it is handed out
IDLE_BEFORE_PING_SECONDS = 10.0


def _ping_when_idle(engine: Engine) -> None:
    """Hands out no connection the server dropped (a restart, a firewall's idle timeout), like pool_pre_ping,
    but pings only connections that sat idle: pinging every checkout costs each request a round trip, and a
    connection busy a moment ago is alive. A dropped busy one fails its statement once; SQLAlchemy then discards
    the whole pool."""

    @event.listens_for(engine, "checkin")
    def _note_checkin(_dbapi_connection, record) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy) -> None:
        if time.monotonic() - record.info.get("checked_in_at", 0.0) < IDLE_BEFORE_PING_SECONDS:
            return
        try:
            dbapi_connection.execute("SELECT 1")
            dbapi_connection.rollback()
        except Exception as error:  # noqa: BLE001 - whatever the driver raises, the connection is unusable
            raise DisconnectionError() from error  # the pool replaces it and tries again


class Database:
    """The engine and session factory of one app (tests build several apps side by side)."""

    def __init__(self, url: str, **engine_kwargs) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite cannot turn a read transaction into a write one once another writer has committed
        # (it fails at once instead of waiting), so sessions meant to write take the lock at BEGIN.
        # PostgreSQL ignores the option and locks rows with for_update().
        self.write_session_factory = sessionmaker(
            self.engine.execution_options(sqlite_immediate=True), expire_on_commit=False
        )

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one write transaction, committed on success and rolled back on error."""
        session = self.write_session_factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def get_database() -> Database:
    return current_app.extensions["portal.db"]


def writes(view: Callable) -> Callable:
    """Marks a view that changes data on a GET (a link opened from a mail, the language switch): its request gets
    a write session as a POST does, so on SQLite it holds the write lock from its first statement. A read
    transaction that then writes fails at once with "database is locked" when another writer committed first."""
    view.writes = True
    return view


def db_session() -> Session:
    """The session of the current request or app context, closed when the context ends.

    Requests that may change data (anything but GET/HEAD/OPTIONS, and views marked @writes) get a write session.
    """
    if "db_session" not in g:
        database = get_database()
        reading = (has_request_context() and request.method in ("GET", "HEAD", "OPTIONS")
                   and not getattr(current_app.view_functions.get(request.endpoint), "writes", False))
        g.db_session = (database.session_factory if reading else database.write_session_factory)()
        g.db_session_writes = not reading
    return g.db_session


def end_request(response):
    """The one place a request's write transaction ends (an after_request hook): it commits when the view answered
    with a success or a redirect, before the browser follows it, so what the next page shows (and the mails the
    request queued in the outbox) is saved; any other answer rolls back. Views never commit: a refusal they show
    themselves ends its transaction first with end_refused (save_form and button_action do), and error pages roll
    back (roll_back_request). A read request's session only closes (close_db_session)."""
    session = g.get("db_session")
    if session is not None and g.get("db_session_writes"):
        if response.status_code < 400 or g.pop("keep_refused_writes", False):
            session.commit()
        else:
            session.rollback()
    return response


def keep_refused_writes() -> None:
    """Keeps what a refused request wrote although it answers with an error: the audit entry of a failed login."""
    g.keep_refused_writes = True


def close_db_session(_exc: BaseException | None = None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def roll_back_request() -> None:
    """Rolls back the current request's transaction, if it has one, so an error page can still load the visitor
    and their menu after a failed statement (which leaves the session refusing every query until then). What the
    request had not committed would be rolled back at its end anyway."""
    session = g.get("db_session")
    if session is not None:
        session.rollback()


_AFTER_COMMIT = "portal.after_commit"


def after_commit(session: Session, action: Callable[[], None], *, otherwise: Callable[[], None] | None = None) -> None:
    """Runs `action` once the session's current transaction has committed, and `otherwise` (if given) when it ends
    without committing: for what the database cannot roll back, such as files on disk."""
    session.info.setdefault(_AFTER_COMMIT, []).append((action, otherwise))


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    # Savepoints fire this too, while the outer transaction is still open and may yet roll back.
    if session.in_nested_transaction():
        return
    for action, _otherwise in session.info.pop(_AFTER_COMMIT, []):
        action()


@event.listens_for(Session, "after_transaction_end")
def _run_otherwise(session: Session, transaction) -> None:
    if transaction.parent is None:  # the outer transaction ended without a commit (one would have emptied the list)
        for _action, otherwise in session.info.pop(_AFTER_COMMIT, []):
            if otherwise is not None:
                otherwise()


_WROTE = "portal.wrote"


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _flush_context) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


@event.listens_for(Session, "after_transaction_end")
def _forget_writes(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_WROTE, None)


def settle(session: Session) -> None:
    """What the transaction has written so far stands on its own (seats released while a buyer waited for the
    lock): a refusal that follows (end_refused) commits it, unless more is written after this call."""
    session.flush()
    session.info.pop(_WROTE, None)


def end_refused(session: Session) -> None:
    """Ends the transaction of a refused request, releasing its locks. When it wrote nothing it commits (an empty
    commit), which keeps what it loaded: a rollback would expire every object and the page answering the refusal
    would load them all again. Anything written is rolled back."""
    if session.info.get(_WROTE) or session.new or session.dirty or session.deleted:
        session.rollback()
    else:
        session.commit()


def str_enum(enum_cls: type, name: str) -> SqlEnum:
    """An enum column stored as its string values with a CHECK, the same on both databases."""
    return SqlEnum(enum_cls, name=name, native_enum=False, length=32,
                   values_callable=lambda members: [m.value for m in members])


class InsertIgnoringDuplicates:
    """One INSERT … ON CONFLICT DO NOTHING RETURNING, the same on both databases: a new key, the usual case, costs no
    look-up and no savepoint; a repeated one inserts nothing. Of two copies at once, PostgreSQL makes the second wait
    for the first transaction and then insert nothing; SQLite's write lock lets one in at a time.

    Written as text because SQLAlchemy compiles its dialects' ON CONFLICT inserts afresh on every execution (they
    are not cacheable), which cost more than running them. The columns' types still convert the values, and the
    columns' Python defaults fill in what the caller leaves out, as an ORM or Core insert would."""

    def __init__(self, table: Table, conflict_columns: list[Column], returning: Column) -> None:
        self.table, self.returning = table, returning
        self.conflict = ", ".join(column.name for column in conflict_columns)
        self.defaults = {column.name: column.default for column in table.columns
                         if column.default is not None and not column.primary_key}
        self.statements: dict[frozenset[str], TextClause] = {}

    def _statement(self, names: frozenset[str]) -> TextClause:
        if names not in self.statements:
            # only the table's own column names reach the text (an unknown key is a KeyError); values are bound
            columns = [self.table.columns[name] for name in sorted(names)]
            sql = (f"INSERT INTO {self.table.name} ({', '.join(column.name for column in columns)}) "  # noqa: S608
                   f"VALUES ({', '.join(':' + column.name for column in columns)}) "
                   f"ON CONFLICT ({self.conflict}) DO NOTHING RETURNING {self.returning.name}")
            typed = [bindparam(column.name, type_=column.type) for column in columns]
            self.statements[names] = text(sql).bindparams(*typed)
        return self.statements[names]

    def __call__(self, session: Session, values: dict):
        """The new row's `returning` column, or None when the key was there already."""
        row = dict(values)
        for name, default in self.defaults.items():
            if name not in row:
                row[name] = default.arg(None) if default.is_callable else default.arg
        session.info[_WROTE] = True  # a text statement is not seen as a write by _note_statement
        return session.execute(self._statement(frozenset(row)), row).scalar()
