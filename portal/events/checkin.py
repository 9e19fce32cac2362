"""Check-in at the door: one answer per scanned code, one entry per ticket and event day however many staff
scan it. A multi-day pass comes in once on each day of the event; the day is the Hanoi calendar date of the scan.

A ticket is named by the long secret in its QR code or by the short code printed under it (short_codes.py), typed
in any case, with hyphens or spaces. Before the event's first day the door may try its phones with test check-ins:
recorded like the real ones but marked, counted nowhere, and deleted by the organisers when they are done.

The database keeps the promise: (check_ins.ticket_id, check_ins.day) is unique. Two phones scanning the same
ticket at the same moment both try to insert; the insert runs in a savepoint, so the loser's IntegrityError only
rolls back that savepoint and it answers "already checked in" with the winner's time and name.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from portal.accounts.models import User
from portal.audit.services import record
from portal.db import utcnow
from portal.errors import Conflict, DomainError
from portal.events.models import CheckIn, Event, Order, OrderStatus, Ticket, TicketType
from portal.events.short_codes import is_short_code, parse_short_code
from portal.i18n import hanoi_date
from portal.search import matches

#: what orders.place_order writes: secrets.token_urlsafe(32)
TICKET_CODE = re.compile(r"[A-Za-z0-9_-]{43}")
AREA_MAX_CHARS = 80
SEARCH_MIN_CHARS = 2
SEARCH_LIMIT = 25
RECENT_LIMIT = 20


class InvalidTicketCode(DomainError):
    default_message = _l("This is not a ticket code. Type the 8 letters and digits printed under the QR code "
                         "(for example 7KQ2-M9XD), or scan the QR code again.")


class TestCheckInsOver(Conflict):
    default_message = _l("Test check-ins end when the event's first day begins: every check-in now counts.")


class NotAnEventDay(DomainError):
    default_message = _l("Choose one of the event's days.")


class Outcome(enum.StrEnum):
    VALID = "valid"
    #: checked in earlier the same day
    ALREADY = "already"
    NOT_PAID = "not_paid"
    CANCELLED = "cancelled"
    #: scanned on a day the event does not run
    NOT_EVENT_DAY = "not_event_day"
    WRONG_EVENT = "wrong_event"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class CheckInResult:
    outcome: Outcome
    ticket: Ticket | None = None
    #: the entry recorded now (VALID) or earlier the same day (ALREADY)
    entry: CheckIn | None = None
    #: the event a WRONG_EVENT ticket belongs to
    other_event: Event | None = None
    #: a test check-in, made before the event: it lets nobody in and counts nowhere
    test: bool = False

    @property
    def admitted(self) -> bool:
        return self.outcome is Outcome.VALID


#: order statuses whose tickets will never admit anybody
_DEAD_ORDER = (OrderStatus.EXPIRED, OrderStatus.CANCELLED, OrderStatus.REFUNDED)


def ticket_named_by(code: str):
    """The condition finding the ticket `code` names: the QR code's secret as scanned (the spaces phones and
    copy-paste add removed), or the short code printed under it as typed. Refused when it can be neither."""
    cleaned = (code or "").strip()
    if TICKET_CODE.fullmatch(cleaned):
        return Ticket.code == cleaned
    short_code = parse_short_code(cleaned)
    if short_code is None:
        raise InvalidTicketCode()
    return Ticket.short_code == short_code


def normalise_area(area: str) -> str:
    return " ".join((area or "").split())[:AREA_MAX_CHARS]


def event_days(event: Event) -> list[date]:
    """The Hanoi calendar days the event runs on, first to last."""
    first, last = hanoi_date(event.starts_at), hanoi_date(event.ends_at)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def runs_on(event: Event, day: date) -> bool:
    return hanoi_date(event.starts_at) <= day <= hanoi_date(event.ends_at)


def default_day(event: Event, now: datetime | None = None) -> date:
    """The day the check-in page shows: today while the event runs, else its first day."""
    today = hanoi_date(now or utcnow())
    return today if runs_on(event, today) else hanoi_date(event.starts_at)


def may_test(event: Event, now: datetime | None = None) -> bool:
    """Whether the door may make test check-ins: only before the event's first day (in Hanoi)."""
    return hanoi_date(now or utcnow()) < hanoi_date(event.starts_at)


def parse_day(event: Event, value: str) -> date:
    """The event day chosen on the check-in page (YYYY-MM-DD), or the default day when none is given."""
    if not value:
        return default_day(event)
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise NotAnEventDay() from None
    if not runs_on(event, day):
        raise NotAnEventDay()
    return day


def entry_on(ticket: Ticket, day: date) -> CheckIn | None:
    return next((entry for entry in ticket.check_ins if entry.day == day), None)


def admission(ticket: Ticket, now: datetime | None = None, *, test: bool = False) -> Outcome:
    """What scanning this ticket at its own event answers at `now`, before anything is recorded:
    VALID (may enter), ALREADY (today), CANCELLED, NOT_PAID or NOT_EVENT_DAY. A test check-in asks whether the
    ticket would be let in: any day will do, and a test already made today is found when it is recorded."""
    now = now or utcnow()
    order = ticket.order
    if ticket.cancelled_at is not None or order.status in _DEAD_ORDER:
        return Outcome.CANCELLED
    if order.is_lapsed(now):
        return Outcome.CANCELLED  # expired, even if the expiry job has not run yet
    if order.status in (OrderStatus.PENDING, OrderStatus.AWAITING_APPROVAL):
        return Outcome.NOT_PAID
    if test:
        return Outcome.VALID
    today = hanoi_date(now)
    if not runs_on(order.event, today):
        return Outcome.NOT_EVENT_DAY
    if entry_on(ticket, today) is not None:
        return Outcome.ALREADY
    return Outcome.VALID


def _existing_entry(session: Session, ticket_id: int, day: date) -> CheckIn:
    return session.scalars(
        select(CheckIn).where(CheckIn.ticket_id == ticket_id, CheckIn.day == day)
        .options(joinedload(CheckIn.checked_in_by))
    ).one()


def check_in(session: Session, staff: User, event: Event, code: str, area: str = "", *,
             test: bool = False, now: datetime | None = None) -> CheckInResult:
    """Admits the ticket `code` names to `event` for today (in Hanoi) if it may enter, in the caller's write
    transaction; with `test`, records a test check-in instead (before the event only).

    Raises InvalidTicketCode for something that cannot be a ticket code at all, TestCheckInsOver for a test once
    the event has begun."""
    now = now or utcnow()
    if test and not may_test(event, now):
        raise TestCheckInsOver()
    ticket = session.scalars(
        select(Ticket).where(ticket_named_by(code)).options(
            joinedload(Ticket.order).joinedload(Order.event), joinedload(Ticket.ticket_type),
            joinedload(Ticket.check_ins).joinedload(CheckIn.checked_in_by),
        )
    ).unique().one_or_none()
    if ticket is None:
        return CheckInResult(Outcome.UNKNOWN)
    if ticket.order.event_id != event.id:
        # Another event's staff learn which event it is for, never who holds it.
        return CheckInResult(Outcome.WRONG_EVENT, other_event=ticket.order.event)
    today = hanoi_date(now)
    outcome = admission(ticket, now, test=test)
    if outcome is not Outcome.VALID:
        return CheckInResult(outcome, ticket=ticket, entry=None if test else entry_on(ticket, today), test=test)
    entry = CheckIn(ticket_id=ticket.id, checked_in_by_id=staff.id, checked_in_at=now, day=today,
                    area=normalise_area(area), is_test=test)
    try:
        with session.begin_nested():
            session.add(entry)
    except IntegrityError:
        # Another scan of this ticket committed today's entry between our read and our insert (or, for a test,
        # the ticket was tried earlier today).
        entry = _existing_entry(session, ticket.id, today)
        outcome = Outcome.ALREADY
    else:
        outcome = Outcome.VALID
    if not test:
        # Later reads in this session (the page's search results) must see today's entry, not the list loaded above.
        set_committed_value(ticket, "check_ins", sorted([*ticket.check_ins, entry], key=lambda e: e.day))
    return CheckInResult(outcome, ticket=ticket, entry=entry, test=test)


def recent_test_check_ins(session: Session, event: Event) -> tuple[list[CheckIn], int]:
    """The event's latest test check-ins (at most RECENT_LIMIT) and how many there are, in one query."""
    rows = session.execute(
        select(CheckIn, func.count().over())
        .join(Ticket, Ticket.id == CheckIn.ticket_id).join(Order, Order.id == Ticket.order_id)
        .where(Order.event_id == event.id, CheckIn.is_test.is_(True))
        .options(joinedload(CheckIn.ticket).joinedload(Ticket.ticket_type), joinedload(CheckIn.checked_in_by))
        .order_by(CheckIn.checked_in_at.desc(), CheckIn.id.desc()).limit(RECENT_LIMIT)
    ).all()
    return [entry for entry, _total in rows], rows[0][1] if rows else 0


def delete_test_check_ins(session: Session, staff: User, event: Event) -> int:
    """Deletes every test check-in of the event, so the door starts the event with none; how many there were."""
    tickets_of_event = select(Ticket.id).join(Order, Order.id == Ticket.order_id).where(Order.event_id == event.id)
    deleted = session.execute(
        delete(CheckIn).where(CheckIn.is_test.is_(True), CheckIn.ticket_id.in_(tickets_of_event))
        .execution_options(synchronize_session=False)
    ).rowcount
    record(session, "checkin.tests_deleted", actor_id=staff.id, object_type="event", object_id=event.id,
           deleted=deleted)
    return deleted


# --- what the check-in page shows --------------------------------------------------------------

@dataclass(frozen=True)
class TypeCount:
    ticket_type_id: int
    checked_in: int
    valid: int


@dataclass(frozen=True)
class Counts:
    day: date
    by_type: list[TypeCount]
    #: the day's check-ins per area ("" is the list without an area), busiest first
    by_area: list[tuple[str, int]]

    @property
    def checked_in(self) -> int:
        return sum(c.checked_in for c in self.by_type)

    @property
    def valid(self) -> int:
        return sum(c.valid for c in self.by_type)


def _admissible(event: Event):
    """Tickets that let somebody in: not cancelled, in a paid order of `event`."""
    return (Order.event_id == event.id, Order.status == OrderStatus.PAID, Ticket.cancelled_at.is_(None))


def counts(session: Session, event: Event, day: date) -> Counts:
    """Checked in on `day` against valid tickets per ticket type, and the day's check-ins per area: two grouped
    queries."""
    # Every type of the event, exhibitor badges included (event.ticket_types holds the public ones only): badges
    # check in at the door too. Loading the types here spares the page's list a query per type.
    paid_orders = select(Order.id).where(Order.event_id == event.id, Order.status == OrderStatus.PAID)
    rows = session.execute(
        select(TicketType, func.count(CheckIn.id), func.count(Ticket.id)).select_from(TicketType)
        .outerjoin(Ticket, (Ticket.ticket_type_id == TicketType.id) & Ticket.cancelled_at.is_(None)
                   & Ticket.order_id.in_(paid_orders))
        .outerjoin(CheckIn, (CheckIn.ticket_id == Ticket.id) & (CheckIn.day == day) & CheckIn.is_test.is_(False))
        .where(TicketType.event_id == event.id)
        .group_by(TicketType.id)
        .order_by(TicketType.position, TicketType.id)
    ).all()
    by_type = [TypeCount(ticket_type.id, checked_in, valid) for ticket_type, checked_in, valid in rows]
    by_area = session.execute(
        select(CheckIn.area, func.count(CheckIn.id))
        .join(Ticket, Ticket.id == CheckIn.ticket_id).join(Order, Order.id == Ticket.order_id)
        .where(*_admissible(event), CheckIn.day == day, CheckIn.is_test.is_(False))
        .group_by(CheckIn.area)
        .order_by(func.count(CheckIn.id).desc(), CheckIn.area)
    ).all()
    return Counts(day=day, by_type=by_type, by_area=[(area, n) for area, n in by_area])


def area_suggestions(event: Event) -> list[str]:
    """The names staff will most likely use for their check-in list: the event's quotas (days, halls)."""
    return [quota.name for quota in event.quotas]


def _ticket_details():
    return (joinedload(Ticket.order), joinedload(Ticket.ticket_type),
            selectinload(Ticket.check_ins).joinedload(CheckIn.checked_in_by))


def recent_check_ins(session: Session, event: Event, day: date, area: str | None = None) -> list[CheckIn]:
    """The latest entries of the event on `day`, of one check-in list when `area` is given."""
    query = (
        select(CheckIn).join(Ticket, Ticket.id == CheckIn.ticket_id).join(Order, Order.id == Ticket.order_id)
        .where(Order.event_id == event.id, CheckIn.day == day, CheckIn.is_test.is_(False))
        .options(joinedload(CheckIn.ticket).joinedload(Ticket.ticket_type), joinedload(CheckIn.checked_in_by))
        .order_by(CheckIn.checked_in_at.desc(), CheckIn.id.desc())
        .limit(RECENT_LIMIT)
    )
    if area is not None:
        query = query.where(CheckIn.area == area)
    return list(session.scalars(query))


def search_attendees(session: Session, event: Event, term: str) -> list[Ticket]:
    """The event's tickets whose attendee name, e-mail, organisation or short code contains `term` (whatever the
    case and accents), or whose QR code starts with it or whose order code it is; at most SEARCH_LIMIT of them, in
    one query."""
    term = term.strip()
    if len(term) < SEARCH_MIN_CHARS:
        return []
    return list(session.scalars(
        select(Ticket).join(Order, Order.id == Ticket.order_id)
        .where(Order.event_id == event.id, or_(
            matches(Ticket.search_text, term),
            is_short_code(Ticket.short_code, term),
            Ticket.code.startswith(term, autoescape=True),
            Order.code == term.upper(),
        ))
        .options(*_ticket_details())
        .order_by(Ticket.attendee_name, Ticket.id)
        .limit(SEARCH_LIMIT)
    ))
