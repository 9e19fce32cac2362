"""What an organiser sees of one event: the dashboard's numbers and the attendee list.

Every function here sends a fixed number of queries, however many orders the event has: the numbers are
counted and summed by the database, grouped by ticket type, quota, status or day.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Date, Select, and_, case, func, literal_column, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, contains_eager, selectinload
from sqlalchemy.sql.functions import FunctionElement

from portal.db import utcnow
from portal.events.labels import ORDER_STATUS_LABELS
from portal.events.models import CheckIn, Event, Order, OrderStatus, Quota, Ticket, TicketKind, TicketType
from portal.events.orders import seats_taken
from portal.events.short_codes import is_short_code
from portal.i18n import HANOI
from portal.search import matches

#: the registrations chart covers at most this many days, ending today (or on the event's last day)
CHART_DAYS = 30
ATTENDEES_PER_PAGE = 50



def hanoi_time(moment: datetime) -> datetime:
    return moment.astimezone(HANOI)


# --- the day of a timestamp, in Hanoi, computed by the database --------------------------------

class _local_date(FunctionElement):  # noqa: N801 - an SQL function, named like one
    """The calendar day of a UTC timestamp column shifted by a whole number of minutes (Hanoi: +420)."""

    type = Date()
    inherit_cache = True


@compiles(_local_date, "sqlite")
def _local_date_sqlite(element, compiler, **kw):
    column, minutes = element.clauses
    return f"date({compiler.process(column, **kw)}, '{compiler.process(minutes, **kw)} minutes')"


@compiles(_local_date, "postgresql")
def _local_date_postgresql(element, compiler, **kw):
    column, minutes = element.clauses
    return f"CAST({compiler.process(column, **kw)} + {compiler.process(minutes, **kw)} * INTERVAL '1 minute' AS DATE)"


def _hanoi_day(column, now: datetime):
    # A literal, not a bound parameter: PostgreSQL only accepts the GROUP BY expression if it is the very same
    # text as the selected one. Hanoi keeps UTC+7 all year, so today's offset holds for every day on the chart.
    minutes = int(HANOI.utcoffset(now.replace(tzinfo=None)).total_seconds() // 60)
    return _local_date(column, literal_column(str(minutes)))


# --- the dashboard ----------------------------------------------------------------------------

@dataclass(frozen=True)
class DayCount:
    day: date
    tickets: int


@dataclass(frozen=True)
class TicketTypeSales:
    ticket_type: TicketType
    #: tickets in paid orders
    sold: int
    #: tickets holding a seat while their order awaits payment or approval
    reserved: int
    #: seats still on sale for this type: the smallest room among its quotas
    left: int
    #: the size of its smallest quota (None: no quota, so not on sale)
    quota_size: int | None

    @property
    def taken(self) -> int:
        return self.sold + self.reserved


@dataclass(frozen=True)
class QuotaUse:
    quota: Quota
    #: seats given away: live tickets and open waiting-list offers
    taken: int


@dataclass(frozen=True)
class StatusCount:
    status: OrderStatus
    orders: int
    total: int

    @property
    def label(self):
        return ORDER_STATUS_LABELS[self.status]


@dataclass(frozen=True)
class BadgeCount:
    """Exhibitor badges: issued with a booth, never sold, so apart from the tickets (but they enter and check in)."""

    issued: int
    checked_in: int


@dataclass(frozen=True)
class EventReport:
    """Every figure of the dashboard, from one definition: a ticket counts while it is not cancelled and its order
    holds a seat (paid, awaiting approval, or awaiting payment and not expired). The cards, the rows per type
    and the chart add up to each other: the cards are the rows' sums, and the chart spreads the rows' sold and
    reserved tickets over the days their orders were placed."""

    registrations: list[DayCount]
    ticket_types: list[TicketTypeSales]
    quotas: list[QuotaUse]
    badges: BadgeCount
    #: tickets and badges that may enter and were checked in on at least one day
    checked_in: int
    orders_by_status: list[StatusCount]

    @property
    def sold(self) -> int:
        """Tickets in paid orders (free ones included): the rows' sum."""
        return sum(row.sold for row in self.ticket_types)

    @property
    def reserved(self) -> int:
        """Tickets holding a seat while their order awaits payment or approval: the rows' sum."""
        return sum(row.reserved for row in self.ticket_types)

    @property
    def valid_tickets(self) -> int:
        """What may enter: tickets sold and exhibitor badges."""
        return self.sold + self.badges.issued

    @property
    def check_in_rate(self) -> float:
        return self.checked_in / self.valid_tickets if self.valid_tickets else 0.0

    @property
    def registered_in_period(self) -> int:
        return sum(day.tickets for day in self.registrations)

    @property
    def revenue(self) -> int:
        """The totals of paid orders, in đồng."""
        return sum(row.total for row in self.orders_by_status if row.status is OrderStatus.PAID)

    @property
    def busiest_day(self) -> int:
        return max((day.tickets for day in self.registrations), default=0)


def chart_days(event: Event, ticket_types: list[TicketType], now: datetime) -> list[date]:
    """The last CHART_DAYS days up to today (or the event's last day), but none before the sale opened."""
    last = min(hanoi_time(now).date(), hanoi_time(event.ends_at).date())
    opened = min((t.sale_starts_at or event.created_at for t in ticket_types), default=event.created_at)
    first = max(last - timedelta(days=CHART_DAYS - 1), hanoi_time(opened).date())
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _counted_tickets(event: Event, now: datetime):
    """The one definition of a ticket the dashboard counts: the event's, not cancelled, holding a seat."""
    return and_(Order.event_id == event.id, Ticket.cancelled_at.is_(None), _holds_seats(now))


def _registrations(session: Session, event: Event, days: list[date], now: datetime) -> list[DayCount]:
    """Tickets sold or reserved (not badges), by the Hanoi day their order was placed."""
    if not days:
        return []
    since = datetime.combine(days[0], time.min, tzinfo=HANOI)
    day = _hanoi_day(Order.created_at, now).label("day")
    counts = dict(session.execute(
        select(day, func.count(Ticket.id))
        .join(Order, Order.id == Ticket.order_id)
        .join(TicketType, TicketType.id == Ticket.ticket_type_id)
        .where(_counted_tickets(event, now), TicketType.kind == TicketKind.PUBLIC, Order.created_at >= since)
        .group_by(day)
    ).all())
    return [DayCount(d, counts.get(d, 0)) for d in days]


def _holds_seats(now: datetime):
    """As orders.seats_taken counts: approval and paid orders, and pending ones not yet expired."""
    return or_(Order.status.in_([OrderStatus.AWAITING_APPROVAL, OrderStatus.PAID]),
               and_(Order.status == OrderStatus.PENDING, Order.expires_at > now))


def _counts_by_type(session: Session, event: Event, now: datetime) -> dict[int, tuple[int, int, int]]:
    """Per ticket type: tickets sold, tickets reserved, and sold ones checked in at least once."""
    paid = Order.status == OrderStatus.PAID
    return {
        type_id: (sold, reserved, checked_in)
        for type_id, sold, reserved, checked_in in session.execute(
            select(Ticket.ticket_type_id, func.count(case((paid, Ticket.id))),
                   func.count(case((~paid, Ticket.id))),
                   func.count(case((and_(paid, _checked_in_at_least_once()), Ticket.id))))
            .join(Order, Order.id == Ticket.order_id)
            .where(_counted_tickets(event, now))
            .group_by(Ticket.ticket_type_id)
        )
    }


def _ticket_type_sales(ticket_types: list[TicketType], counts: Mapping[int, tuple[int, int, int]],
                       taken: Mapping[int, int]) -> list[TicketTypeSales]:
    return [
        TicketTypeSales(
            ticket_type=t, sold=counts.get(t.id, (0, 0, 0))[0], reserved=counts.get(t.id, (0, 0, 0))[1],
            left=min((max(q.size - taken[q.id], 0) for q in t.quotas), default=0),
            quota_size=min((q.size for q in t.quotas), default=None),
        )
        for t in ticket_types
    ]


def _checked_in_at_least_once():
    return select(CheckIn.id).where(CheckIn.ticket_id == Ticket.id, CheckIn.is_test.is_(False)).exists()


def _orders_by_status(session: Session, event: Event) -> list[StatusCount]:
    rows = {
        status: (count, total)
        for status, count, total in session.execute(
            select(Order.status, func.count(Order.id), func.coalesce(func.sum(Order.total), 0))
            .where(Order.event_id == event.id)
            .group_by(Order.status)
        )
    }
    return [StatusCount(status, *rows[status]) for status in OrderStatus if status in rows]


def event_report(session: Session, event: Event, now: datetime | None = None) -> EventReport:
    now = now or utcnow()
    every_type = list(session.scalars(
        select(TicketType).where(TicketType.event_id == event.id)
        .order_by(TicketType.position, TicketType.id).options(selectinload(TicketType.quotas))
    ))
    ticket_types = [t for t in every_type if t.kind == TicketKind.PUBLIC]
    badge_types = {t.id for t in every_type if t.kind == TicketKind.EXHIBITOR_BADGE}
    quotas = list(session.scalars(select(Quota).where(Quota.event_id == event.id).order_by(Quota.id)))
    taken = seats_taken(session, [q.id for q in quotas], now)
    counts = _counts_by_type(session, event, now)
    badges = BadgeCount(issued=sum(counts[t][0] for t in badge_types if t in counts),
                        checked_in=sum(counts[t][2] for t in badge_types if t in counts))
    return EventReport(
        registrations=_registrations(session, event, chart_days(event, ticket_types, now), now),
        ticket_types=_ticket_type_sales(ticket_types, counts, taken),
        quotas=[QuotaUse(q, taken[q.id]) for q in quotas],
        badges=badges,
        checked_in=sum(checked_in for _sold, _reserved, checked_in in counts.values()),
        orders_by_status=_orders_by_status(session, event),
    )


# --- the attendee list ------------------------------------------------------------------------

@dataclass(frozen=True)
class AttendeeFilter:
    """What the organiser searched for: matched against name, e-mail, organisation, ticket and order code."""

    search: str = ""
    ticket_type_id: int | None = None
    order_status: OrderStatus | None = None
    checked_in: bool | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> AttendeeFilter:
        """Reads a query string or form; values that make no sense are ignored rather than refused."""
        type_id = args.get("ticket_type", "")
        status = args.get("status", "")
        checked_in = args.get("checked_in", "")
        return cls(
            search=args.get("q", "").strip()[:100],
            ticket_type_id=int(type_id) if type_id.isdigit() else None,
            order_status=OrderStatus(status) if status in OrderStatus._value2member_map_ else None,
            checked_in={"yes": True, "no": False}.get(checked_in),
        )

    def as_args(self) -> dict[str, str]:
        """The inverse of from_args, leaving out what is not set: for links and hidden fields."""
        args = {
            "q": self.search,
            "ticket_type": "" if self.ticket_type_id is None else str(self.ticket_type_id),
            "status": self.order_status.value if self.order_status else "",
            "checked_in": {True: "yes", False: "no", None: ""}[self.checked_in],
        }
        return {key: value for key, value in args.items() if value}

    def describe(self) -> dict:
        """For the audit trail."""
        return {key: value for key, value in asdict(self).items() if value not in ("", None)}


def _attendees_query(event: Event, wanted: AttendeeFilter) -> Select:
    query = (
        select(Ticket)
        .join(Ticket.order)
        .join(Ticket.ticket_type)
        .where(Order.event_id == event.id)
        .options(contains_eager(Ticket.order), contains_eager(Ticket.ticket_type), selectinload(Ticket.check_ins))
    )
    if wanted.search:
        query = query.where(or_(matches(Ticket.search_text, wanted.search),
                                is_short_code(Ticket.short_code, wanted.search),
                                Ticket.code == wanted.search, Order.code == wanted.search.upper()))
    if wanted.ticket_type_id is not None:
        query = query.where(Ticket.ticket_type_id == wanted.ticket_type_id)
    if wanted.order_status is not None:
        query = query.where(Order.status == wanted.order_status)
    if wanted.checked_in is not None:
        query = query.where(_checked_in_at_least_once() if wanted.checked_in else ~_checked_in_at_least_once())
    return query


def attendee_page(session: Session, event: Event, wanted: AttendeeFilter, page: int) -> tuple[list[Ticket], int]:
    """One page of tickets, in the order they were registered, and how many match in all: three queries
    (the count, the page, its check-ins)."""
    query = _attendees_query(event, wanted)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    tickets = session.scalars(
        query.order_by(Ticket.id).limit(ATTENDEES_PER_PAGE).offset((page - 1) * ATTENDEES_PER_PAGE)
    ).all()
    return list(tickets), total


def all_attendees(session: Session, event: Event, wanted: AttendeeFilter) -> list[Ticket]:
    """Every matching ticket, for an export: one query, and one per 500 tickets for their check-ins."""
    return list(session.scalars(_attendees_query(event, wanted).order_by(Ticket.id)))
