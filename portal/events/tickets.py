"""What a ticket looks like outside the portal: its QR code and its calendar entry."""

from __future__ import annotations

import io
from datetime import datetime

import segno

from portal.calendar import calendar_entry
from portal.events.models import Event, Ticket


def qr_png(code: str, scale: int = 6) -> bytes:
    buffer = io.BytesIO()
    segno.make_qr(code, error="m").save(buffer, kind="png", scale=scale, border=2)
    return buffer.getvalue()


def qr_svg(code: str) -> str:
    buffer = io.BytesIO()
    segno.make_qr(code, error="m").save(buffer, kind="svg", scale=5, border=2, xmldecl=False, svgns=True)
    return buffer.getvalue().decode()


def ticket_ics(event: Event, ticket: Ticket, *, name: str, venue: str, description: str, stamp: datetime) -> bytes:
    return calendar_entry(uid=f"ticket-{ticket.id}@innovation.hanoi", starts_at=event.starts_at, ends_at=event.ends_at,
                          summary=name, location=venue, description=description, stamp=stamp)
