"""What a ticket looks like outside the portal: its QR code and its calendar entry."""

from __future__ import annotations

import io
from datetime import datetime

import segno

from portal.events.models import Event, Ticket


def qr_png(code: str, scale: int = 6) -> bytes:
    buffer = io.BytesIO()
    segno.make_qr(code, error="m").save(buffer, kind="png", scale=scale, border=2)
    return buffer.getvalue()


def qr_svg(code: str) -> str:
    buffer = io.BytesIO()
    segno.make_qr(code, error="m").save(buffer, kind="svg", scale=5, border=2, xmldecl=False, svgns=True)
    return buffer.getvalue().decode()


def _ics_text(value: str) -> str:
    # RFC 5545 text: escape backslash, semicolon, comma and line breaks
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def _ics_time(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


def ticket_ics(event: Event, ticket: Ticket, *, name: str, venue: str, description: str, stamp: datetime) -> bytes:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Hanoi Innovation Portal//Tickets//VI",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:ticket-{ticket.id}@innovation.hanoi",
        f"DTSTAMP:{_ics_time(stamp)}",
        f"DTSTART:{_ics_time(event.starts_at)}",
        f"DTEND:{_ics_time(event.ends_at)}",
        f"SUMMARY:{_ics_text(name)}",
        f"LOCATION:{_ics_text(venue)}",
        f"DESCRIPTION:{_ics_text(description)}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return ("\r\n".join(lines) + "\r\n").encode()
