"""The scheduled job for unpaid orders: expire the payments of orders and bookings that ran out of time (their buyers
were reminded before by the rule `order_payment`, portal/events/reminders.py)."""

from __future__ import annotations

from flask import Flask

from portal.db import utcnow
from portal.notifications.scheduler import register_job
from portal.payments.expiry import expire_abandoned_payments


def expire_payments(app: Flask) -> dict[str, int]:
    with app.extensions["portal.db"].transaction() as session:
        return {"payments_expired": expire_abandoned_payments(session, utcnow())}


register_job("expire_payments", expire_payments, every_seconds=300)
