"""Registration's scheduled job: free the seats of unpaid orders and unused offers, then offer them on."""

from __future__ import annotations

from flask import Flask

from portal.db import utcnow
from portal.events import orders, waitlist
from portal.notifications.scheduler import register_job


def release_and_offer_seats(app: Flask) -> dict[str, int]:
    """Each step in its own short transaction, and one per event for the offers, so a slow or failing event
    holds no other event's quota lock. Every event where someone waits is looked at, not only those that
    freed a seat this minute, so seats freed any other way (a quota raised, a refund) also reach the list."""
    database = app.extensions["portal.db"]
    now = utcnow()
    with database.transaction() as session:
        expired = len(orders.expire_pending_orders(session, now))
        lapsed = len(waitlist.lapse_offers(session, now))
        event_ids = waitlist.events_with_people_waiting(session, now)
    offered = 0
    for event_id in event_ids:
        with database.transaction() as session:
            event = waitlist.load_event_for_offers(session, event_id)
            offered += len(waitlist.offer_freed_seats(session, event, now))
    return {"orders_expired": expired, "offers_lapsed": lapsed, "seats_offered": offered}


register_job("release_and_offer_seats", release_and_offer_seats, every_seconds=60)
