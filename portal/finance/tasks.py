"""The scheduled job for unpaid orders: remind buyers whose orders are running out of time, and expire the payments
of orders and bookings that did."""

from __future__ import annotations

from flask import Flask

from portal.db import utcnow
from portal.events.payment_reminders import remind_unpaid_orders
from portal.notifications.scheduler import register_job
from portal.payments.expiry import expire_abandoned_payments


def remind_and_expire_payments(app: Flask) -> dict[str, int]:
    database = app.extensions["portal.db"]
    now = utcnow()
    with database.transaction() as session:
        reminded = remind_unpaid_orders(session, now)
    with database.transaction() as session:
        expired = expire_abandoned_payments(session, now)
    return {"payment_reminders": reminded, "payments_expired": expired}


register_job("remind_and_expire_payments", remind_and_expire_payments, every_seconds=300)
