"""Throw-away PostgreSQL schemas on a shared database, for the test harness and the benchmarks.

Each user of the shared database gets an empty schema of its own, selected through the connection's
search_path, so parallel test workers and a benchmark never see each other's tables.
"""

from __future__ import annotations

import psycopg
from sqlalchemy.engine import make_url


def _admin_connection(base_url: str) -> psycopg.Connection:
    url = make_url(base_url)
    return psycopg.connect(host=url.host, port=url.port or 5432, user=url.username, password=url.password,
                           dbname=url.database, autocommit=True)


def fresh_postgres_schema(base_url: str, schema: str) -> str:
    """An empty schema of its own on the shared test database, selected through search_path."""
    with _admin_connection(base_url) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False)


def drop_postgres_schema(base_url: str, schema: str) -> None:
    with _admin_connection(base_url) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
