"""The order lifecycle table, and seats left when a ticket type counts against two quotas."""

from __future__ import annotations

from datetime import timedelta
from itertools import product

import pytest

from portal.db import utcnow
from portal.errors import Conflict
from portal.events import orders
from portal.events.models import Event, EventStatus, Order, OrderStatus, Quota, TicketType

ALLOWED = {
    (OrderStatus.AWAITING_APPROVAL, OrderStatus.PENDING),
    (OrderStatus.AWAITING_APPROVAL, OrderStatus.PAID),
    (OrderStatus.AWAITING_APPROVAL, OrderStatus.CANCELLED),
    (OrderStatus.PENDING, OrderStatus.PAID),
    (OrderStatus.PENDING, OrderStatus.EXPIRED),
    (OrderStatus.PENDING, OrderStatus.CANCELLED),
    (OrderStatus.PAID, OrderStatus.CANCELLED),
    (OrderStatus.PAID, OrderStatus.REFUNDED),
    (OrderStatus.EXPIRED, OrderStatus.PENDING),  # reinstated: late money an organiser accepted
}
EVERY_PAIR = list(product(OrderStatus, OrderStatus))


@pytest.mark.parametrize(("source", "target"), sorted(ALLOWED))
def test_an_allowed_transition_moves_the_order_and_stamps_it(app, source, target):
    now = utcnow()
    order = Order(status=source, expires_at=now + timedelta(hours=1))
    with app.test_request_context():
        orders._move(order, target, now)
    assert order.status is target
    if target is OrderStatus.PAID:
        assert (order.paid_at, order.expires_at) == (now, None)
    if target in (OrderStatus.CANCELLED, OrderStatus.REFUNDED, OrderStatus.EXPIRED):
        assert order.cancelled_at == now


@pytest.mark.parametrize(("source", "target"), [pair for pair in EVERY_PAIR if pair not in ALLOWED])
def test_a_forbidden_transition_is_refused_and_changes_nothing(app, source, target):
    order = Order(status=source)
    with app.test_request_context(), pytest.raises(Conflict) as refused:
        orders._move(order, target, utcnow())
    assert order.status is source and order.paid_at is None and order.cancelled_at is None
    assert refused.value.status_code == 409


def test_finished_orders_never_change_again():
    assert all(not orders.TRANSITIONS[status] for status in (OrderStatus.CANCELLED, OrderStatus.REFUNDED))
    assert orders.TRANSITIONS[OrderStatus.EXPIRED] == {OrderStatus.PENDING}  # only by reinstate_lapsed


def test_a_type_on_two_quotas_has_the_room_of_the_fuller_one(app, db, make_user):
    """The day pass counts against "Day 1" (5 seats) and the hall (8 seats), which the workshop pass shares."""
    buyer = make_user()
    now = utcnow()
    with db.transaction() as s:
        day, hall = Quota(name="Day 1", size=5), Quota(name="Hall", size=8)
        day_pass = TicketType(name_vi="Vé ngày 1", name_en="Day pass", quotas=[day, hall], position=0)
        workshop = TicketType(name_vi="Vé hội thảo", name_en="Workshop pass", quotas=[hall], position=1)
        event = Event(slug="techfest", name_vi="TechFest", name_en="TechFest", status=EventStatus.PUBLISHED,
                      starts_at=now + timedelta(days=9), ends_at=now + timedelta(days=10), quotas=[day, hall],
                      ticket_types=[day_pass, workshop])
        s.add(event)

    def buy(type_: TicketType, count: int) -> None:
        with app.test_request_context(), db.transaction() as s:
            orders.place_order(s, event=s.get(Event, event.id), buyer=s.get(type(buyer), buyer.id), attendees=[
                orders.AttendeeInput(ticket_type_id=type_.id, name=f"Khách {n}", email=f"k{n}@example.vn")
                for n in range(count)])

    def left() -> tuple[int, int]:
        with db.session_factory() as s:
            seats = orders.availability(s, s.get(Event, event.id))
            return seats[day_pass.id], seats[workshop.id]

    assert left() == (5, 8)
    buy(day_pass, 2)
    assert left() == (3, 6)  # both quotas lose two seats
    buy(workshop, 4)
    assert left() == (2, 2)  # the hall is now fuller than the day
    buy(workshop, 2)
    assert left() == (0, 0)
    with pytest.raises(orders.SoldOut):
        buy(day_pass, 1)
