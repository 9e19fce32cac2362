"""Holding a booth: one holder however many exhibitors click at once, holds that run out by the clock, blocked
booths, and the selection's windows and deadline."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import Organisation, User
from portal.audit.models import AuditEntry
from portal.booths import services
from portal.booths.models import BookingStatus, BoothBooking, BoothState, PriorityWindow
from portal.booths.plan import booth_plan
from portal.db import utcnow
from portal.errors import Conflict
from portal.events.models import Event
from portal.i18n import format_local_datetime
from tests.support.booths import as_exhibitor, as_organiser, create_hall, join_organisation

EXHIBITORS = 32


def bookings(db, **where) -> list[BoothBooking]:
    with db.session_factory() as s:
        return list(s.scalars(select(BoothBooking).filter_by(**where).order_by(BoothBooking.id)))


def test_32_exhibitors_clicking_one_booth_at_once_leave_exactly_one_holder(app, db, make_user):
    hall = create_hall(db, make_user)
    exhibitors = [make_user(email=f"exhibitor{n}@example.vn", locale="en") for n in range(EXHIBITORS)]
    start_together = threading.Barrier(EXHIBITORS)
    outcomes, errors = [], []

    def click(exhibitor: User) -> None:
        start_together.wait()
        try:
            as_exhibitor(app, db, services.hold_booth, exhibitor, hall.booths["A-01"])
            outcomes.append(("held", exhibitor.id))
        except services.BoothTaken as taken:
            with app.test_request_context(), force_locale("en"):
                outcomes.append((str(taken.message), exhibitor.id))
        except Exception as exc:  # noqa: BLE001 - any other failure is collected and fails the test
            errors.append(exc)

    threads = [threading.Thread(target=click, args=(exhibitor,)) for exhibitor in exhibitors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert Counter(outcome for outcome, _ in outcomes) == {
        "held": 1,
        "Booth A-01 has just been taken by another exhibitor. Please choose another one.": EXHIBITORS - 1,
    }
    [holder] = [exhibitor_id for outcome, exhibitor_id in outcomes if outcome == "held"]
    [booking] = bookings(db, booth_id=hall.booths["A-01"])
    assert (booking.exhibitor_id, booking.status) == (holder, BookingStatus.HELD)


def test_the_database_itself_refuses_a_second_active_booking_of_a_booth(db, make_user):
    """The guarantee does not depend on the service: a second active row cannot be written at all."""
    hall = create_hall(db, make_user)
    first, second = make_user(), make_user()
    now = utcnow()
    with db.transaction() as s:
        s.add(BoothBooking(event_id=hall.event_id, booth_id=hall.booths["A-01"], exhibitor_id=first.id,
                           status=BookingStatus.SOLD, hold_expires_at=now))
    with pytest.raises(IntegrityError), db.transaction() as s:
        s.add(BoothBooking(event_id=hall.event_id, booth_id=hall.booths["A-01"], exhibitor_id=second.id,
                           status=BookingStatus.HELD, hold_expires_at=now + timedelta(minutes=15)))
    with db.transaction() as s:  # ended bookings do not count: the booth's history may hold many
        s.add_all(BoothBooking(event_id=hall.event_id, booth_id=hall.booths["A-01"], exhibitor_id=second.id,
                               status=status, hold_expires_at=now)
                  for status in (BookingStatus.RELEASED, BookingStatus.EXPIRED, BookingStatus.CANCELLED))


def test_a_hold_lasts_the_events_hold_time_and_then_frees_the_booth_by_itself(app, db, make_user):
    hall = create_hall(db, make_user, hold_minutes=15)
    first, second = make_user(), make_user(locale="en")
    now = utcnow()
    held = as_exhibitor(app, db, services.hold_booth, first, hall.booths["A-01"], now=now)
    assert held.hold_expires_at == now + timedelta(minutes=15)

    fourteen_minutes_later = now + timedelta(minutes=14, seconds=59)
    with pytest.raises(services.BoothTaken):
        as_exhibitor(app, db, services.hold_booth, second, hall.booths["A-01"], now=fourteen_minutes_later)
    with app.test_request_context(), db.session_factory() as s:
        plan = booth_plan(s, s.get(Event, hall.event_id), None, now=fourteen_minutes_later)
        assert {b.booth.number: b.state for b in plan.booths}["A-01"] is BoothState.HELD
        # a read after the expiry sees the booth free although nothing has swept the hold yet
        plan = booth_plan(s, s.get(Event, hall.event_id), None, now=now + timedelta(minutes=15))
        assert {b.booth.number: b.state for b in plan.booths}["A-01"] is BoothState.AVAILABLE

    taken_over = as_exhibitor(app, db, services.hold_booth, second, hall.booths["A-01"],
                              now=now + timedelta(minutes=15))
    assert taken_over.exhibitor_id == second.id
    old, new = bookings(db, booth_id=hall.booths["A-01"])
    assert (old.status, old.ended_at) == (BookingStatus.EXPIRED, now + timedelta(minutes=15))
    assert new.status is BookingStatus.HELD
    with db.session_factory() as s:
        actions = list(s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == ["booth.hold", "booth.expire_hold", "booth.hold"]


def test_submitting_after_the_hold_ran_out_is_refused_with_the_time_it_ended(app, db, make_user):
    hall = create_hall(db, make_user)
    exhibitor = make_user(locale="en")
    now = utcnow()
    held = as_exhibitor(app, db, services.hold_booth, exhibitor, hall.booths["A-01"], now=now)
    application = services.Application("Sao Mai Tech", "0101234567", "Robots", "Lê Hà", "ha@saomai.vn", "0912345678")
    with pytest.raises(services.HoldExpired) as refused:
        as_exhibitor(app, db, services.submit_application, exhibitor, held.id, application,
                     now=now + timedelta(minutes=16))
    with app.test_request_context(), force_locale("en"):
        assert str(refused.value.message).startswith("Your hold on booth A-01 ran out at ")
    [booking] = bookings(db)
    assert booking.status is BookingStatus.HELD and booking.company_name == ""


def test_the_sweep_expires_only_holds_past_their_time(app, db, make_user):
    hall = create_hall(db, make_user)
    now = utcnow()
    early = as_exhibitor(app, db, services.hold_booth, make_user(), hall.booths["A-01"], now=now)
    late = as_exhibitor(app, db, services.hold_booth, make_user(), hall.booths["A-02"], now=now + timedelta(minutes=5))
    with app.test_request_context(), db.transaction() as s:
        expired = services.expire_holds(s, now + timedelta(minutes=15))
    assert [b.id for b in expired] == [early.id]
    statuses = {b.id: b.status for b in bookings(db)}
    assert statuses == {early.id: BookingStatus.EXPIRED, late.id: BookingStatus.HELD}


def test_choosing_ones_own_held_booth_again_keeps_the_same_hold(app, db, make_user):
    hall = create_hall(db, make_user)
    exhibitor = make_user()
    first = as_exhibitor(app, db, services.hold_booth, exhibitor, hall.booths["A-01"])
    again = as_exhibitor(app, db, services.hold_booth, exhibitor, hall.booths["A-01"])
    assert again.id == first.id and len(bookings(db)) == 1


def test_an_exhibitor_holds_one_booth_at_a_time(app, db, make_user):
    hall = create_hall(db, make_user)
    exhibitor = make_user(locale="en")
    first = as_exhibitor(app, db, services.hold_booth, exhibitor, hall.booths["A-01"])
    with pytest.raises(Conflict) as refused:
        as_exhibitor(app, db, services.hold_booth, exhibitor, hall.booths["A-02"])
    with app.test_request_context(), force_locale("en"):
        assert str(refused.value.message) == ("You are holding booth A-01. Submit its application or let it go "
                                              "before choosing another booth.")
    as_exhibitor(app, db, services.release_hold, exhibitor, first.id)
    assert as_exhibitor(app, db, services.hold_booth, exhibitor, hall.booths["A-02"]).status is BookingStatus.HELD


def test_a_blocked_booth_refuses_holds_until_it_is_unblocked(app, db, make_user):
    hall = create_hall(db, make_user)
    exhibitor = make_user(locale="en")
    as_organiser(app, db, services.block_booth, hall, hall.booths["B-01"])
    with pytest.raises(services.BoothNotForSale) as refused:
        as_exhibitor(app, db, services.hold_booth, exhibitor, hall.booths["B-01"])
    with app.test_request_context(), force_locale("en"):
        assert str(refused.value.message) == "Booth B-01 is not for sale."
    as_organiser(app, db, services.unblock_booth, hall, hall.booths["B-01"])
    assert as_exhibitor(app, db, services.hold_booth, exhibitor, hall.booths["B-01"]).status is BookingStatus.HELD


def test_a_held_booth_cannot_be_blocked_but_an_expired_hold_does_not_stop_it(app, db, make_user):
    hall = create_hall(db, make_user)
    now = utcnow()
    as_exhibitor(app, db, services.hold_booth, make_user(), hall.booths["A-01"], now=now)
    with pytest.raises(Conflict):
        as_organiser(app, db, services.block_booth, hall, hall.booths["A-01"], now=now + timedelta(minutes=1))
    booth = as_organiser(app, db, services.block_booth, hall, hall.booths["A-01"], now=now + timedelta(minutes=20))
    assert booth.blocked
    [booking] = bookings(db)
    assert booking.status is BookingStatus.EXPIRED


def short(moment) -> str:
    return format_local_datetime(moment, "short")


def _message(app, error) -> str:
    with app.test_request_context(), force_locale("en"):
        return str(error.message)


def test_sponsors_choose_first_and_everyone_else_is_told_when_their_turn_comes(app, db, make_user):
    now = utcnow().replace(microsecond=0)
    sponsors_open, everyone_opens = now - timedelta(hours=1), now + timedelta(days=2)
    hall = create_hall(db, make_user, opens_at=everyone_opens)
    sponsor, newcomer = make_user(locale="en"), make_user(locale="en")
    sponsor_org = join_organisation(db, sponsor, "Ngân hàng Demo")
    join_organisation(db, newcomer, "Startup Demo")
    with db.transaction() as s:
        window = PriorityWindow(event_id=hall.event_id, name_vi="nhà tài trợ", name_en="sponsors",
                                opens_at=sponsors_open)
        window.organisations = [s.get(Organisation, sponsor_org)]
        s.add(window)

    with pytest.raises(services.SelectionClosed) as refused:
        as_exhibitor(app, db, services.hold_booth, newcomer, hall.booths["A-01"], now=now)
    with app.test_request_context(), force_locale("en"):
        general = short(everyone_opens)
    assert _message(app, refused.value) == (f"Booth selection is open to sponsors now; for everyone it opens at "
                                            f"{general}.")

    held = as_exhibitor(app, db, services.hold_booth, sponsor, hall.booths["A-01"], now=now)
    assert held.organisation_id == sponsor_org
    assert as_exhibitor(app, db, services.hold_booth, newcomer, hall.booths["A-02"],
                        now=everyone_opens).status is BookingStatus.HELD


def test_before_any_window_opens_the_message_names_both_times(app, db, make_user):
    now = utcnow().replace(microsecond=0)
    hall = create_hall(db, make_user, opens_at=now + timedelta(days=3))
    with db.transaction() as s:
        s.add(PriorityWindow(event_id=hall.event_id, name_vi="nhà tài trợ", name_en="sponsors",
                             opens_at=now + timedelta(days=1)))
    with pytest.raises(services.SelectionClosed) as refused:
        as_exhibitor(app, db, services.hold_booth, make_user(locale="en"), hall.booths["A-01"], now=now)
    with app.test_request_context(), force_locale("en"):
        window, general = short(now + timedelta(days=1)), short(now + timedelta(days=3))
    assert _message(app, refused.value) == f"Booth selection opens for sponsors at {window}, for everyone at {general}."


def test_no_hold_after_the_selection_deadline(app, db, make_user):
    now = utcnow().replace(microsecond=0)
    hall = create_hall(db, make_user, closes_at=now)
    with pytest.raises(services.SelectionClosed) as refused:
        as_exhibitor(app, db, services.hold_booth, make_user(locale="en"), hall.booths["A-01"], now=now)
    with app.test_request_context(), force_locale("en"):
        assert _message(app, refused.value) == f"Booth selection closed on {short(now)}."
    with db.session_factory() as s:
        assert s.scalar(select(func.count(BoothBooking.id))) == 0
