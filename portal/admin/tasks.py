"""The admin area's scheduled jobs: the organisers' and managers' daily digest, and the retention clean-up."""

from __future__ import annotations

from flask import Flask

from portal.admin.digest import queue_digests
from portal.admin.retention import clean_up
from portal.db import utcnow
from portal.notifications.scheduler import register_job


def send_daily_digests(app: Flask) -> dict[str, int]:
    with app.app_context(), app.extensions["portal.db"].transaction() as session:  # mail renders in the app
        return {"digests": queue_digests(session, utcnow())}


def clean_up_old_data(app: Flask) -> dict[str, int]:
    with app.extensions["portal.db"].transaction() as session:
        return clean_up(session, utcnow(), app.config["RETENTION_DAYS"])


# hourly: the digest of a day goes out in the first run after its sending hour, once (its key holds the day)
register_job("daily_digest", send_daily_digests, every_seconds=3600)
register_job("retention", clean_up_old_data, every_seconds=6 * 3600)
