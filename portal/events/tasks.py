"""Registration's scheduled job: free the seats of unpaid orders and unused offers; the waiting list, told by
signals.seats_freed, offers them on."""

from __future__ import annotations

from flask import Flask

from portal.db import utcnow
from portal.events import orders, waitlist
from portal.notifications.scheduler import register_job


def release_and_offer_seats(app: Flask) -> dict[str, int]:
    """One short transaction per event, in which its seats are freed and offered, so a slow or failing event holds
    no other event's quota lock."""
    database = app.extensions["portal.db"]
    now = utcnow()
    with database.transaction() as session:
        event_ids = sorted(set(orders.events_with_orders_past_their_time(session, now))
                           | set(waitlist.events_with_offers_past_their_time(session, now)))
    expired = lapsed = 0
    for event_id in event_ids:
        with database.transaction() as session:
            expired += len(orders.expire_pending_orders(session, now, event_id=event_id))
            lapsed += len(waitlist.lapse_offers(session, now, event_id=event_id))
    return {"orders_expired": expired, "offers_lapsed": lapsed}


register_job("release_and_offer_seats", release_and_offer_seats, every_seconds=60)
