"""Reading the hall: every booth's state now, whose bookings a viewer may see, a fixed number of statements
however many booths, occupancy and revenue by zone, and the exhibitor list as a spreadsheet."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from flask_babel import force_locale
from openpyxl import load_workbook
from sqlalchemy import select

from portal.accounts.models import User
from portal.booths import services
from portal.booths.models import Booth, BoothState
from portal.booths.plan import BoothFilter, bookings_of, booth_plan, export_exhibitors, zone_report
from portal.db import utcnow
from portal.events.models import Event
from tests.support.booths import add_booths, as_exhibitor, as_organiser, create_hall
from tests.support.web import count_queries
from tests.unit.test_booths_lifecycle import APPLICATION, reserve

#: one booth in every state: number, zone, x, y, w, h, m², price, corner
EVERY_STATE = (
    ("A-01", "A", 0, 0, 3, 3, 9.0, 20_000_000, True),    # available
    ("A-02", "A", 3, 0, 3, 3, 9.0, 20_000_000, False),   # held
    ("A-03", "A", 6, 0, 3, 3, 9.0, 20_000_000, False),   # held, but the hold has run out
    ("B-01", "B", 0, 5, 6, 3, 18.0, 36_000_000, False),  # awaiting approval
    ("B-02", "B", 6, 5, 6, 3, 18.0, 36_000_000, False),  # awaiting payment
    ("C-01", "C", 0, 10, 6, 6, 36.0, 70_000_000, True),  # sold
    ("C-02", "C", 6, 10, 6, 6, 36.0, 70_000_000, False),  # blocked
)


def fill_hall(app, db, make_user):
    """The hall above, in every state; returns it, the moment it describes and the exhibitors by booth."""
    hall = create_hall(db, make_user, booths=EVERY_STATE, approval_required=True)
    now = utcnow()
    people = {number: make_user(email=f"{number.lower()}@example.vn") for number in ("A-02", "A-03", "B-01", "B-02",
                                                                                     "C-01")}
    as_exhibitor(app, db, services.hold_booth, people["A-02"], hall.booths["A-02"], now=now)
    as_exhibitor(app, db, services.hold_booth, people["A-03"], hall.booths["A-03"], now=now - timedelta(minutes=20))
    reserve(app, db, people["B-01"], hall.booths["B-01"], now=now)
    for number in ("B-02", "C-01"):
        reserved = reserve(app, db, people[number], hall.booths[number], now=now)
        as_organiser(app, db, services.approve_application, hall, reserved.id, now=now)
    [sold] = as_exhibitor(app, db, bookings_of, people["C-01"])
    as_organiser(app, db, services.record_payment, hall, sold.id, now=now)
    as_organiser(app, db, services.block_booth, hall, hall.booths["C-02"], now=now)
    return hall, now, people


def read_plan(app, db, hall, viewer: User | None, now):
    with app.test_request_context(), db.session_factory() as s:
        return booth_plan(s, s.get(Event, hall.event_id), s.get(User, viewer.id) if viewer else None, now=now)


def test_the_plan_shows_every_state_and_an_expired_hold_as_available(app, db, make_user):
    hall, now, _people = fill_hall(app, db, make_user)
    plan = read_plan(app, db, hall, None, now)
    assert {b.booth.number: b.state for b in plan.booths} == {
        "A-01": BoothState.AVAILABLE, "A-02": BoothState.HELD, "A-03": BoothState.AVAILABLE,
        "B-01": BoothState.AWAITING_APPROVAL, "B-02": BoothState.AWAITING_PAYMENT, "C-01": BoothState.SOLD,
        "C-02": BoothState.BLOCKED,
    }
    assert [b.shown for b in plan.booths] == ["available", "held", "available", "reserved", "reserved", "sold",
                                              "blocked"]
    assert all(b.booking is None for b in plan.booths)  # the public sees states, never who booked
    assert plan.zones == ["A", "B", "C"] and plan.selection.is_open


def test_an_exhibitor_sees_their_own_booking_and_organisers_see_all(app, db, make_user):
    hall, now, people = fill_hall(app, db, make_user)
    mine = read_plan(app, db, hall, people["B-02"], now)
    assert [(b.booth.number, b.is_own) for b in mine.booths if b.booking] == [("B-02", True)]
    assert [booking.id for booking in mine.own_bookings] == [b.booking.id for b in mine.booths if b.is_own]

    organisers = read_plan(app, db, hall, hall.organiser, now)
    assert organisers.manages
    assert {b.booth.number: b.booking.exhibitor.email for b in organisers.booths if b.booking} == {
        "A-02": "a-02@example.vn", "B-01": "b-01@example.vn", "B-02": "b-02@example.vn", "C-01": "c-01@example.vn"}


def test_the_plan_reads_as_many_statements_for_many_booths_as_for_few(app, db, make_user):
    hall, now, people = fill_hall(app, db, make_user)

    def statements(viewer) -> int:
        with app.test_request_context(), db.session_factory() as s:
            event, user = s.get(Event, hall.event_id), s.get(User, viewer.id)
            with count_queries(db.engine) as counter:
                plan = booth_plan(s, event, user, now=now)
                [(b.booking.exhibitor.email if b.booking else None) for b in plan.booths]
            return len(counter)

    few = {viewer: statements(viewer) for viewer in (hall.organiser, people["B-02"])}
    many = tuple((f"D-{n:02d}", "D", (n % 10) * 3, 20 + (n // 10) * 3, 3, 3, 9.0, 20_000_000, False)
                 for n in range(60))
    add_booths(db, hall, many)
    for n in range(0, 60, 3):
        reserve(app, db, make_user(), _booth_id(db, hall, f"D-{n:02d}"), now=now)
    assert {viewer: statements(viewer) for viewer in few} == few


def _booth_id(db, hall, number: str) -> int:
    with db.session_factory() as s:
        return s.scalar(select(Booth.id).where(Booth.event_id == hall.event_id, Booth.number == number))


def test_filters_narrow_the_plan_by_zone_size_price_features_and_availability(app, db, make_user):
    hall, now, _people = fill_hall(app, db, make_user)
    booths = read_plan(app, db, hall, None, now).booths

    def numbers(wanted: BoothFilter) -> list[str]:
        return [b.booth.number for b in wanted.apply(booths)]

    assert numbers(BoothFilter(zone="A")) == ["A-01", "A-02", "A-03"]
    assert numbers(BoothFilter(min_m2=18, max_m2=18)) == ["B-01", "B-02"]
    assert numbers(BoothFilter(max_price=20_000_000, only_available=True)) == ["A-01", "A-03"]
    assert numbers(BoothFilter(features=frozenset({"corner"}))) == ["A-01", "C-01"]


def test_occupancy_and_revenue_by_zone(app, db, make_user):
    hall, now, _people = fill_hall(app, db, make_user)
    with app.test_request_context(), db.session_factory() as s:
        report = zone_report(s, s.get(Event, hall.event_id), now=now)
    by_zone = {zone.zone: zone for zone in report.zones}
    assert dict(by_zone["A"].booths) == {"available": 2, "held": 1}
    assert by_zone["A"].occupancy == 0
    assert dict(by_zone["B"].booths) == {"reserved": 2}
    assert (by_zone["B"].booked, by_zone["B"].paid, by_zone["B"].occupancy) == (72_000_000, 0, 1.0)
    assert dict(by_zone["C"].booths) == {"sold": 1, "blocked": 1}
    assert (by_zone["C"].booked, by_zone["C"].paid, by_zone["C"].occupancy) == (70_000_000, 70_000_000, 1.0)
    assert (report.total.total, report.total.booked, report.total.paid) == (7, 142_000_000, 70_000_000)
    assert report.total.taken_m2 == 18 + 18 + 36 and report.total.occupancy == 3 / 6


def test_the_exhibitor_export_lists_reservations_and_sales_safely(app, db, make_user):
    hall = create_hall(db, make_user)
    risky = services.Application(**{**vars(APPLICATION), "company_name": '=HYPERLINK("http://x.example")'})
    held = as_exhibitor(app, db, services.hold_booth, make_user(), hall.booths["A-01"])
    as_exhibitor(app, db, services.submit_application, _owner(db, held), held.id, risky)
    as_exhibitor(app, db, services.hold_booth, make_user(), hall.booths["A-02"])  # a hold is not an exhibitor yet
    with app.test_request_context(), force_locale("en"), db.transaction() as s:
        event, organiser = s.get(Event, hall.event_id), s.get(User, hall.organiser.id)
        as_csv = export_exhibitors(s, organiser, event, "csv", now=utcnow())
        as_xlsx = export_exhibitors(s, organiser, event, "xlsx", now=utcnow())
    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert rows[0][:5] == ["Booth", "Zone", "Size (m²)", "Status", "Company"]
    assert [row[:5] for row in rows[1:]] == [["A-01", "A", "9", "Awaiting payment",
                                              '\'=HYPERLINK("http://x.example")']]
    assert as_csv.filename.startswith("techfest-hanoi-2026-exhibitors-") and as_csv.filename.endswith(".csv")
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    assert sheet["E2"].value == '\'=HYPERLINK("http://x.example")' and sheet["E2"].data_type == "s"


def _owner(db, booking) -> User:
    with db.session_factory() as s:
        return s.get(User, booking.exhibitor_id)
