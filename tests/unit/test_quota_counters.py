"""Quotas' seat counters: every path that takes or frees seats keeps `held` equal to the live tickets and open offers
it counts, the database refuses a counter outside 0…size, `flask quotas repair` puts a wrong one right, and a seat
freed while people wait goes to the waiting list whoever asks for it first."""

from __future__ import annotations

import html
import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import Role, User
from portal.db import end_refused, utcnow
from portal.errors import Conflict, Invalid
from portal.events import manage, orders, waitlist
from portal.events.models import (
    Event,
    Order,
    OrderStatus,
    Quota,
    Ticket,
    TicketType,
    WaitingListEntry,
    WaitingListStatus,
)
from portal.events.orders import AttendeeInput, SoldOut
from tests.support.web import count_queries
from tests.web.test_waitlist import create_sale, entry_status, join_directly, run_registration_job, take_seat

PRICE = 100_000


def held(db, quota_id: int) -> int:
    with db.session_factory() as s:
        return s.get(Quota, quota_id).held


def assert_counted(db, quota_id: int, expected: int) -> None:
    """The counter says `expected`, and recounting the tickets and offers finds nothing to repair."""
    assert held(db, quota_id) == expected
    with db.transaction() as s:
        assert orders.repair_quotas(s) == []


def order_one(app, db, event_id: int, type_id: int, buyer: User, *, now=None) -> Order:
    with app.test_request_context(), db.transaction() as s:
        event = orders.load_event_for_sale(s, s.get(Event, event_id).slug)
        return orders.place_order(s, event=event, buyer=buyer, now=now, attendees=[
            AttendeeInput(ticket_type_id=type_id, name=buyer.full_name, email=buyer.email)])


@pytest.fixture
def organiser(make_user) -> User:
    return make_user(Role.ORGANISER)


def organiser_acts(app, db, organiser: User, sale, order_id: int, action: str) -> None:
    """An organiser's button on the orders list."""
    with app.test_request_context(), db.transaction() as s:
        manage.act_on_order(s, s.get(User, organiser.id), s.get(Event, sale.event_id), order_id, action)


def test_every_path_that_takes_or_frees_seats_keeps_the_counter_true(app, db, make_user, organiser):
    """Orders, an organiser's cancellation, offers made, lapsed, withdrawn and used, a payment, a full refund, an
    expiry, a late payment reinstating the order, and a free ticket given back by its holder."""
    sale = create_sale(db, seats=2, price=PRICE, offer_hours=48)
    with db.transaction() as s:
        free = TicketType(event_id=sale.event_id, name_vi="Vé mời", name_en="Invitation", price=0,
                          quotas=[s.get(Quota, sale.quota_id)])
        s.add(free)
        s.flush()
        free_id = free.id
    start = utcnow()
    first = order_one(app, db, sale.event_id, sale.ticket_type_id, make_user())
    assert_counted(db, sale.quota_id, 1)
    second = order_one(app, db, sale.event_id, sale.ticket_type_id, make_user())
    assert_counted(db, sale.quota_id, 2)
    queue = [join_directly(db, sale, make_user(email=f"cho{n}@example.vn")) for n in range(3)]

    organiser_acts(app, db, organiser, sale, first.id, "cancel")  # its seat is offered to the first in line
    assert entry_status(db, queue[0]) is WaitingListStatus.OFFERED
    assert_counted(db, sale.quota_id, 2)

    with app.test_request_context(), db.transaction() as s:  # 49 hours later the offer has run out
        waitlist.lapse_offers(s, start + timedelta(hours=49))
    assert [entry_status(db, entry) for entry in queue[:2]] == [WaitingListStatus.LAPSED, WaitingListStatus.OFFERED]
    assert_counted(db, sale.quota_id, 2)

    with app.test_request_context(), db.transaction() as s:
        event, entry = s.get(Event, sale.event_id), s.get(WaitingListEntry, queue[1])
        waitlist.remove(s, s.get(User, organiser.id), event, entry)
    assert entry_status(db, queue[2]) is WaitingListStatus.OFFERED
    assert_counted(db, sale.quota_id, 2)

    third = make_user()
    with app.test_request_context(), db.transaction() as s:  # the third person uses their offer
        entry = s.get(WaitingListEntry, queue[2])
        event = orders.load_event_for_sale(s, s.get(Event, sale.event_id).slug)
        used = orders.place_order(s, event=event, buyer=s.get(User, third.id), offer=entry, attendees=[
            AttendeeInput(ticket_type_id=sale.ticket_type_id, name="Lê Ba", email="ba@example.vn")])
    assert entry_status(db, queue[2]) is WaitingListStatus.CONVERTED
    assert_counted(db, sale.quota_id, 2)

    for paid in (used, second):
        organiser_acts(app, db, organiser, sale, paid.id, "mark-paid")
    assert_counted(db, sale.quota_id, 2)
    with app.test_request_context(), db.transaction() as s:
        orders.mark_refunded(s, s.get(Order, second.id))
    assert_counted(db, sale.quota_id, 1)

    late = order_one(app, db, sale.event_id, sale.ticket_type_id, make_user())
    with app.test_request_context(), db.transaction() as s:  # three days later it expires unpaid
        assert [o.id for o in orders.expire_pending_orders(s, start + timedelta(days=3, minutes=1))] == [late.id]
    assert_counted(db, sale.quota_id, 1)
    with app.test_request_context(), db.transaction() as s:  # its money arrives late while its seat is free
        orders.reinstate_lapsed(s, s.get(Order, late.id))
    assert_counted(db, sale.quota_id, 2)

    with app.test_request_context(), db.transaction() as s:  # organisers raise the quota, a guest takes a seat
        manage.save_part(s, s.get(User, organiser.id), s.get(Event, sale.event_id), Quota,
                         {"name": "Hội trường chính", "size": 3, "ticket_types": [sale.ticket_type_id, free_id]},
                         s.get(Quota, sale.quota_id))
    guest = make_user()
    ticket_id = order_one(app, db, sale.event_id, free_id, guest).tickets[0].id
    assert_counted(db, sale.quota_id, 3)
    with app.test_request_context(), db.transaction() as s:
        orders.cancel_free_ticket(s, s.get(User, guest.id), s.get(Ticket, ticket_id))
    assert_counted(db, sale.quota_id, 2)


def test_the_database_keeps_the_counter_between_zero_and_the_size(db):
    sale = create_sale(db, seats=2)
    for wrong in (3, -1):
        with pytest.raises(IntegrityError), db.transaction() as s:
            s.execute(update(Quota).where(Quota.id == sale.quota_id).values(held=wrong))
    assert held(db, sale.quota_id) == 0


def test_the_repair_command_recounts_a_wrong_counter(app, db, make_user):
    sale = create_sale(db, seats=5)
    for _ in range(3):
        take_seat(app, db, sale, make_user())
    with db.transaction() as s:
        s.execute(update(Quota).where(Quota.id == sale.quota_id).values(held=1))

    result = app.test_cli_runner().invoke(args=["quotas", "repair"])

    assert result.exit_code == 0, result.output
    assert f"quota {sale.quota_id} (Hội trường chính): held 1 -> 3" in result.output
    assert "1 quota(s) repaired" in result.output
    assert_counted(db, sale.quota_id, 3)
    assert "0 quota(s) repaired" in app.test_cli_runner().invoke(args=["quotas", "repair"]).output


def test_a_quota_cannot_shrink_below_the_seats_it_holds(app, db, make_user, organiser):
    sale = create_sale(db, seats=3)
    for _ in range(2):
        take_seat(app, db, sale, make_user())
    with app.test_request_context(), db.transaction() as s, pytest.raises(Invalid) as refused:
        manage.save_part(s, s.get(User, organiser.id), s.get(Event, sale.event_id), Quota,
                         {"name": "Hội trường chính", "size": 1, "ticket_types": [sale.ticket_type_id]},
                         s.get(Quota, sale.quota_id))
    assert "2 seats of these ticket types are already taken" in str(refused.value.message)
    with db.session_factory() as s:
        assert (s.get(Quota, sale.quota_id).size, s.get(Quota, sale.quota_id).held) == (3, 2)


# --- the waiting list first ------------------------------------------------------------------

def test_a_buyer_arriving_after_a_pending_order_ran_out_leaves_its_seat_to_the_waiting_list(
        app, db, make_user, form, login_as, mailbox, monkeypatch):
    """The order's time passes, the minute job has not run: the next buyer is told "sold out", and the person
    waiting is offered the seat at once, although the buyer's request was refused."""
    sale = create_sale(db, seats=1, price=PRICE)
    unpaid = take_seat(app, db, sale, make_user())
    waiting = join_directly(db, sale, make_user(email="cho@example.vn", locale="en"))
    later = utcnow() + timedelta(days=3, minutes=1)
    monkeypatch.setattr(orders, "utcnow", lambda: later)  # the clock moves past the order's time
    buyer = login_as(locale="en")

    response = form(buyer, f"/events/{'techfest-hanoi-2026'}/register", {
        "attendees-0-ticket_type_id": str(sale.ticket_type_id), "attendees-0-name": "Đỗ Mua",
        "attendees-0-email": "mua@example.vn", "provider": "manual"})

    assert response.status_code == 409
    assert "Sorry, Visitor pass is sold out." in html.unescape(response.get_data(as_text=True))
    assert entry_status(db, waiting) is WaitingListStatus.OFFERED
    mailbox.deliver()
    assert len(mailbox.to("cho@example.vn")) == 1
    with db.session_factory() as s:
        assert s.get(Order, unpaid.id).status is OrderStatus.EXPIRED
        assert s.scalars(select(Order.id).where(Order.buyer_id == buyer.user.id)).all() == []
    assert_counted(db, sale.quota_id, 1)
    run_registration_job(app)  # the minute job then finds nothing left to do
    mailbox.deliver()
    assert len(mailbox.to("cho@example.vn")) == 1


@pytest.mark.parametrize("freed_by", ["order", "offer"])
@pytest.mark.parametrize("asker", ["buyer", "joiner"])
def test_a_seat_run_out_goes_to_the_next_in_line_whoever_asks_first(app, db, make_user, freed_by, asker):
    """A pending order or an offer past its time, before the minute job: a buyer (refused) or someone joining the
    list (queued behind) finds the seat already offered to the person who waited longest."""
    sale = create_sale(db, seats=1, price=PRICE, offer_hours=48)
    holder = take_seat(app, db, sale, make_user())
    first, second = (join_directly(db, sale, make_user(email=f"cho{n}@example.vn")) for n in range(2))
    if freed_by == "offer":  # the seat was offered to the first in line, who lets it run out
        organiser_acts(app, db, make_user(Role.ORGANISER), sale, holder.id, "cancel")
        assert entry_status(db, first) is WaitingListStatus.OFFERED
        later, next_in_line = utcnow() + timedelta(hours=49), second
    else:
        later, next_in_line = utcnow() + timedelta(days=3, minutes=1), first

    newcomer_id = make_user().id
    with app.test_request_context(), db.transaction() as s:
        event = orders.load_event_for_sale(s, s.get(Event, sale.event_id).slug)
        newcomer = s.get(User, newcomer_id)
        if asker == "buyer":
            with pytest.raises(SoldOut):
                orders.place_order(s, event=event, buyer=newcomer, now=later, attendees=[
                    AttendeeInput(ticket_type_id=sale.ticket_type_id, name="Đỗ Mua", email="mua@example.vn")])
            end_refused(s)
        else:
            waitlist.join(s, event=event, ticket_type=s.get(TicketType, sale.ticket_type_id), user=newcomer,
                          name="Đỗ Chờ", email="docho@example.vn", now=later)

    assert entry_status(db, next_in_line) is WaitingListStatus.OFFERED
    assert_counted(db, sale.quota_id, 1)


# --- one answer per cancel -------------------------------------------------------------------

def test_simultaneous_cancels_of_one_free_ticket_answer_once(app, db, make_user):
    if db.is_sqlite:
        pytest.skip("SQLite lets one writer in at a time; the race needs PostgreSQL")
    sale = create_sale(db, seats=5)
    holder = make_user()
    ticket_id = take_seat(app, db, sale, holder).tickets[0].id
    start, answers, lock = threading.Barrier(8), [], threading.Lock()

    def cancel() -> None:
        with app.test_request_context():
            session = db.write_session_factory()
            try:
                ticket = session.get(Ticket, ticket_id)
                ticket.may_cancel  # noqa: B018 - what the page reads before the holder presses the button
                start.wait(timeout=30)
                orders.cancel_free_ticket(session, session.get(User, holder.id), ticket)
                session.commit()
                answer = "cancelled"
            except Conflict as refusal:
                session.rollback()
                answer = str(refusal.message)
            finally:
                session.close()
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=cancel) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert Counter(answers) == {"cancelled": 1, "Vé này đã bị hủy.": 7}  # "This ticket is already cancelled."
    assert_counted(db, sale.quota_id, 0)


# --- the cost of an order --------------------------------------------------------------------

def test_an_order_costs_the_same_statements_however_many_seats_are_sold(app, db, make_user):
    """Flat cost: the statements of one order do not grow with the tickets sold (before the counters, one of them
    counted every live ticket of the quota under its lock)."""
    sale = create_sale(db, seats=1000)
    buyer = make_user()

    def statements_of_one_order() -> int:
        with app.test_request_context(), db.transaction() as s:
            event = orders.load_event_for_sale(s, s.get(Event, sale.event_id).slug)
            user = s.get(User, buyer.id)
            with count_queries(db.engine) as counter:
                orders.place_order(s, event=event, buyer=user, attendees=[
                    AttendeeInput(ticket_type_id=sale.ticket_type_id, name="Mua", email="mua@example.vn")])
                s.flush()
        return len(counter)

    first = statements_of_one_order()
    for _ in range(30):
        take_seat(app, db, sale, make_user())
    assert statements_of_one_order() == first
    # the order, its ticket, its confirmation mail, the lapsed seats' check and the counter's raise
    assert first == 5
