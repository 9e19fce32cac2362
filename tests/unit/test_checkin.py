"""The check-in service: a ticket is let in once per event day (in Hanoi), and two staff scanning one ticket at the
same moment record one entry."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time, timedelta

import pytest
from alembic import command
from sqlalchemy import select, text

from portal.accounts.models import Role, User
from portal.db import make_engine
from portal.errors import Conflict
from portal.events.checkin import InvalidTicketCode, Outcome, check_in, default_day, event_days, normalise_area
from portal.events.models import CheckIn, Event, Ticket
from portal.events.orders import cancel_free_ticket
from portal.events.reports import AttendeeFilter, attendee_page, event_report
from portal.i18n import HANOI, hanoi_date
from portal.migrate import alembic_config, upgrade
from tests.conftest import fresh_database_url
from tests.support.ticketing import add_ticket, create_event

SCANNERS = 8


def hanoi(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=HANOI)


def entries(db) -> list[CheckIn]:
    with db.session_factory() as s:
        return list(s.scalars(select(CheckIn).order_by(CheckIn.day)))


@pytest.fixture
def door(db, make_user):
    """A three-day event a month ahead, one of its staff and a ticket: (event, staff, ticket, its days)."""
    staff = make_user(Role.ORGANISER, email="door@example.vn", name="Trần Thị Bình")
    event = create_event(db, team=(staff,))
    ticket = add_ticket(db, event, make_user(email="buyer@example.vn"))
    return event, staff, ticket, event_days(event)


def scan_at(db, staff: User, event: Event, ticket: Ticket, moment: datetime, area: str = ""):
    with db.transaction() as s:
        result = check_in(s, s.get(User, staff.id), s.get(Event, event.id), ticket.code, area, now=moment)
        return result.outcome, result.entry and (result.entry.day, result.entry.checked_in_at,
                                                 result.entry.checked_in_by.full_name)


def test_the_event_runs_on_the_hanoi_days_from_its_start_to_its_end(door):
    event, _, _, days = door
    assert days == [hanoi_date(event.starts_at) + timedelta(days=n) for n in range(3)]
    assert days[-1] == hanoi_date(event.ends_at)
    assert default_day(event) == days[0]  # not running yet: the check-in page opens on the first day
    assert default_day(event, now=hanoi(days[1], 10)) == days[1]


def test_a_multi_day_pass_is_let_in_once_on_each_day_and_a_second_scan_the_same_day_says_when_and_by_whom(
        db, door):
    event, staff, ticket, (day1, day2, _) = door

    assert scan_at(db, staff, event, ticket, hanoi(day1, 8, 15), "Gate A")[0] is Outcome.VALID
    outcome, (day, at, by) = scan_at(db, staff, event, ticket, hanoi(day1, 16, 40), "Gate B")
    assert (outcome, day, at.astimezone(HANOI), by) == (Outcome.ALREADY, day1, hanoi(day1, 8, 15), "Trần Thị Bình")
    assert scan_at(db, staff, event, ticket, hanoi(day2, 9, 0))[0] is Outcome.VALID
    assert scan_at(db, staff, event, ticket, hanoi(day2, 9, 1))[0] is Outcome.ALREADY

    assert [(e.day, e.area) for e in entries(db)] == [(day1, "Gate A"), (day2, "")]


def test_the_day_changes_at_midnight_in_hanoi_not_in_utc(db, door):
    event, staff, ticket, (day1, day2, _) = door
    late, early = hanoi(day1, 23, 59), hanoi(day2, 0, 1)  # 16:59 and 17:01 UTC, the same UTC day

    assert scan_at(db, staff, event, ticket, late)[0] is Outcome.VALID
    assert scan_at(db, staff, event, ticket, early)[0] is Outcome.VALID
    assert [e.day for e in entries(db)] == [day1, day2]


@pytest.mark.parametrize("offset", [timedelta(days=-1), timedelta(days=3)], ids=["the-day-before", "the-day-after"])
def test_a_scan_on_a_day_the_event_does_not_run_is_refused_and_nothing_is_recorded(db, door, offset):
    event, staff, ticket, (day1, *_) = door
    assert scan_at(db, staff, event, ticket, hanoi(day1, 10) + offset) == (Outcome.NOT_EVENT_DAY, None)
    assert entries(db) == []


def test_a_cancelled_ticket_is_called_cancelled_even_on_a_day_the_event_does_not_run(db, door, make_user):
    event, staff, _, (day1, *_) = door
    cancelled = add_ticket(db, event, make_user(email="gone@example.vn"), cancelled=True)
    assert scan_at(db, staff, event, cancelled, hanoi(day1, 10) - timedelta(days=7))[0] is Outcome.CANCELLED


@pytest.mark.parametrize("day_index", [0, 1])
def test_eight_staff_scanning_one_ticket_at_once_record_one_entry_per_day(db, make_user, door, day_index):
    event, _, ticket, days = door
    staff = [make_user(Role.ORGANISER, email=f"door{n}@example.vn") for n in range(SCANNERS)]
    if day_index:  # the pass was used the day before: that entry must not count as today's
        scan_at(db, staff[0], event, ticket, hanoi(days[0], 9))
    moment = hanoi(days[day_index], 10)
    start_together = threading.Barrier(SCANNERS)

    def scan(scanner: User) -> tuple[Outcome, int]:
        start_together.wait()
        with db.transaction() as s:
            result = check_in(s, s.get(User, scanner.id), s.get(Event, event.id), ticket.code, area="Gate A",
                              now=moment)
            return result.outcome, result.entry.checked_in_by_id

    with ThreadPoolExecutor(SCANNERS) as pool:
        answers = list(pool.map(scan, staff))

    assert Counter(outcome for outcome, _ in answers) == {Outcome.VALID: 1, Outcome.ALREADY: SCANNERS - 1}
    todays = [e for e in entries(db) if e.day == days[day_index]]
    assert len(todays) == 1 and len(entries(db)) == day_index + 1
    winner = next(by for outcome, by in answers if outcome is Outcome.VALID)
    assert todays[0].checked_in_by_id == winner
    assert {by for _, by in answers} == {winner}  # every ALREADY names the one who let the attendee in today


def test_a_ticket_let_in_on_two_days_counts_once_on_the_dashboard_and_in_the_attendee_list(db, door, make_user):
    event, staff, ticket, (day1, day2, _) = door
    add_ticket(db, event, make_user(email="absent@example.vn"), email="absent@example.vn")
    scan_at(db, staff, event, ticket, hanoi(day1, 9))
    scan_at(db, staff, event, ticket, hanoi(day2, 9))

    with db.session_factory() as s:
        event_now = s.get(Event, event.id)
        report = event_report(s, event_now)
        assert (report.valid_tickets, report.checked_in) == (2, 1)
        came, total = attendee_page(s, event_now, AttendeeFilter(checked_in=True), 1)
        assert ([t.id for t in came], total) == ([ticket.id], 1)
        assert [e.day for e in came[0].check_ins] == [day1, day2]
        assert came[0].first_check_in.day == day1
        absent, total = attendee_page(s, event_now, AttendeeFilter(checked_in=False), 1)
        assert ([t.attendee_email for t in absent], total) == (["absent@example.vn"], 1)


def test_a_free_ticket_used_on_any_day_can_no_longer_be_cancelled_by_its_holder(db, door):
    event, staff, ticket, (day1, *_) = door
    scan_at(db, staff, event, ticket, hanoi(day1, 9))
    with db.transaction() as s, pytest.raises(Conflict, match="already been used to enter"):
        held = s.get(Ticket, ticket.id)
        cancel_free_ticket(s, held.order.buyer, held)


@pytest.mark.parametrize("code", ["", "short", "x" * 44, "a" * 42 + "!", "https://innovation.hanoi/t/abc"])
def test_anything_but_a_43_character_url_safe_code_is_not_a_ticket_code(db, make_user, code):
    staff = make_user(Role.ORGANISER)
    event = create_event(db, team=(staff,))
    with db.transaction() as s, pytest.raises(InvalidTicketCode):
        check_in(s, s.get(User, staff.id), s.get(Event, event.id), code)


def test_an_area_is_kept_short_and_single_spaced():
    assert normalise_area("  Hội trường \n  A ") == "Hội trường A"
    assert len(normalise_area("x" * 200)) == 80


# --- the migration to one entry per day --------------------------------------------------------

def test_the_migration_gives_each_entry_the_hanoi_day_it_was_made_on_and_going_back_keeps_the_first(
        tmp_path_factory):
    """Up to 0003 entries get the Hanoi date of checked_in_at (17:30 UTC is the next morning in Hanoi); down to
    0002 keeps each ticket's first entry, which the old one-entry-per-ticket schema can hold."""
    url = fresh_database_url(tmp_path_factory, "checkin_days")
    upgrade(url, "0002_event_registration")
    engine = make_engine(url)
    rows = [(1, "2026-12-10 01:30:00"), (2, "2026-12-10 17:30:00")]
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO users (id, email, full_name, password_hash, locale, is_active, created_at) "
                          "VALUES (1, 'door@example.vn', 'Door', 'x', 'vi', true, '2026-01-01 00:00:00')"))
        conn.execute(text("INSERT INTO events (id, slug, name_vi, name_en, description_vi, description_en, venue_vi,"
                          " venue_en, starts_at, ends_at, status, created_at, pending_order_minutes,"
                          " waitlist_offer_hours) VALUES (1, 'e', 'E', 'E', '', '', '', '', '2026-12-10 00:00:00',"
                          " '2026-12-12 00:00:00', 'published', '2026-01-01 00:00:00', 60, 48)"))
        conn.execute(text("INSERT INTO ticket_types (id, event_id, name_vi, name_en, description_vi, description_en,"
                          " price, max_per_order, eligibility, position) VALUES (1, 1, 'V', 'V', '', '', 0, 5,"
                          " 'anyone', 0)"))
        conn.execute(text("INSERT INTO orders (id, code, event_id, buyer_id, status, total, provider, locale,"
                          " created_at) VALUES (1, 'ORDER1', 1, 1, 'paid', 0, 'free', 'vi', '2026-01-01 00:00:00')"))
        for ticket_id, at in rows:
            conn.execute(text("INSERT INTO tickets (id, order_id, ticket_type_id, price, code, attendee_name,"
                              " attendee_email, attendee_organisation, answers) VALUES"
                              " (:id, 1, 1, 0, :code, 'A', 'a@example.vn', '', '{}')"),
                         {"id": ticket_id, "code": f"code{ticket_id}"})
            conn.execute(text("INSERT INTO check_ins (ticket_id, checked_in_at, checked_in_by_id, area) VALUES"
                              " (:id, :at, 1, '')"), {"id": ticket_id, "at": at})
    try:
        upgrade(url, "0003_checkin_per_day")
        with engine.begin() as conn:
            days = conn.execute(text("SELECT ticket_id, day FROM check_ins ORDER BY ticket_id")).all()
            assert [(t, str(d)) for t, d in days] == [(1, "2026-12-10"), (2, "2026-12-11")]
            conn.execute(text("INSERT INTO check_ins (ticket_id, checked_in_at, day, area) VALUES"
                              " (1, '2026-12-11 02:00:00', '2026-12-11', '')"))
        command.downgrade(alembic_config(url), "0002_event_registration")
        with engine.begin() as conn:
            kept = conn.execute(text("SELECT ticket_id, checked_in_at FROM check_ins ORDER BY ticket_id")).all()
            assert [(t, str(at)[:16]) for t, at in kept] == [(1, "2026-12-10 01:30"), (2, "2026-12-10 17:30")]
    finally:
        engine.dispose()
