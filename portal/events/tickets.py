"""What a ticket looks like outside the portal: its QR code, with the short code printed under it, and its
calendar entry."""

from __future__ import annotations

import io
from datetime import datetime

import segno
from PIL import Image, ImageDraw, ImageFont

from portal.calendar import calendar_entry
from portal.events.models import Event, Ticket
from portal.pdf import FONT_DIR


def qr_png(code: str, scale: int = 6) -> bytes:
    buffer = io.BytesIO()
    segno.make_qr(code, error="m").save(buffer, kind="png", scale=scale, border=2)
    return buffer.getvalue()


def ticket_png(ticket: Ticket, scale: int = 6) -> bytes:
    """The picture people show or print: the QR code of the ticket's secret, its short code printed under it in
    large letters for the door to type when the QR code cannot be scanned."""
    qr = Image.open(io.BytesIO(qr_png(ticket.code, scale))).convert("L")
    font = ImageFont.truetype(str(FONT_DIR / "DejaVuSans-Bold.ttf"), size=qr.width // 8)
    left, top, right, bottom = font.getbbox(ticket.printed_code)
    margin = qr.width // 20
    picture = Image.new("L", (qr.width, qr.height + (bottom - top) + 2 * margin), color=255)
    picture.paste(qr, (0, 0))
    ImageDraw.Draw(picture).text(((qr.width - (right - left)) // 2 - left, qr.height + margin - top),
                                 ticket.printed_code, font=font, fill=0)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def qr_svg(code: str) -> str:
    buffer = io.BytesIO()
    segno.make_qr(code, error="m").save(buffer, kind="svg", scale=5, border=2, xmldecl=False, svgns=True)
    return buffer.getvalue().decode()


def ticket_ics(event: Event, ticket: Ticket, *, name: str, venue: str, description: str, stamp: datetime) -> bytes:
    return calendar_entry(uid=f"ticket-{ticket.id}@innovation.hanoi", starts_at=event.starts_at, ends_at=event.ends_at,
                          summary=name, location=venue, description=description, stamp=stamp)
