"""Exhibitor badges: the staff an exhibitor names for a paid booth, up to the event's allotment for its size.

A badge is a ticket of the event's exhibitor-badge type (never on sale: see TicketKind) in a free, paid order the
exhibitor owns, so it checks in at the door like any ticket and shows under the exhibitor's orders. Each person
named receives their QR code by mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.accounts.services import normalise_email
from portal.audit.services import record
from portal.booths.models import BookingStatus, BoothBooking
from portal.booths.services import locked_booking, settings_for
from portal.db import utcnow
from portal.errors import Conflict, Invalid, NotFound
from portal.events.models import Event, Order, OrderStatus, Ticket, TicketKind, TicketType
from portal.events.orders import new_order_code, new_ticket_code
from portal.events.short_codes import new_short_code
from portal.i18n import localized
from portal.notifications.services import BuiltAtSend, queue_mail
from portal.payments.providers import FREE


class TooManyBadges(Conflict):
    """More staff named than the booth's allotment."""


def badge_allotment(rules: list[dict], size_m2: float) -> int:
    """Badges for a booth of `size_m2` under the event's rules (smallest bound first, the last unbounded)."""
    return next((rule["badges"] for rule in rules if rule["up_to_m2"] is None or size_m2 <= rule["up_to_m2"]), 0)


@dataclass(frozen=True)
class Badges:
    booking: BoothBooking
    allotment: int
    #: the live badges, in the order they were named
    tickets: list[Ticket]

    @property
    def remaining(self) -> int:
        return max(self.allotment - len(self.tickets), 0)


def live_badges(booking: BoothBooking) -> list[Ticket]:
    if booking.badge_order is None:
        return []
    return [ticket for ticket in booking.badge_order.tickets if ticket.cancelled_at is None]


def badges_of(session: Session, booking: BoothBooking) -> Badges:
    """The booking's allotment and badges (the caller has checked it may see the booking)."""
    allotment = badge_allotment(settings_for(session, booking.event).badge_rules, booking.booth.size_m2)
    return Badges(booking, allotment, live_badges(booking))


def badge_ticket_type(session: Session, event: Event) -> TicketType:
    """The event's exhibitor-badge type, made on first use; a unique index makes two first uses share one."""
    query = select(TicketType).where(TicketType.event_id == event.id, TicketType.kind == TicketKind.EXHIBITOR_BADGE)
    ticket_type = session.scalar(query)
    if ticket_type is None:
        ticket_type = TicketType(event_id=event.id, kind=TicketKind.EXHIBITOR_BADGE, name_vi="Thẻ đơn vị trưng bày",
                                 name_en="Exhibitor badge", price=0, position=1000)
        try:
            with session.begin_nested():
                session.add(ticket_type)
        except IntegrityError:
            ticket_type = session.scalar(query)
    return ticket_type


def _person(name: str, email: str) -> tuple[str, str]:
    name, email = " ".join(name.split()), normalise_email(email)
    if not name:
        raise Invalid(_l("This field is required."), "name")
    if len(name) > 120:
        raise Invalid(_l("Use at most %(max)d characters.", max=120), "name")
    if "@" not in email.strip("@") or len(email) > 254 or " " in email:
        raise Invalid(_l("Enter a valid e-mail address, like name@example.com."), "email")
    return name, email


def _changeable(session: Session, exhibitor: User, booking_id: int, now: datetime, *, adding: bool) -> BoothBooking:
    """The exhibitor's sold booking, locked so that two badge changes at once respect the allotment."""
    booking = locked_booking(session, booking_id, exhibitor=exhibitor)
    if booking.status is not BookingStatus.SOLD:
        raise Conflict(_l("Badges can be named once the booth is paid."))
    event = booking.event
    if now >= (event.ends_at if adding else event.starts_at):
        raise Conflict(_l("Badges can no longer be changed: the event has started.") if not adding
                       else _l("The event is over."))
    return booking


def _mail_badge(session: Session, booking: BoothBooking, ticket: Ticket) -> None:
    """The badge's QR code, to the person named on it (once per badge and address)."""
    locale = booking.exhibitor.locale
    with force_locale(locale):
        subject = _l("Your exhibitor badge for %(event)s", event=localized(booking.event, "name"))
    queue_mail(session, key=f"booth:badge:{ticket.id}:{ticket.attendee_email}", to=ticket.attendee_email,
               locale=locale, template="booth_badge", subject=subject,
               attachments=[BuiltAtSend("ticket_qr", {"ticket_id": ticket.id})],
               ticket=ticket, booking=booking, booth=booking.booth, event=booking.event)


def _own_badge(booking: BoothBooking, ticket_id: int) -> Ticket:
    ticket = next((t for t in live_badges(booking) if t.id == ticket_id), None)
    if ticket is None:
        raise NotFound()
    return ticket


def add_badge(session: Session, exhibitor: User, booking_id: int, *, name: str, email: str,
              now: datetime | None = None) -> Ticket:
    """Names one more member of staff; refused beyond the booth's allotment."""
    now = now or utcnow()
    name, email = _person(name, email)
    booking = _changeable(session, exhibitor, booking_id, now, adding=True)
    badges = badges_of(session, booking)
    if not badges.remaining:
        raise TooManyBadges(_l("Booth %(number)s comes with %(n)d badges and all of them are named. Rename or "
                               "remove one to name someone else.", number=booking.booth.number, n=badges.allotment))
    if any(ticket.attendee_email == email for ticket in badges.tickets):
        raise Invalid(_l("%(email)s already has a badge for this booth.", email=email), "email")
    if booking.badge_order is None:
        booking.badge_order = Order(code=new_order_code(), event_id=booking.event_id, buyer_id=exhibitor.id,
                                    status=OrderStatus.PAID, total=0, provider=FREE.key, locale=exhibitor.locale,
                                    paid_at=now)
    ticket = Ticket(ticket_type_id=badge_ticket_type(session, booking.event).id, price=0, code=new_ticket_code(),
                    attendee_name=name, attendee_email=email, answers={},
                    attendee_organisation=booking.company_name or (booking.organisation.name
                                                                   if booking.organisation else ""))
    booking.badge_order.tickets.append(ticket)
    session.flush()
    record(session, "booth.badge_added", actor_id=exhibitor.id, object_type="ticket", object_id=ticket.id,
           booking_id=booking.id, event_id=booking.event_id)
    _mail_badge(session, booking, ticket)
    return ticket


def rename_badge(session: Session, exhibitor: User, booking_id: int, ticket_id: int, *, name: str, email: str,
                 now: datetime | None = None) -> Ticket:
    """Puts another name (or address) on a badge before the event. Given to another person, the badge gets a new
    code, so the QR code mailed to the first one (and the short code printed under it) stops working."""
    now = now or utcnow()
    name, email = _person(name, email)
    booking = _changeable(session, exhibitor, booking_id, now, adding=False)
    ticket = _own_badge(booking, ticket_id)
    if any(t.attendee_email == email and t.id != ticket.id for t in live_badges(booking)):
        raise Invalid(_l("%(email)s already has a badge for this booth.", email=email), "email")
    new_person = email != ticket.attendee_email
    ticket.attendee_name, ticket.attendee_email = name, email
    if new_person:
        ticket.code, ticket.short_code = new_ticket_code(), new_short_code()
    record(session, "booth.badge_renamed", actor_id=exhibitor.id, object_type="ticket", object_id=ticket.id,
           booking_id=booking.id, event_id=booking.event_id, new_person=new_person)
    if new_person:
        _mail_badge(session, booking, ticket)
    return ticket


def remove_badge(session: Session, exhibitor: User, booking_id: int, ticket_id: int, *,
                 now: datetime | None = None) -> None:
    now = now or utcnow()
    booking = _changeable(session, exhibitor, booking_id, now, adding=False)
    ticket = _own_badge(booking, ticket_id)
    ticket.cancelled_at = now
    record(session, "booth.badge_removed", actor_id=exhibitor.id, object_type="ticket", object_id=ticket.id,
           booking_id=booking.id, event_id=booking.event_id)
