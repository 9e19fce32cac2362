"""The bare reference for bench/registration_rush.py: Flask and SQLAlchemy with nothing of the portal, selling seats
the shortest correct way — lock the quota row, insert the order, count it on the row — so the rush can say how
close the portal comes to the stack it is built on. Served by gunicorn as the portal is:

    gunicorn 'bench.bare_app:create_app()'   (DATABASE_URL names a schema prepared by prepare())
"""

from __future__ import annotations

import os
import secrets

from flask import Flask, redirect
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, select, update

metadata = MetaData()
quotas = Table("bare_quotas", metadata, Column("id", Integer, primary_key=True), Column("size", Integer),
               Column("sold", Integer))
orders = Table("bare_orders", metadata, Column("id", Integer, primary_key=True), Column("code", String(16)))

_LOCK = select(quotas.c.size, quotas.c.sold).where(quotas.c.id == 1).with_for_update()


def prepare(database_url: str, seats: int) -> None:
    """The bare app's two tables and its one quota of `seats`."""
    engine = create_engine(database_url)
    try:
        metadata.create_all(engine)
        with engine.begin() as connection:
            connection.execute(insert(quotas).values(id=1, size=seats, sold=0))
    finally:
        engine.dispose()


def sold(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.scalar(select(quotas.c.sold))
    finally:
        engine.dispose()


def create_app() -> Flask:
    app = Flask(__name__)
    engine = create_engine(os.environ["DATABASE_URL"], pool_size=10, max_overflow=20)

    @app.post("/order")
    def order():
        with engine.begin() as connection:
            size, taken = connection.execute(_LOCK).one()
            if taken >= size:
                return "Sold out", 409
            code = secrets.token_hex(6).upper()
            connection.execute(insert(orders).values(code=code))
            connection.execute(update(quotas).where(quotas.c.id == 1).values(sold=quotas.c.sold + 1))
        return redirect(f"/orders/{code}")

    @app.get("/healthz")
    def healthz():
        return "ok"

    return app
