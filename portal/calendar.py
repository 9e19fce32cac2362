"""Calendar entries (.ics) for tickets and mentoring sessions, written by the icalendar library (RFC 5545: escaping,
line folding, UTC times)."""

from __future__ import annotations

from datetime import datetime

from icalendar import Calendar, Event

PRODUCT_ID = "-//Hanoi Innovation Portal//VI"


def calendar_entry(*, uid: str, starts_at: datetime, ends_at: datetime, summary: str, location: str,
                   description: str, stamp: datetime, sequence: int = 0, cancelled: bool = False) -> bytes:
    """One event as an .ics file. A later `sequence` of the same `uid` replaces the earlier entry in calendars that
    imported it (a rescheduled session); `cancelled` removes it."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    entry = Event()
    entry.add("uid", uid)
    entry.add("dtstamp", stamp)
    entry.add("dtstart", starts_at)
    entry.add("dtend", ends_at)
    entry.add("sequence", sequence)
    entry.add("summary", summary)
    entry.add("location", location)
    entry.add("description", description)
    if cancelled:
        entry.add("status", "CANCELLED")
    calendar.add_component(entry)
    return calendar.to_ical()
