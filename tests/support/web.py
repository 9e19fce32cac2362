"""Helpers for driving the app through its test client as a browser would."""

from __future__ import annotations

from contextlib import contextmanager
from urllib.parse import urlsplit

from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import event


def csrf_token(client, app) -> str:
    """A valid token for the client's current session, minted as Flask-WTF does."""
    import hashlib
    import os

    with client.session_transaction() as session:
        raw = session.get("csrf_token")
        if raw is None:
            raw = session["csrf_token"] = hashlib.sha1(os.urandom(64)).hexdigest()  # noqa: S324 - as Flask-WTF
    return URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw)


def post_form(client, app, url: str, data: dict | None = None, **kwargs):
    payload = {"csrf_token": csrf_token(client, app), **(data or {})}
    return client.post(url, data=payload, **kwargs)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __len__(self) -> int:
        return len(self.statements)


@contextmanager
def count_queries(engine):
    """Counts the SQL statements the block sends (SAVEPOINT/BEGIN housekeeping excluded)."""
    counter = QueryCounter()

    def _before(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "BEGIN", "PRAGMA")):
            counter.statements.append(statement)

    event.listen(engine, "before_cursor_execute", _before)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", _before)
