"""Booth sales' scheduled job: free the booths of holds that ran out and of reservations nobody paid for (exhibitors
are reminded before by the rules booth_hold and booth_payment, portal/booths/reminders.py)."""

from __future__ import annotations

from flask import Flask

from portal.booths import services
from portal.db import utcnow
from portal.notifications.scheduler import register_job


def sweep_booths(app: Flask) -> dict[str, int]:
    """Each step in its own short transaction, so a failure in one leaves the others done."""
    database = app.extensions["portal.db"]
    now = utcnow()
    with database.transaction() as session:
        expired = len(services.expire_holds(session, now))
    with database.transaction() as session:
        lapsed = len(services.lapse_unpaid_reservations(session, now))
    return {"holds_expired": expired, "reservations_lapsed": lapsed}


register_job("sweep_booths", sweep_booths, every_seconds=60)
