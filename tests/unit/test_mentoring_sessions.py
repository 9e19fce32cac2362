"""Booking: confirmed at once or on acceptance, never two overlapping confirmed sessions of one mentor (the database
refuses them, also under real concurrency), mail with a calendar file to both sides, signed links that stop working
once used, and feedback after the session."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from flask_babel import force_locale
from icalendar import Calendar
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import User
from portal.db import utcnow
from portal.errors import PermissionDenied
from portal.mentoring import sessions
from portal.mentoring.models import FeedbackSide, MentoringSession, MentorProfile, SessionStatus
from portal.notifications.models import OutboxMessage
from tests.support.mentoring import make_mentor, make_startup


@pytest.fixture(autouse=True)
def _request(app):
    with app.test_request_context(), force_locale("en"):
        yield


def first_slot(db, mentor_id: int, skip: int = 0):
    with db.session_factory() as s:
        mentor = sessions.mentor_for_booking(s, mentor_id)
        return sessions.slots_for(s, mentor, 60, utcnow(), days=3)[skip]


def book(db, mentor_id: int, founder: User, organisation_id: int, start) -> MentoringSession:
    with db.transaction() as s:
        mentor = sessions.mentor_for_booking(s, mentor_id)
        booked = sessions.book(s, mentor, organisation_id, s.get(User, founder.id), start, 60, "Seed round", utcnow())
        s.flush()
        s.expunge(booked)
        return booked


def test_a_booking_is_confirmed_and_both_sides_get_the_calendar_file(app, db, make_user):
    mentor_user, mentor_id = make_mentor(db, make_user)
    founder, startup = make_startup(db, make_user)
    start = first_slot(db, mentor_id)
    booked = book(db, mentor_id, founder, startup, start)
    assert booked.status == SessionStatus.CONFIRMED
    with db.session_factory() as s:
        mails = s.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key.like("mentoring:%"))).all()
    assert sorted(m.to_address for m in mails) == sorted([mentor_user.email, founder.email])
    attachment = mails[0].attachments[0]
    import base64

    calendar = Calendar.from_ical(base64.b64decode(attachment["data"]))
    event = calendar.walk("VEVENT")[0]
    assert event.decoded("dtstart") == start and event.decoded("dtend") == start + timedelta(hours=1)
    assert "Startup" in str(event.get("summary")) and str(event.get("location")) == "https://meet.example/room"
    # the slot is gone for everyone else
    assert first_slot(db, mentor_id) != start


def test_a_taken_slot_is_refused_with_fresh_slots_and_the_database_refuses_an_overlap_anyway(app, db, make_user):
    _mentor, mentor_id = make_mentor(db, make_user, buffer=15)
    founder, startup = make_startup(db, make_user)
    other, other_startup = make_startup(db, make_user, "Other")
    start = first_slot(db, mentor_id)
    book(db, mentor_id, founder, startup, start)
    with pytest.raises(sessions.SlotTaken):
        book(db, mentor_id, other, other_startup, start)
    # written around the service: the constraint (PostgreSQL) or the trigger (SQLite) still says no
    with pytest.raises(IntegrityError), db.transaction() as s:
        s.add(MentoringSession(mentor_id=mentor_id, organisation_id=other_startup, starts_at=start + timedelta(
            minutes=70), ends_at=start + timedelta(minutes=130), blocked_until=start + timedelta(minutes=145),
            status=SessionStatus.CONFIRMED))
        s.flush()


def test_a_time_outside_the_hours_or_too_soon_is_refused(app, db, make_user):
    _mentor, mentor_id = make_mentor(db, make_user, notice=48)
    founder, startup = make_startup(db, make_user)
    with pytest.raises(sessions.SlotNotOffered):
        book(db, mentor_id, founder, startup, utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(hours=3))
    stranger = make_user()
    with pytest.raises(PermissionDenied):
        book(db, mentor_id, stranger, startup, first_slot(db, mentor_id))


def test_simultaneous_bookings_of_one_slot_make_one_session(app, db, make_user):
    _mentor, mentor_id = make_mentor(db, make_user)
    founders = [make_startup(db, make_user, f"Startup {i}") for i in range(6)]
    start = first_slot(db, mentor_id)
    outcomes, barrier = [], threading.Barrier(len(founders))

    def attempt(founder, startup):
        with app.test_request_context():
            barrier.wait()
            try:
                book(db, mentor_id, founder, startup, start)
                outcomes.append("booked")
            except sessions.SlotTaken:
                outcomes.append("taken")

    threads = [threading.Thread(target=attempt, args=pair) for pair in founders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["booked"] + ["taken"] * 5
    with db.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(MentoringSession)) == 1


def test_two_requests_for_one_time_accepted_at_once_confirm_one(app, db, make_user):
    mentor_user, mentor_id = make_mentor(db, make_user, confirms=False)
    first, first_startup = make_startup(db, make_user, "First")
    second, second_startup = make_startup(db, make_user, "Second")
    start = first_slot(db, mentor_id)
    # two pending requests for one time (as two startups asking at the same moment can leave)
    with db.transaction() as s:
        ids = []
        for founder, startup in ((first, first_startup), (second, second_startup)):
            pending = MentoringSession(mentor_id=mentor_id, organisation_id=startup, booked_by_id=founder.id,
                                       starts_at=start, ends_at=start + timedelta(hours=1),
                                       blocked_until=start + timedelta(hours=1), status=SessionStatus.PENDING)
            s.add(pending)
            s.flush()
            ids.append(pending.id)
    outcomes, barrier = [], threading.Barrier(2)

    def accept(session_id):
        with app.test_request_context():
            barrier.wait()
            try:
                with db.transaction() as s:
                    sessions.decide(s, s.get(MentoringSession, session_id), s.get(User, mentor_user.id), True,
                                    utcnow())
                outcomes.append("confirmed")
            except sessions.SlotTaken:
                outcomes.append("taken")

    threads = [threading.Thread(target=accept, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["confirmed", "taken"]
    with db.session_factory() as s:
        statuses = sorted(s.scalars(select(MentoringSession.status)).all())
    assert statuses == [SessionStatus.CONFIRMED, SessionStatus.PENDING]


def test_a_reschedule_link_works_once_and_a_tampered_one_never(app, db, make_user):
    _mentor, mentor_id = make_mentor(db, make_user)
    founder, startup = make_startup(db, make_user)
    booked = book(db, mentor_id, founder, startup, first_slot(db, mentor_id))
    with db.session_factory() as s:
        token = sessions.session_link_token(s.get(MentoringSession, booked.id), "startup")
    later = first_slot(db, mentor_id, skip=2)
    with db.transaction() as s:
        found, side = sessions.session_from_link(s, token)
        assert side == "startup"
        sessions.reschedule(s, found, later, utcnow())
    with db.session_factory() as s:
        assert s.get(MentoringSession, booked.id).starts_at == later
        for stale in (token, token[:-2] + "xy", "nonsense"):
            with pytest.raises(sessions.InvalidSessionLink):
                sessions.session_from_link(s, stale)


def test_feedback_opens_once_the_session_has_taken_place(app, db, make_user):
    mentor_user, mentor_id = make_mentor(db, make_user)
    founder, startup = make_startup(db, make_user)
    booked = book(db, mentor_id, founder, startup, first_slot(db, mentor_id))
    with pytest.raises(sessions.Conflict), db.transaction() as s:
        sessions.give_feedback(s, s.get(MentoringSession, booked.id), FeedbackSide.STARTUP, s.get(User, founder.id),
                               5, "Great", False, utcnow())
    after = booked.ends_at + timedelta(minutes=5)
    with db.transaction() as s:
        sessions.give_feedback(s, s.get(MentoringSession, booked.id), FeedbackSide.MENTOR,
                               s.get(User, mentor_user.id), 4, "Prepare the deck", True, after)
    with db.session_factory() as s:
        feedback = s.get(MentoringSession, booked.id).feedback
        assert [(f.side, f.rating, f.for_managers_only) for f in feedback] == [(FeedbackSide.MENTOR, 4, True)]
        assert s.get(MentorProfile, mentor_id).user_id == mentor_user.id
