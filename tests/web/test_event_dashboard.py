"""The organiser's event dashboard, attendee list and exports: numbers that add up, search and filters,
files that open in Excel without running anything, and nobody else's event."""

from __future__ import annotations

import csv
import io
import itertools
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from portal.accounts.models import Role, User
from portal.audit.models import AuditEntry
from portal.db import utcnow
from portal.demo import load_demo
from portal.events.models import CheckIn, Event, Order, OrderStatus, Question, QuestionKind, Ticket
from portal.events.orders import AttendeeInput, cancel_order, load_event_for_sale, mark_paid, place_order
from portal.events.reports import hanoi_time
from tests.browser.steps import log_in
from tests.support.a11y import assert_accessible
from tests.support.ticketing import add_ticket, create_event
from tests.support.web import count_queries

VISITOR, CONFERENCE = 0, 1
INTEREST_OPTIONS = [{"vi": "Nông nghiệp thông minh", "en": "Smart farming"}, {"vi": "Y tế số", "en": "Digital health"}]


@pytest.fixture
def organiser(login_as):
    return login_as(Role.ORGANISER, locale="en", name="Trần Minh Đức")


@pytest.fixture
def event(db, organiser):
    """TechFest with a free visitor pass and a 500,000 đ conference pass sharing one 100-seat quota, and two
    questions: a choice and a checkbox."""
    ticket_types = (("Visitor pass", "Vé tham quan", 0), ("Conference pass", "Vé hội nghị", 500_000))
    event = create_event(db, team=(organiser.user,), ticket_types=ticket_types)
    with db.transaction() as s:
        s.add_all([
            Question(event_id=event.id, label_vi="Lĩnh vực quan tâm", label_en="Field of interest",
                     kind=QuestionKind.CHOICE, options=INTEREST_OPTIONS, position=0),
            Question(event_id=event.id, label_vi="Cần phiên dịch", label_en="Needs an interpreter",
                     kind=QuestionKind.CHECKBOX, position=1),
        ])
    return event


@pytest.fixture
def place(app, db, event, organiser, make_user):
    """Buys tickets through the real order service, one (ticket type, attendee name) pair per ticket; each
    attendee gets the next e-mail guest1@, guest2@, …; `paid` and `cancelled` are the organiser's actions."""
    buyer = make_user(email="buyer@example.vn")
    numbers = itertools.count(1)

    def buy(*attendees: tuple[int, str], answers: dict | None = None, organisation: str = "", paid: bool = False,
            cancelled: bool = False) -> Order:
        with app.test_request_context(), db.transaction() as s:
            sale = load_event_for_sale(s, event.slug)
            questions = {q.label_en: q.id for q in sale.questions}
            order = place_order(s, event=sale, buyer=s.get(User, buyer.id), attendees=[
                AttendeeInput(ticket_type_id=sale.ticket_types[type_index].id, name=name,
                              email=f"guest{next(numbers)}@example.vn", organisation=organisation,
                              answers={questions[label]: value for label, value in (answers or {}).items()})
                for type_index, name in attendees
            ])
            if paid:
                mark_paid(s, s.get(User, organiser.user.id), order)
            if cancelled:
                cancel_order(s, s.get(User, organiser.user.id), order)
        return order

    return buy


def check_in(db, *tickets: Ticket) -> None:
    with db.transaction() as s:
        s.add_all(CheckIn(ticket_id=ticket.id) for ticket in tickets)


def text_of(page: str, element_id: str) -> str:
    return re.search(rf'id="{element_id}">([^<]*)<', page).group(1)


def row_of(page: str, attribute: str, value: object) -> str:
    return re.search(rf'<tr {attribute}="{value}">(.*?)</tr>', page, re.S).group(1)


def cell(row: str, name: str) -> str:
    return re.search(rf'class="{name}">([^<]*)<', row).group(1)


def exports_audited(db) -> list[AuditEntry]:
    with db.session_factory() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == "event.attendees_exported")))


def urls(event_id: int) -> dict[str, str]:
    base = f"/manage/events/{event_id}"
    return {"dashboard": f"{base}/dashboard", "attendees": f"{base}/attendees",
            "csv": f"{base}/attendees/export.csv", "xlsx": f"{base}/attendees/export.xlsx"}


# --- who may look -----------------------------------------------------------------------------

def test_an_organiser_of_another_event_is_refused_everything(db, form, login_as, event):
    stranger = login_as(Role.ORGANISER, locale="en")
    create_event(db, slug="techmart-hanoi-2026", team=(stranger.user,))
    pages = urls(event.id)
    for name in ("dashboard", "attendees"):
        response = stranger.get(pages[name])
        assert response.status_code == 403, name
        assert "You do not have permission to open this page." in response.get_data(as_text=True)
    for name in ("csv", "xlsx"):
        assert form(stranger, pages[name]).status_code == 403, name
    assert not exports_audited(db)


def test_people_without_the_organiser_role_are_refused(login_as, event):
    member = login_as(locale="en")
    for path in (urls(event.id)["dashboard"], urls(event.id)["attendees"]):
        assert member.get(path).status_code == 403


def test_a_visitor_is_sent_to_log_in(client, event):
    for path in urls(event.id).values():
        response = client.post(path) if "export" in path else client.get(path)
        assert response.status_code == 302
        assert urlsplit(response.location).path == "/login"


def test_an_admin_opens_any_event(login_as, event):
    admin = login_as(Role.ADMIN, locale="en")
    page = admin.get(urls(event.id)["dashboard"]).get_data(as_text=True)
    assert "TechFest Hanoi 2026: dashboard" in page


def test_a_missing_event_looks_like_another_organisers_and_is_not_found_for_an_admin(organiser, login_as):
    assert organiser.get("/manage/events/999999/dashboard").status_code == 403
    assert login_as(Role.ADMIN).get("/manage/events/999999/dashboard").status_code == 404


# --- the dashboard ----------------------------------------------------------------------------

def test_the_demo_dashboard_figures_agree_and_its_chart_has_the_shape_of_a_sale(app, db, login_as):
    """Cards, rows per type and chart of the demo TechFest add up to each other, badges apart; the orders are
    spread over the weeks since the sale opened: a first week of early birds, a quiet middle, a rise up to today."""
    load_demo(app)
    with db.session_factory() as s:
        event = s.scalar(select(Event).where(Event.slug == "techfest-hanoi-2026"))
    admin = login_as(Role.ADMIN, locale="en")

    page = admin.get(urls(event.id)["dashboard"]).get_data(as_text=True)

    rows = re.findall(r'<tr data-ticket-type="\d+">(.*?)</tr>', page, re.S)
    sold, reserved = (sum(int(cell(row, name)) for row in rows) for name in ("sold", "reserved"))
    total = row_of(page, "id", "ticket-types-total")
    assert (int(cell(total, "sold")), int(cell(total, "reserved"))) == (sold, reserved)
    assert (int(text_of(page, "stat-sold")), int(text_of(page, "stat-reserved"))) == (sold, reserved)
    assert text_of(page, "stat-badges") == cell(row_of(page, "id", "exhibitor-badges"), "sold") == "2"
    assert "Exhibitor badges (not sold, not in the total)" in page

    chart = re.search(r'id="registrations-table">(.*?)</table>', page, re.S).group(1)
    per_day = [int(count) for count in re.findall(r"<td>(\d+)</td>", chart)]
    caption = re.search(r'id="chart-total">(\d+) tickets sold or reserved in orders placed from ', page)
    # the sale opened less than the chart's 30 days ago, so the period holds every ticket of the rows
    assert sum(per_day) == int(caption.group(1)) == sold + reserved
    first_week, middle, last_week = per_day[:7], per_day[7:-7], per_day[-7:]
    assert len(per_day) >= 20 and sum(first_week) > 2 * sum(middle) and sum(last_week) > 2 * sum(middle)
    assert max(first_week[:4]) > first_week[-1] and per_day[-2] > per_day[-7]


def test_the_dashboard_numbers_add_up(db, organiser, event, place):
    free = place((VISITOR, "Nguyễn Văn An"), (VISITOR, "Lê Thị Bình"))
    place((CONFERENCE, "Phạm Quốc Cường"), paid=True)
    place((CONFERENCE, "Hoàng Thu Dung"), (CONFERENCE, "Vũ Đức Em"))  # awaiting payment
    place((CONFERENCE, "Đặng Hải Giang"), paid=True, cancelled=True)
    check_in(db, free.tickets[0])

    page = organiser.get(urls(event.id)["dashboard"]).get_data(as_text=True)

    assert text_of(page, "stat-revenue") == "₫500,000"  # the paid order only: not pending, not cancelled
    assert text_of(page, "stat-sold") == "3"
    assert text_of(page, "stat-reserved") == "2"
    assert text_of(page, "stat-badges") == "0"
    assert text_of(page, "stat-checked-in") == "1"
    assert text_of(page, "stat-check-in-rate") == "33%"

    visitor, conference = (row_of(page, "data-ticket-type", t.id) for t in event.ticket_types)
    assert (cell(visitor, "sold"), cell(visitor, "reserved")) == ("2", "0")
    assert (cell(conference, "sold"), cell(conference, "reserved")) == ("1", "2")
    total = row_of(page, "id", "ticket-types-total")
    assert (cell(total, "sold"), cell(total, "reserved")) == ("3", "2")
    assert "exhibitor-badges" not in page  # no booth, no badge row
    assert cell(conference, "left") == "95"
    assert '<meter min="0" max="100" value="3"' in conference  # of the shared 100 seats, 3 are its tickets
    assert cell(row_of(page, "data-quota", event.quotas[0].id), "taken") == "5"
    assert '<meter min="0" max="100" value="5"' in row_of(page, "data-quota", event.quotas[0].id)

    assert cell(row_of(page, "data-status", "paid"), "orders") == "2"
    assert cell(row_of(page, "data-status", "pending"), "orders") == "1"
    assert cell(row_of(page, "data-status", "cancelled"), "orders") == "1"


def test_the_registrations_chart_counts_live_tickets_per_hanoi_day(db, organiser, event, place):
    place((VISITOR, "Nguyễn Văn An"), (VISITOR, "Lê Thị Bình"))
    earlier = place((VISITOR, "Phạm Quốc Cường"))
    place((VISITOR, "Đặng Hải Giang"), cancelled=True)
    three_days_ago = utcnow() - timedelta(days=3)
    with db.transaction() as s:
        s.get(Order, earlier.id).created_at = three_days_ago
        s.get(Event, event.id).created_at = utcnow() - timedelta(days=60)

    page = organiser.get(urls(event.id)["dashboard"]).get_data(as_text=True)

    assert '<svg role="img" aria-labelledby="chart-title chart-desc"' in page
    assert "<title id=\"chart-title\">Tickets registered per day</title>" in page
    table = re.search(r'<table class="visually-hidden" id="registrations-table">(.*?)</table>', page,
                      re.S).group(1)
    days = re.findall(r'<tr><th scope="row">([^<]*)</th><td>(\d+)</td></tr>', table)
    assert len(days) == 30
    counts = dict(days)
    today, then = (hanoi_time(moment).strftime("%b %-d, %Y") for moment in (utcnow(), three_days_ago))
    assert counts[today] == "2"
    assert counts[then] == "1"
    assert sum(int(count) for _, count in days) == 3
    assert "From " in page and ": 3 tickets; at most 2 on one day." in page


def test_the_dashboard_sends_as_many_queries_for_many_orders_as_for_few(db, organiser, event):
    def queries() -> int:
        with count_queries(db.engine) as counter:
            assert organiser.get(urls(event.id)["dashboard"]).status_code == 200
        return len(counter)

    add_ticket(db, event, organiser.user)
    few = queries()
    for n in range(20):
        status = (OrderStatus.PAID, OrderStatus.PENDING, OrderStatus.CANCELLED)[n % 3]
        add_ticket(db, event, organiser.user, name=f"Khách {n}", status=status, type_index=n % 2)
    assert queries() == few


# --- the attendee list ------------------------------------------------------------------------

def listed_names(response) -> list[str]:
    assert response.status_code == 200
    return re.findall(r'<th scope="row">([^<]+?)(?: <span|</th>)', response.get_data(as_text=True))


def test_search_matches_name_email_organisation_and_codes(organiser, event, place):
    an = place((VISITOR, "Nguyễn Văn An"), organisation="Sen Vàng AI")
    place((CONFERENCE, "Lê Thị Bình"), organisation="Viettel Lab")
    attendees = urls(event.id)["attendees"]
    assert listed_names(organiser.get(attendees)) == ["Nguyễn Văn An", "Lê Thị Bình"]
    assert listed_names(organiser.get(attendees, query_string={"q": "văn an"})) == ["Nguyễn Văn An"]
    assert listed_names(organiser.get(attendees, query_string={"q": "viettel"})) == ["Lê Thị Bình"]
    assert listed_names(organiser.get(attendees, query_string={"q": "GUEST2@example"})) == ["Lê Thị Bình"]
    assert listed_names(organiser.get(attendees, query_string={"q": an.tickets[0].code})) == ["Nguyễn Văn An"]
    assert listed_names(organiser.get(attendees, query_string={"q": an.code.lower()})) == ["Nguyễn Văn An"]
    nothing = organiser.get(attendees, query_string={"q": "100%_"}).get_data(as_text=True)
    assert "No attendee matches." in nothing


def test_filters_by_ticket_type_order_status_and_check_in(db, organiser, event, place):
    visitors = place((VISITOR, "Nguyễn Văn An"), (VISITOR, "Lê Thị Bình"))
    place((CONFERENCE, "Phạm Quốc Cường"))  # awaiting payment
    place((CONFERENCE, "Hoàng Thu Dung"), paid=True)
    check_in(db, visitors.tickets[0])
    attendees = urls(event.id)["attendees"]
    conference_id = str(event.ticket_types[CONFERENCE].id)

    assert listed_names(organiser.get(attendees, query_string={"ticket_type": conference_id})) == [
        "Phạm Quốc Cường", "Hoàng Thu Dung"]
    assert listed_names(organiser.get(attendees, query_string={"status": "pending"})) == ["Phạm Quốc Cường"]
    assert listed_names(organiser.get(attendees, query_string={"checked_in": "yes"})) == ["Nguyễn Văn An"]
    assert listed_names(organiser.get(attendees, query_string={"checked_in": "no", "status": "paid"})) == [
        "Lê Thị Bình", "Hoàng Thu Dung"]
    page = organiser.get(attendees, query_string={"ticket_type": conference_id, "status": "paid"})
    assert listed_names(page) == ["Hoàng Thu Dung"]
    html = page.get_data(as_text=True)
    assert f'<option value="{conference_id}" selected>' in html
    assert '<option value="paid" selected>' in html
    assert "1 attendee matches" in html


def test_the_list_shows_fifty_a_page_and_keeps_the_filters_across_pages(db, organiser, event):
    for n in range(51):
        add_ticket(db, event, organiser.user, name=f"Khách {n:02d}")
    attendees = urls(event.id)["attendees"]
    first = organiser.get(attendees, query_string={"q": "khách"})
    assert len(listed_names(first)) == 50
    html = first.get_data(as_text=True)
    assert "51 attendees match" in html
    assert "Page 1 of 2" in html
    next_link = re.search(r'<a href="([^"]+)" rel="next">', html).group(1).replace("&amp;", "&")
    assert listed_names(organiser.get(next_link)) == ["Khách 50"]
    assert "q=kh" in next_link


def test_the_attendee_list_sends_as_many_queries_for_a_full_page_as_for_one_ticket(db, organiser, event):
    def queries() -> int:
        with count_queries(db.engine) as counter:
            assert organiser.get(urls(event.id)["attendees"], query_string={"status": "paid"}).status_code == 200
        return len(counter)

    check_in(db, add_ticket(db, event, organiser.user))
    few = queries()
    for n in range(60):
        add_ticket(db, event, organiser.user, name=f"Khách {n}", type_index=n % 2)
    assert queries() == few


# --- exports ----------------------------------------------------------------------------------

@pytest.fixture
def registrations(db, event, place):
    """Three attendees: one with Vietnamese answers who has been let in, and two with names that are formulas."""
    trusted = place((VISITOR, "Nguyễn Thị Hương"), organisation="Đại học Bách khoa Hà Nội",
                    answers={"Field of interest": "1", "Needs an interpreter": True})
    check_in(db, trusted.tickets[0])
    place((CONFERENCE, '=HYPERLINK("http://x")'), (CONFERENCE, "@SUM(1)"), organisation="+84 912 345 678",
          paid=True)
    return trusted


def export(form, client, event, file_format: str, **filters):
    response = form(client, urls(event.id)[file_format], filters)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response


def test_the_csv_export_opens_in_excel_with_vietnamese_text_and_no_formulas(form, organiser, event, registrations):
    response = export(form, organiser, event, "csv")

    today = hanoi_time(utcnow()).strftime("%Y-%m-%d")
    assert response.headers["Content-Disposition"] == f"attachment; filename=techfest-hanoi-2026-attendees-{today}.csv"
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"  # the charset once
    assert response.data.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in response.data
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))
    assert [row["Attendee name"] for row in rows] == [
        "Nguyễn Thị Hương", "'=HYPERLINK(\"http://x\")", "'@SUM(1)"]
    hương = rows[0]
    assert hương["Organisation"] == "Đại học Bách khoa Hà Nội"
    assert hương["Field of interest"] == "Digital health"
    assert hương["Needs an interpreter"] == "Yes"
    assert hương["Order status"] == "Paid"
    assert hương["Ticket type"] == "Visitor pass"
    assert hương["Price (VND)"] == "0"
    checked_in = hương["Checked in at (Hanoi time)"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", checked_in)
    assert checked_in.startswith(today)
    assert rows[1]["Organisation"] == "'+84 912 345 678"
    assert rows[1]["Price (VND)"] == "500000"
    assert rows[1]["Checked in at (Hanoi time)"] == ""
    assert rows[1]["Order code"] != rows[0]["Order code"]


def test_the_xlsx_export_stores_formula_like_text_as_plain_text(form, organiser, event, registrations):
    response = export(form, organiser, event, "xlsx")

    assert response.headers["Content-Disposition"].endswith(".xlsx")
    assert response.headers["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "techfest-hanoi-2026-attendees-" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    header = [c.value for c in sheet[1]]
    names = [row[header.index("Attendee name")] for row in sheet.iter_rows(min_row=2)]
    assert [c.value for c in names] == ["Nguyễn Thị Hương", "'=HYPERLINK(\"http://x\")", "'@SUM(1)"]
    assert {c.data_type for c in names} == {"s"}
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    first = [c.value for c in sheet[2]]
    assert first[header.index("Organisation")] == "Đại học Bách khoa Hà Nội"
    assert first[header.index("Field of interest")] == "Digital health"
    assert first[header.index("Price (VND)")] == 0
    checked_in = first[header.index("Checked in at (Hanoi time)")]
    assert checked_in.strftime("%Y-%m-%d") == hanoi_time(utcnow()).strftime("%Y-%m-%d")


def test_the_export_follows_the_filters_and_is_audited(db, form, organiser, event, registrations):
    response = export(form, organiser, event, "csv", status="paid", ticket_type=str(event.ticket_types[CONFERENCE].id))
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))
    assert [row["Attendee name"] for row in rows] == ["'=HYPERLINK(\"http://x\")", "'@SUM(1)"]

    [entry] = exports_audited(db)
    assert entry.actor_id == organiser.user.id
    assert entry.object_id == str(event.id)
    assert entry.details == {"format": "csv", "rows": 2, "filters": {
        "ticket_type_id": event.ticket_types[CONFERENCE].id, "order_status": "paid"}}


def test_the_list_page_offers_both_exports_with_the_current_filters(organiser, event, registrations):
    html = organiser.get(urls(event.id)["attendees"], query_string={"q": "hương"}).get_data(as_text=True)
    assert f'action="{urls(event.id)["csv"]}"' in html
    assert f'formaction="{urls(event.id)["xlsx"]}"' in html
    assert '<input type="hidden" name="q" value="hương">' in html


def test_an_export_without_the_form_token_is_refused(db, organiser, event, registrations):
    assert organiser.post(urls(event.id)["csv"]).status_code == 400
    assert not exports_audited(db)


def test_an_unknown_export_format_is_not_found(form, organiser, event):
    assert form(organiser, f"/manage/events/{event.id}/attendees/export.pdf").status_code == 404


def test_exported_tickets_keep_their_cancellation(db, form, organiser, event, place):
    order = place((VISITOR, "Nguyễn Văn An"), (VISITOR, "Lê Thị Bình"))
    with db.transaction() as s:
        s.get(Ticket, order.tickets[1].id).cancelled_at = utcnow()
    rows = list(csv.DictReader(io.StringIO(export(form, organiser, event, "csv").data.decode("utf-8-sig"))))
    assert [bool(row["Ticket cancelled at (Hanoi time)"]) for row in rows] == [False, True]


@pytest.mark.browser
def test_the_dashboard_and_the_list_pass_axe_and_fit_a_phone(page, organiser, event, registrations):
    log_in(page, organiser.user.email)
    for path in (urls(event.id)["dashboard"], urls(event.id)["attendees"]):
        page.goto(path)
        assert_accessible(page)
        page.set_viewport_size({"width": 375, "height": 740})
        assert page.evaluate("document.documentElement.scrollWidth") <= 376, path
        assert_accessible(page)
        page.set_viewport_size({"width": 1280, "height": 900})
