"""Offering freed seats: in joining order, once per person and per seat, when offers lapse, pending orders expire or
a quota grows, and safely when two runs race for one seat."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.db import utcnow
from portal.events import waitlist
from portal.events.models import Order, Quota, WaitingListEntry, WaitingListStatus
from portal.notifications.models import OutboxMessage
from portal.notifications.scheduler import build_scheduler
from tests.web.test_waitlist import (
    create_sale,
    entry_status,
    join_directly,
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
    scheduler = build_scheduler(app, blocking=False)
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


def test_running_the_job_twice_sends_one_mail(app, db, make_user, mailbox, sale):
    (waiting,) = queue_up(app, db, make_user, sale, "waiting@example.vn")
    grow_quota(db, sale, 2)
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
