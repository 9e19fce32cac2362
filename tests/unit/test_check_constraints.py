"""The database refuses impossible values, whatever wrote them: a negative size, price or amount, a limit or a period
of nothing, more paid than due, more refunded than received. Values at the edge of what is possible still go in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from itertools import count

import pytest
from sqlalchemy.exc import IntegrityError

from portal.booths.models import BookingStatus, Booth, BoothBooking, BoothSaleSettings, FloorPlan
from portal.db import utcnow
from portal.events.models import Event, EventStatus, Order, OrderStatus, Quota, Ticket, TicketType
from portal.payments.models import Payment, PaymentStatus

_numbers = count(1)


@dataclass(frozen=True)
class Parents:
    event_id: int
    user_id: int
    ticket_type_id: int
    order_id: int
    booth_id: int


@pytest.fixture
def parents(db, make_user) -> Parents:
    """An event with a ticket type, an order and a booth: what the rows below belong to."""
    user = make_user()
    now = utcnow()
    with db.transaction() as s:
        ticket_type = TicketType(name_vi="Vé", name_en="Pass", price=100_000)
        event = Event(slug="techfest", name_vi="TechFest", name_en="TechFest", status=EventStatus.PUBLISHED,
                      starts_at=now + timedelta(days=9), ends_at=now + timedelta(days=10), ticket_types=[ticket_type])
        order = Order(code="DONHANG1", event=event, buyer_id=user.id, status=OrderStatus.PAID, total=100_000,
                      provider="manual")
        booth = Booth(event=event, number="A-01", x=0, y=0, w=3, h=3, size_m2=9.0, price=20_000_000)
        s.add_all([event, order, booth])
        s.flush()
        return Parents(event.id, user.id, ticket_type.id, order.id, booth.id)


def event(**values) -> Event:
    now = utcnow()
    return Event(slug=f"event-{next(_numbers)}", name_vi="Sự kiện", name_en="Event", starts_at=now, ends_at=now,
                 **values)


def ticket_type(p: Parents, **values) -> TicketType:
    return TicketType(event_id=p.event_id, name_vi="Vé", name_en="Pass", **values)


def order(p: Parents, **values) -> Order:
    return Order(code=f"DON{next(_numbers)}", event_id=p.event_id, buyer_id=p.user_id, status=OrderStatus.PENDING,
                 provider="manual", **values)


def ticket(p: Parents, **values) -> Ticket:
    return Ticket(order_id=p.order_id, ticket_type_id=p.ticket_type_id, code=f"ve-{next(_numbers)}",
                  attendee_name="Khách", attendee_email="khach@example.vn", **values)


def booth(p: Parents, **values) -> Booth:
    return Booth(event_id=p.event_id, number=f"B-{next(_numbers)}", x=0, y=0, **{"w": 3, "h": 3, "size_m2": 9.0,
                                                                                  "price": 0} | values)


def booking(p: Parents, **values) -> BoothBooking:
    # a booking that no longer occupies its booth, so the one-active-booking index stays out of the way
    return BoothBooking(event_id=p.event_id, booth_id=p.booth_id, exhibitor_id=p.user_id,
                        status=BookingStatus.CANCELLED, hold_expires_at=utcnow(), **values)


def payment(p: Parents, **values) -> Payment:
    return Payment(order_id=p.order_id, provider="manual", status=PaymentStatus.SUCCEEDED,
                   **{"amount": 100_000} | values)


IMPOSSIBLE = {
    "an unpaid order keeping its seats for no time": lambda p: event(pending_order_minutes=0),
    "a waiting-list offer lasting no time": lambda p: event(waitlist_offer_hours=0),
    "a negative ticket price": lambda p: ticket_type(p, price=-1),
    "an order limit below one ticket": lambda p: ticket_type(p, max_per_order=0),
    "a negative quota": lambda p: Quota(event_id=p.event_id, name="Hội trường", size=-1),
    "a negative order total": lambda p: order(p, total=-1),
    "a ticket charged a negative price": lambda p: ticket(p, price=-1),
    "a hall with no width": lambda p: FloorPlan(event_id=p.event_id, width=0),
    "a grid unit of no metres": lambda p: FloorPlan(event_id=p.event_id, metres_per_unit=0),
    "a negative booth price": lambda p: booth(p, price=-1),
    "a booth of no width on the plan": lambda p: booth(p, w=0),
    "a booth of no floor space": lambda p: booth(p, size_m2=0),
    "a booth held for no time": lambda p: BoothSaleSettings(event_id=p.event_id, hold_minutes=0),
    "no days to pay for a booth": lambda p: BoothSaleSettings(event_id=p.event_id, payment_days=0),
    "a negative amount due for a booth": lambda p: booking(p, amount_due=-1),
    "more paid for a booth than is due": lambda p: booking(p, amount_due=20_000_000, amount_paid=20_000_001),
    "a negative amount paid for a booth": lambda p: booking(p, amount_due=20_000_000, amount_paid=-1),
    "a deposit above the price": lambda p: booking(p, amount_due=20_000_000, deposit_due=20_000_001),
    "a negative amount received": lambda p: payment(p, amount_received=-1),
    "a negative amount refunded": lambda p: payment(p, amount_received=100_000, amount_refunded=-1),
    "more refunded than received": lambda p: payment(p, amount_received=100_000, amount_refunded=100_001),
}

AT_THE_EDGE = {
    "free tickets, one per order, an empty quota": lambda p: [ticket_type(p, price=0, max_per_order=1),
                                                             Quota(event_id=p.event_id, name="Đã đủ", size=0),
                                                             order(p, total=0), ticket(p, price=0)],
    "the shortest periods": lambda p: [event(pending_order_minutes=1, waitlist_offer_hours=1),
                                       BoothSaleSettings(event_id=p.event_id, hold_minutes=1, payment_days=1)],
    "a free booth, and one paid in full at once": lambda p: [
        booth(p, price=0, w=1, h=1, size_m2=0.1),
        booking(p, amount_due=20_000_000, deposit_due=20_000_000, amount_paid=20_000_000)],
    "an overpaid transfer refunded in full": lambda p: [payment(p, amount_received=150_000,
                                                                amount_refunded=150_000)],
}


@pytest.mark.parametrize("make_row", IMPOSSIBLE.values(), ids=IMPOSSIBLE.keys())
def test_the_database_refuses(db, parents, make_row):
    with pytest.raises(IntegrityError), db.transaction() as s:
        s.add(make_row(parents))


@pytest.mark.parametrize("make_rows", AT_THE_EDGE.values(), ids=AT_THE_EDGE.keys())
def test_the_database_takes(db, parents, make_rows):
    with db.transaction() as s:
        s.add_all(make_rows(parents))
