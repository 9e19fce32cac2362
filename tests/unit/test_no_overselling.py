"""32 buyers at once on 50 seats: exactly 50 tickets, never one more, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

from flask_babel import force_locale
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.db import utcnow
from portal.events.models import Event, EventStatus, Order, OrderStatus, Quota, Ticket, TicketType
from portal.events.orders import AttendeeInput, SoldOut, availability, load_event_for_sale, place_order

BUYERS = 32
SEATS = 50


def _event(db, *, quota_sizes: list[int], price: int = 200_000) -> int:
    """An event with one ticket type counting against every quota given."""
    with db.transaction() as s:
        event = Event(slug="rush", name_vi="Ngày hội", name_en="Rush day", status=EventStatus.PUBLISHED,
                      starts_at=utcnow() + timedelta(days=7), ends_at=utcnow() + timedelta(days=8))
        ticket_type = TicketType(name_vi="Vé", name_en="Ticket", price=price, max_per_order=5)
        event.ticket_types.append(ticket_type)
        for n, size in enumerate(quota_sizes):
            event.quotas.append(Quota(name=f"quota {n}", size=size, ticket_types=[ticket_type]))
        s.add(event)
        s.flush()
        return ticket_type.id


def _rush(app, db, make_user, ticket_type_id: int, tickets_each: int) -> tuple[int, int, list[Exception]]:
    buyers = [make_user(email=f"buyer{n}@example.vn") for n in range(BUYERS)]
    barrier = threading.Barrier(BUYERS)
    sold_out, placed, errors = [], [], []

    def buy(buyer_id: int) -> None:
        barrier.wait()
        try:
            with app.test_request_context(), db.transaction() as s:
                event = load_event_for_sale(s, "rush")
                buyer = s.get(User, buyer_id)
                attendees = [AttendeeInput(ticket_type_id, f"Khách {buyer_id}-{i}", f"k{buyer_id}-{i}@example.vn")
                             for i in range(tickets_each)]
                place_order(s, event=event, buyer=buyer, attendees=attendees, provider_key="manual")
            placed.append(buyer_id)
        except SoldOut:
            sold_out.append(buyer_id)
        except Exception as exc:  # noqa: BLE001 - any other failure is collected and fails the test
            errors.append(exc)

    threads = [threading.Thread(target=buy, args=(b.id,)) for b in buyers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return len(placed), len(sold_out), errors


def _tickets_held(db) -> int:
    with db.session_factory() as s:
        return s.scalar(select(func.count(Ticket.id)).join(Order).where(Order.status == OrderStatus.PENDING))


def test_32_concurrent_buyers_never_oversell_a_quota_of_50(app, db, make_user):
    ticket_type_id = _event(db, quota_sizes=[SEATS])
    placed, sold_out, errors = _rush(app, db, make_user, ticket_type_id, tickets_each=2)
    assert errors == []
    assert _tickets_held(db) == SEATS  # exactly full, 0 oversold
    assert (placed, sold_out) == (SEATS // 2, BUYERS - SEATS // 2)
    with app.test_request_context(), db.session_factory() as s:
        assert availability(s, load_event_for_sale(s, "rush")) == {ticket_type_id: 0}


def test_the_smallest_of_several_quotas_limits_a_type(app, db, make_user):
    """A type counting against a day quota (50) and a hall quota (80) sells 50."""
    ticket_type_id = _event(db, quota_sizes=[80, SEATS])
    placed, sold_out, errors = _rush(app, db, make_user, ticket_type_id, tickets_each=2)
    assert errors == []
    assert _tickets_held(db) == SEATS


def test_sold_out_names_the_ticket_type_in_the_pages_language(app, db, make_user):
    ticket_type_id = _event(db, quota_sizes=[1])
    buyer = make_user(locale="en")
    with app.test_request_context(), force_locale("en"), db.transaction() as s:
        event = load_event_for_sale(s, "rush")
        attendees = [AttendeeInput(ticket_type_id, name, f"{name}@example.vn") for name in ("a", "b")]
        try:
            place_order(s, event=event, buyer=s.get(User, buyer.id), attendees=attendees)
        except SoldOut as error:
            assert str(error.message) == "Sorry, Ticket is sold out."
        else:
            raise AssertionError("two tickets were sold on a quota of one")
