"""Pages offer an action exactly when its rule allows it: they ask the predicate beside the rule
(tests/unit/test_rules.py) instead of working it out again."""

from __future__ import annotations

import re
from datetime import timedelta

from portal.accounts.models import Role
from portal.booths import services as booth_services
from portal.db import utcnow
from portal.events.models import CheckIn, Event, OrderStatus, Ticket, WaitingListEntry, WaitingListStatus
from tests.support.booths import as_exhibitor, create_hall
from tests.support.ticketing import add_ticket, create_event

TYPES = (("Visitor pass", "Vé khách tham quan", 0), ("Investor pass", "Vé nhà đầu tư", 250_000))


def row_of(page: str, text: str) -> str:
    return next(row for row in re.findall(r"<tr>.*?</tr>", page, re.S) if text in row)


def test_my_tickets_offers_each_ticket_the_actions_its_holder_may_take(db, login_as):
    buyer = login_as(locale="en")
    event = create_event(db, ticket_types=TYPES)
    add_ticket(db, event, buyer.user, name="Vé miễn phí")
    add_ticket(db, event, buyer.user, name="Vé trả tiền", type_index=1)
    used = add_ticket(db, event, buyer.user, name="Vé đã vào cửa")
    add_ticket(db, event, buyer.user, name="Đơn đã huỷ", status=OrderStatus.CANCELLED)
    with db.transaction() as s:
        s.add(CheckIn(ticket_id=used.id, checked_in_at=utcnow()))

    page = buyer.get("/tickets").get_data(as_text=True)

    def actions(name: str) -> tuple[bool, bool]:
        row = row_of(page, name)
        return "Change the attendee" in row, "Cancel this ticket" in row

    assert actions("Vé miễn phí") == (True, True)
    assert actions("Vé trả tiền") == (True, False)  # paid: the organisers cancel it
    assert actions("Vé đã vào cửa") == (True, False)
    assert actions("Đơn đã huỷ") == (False, False)

    with db.transaction() as s:
        s.get(Event, event.id).attendee_change_deadline = utcnow() - timedelta(minutes=1)
    page = buyer.get("/tickets").get_data(as_text=True)
    assert actions("Vé miễn phí") == (False, True)


def test_the_cancel_page_of_a_ticket_its_holder_may_not_cancel_says_why_and_offers_no_button(db, login_as):
    buyer = login_as(locale="en")
    event = create_event(db, ticket_types=TYPES)
    paid = add_ticket(db, event, buyer.user, type_index=1)
    used = add_ticket(db, event, buyer.user)
    with db.transaction() as s:
        s.add(CheckIn(ticket_id=used.id, checked_in_at=utcnow()))

    for ticket, reason in ((paid, "Paid tickets are cancelled by the organisers (a refund may apply)."),
                           (used, "This ticket has already been used to enter.")):
        page = buyer.get(f"/tickets/{ticket.id}/cancel").get_data(as_text=True)
        assert reason in page
        assert "Yes, cancel this ticket" not in page and 'href="/tickets"' in page


def test_the_attendee_page_of_a_cancelled_ticket_says_it_is_no_longer_valid(db, login_as):
    buyer = login_as(locale="en")
    event = create_event(db)
    ticket = add_ticket(db, event, buyer.user, cancelled=True)
    page = buyer.get(f"/tickets/{ticket.id}/attendee").get_data(as_text=True)
    assert "This ticket is no longer valid." in page
    assert 'name="name"' not in page


def test_an_order_past_its_time_shows_expired_and_no_way_to_pay(db, login_as):
    buyer = login_as(locale="en")
    event = create_event(db, ticket_types=TYPES)
    in_time = add_ticket(db, event, buyer.user, type_index=1, status=OrderStatus.PENDING)
    lapsed = add_ticket(db, event, buyer.user, type_index=1, status=OrderStatus.PENDING,
                        expires_in=-timedelta(minutes=1))
    with db.session_factory() as s:
        in_time_code, lapsed_code = (s.get(Ticket, t.id).order.code for t in (in_time, lapsed))

    waiting = buyer.get(f"/orders/{in_time_code}").get_data(as_text=True)
    assert "How to pay" in waiting and "Waiting for payment" in waiting
    gone = buyer.get(f"/orders/{lapsed_code}").get_data(as_text=True)
    assert "How to pay" not in gone and "Expired" in gone


def test_the_orders_list_offers_each_order_the_actions_of_its_status(db, login_as):
    organiser = login_as(Role.ORGANISER, locale="en")
    event = create_event(db, ticket_types=TYPES, team=(organiser.user,))
    tickets = {status: add_ticket(db, event, organiser.user, type_index=1, status=status)
               for status in (OrderStatus.AWAITING_APPROVAL, OrderStatus.PENDING, OrderStatus.PAID,
                              OrderStatus.CANCELLED)}
    with db.session_factory() as s:
        codes = {status: s.get(Ticket, ticket.id).order.code for status, ticket in tickets.items()}
    page = organiser.get(f"/manage/events/{event.id}/orders").get_data(as_text=True)

    def offered(status: OrderStatus) -> list[str]:
        return re.findall(r'aria-label="([^"]+) ' + codes[status] + '"', row_of(page, codes[status]))

    assert offered(OrderStatus.AWAITING_APPROVAL) == ["Approve", "Cancel"]
    assert offered(OrderStatus.PENDING) == ["Mark paid", "Cancel"]
    assert offered(OrderStatus.PAID) == ["Cancel", "Refund"]
    assert offered(OrderStatus.CANCELLED) == []


def test_the_waiting_list_offers_each_person_the_actions_organisers_may_take(db, login_as):
    organiser = login_as(Role.ORGANISER, locale="en")
    event = create_event(db, team=(organiser.user,))
    with db.transaction() as s:
        s.add_all([WaitingListEntry(ticket_type_id=event.ticket_types[0].id, email=f"{status.value}@example.vn",
                                    name=f"Người {status.value}", status=status,
                                    offer_expires_at=utcnow() + timedelta(hours=1))
                   for status in WaitingListStatus])
    page = organiser.get(f"/manage/events/{event.id}/waitlist").get_data(as_text=True)

    def buttons(status: WaitingListStatus) -> tuple[bool, bool]:
        row = row_of(page, f"{status.value}@example.vn")
        return "Offer a seat to" in row, "Remove " in row

    assert {status: buttons(status) for status in WaitingListStatus} == {
        WaitingListStatus.WAITING: (True, True), WaitingListStatus.OFFERED: (False, True),
        WaitingListStatus.LAPSED: (True, True), WaitingListStatus.CONVERTED: (False, False),
        WaitingListStatus.REMOVED: (False, False), WaitingListStatus.LEFT: (False, False)}


def test_my_booths_shows_a_hold_that_ran_out_as_expired_before_the_sweep(app, db, form, login_as, make_user):
    hall = create_hall(db, make_user)
    exhibitor = login_as(Role.STARTUP, locale="en")
    booking = as_exhibitor(app, db, booth_services.hold_booth, exhibitor.user, hall.booths["A-01"])
    assert "Finish the application before" in exhibitor.get("/booths/mine").get_data(as_text=True)
    with db.transaction() as s:
        s.get(type(booking), booking.id).hold_expires_at = utcnow() - timedelta(seconds=1)

    row = row_of(exhibitor.get("/booths/mine").get_data(as_text=True), "A-01")
    assert "Hold expired" in row and "Finish the application" not in row
