"""Offering freed seats: in joining order, once per person and per seat, when offers lapse, pending orders expire or
a quota grows, and safely when two runs race for one seat."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.db import utcnow
from portal.events import manage, orders, waitlist
from portal.events.models import (
    Eligibility,
    Event,
    EventStatus,
    Order,
    OrderStatus,
    Quota,
    TicketType,
    WaitingListEntry,
    WaitingListStatus,
)
from portal.finance import services as finance
from portal.notifications.models import OutboxMessage
from portal.notifications.scheduler import build_scheduler
from tests.support.finance import pay_by_hand
from tests.web.test_waitlist import (
    create_sale,
    entry_status,
    join_directly,
    join_directly_in,
    offer_link,
    offer_seats,
    run_registration_job,
    take_seat,
)


@pytest.fixture
def sale(db):
    return create_sale(db, offer_hours=48)


def queue_up(app, db, make_user, sale, *emails: str) -> list[int]:
    """The quota is full and these people wait, in this order."""
    take_seat(app, db, sale, make_user())
    return [join_directly(db, sale, make_user(email=email, locale="en")) for email in emails]


def grow_quota(db, sale, size: int) -> None:
    with db.transaction() as s:
        s.get(Quota, sale.quota_id).size = size


def mails_to(db, address: str) -> int:
    with db.session_factory() as s:
        return s.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.to_address == address))


def test_the_registration_job_runs_every_minute(app):
    scheduler = build_scheduler(app)
    scheduler.start(paused=True)
    try:
        assert scheduler.get_job("release_and_offer_seats").trigger.interval.total_seconds() == 60
    finally:
        scheduler.shutdown(wait=False)


def test_a_lapsed_offer_passes_to_the_next_person(app, db, make_user, mailbox, sale):
    first, second = queue_up(app, db, make_user, sale, "first@example.vn", "second@example.vn")
    grow_quota(db, sale, 2)
    offer_seats(app, db, sale)
    assert [entry_status(db, first), entry_status(db, second)] == [WaitingListStatus.OFFERED,
                                                                   WaitingListStatus.WAITING]
    with db.transaction() as s:
        entry = s.get(WaitingListEntry, first)
        assert entry.offer_expires_at - entry.offered_at == timedelta(hours=48)
        entry.offer_expires_at = utcnow() - timedelta(seconds=1)

    run_registration_job(app)

    with db.session_factory() as s:
        lapsed = s.get(WaitingListEntry, first)
        assert (lapsed.status, lapsed.offer_token_hash) == (WaitingListStatus.LAPSED, None)
    assert entry_status(db, second) is WaitingListStatus.OFFERED
    assert offer_link(mailbox, "second@example.vn")


def test_someone_whose_offer_ran_out_may_queue_again_at_the_end(app, db, make_user, sale):
    late_person = make_user(email="late@example.vn")
    take_seat(app, db, sale, make_user())
    late = join_directly(db, sale, late_person)
    second = join_directly(db, sale, make_user(email="second@example.vn"))
    grow_quota(db, sale, 2)
    offer_seats(app, db, sale)
    with db.transaction() as s:
        s.get(WaitingListEntry, late).offer_expires_at = utcnow() - timedelta(seconds=1)
    run_registration_job(app)
    assert entry_status(db, second) is WaitingListStatus.OFFERED
    third = join_directly(db, sale, make_user(email="third@example.vn"))

    assert join_directly(db, sale, late_person) == late
    grow_quota(db, sale, 3)
    assert offer_seats(app, db, sale) == [third]
    assert entry_status(db, late) is WaitingListStatus.WAITING


def test_an_expired_pending_order_frees_a_seat_that_is_offered(app, db, make_user, mailbox):
    sale = create_sale(db, price=150_000)
    (waiting,) = queue_up(app, db, make_user, sale, "waiting@example.vn")
    with db.transaction() as s:
        s.scalar(select(Order)).expires_at = utcnow() - timedelta(minutes=1)

    run_registration_job(app)

    with db.session_factory() as s:
        assert s.scalar(select(Order.status)) == "expired"
    assert entry_status(db, waiting) is WaitingListStatus.OFFERED
    assert offer_link(mailbox, "waiting@example.vn")


def test_a_raised_quota_offers_its_new_seats_in_joining_order(app, db, make_user, sale):
    entries = queue_up(app, db, make_user, sale, "a@example.vn", "b@example.vn", "c@example.vn")
    grow_quota(db, sale, 3)
    assert offer_seats(app, db, sale) == entries[:2]
    assert entry_status(db, entries[2]) is WaitingListStatus.WAITING


def test_someone_already_offered_a_seat_is_not_offered_another(app, db, make_user, sale):
    first, second = queue_up(app, db, make_user, sale, "first@example.vn", "second@example.vn")
    grow_quota(db, sale, 2)
    assert offer_seats(app, db, sale) == [first]
    grow_quota(db, sale, 3)
    assert offer_seats(app, db, sale) == [second]
    assert offer_seats(app, db, sale) == []
    assert mails_to(db, "first@example.vn") == 1


def test_running_the_job_twice_sends_one_mail(app, db, make_user, mailbox):
    sale = create_sale(db, price=150_000)
    queue_up(app, db, make_user, sale, "waiting@example.vn")
    with db.transaction() as s:
        s.scalar(select(Order)).expires_at = utcnow() - timedelta(minutes=1)
    run_registration_job(app)
    run_registration_job(app)
    mailbox.deliver()
    assert len(mailbox.wait_for("waiting@example.vn")) == 1
    assert mails_to(db, "waiting@example.vn") == 1


def test_an_offer_cannot_be_used_twice_at_once(app, db, make_user, mailbox, sale):
    """Two tabs confirming one offer while a second seat is free still give one ticket."""
    (waiting,) = queue_up(app, db, make_user, sale, "waiting@example.vn")
    grow_quota(db, sale, 2)
    offer_seats(app, db, sale)
    token = offer_link(mailbox, "waiting@example.vn").rsplit("/", 1)[1]
    grow_quota(db, sale, 3)
    buyer = make_user()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def confirm() -> None:
        barrier.wait()
        try:
            with app.test_request_context(), db.transaction() as s:
                waitlist.accept_offer(s, token, buyer=buyer, name="Khách", email="khach@example.vn",
                                      organisation="", answers={})
            outcomes.append("booked")
        except waitlist.OfferUnavailable:
            outcomes.append("refused")

    threads = [threading.Thread(target=confirm) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["booked", "refused"]
    with db.session_factory() as s:
        assert s.scalar(select(func.count(Order.id)).where(Order.buyer_id == buyer.id)) == 1


def test_two_runs_at_once_offer_one_free_seat_once(app, db, make_user, sale):
    queue_up(app, db, make_user, sale, "first@example.vn", "second@example.vn")
    grow_quota(db, sale, 2)
    barrier = threading.Barrier(2)
    offered: list[list[int]] = []
    errors: list[BaseException] = []

    def run() -> None:
        barrier.wait()
        try:
            offered.append(offer_seats(app, db, sale))
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(len(ids) for ids in offered) == [0, 1]
    with db.session_factory() as s:
        statuses = s.scalars(select(WaitingListEntry.status).order_by(WaitingListEntry.id)).all()
    assert statuses == [WaitingListStatus.OFFERED, WaitingListStatus.WAITING]


# --- every way seats are freed reaches the list ---------------------------------------------------------------

def test_an_application_the_organisers_refuse_gives_its_seat_to_the_list(app, db, make_user, mailbox, sale):
    with db.transaction() as s:
        s.get(TicketType, sale.ticket_type_id).eligibility = Eligibility.APPROVAL
    applicant = make_user()
    order = take_seat(app, db, sale, applicant)
    assert order.status is OrderStatus.AWAITING_APPROVAL
    waiting = join_directly(db, sale, make_user(email="waiting@example.vn", locale="en"))
    with app.test_request_context(), db.transaction() as s:
        manage.act_on_order(s, make_user(), s.get(Event, sale.event_id), order.id, "cancel")
    assert entry_status(db, waiting) is WaitingListStatus.OFFERED
    assert offer_link(mailbox, "waiting@example.vn")


def test_a_full_refund_gives_the_seat_to_the_list(app, db, make_user, mailbox):
    sale = create_sale(db, price=150_000)
    organiser = make_user()
    order, payment = pay_by_hand(app, db, organiser, make_user(), sale.ticket_type_id)
    waiting = join_directly(db, sale, make_user(email="waiting@example.vn", locale="en"))
    with app.test_request_context(), db.transaction() as s:
        finance.refund(s, s.get(type(organiser), organiser.id), s.get(Event, sale.event_id), payment.id,
                       amount=150_000, reason="Không đến được", request_token="refund-1", now=utcnow())
    with db.session_factory() as s:
        assert s.get(Order, order.id).status is OrderStatus.REFUNDED
    assert entry_status(db, waiting) is WaitingListStatus.OFFERED
    assert offer_link(mailbox, "waiting@example.vn")


def test_a_sale_extended_by_the_organisers_offers_the_seats_freed_after_it_ended(app, db, make_user, mailbox, sale):
    """A seat freed after the sale ended waits; the organisers extending the sale offer it."""
    holder = make_user()
    order = take_seat(app, db, sale, holder)
    waiting = join_directly(db, sale, make_user(email="waiting@example.vn", locale="en"))
    with db.transaction() as s:
        s.get(TicketType, sale.ticket_type_id).sale_ends_at = utcnow() - timedelta(minutes=1)
    with app.test_request_context(), db.transaction() as s:
        orders.cancel_order(s, holder, s.get(Order, order.id))
    assert entry_status(db, waiting) is WaitingListStatus.WAITING

    with app.test_request_context(), db.transaction() as s:
        event = s.get(Event, sale.event_id)
        manage.save_part(s, holder, event, TicketType, {"sale_ends_at": event.ends_at},
                         s.get(TicketType, sale.ticket_type_id))
    assert entry_status(db, waiting) is WaitingListStatus.OFFERED
    assert offer_link(mailbox, "waiting@example.vn")


def test_an_event_published_again_offers_the_seats_freed_while_it_was_closed(app, db, make_user, mailbox, sale,
                                                                              tmp_path):
    holder = make_user()
    order = take_seat(app, db, sale, holder)
    waiting = join_directly(db, sale, make_user(email="waiting@example.vn", locale="en"))
    with db.transaction() as s:
        s.get(Event, sale.event_id).status = EventStatus.CLOSED
    with app.test_request_context(), db.transaction() as s:
        orders.cancel_order(s, holder, s.get(Order, order.id))
    assert entry_status(db, waiting) is WaitingListStatus.WAITING

    with app.test_request_context(), db.transaction() as s:
        manage.update_event(s, holder, s.get(Event, sale.event_id), {"status": EventStatus.PUBLISHED}, cover=None,
                            upload_folder=tmp_path)
    assert entry_status(db, waiting) is WaitingListStatus.OFFERED
    assert offer_link(mailbox, "waiting@example.vn")


def test_someone_joining_while_a_seat_is_freed_is_offered_it(app, db, make_user, sale):
    """The join commits after the cancellation started: the cancellation waits for it (the quota lock) and then
    offers the seat, instead of leaving the newcomer waiting next to a free seat."""
    holder = make_user()
    order = take_seat(app, db, sale, holder)
    newcomer = make_user(email="late@example.vn")
    joined, errors = threading.Event(), []

    def join_and_linger() -> None:
        try:
            with db.transaction() as s:
                join_directly_in(s, sale, newcomer)
                joined.set()
                time.sleep(0.5)  # the cancellation below starts meanwhile
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
            joined.set()

    thread = threading.Thread(target=join_and_linger)
    thread.start()
    assert joined.wait(5)
    with app.test_request_context(), db.transaction() as s:
        orders.cancel_order(s, holder, s.get(Order, order.id))
    thread.join()
    assert errors == []
    with db.session_factory() as s:
        entry = s.scalar(select(WaitingListEntry).where(WaitingListEntry.email == "late@example.vn"))
    assert entry.status is WaitingListStatus.OFFERED
