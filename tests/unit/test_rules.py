"""The "may I?" predicates, written out by hand from the rules they stand for: pages ask them which actions to show,
and the services ask the same ones before acting."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.booths.models import BookingStatus, BoothBooking
from portal.db import utcnow
from portal.events import manage
from portal.events.models import (
    CheckIn,
    Event,
    Order,
    OrderStatus,
    Ticket,
    TicketType,
    WaitingListEntry,
    WaitingListStatus,
)

NOW = utcnow()
LATER, EARLIER = NOW + timedelta(hours=1), NOW - timedelta(seconds=1)
OS = OrderStatus


@pytest.mark.parametrize(("status", "expires_at", "lapsed", "awaits_payment"), [
    (OS.PENDING, LATER, False, True),
    (OS.PENDING, None, False, True),
    (OS.PENDING, NOW, True, False),  # its time is up at the very moment
    (OS.PENDING, EARLIER, True, False),
    (OS.AWAITING_APPROVAL, None, False, False),
    (OS.PAID, None, False, False),
    (OS.EXPIRED, EARLIER, False, False),  # expired by the sweep: no longer pending at all
    (OS.CANCELLED, None, False, False),
])
def test_an_order_is_lapsed_or_awaits_payment(status, expires_at, lapsed, awaits_payment):
    order = Order(status=status, expires_at=expires_at)
    assert (order.is_lapsed(NOW), order.awaits_payment(NOW)) == (lapsed, awaits_payment)


def _ticket(*, price: int = 0, status: OrderStatus = OS.PAID, cancelled: bool = False, checked_in: bool = False,
            change_deadline=None) -> Ticket:
    event = Event(starts_at=NOW + timedelta(days=3), attendee_change_deadline=change_deadline)
    return Ticket(price=price, cancelled_at=EARLIER if cancelled else None,
                  order=Order(status=status, event=event),
                  check_ins=[CheckIn(checked_in_at=EARLIER)] if checked_in else [])


@pytest.mark.parametrize(("ticket", "may_cancel", "may_change_attendee", "confirmed"), [
    (_ticket(), True, True, True),
    (_ticket(status=OS.PENDING), True, True, False),
    (_ticket(status=OS.AWAITING_APPROVAL), True, True, False),
    (_ticket(price=150_000), False, True, True),  # paid: the organisers cancel it (a refund may apply)
    (_ticket(checked_in=True), False, True, True),  # used to enter
    (_ticket(cancelled=True), False, False, False),
    (_ticket(status=OS.CANCELLED), False, False, False),
    (_ticket(status=OS.REFUNDED), False, False, False),
    (_ticket(status=OS.EXPIRED), False, False, False),
    (_ticket(change_deadline=EARLIER), True, False, True),  # the organisers' deadline passed
    (_ticket(change_deadline=NOW), True, False, True),
], ids=["free", "pending", "awaiting approval", "paid", "checked in", "ticket cancelled", "order cancelled",
        "refunded", "expired", "deadline passed", "deadline now"])
def test_what_a_ticket_holder_may_do(ticket, may_cancel, may_change_attendee, confirmed):
    assert (ticket.may_cancel, ticket.may_change_attendee(NOW), ticket.is_confirmed) == (
        may_cancel, may_change_attendee, confirmed)


def test_attendees_may_be_changed_until_the_event_starts_when_no_deadline_is_set():
    ticket = _ticket()
    assert ticket.may_change_attendee(ticket.order.event.starts_at - timedelta(seconds=1))
    assert not ticket.may_change_attendee(ticket.order.event.starts_at)


W = WaitingListStatus


@pytest.mark.parametrize(("status", "may_offer_by_hand", "may_remove"), [
    (W.WAITING, True, True),
    (W.OFFERED, False, True),
    (W.LAPSED, True, True),
    (W.CONVERTED, False, False),
    (W.REMOVED, False, False),
])
def test_what_organisers_may_do_with_a_waiting_list_entry(status, may_offer_by_hand, may_remove):
    entry = WaitingListEntry(status=status)
    assert (entry.may_offer_by_hand, entry.may_remove) == (may_offer_by_hand, may_remove)


@pytest.mark.parametrize(("status", "actions"), [
    (OS.AWAITING_APPROVAL, ["approve", "cancel"]),  # cancelling it is refusing it
    (OS.PENDING, ["mark-paid", "cancel"]),
    (OS.PAID, ["cancel"]),
    (OS.EXPIRED, []),
    (OS.CANCELLED, []),
    (OS.REFUNDED, []),
])
def test_the_actions_organisers_are_offered_on_an_order(status, actions):
    assert manage.actions_for(Order(status=status)) == actions


@pytest.mark.parametrize(("starts", "ends", "event_ends", "starts_later", "ended"), [
    (None, None, LATER, False, False),
    (LATER, None, LATER, True, False),
    (EARLIER, LATER, LATER, False, False),
    (None, NOW, LATER, False, True),
    (None, None, NOW, False, True),  # the event is over
])
def test_a_ticket_types_sale_window(starts, ends, event_ends, starts_later, ended):
    ticket_type = TicketType(sale_starts_at=starts, sale_ends_at=ends, event=Event(ends_at=event_ends))
    assert (ticket_type.sale_starts_later(NOW), ticket_type.sale_has_ended(NOW)) == (starts_later, ended)
    assert ticket_type.is_on_sale(NOW) == (not starts_later and not ended)


B = BookingStatus


@pytest.mark.parametrize(("status", "hold_expires_at", "payment_due_at", "live", "ran_out", "awaits_payment"), [
    (B.HELD, LATER, None, True, False, False),
    (B.HELD, NOW, None, False, True, False),
    (B.EXPIRED, EARLIER, None, False, False, False),
    (B.AWAITING_PAYMENT, EARLIER, LATER, False, False, True),
    (B.AWAITING_PAYMENT, EARLIER, None, False, False, True),
    (B.AWAITING_PAYMENT, EARLIER, NOW, False, False, False),
    (B.SOLD, EARLIER, None, False, False, False),
])
def test_a_booth_bookings_hold_and_payment(status, hold_expires_at, payment_due_at, live, ran_out, awaits_payment):
    booking = BoothBooking(status=status, hold_expires_at=hold_expires_at, payment_due_at=payment_due_at)
    assert (booking.hold_is_live(NOW), booking.hold_ran_out(NOW), booking.awaits_payment(NOW)) == (
        live, ran_out, awaits_payment)
