"""The check-in page at the door: every answer a scan can get, the JSON the camera scanner uses, the attendee
search, the check-in lists and counts, and who may open it."""

from __future__ import annotations

import html
import io
import re
import secrets
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from PIL import Image
from sqlalchemy import func, select

from portal.accounts.models import Role
from portal.audit.models import AuditEntry
from portal.db import utcnow
from portal.events import orders
from portal.events.models import CheckIn, Event, OrderStatus, Ticket
from portal.i18n import HANOI, hanoi_date
from tests.support.mail import html_body, text_body
from tests.support.ticketing import add_ticket, create_event
from tests.support.web import count_queries, csrf_token

#: an event that started a day ago: it runs yesterday, today and tomorrow
RUNNING = -timedelta(days=1)
TECHMART = {"slug": "techmart-hanoi-2026", "name_en": "Techmart Hanoi 2026", "name_vi": "Techmart Hà Nội 2026"}


@pytest.fixture
def staff(login_as):
    return login_as(Role.ORGANISER, locale="en", name="Trần Thị Bình", email="binh@example.vn")


@pytest.fixture
def buyer(make_user):
    return make_user(email="buyer@example.vn")


@pytest.fixture
def techfest(db, staff):
    return create_event(db, team=(staff.user,), ticket_types=(("Visitor pass", "Vé khách tham quan", 0),
                                                               ("Investor pass", "Vé nhà đầu tư", 500_000)),
                        quota_names=("Day 1", "Main hall"), starts_in=RUNNING)


def checkin_url(event, suffix: str = "") -> str:
    return f"/manage/events/{event.id}/checkin/{suffix}"


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def answer_panel(response) -> str:
    """The words of the answer panel, tags removed."""
    panel = re.search(r'<div id="checkin-answer".*?</div>\s*</div>', response.get_data(as_text=True), re.S).group(0)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", panel)).split())


def check_in_by_form(form, client, event, code: str, **extra):
    return form(client, checkin_url(event), {"code": code, **extra})


def scan(app, client, event, body):
    return client.post(checkin_url(event, "scan"), json=body, headers={"X-CSRFToken": csrf_token(client, app)})


def check_ins(db) -> list[CheckIn]:
    with db.session_factory() as s:
        return list(s.scalars(select(CheckIn).order_by(CheckIn.day)))


def checked_in_yesterday(db, staff, *tickets, area: str = "Day 1") -> None:
    with db.transaction() as s:
        s.add_all(CheckIn(ticket_id=ticket.id, checked_in_at=utcnow() - timedelta(days=1), checked_in_by_id=staff.id,
                          area=area) for ticket in tickets)


def english_short_time(moment: datetime) -> str:
    """How the English page writes a time of day in Hanoi, spaces folded as answer_panel does: 9:05 PM."""
    local = moment.astimezone(HANOI)
    return f"{local.hour % 12 or 12}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"


def long_date(day: date) -> str:
    return f"{day:%A}, {day:%B} {day.day}, {day.year}"


# --- the answers ------------------------------------------------------------------------------

def test_a_valid_ticket_is_let_in_once_a_day_and_a_second_scan_says_at_what_time_and_by_whom(
        db, form, staff, buyer, techfest):
    ticket = add_ticket(db, techfest, buyer, name="Nguyễn Văn An")

    first = check_in_by_form(form, staff, techfest, f"  {ticket.code} ", area="Main hall")
    assert first.status_code == 200
    assert answer_panel(first) == "✓ Valid: let them in Nguyễn Văn An Visitor pass"
    [entry] = check_ins(db)
    assert (entry.ticket_id, entry.checked_in_by_id, entry.area) == (ticket.id, staff.user.id, "Main hall")

    second = check_in_by_form(form, staff, techfest, ticket.code)
    assert second.status_code == 409
    assert answer_panel(second) == ("! Already checked in Nguyễn Văn An Visitor pass Checked in today at "
                                    f"{english_short_time(entry.checked_in_at)} by Trần Thị Bình at Main hall.")
    assert len(check_ins(db)) == 1


def test_a_multi_day_pass_used_yesterday_is_let_in_again_today(db, form, staff, buyer, techfest):
    ticket = add_ticket(db, techfest, buyer, name="Nguyễn Văn An")
    checked_in_yesterday(db, staff.user, ticket)

    response = check_in_by_form(form, staff, techfest, ticket.code, area="Main hall")
    assert answer_panel(response) == "✓ Valid: let them in Nguyễn Văn An Visitor pass"
    today = hanoi_date(utcnow())
    assert [(e.day, e.area) for e in check_ins(db)] == [(today - timedelta(days=1), "Day 1"), (today, "Main hall")]


def test_a_scan_on_a_day_the_event_does_not_run_is_refused_with_its_days(db, app, form, staff, buyer):
    next_month = create_event(db, team=(staff.user,))  # starts in 30 days
    ticket = add_ticket(db, next_month, buyer, name="An")
    first, *_, last = (hanoi_date(next_month.starts_at) + timedelta(days=n) for n in range(3))

    response = check_in_by_form(form, staff, next_month, ticket.code)
    assert response.status_code == 409
    assert answer_panel(response) == (
        f"✕ Not an event day: do not let in An Visitor pass TechFest Hanoi 2026 runs from {first:%b} {first.day}, "
        f"{first.year} to {last:%b} {last.day}, {last.year}; today is {utcnow().astimezone(HANOI):%b %-d, %Y}.")
    assert scan(app, staff, next_month, {"code": ticket.code}).json["answer"]["outcome"] == "not_event_day"
    assert check_ins(db) == []
    assert "Not an event day" in search_rows(staff.get(checkin_url(next_month) + "?q=An"))[0]


@pytest.mark.parametrize(("ticket_state", "status", "panel"), [
    ({"status": OrderStatus.PENDING},
     409, "✕ Not paid: do not let in An Visitor pass The order is still waiting for payment. "
          "Send the attendee to the registration desk."),
    ({"status": OrderStatus.AWAITING_APPROVAL},
     409, "✕ Not paid: do not let in An Visitor pass The order is still waiting for an organiser's approval."),
    ({"status": OrderStatus.PENDING, "expires_in": timedelta(minutes=-1)},
     409, "✕ Cancelled: do not let in An Visitor pass "
          "This ticket was cancelled, or its order expired, was cancelled or was refunded."),
    ({"status": OrderStatus.EXPIRED}, 409, "✕ Cancelled: do not let in"),
    ({"status": OrderStatus.CANCELLED}, 409, "✕ Cancelled: do not let in"),
    ({"status": OrderStatus.REFUNDED}, 409, "✕ Cancelled: do not let in"),
    ({"status": OrderStatus.PAID, "cancelled": True}, 409, "✕ Cancelled: do not let in"),
], ids=["pending", "awaiting-approval", "pending-past-expiry", "expired", "cancelled", "refunded",
        "ticket-cancelled"])
def test_a_ticket_that_is_not_held_is_refused_and_nothing_is_recorded(db, form, staff, buyer, techfest,
                                                                       ticket_state, status, panel):
    ticket = add_ticket(db, techfest, buyer, name="An", **ticket_state)
    response = check_in_by_form(form, staff, techfest, ticket.code)
    assert response.status_code == status
    assert answer_panel(response).startswith(panel)
    assert check_ins(db) == []


def test_another_events_ticket_names_that_event_but_not_its_holder(db, form, staff, buyer, techfest):
    techmart = create_event(db, **TECHMART)
    ticket = add_ticket(db, techmart, buyer, name="Lê Hoàng Cường")
    response = check_in_by_form(form, staff, techfest, ticket.code)
    assert response.status_code == 409
    assert answer_panel(response) == "✕ Wrong event: do not let in This ticket is for Techmart Hanoi 2026."
    assert "Lê Hoàng Cường" not in text_of(response)
    assert check_ins(db) == []


def test_a_well_formed_code_of_no_ticket_is_unknown(db, form, staff, techfest):
    response = check_in_by_form(form, staff, techfest, secrets.token_urlsafe(32))
    assert response.status_code == 404
    assert answer_panel(response) == ("? Unknown ticket: do not let in "
                                      "No ticket has this code. Check the code, or search for the attendee by name.")


def test_something_that_is_not_a_ticket_code_is_refused_with_the_typed_text_kept(db, form, staff, techfest):
    response = check_in_by_form(form, staff, techfest, "https://example.com/not-a-ticket")
    assert response.status_code == 400
    page = text_of(response)
    assert "This is not a ticket code. Type the 8 letters and digits printed under the QR code" in page
    assert 'value="https://example.com/not-a-ticket"' in page
    assert 'id="checkin-answer" class="checkin-answer checkin-answer-none"' in page  # no answer panel shown


def test_the_form_refuses_an_empty_code_and_a_missing_csrf_token(db, staff, buyer, form, techfest):
    assert "This field is required." in text_of(check_in_by_form(form, staff, techfest, "  "))
    ticket = add_ticket(db, techfest, buyer)
    forged = staff.post(checkin_url(techfest), data={"code": ticket.code})
    assert forged.status_code == 400
    assert check_ins(db) == []


# --- the JSON the camera scanner uses -----------------------------------------------------------

def test_a_scan_answers_in_json_with_the_new_counts(app, db, staff, buyer, techfest):
    ticket = add_ticket(db, techfest, buyer, name="Phạm Minh Đức", type_index=1)
    add_ticket(db, techfest, buyer, email="other@example.vn")

    first = scan(app, staff, techfest, {"code": ticket.code, "area": "Day 1"})
    assert first.status_code == 200
    assert first.json["answer"] == {"outcome": "valid", "tone": "ok", "icon": "✓", "title": "Valid: let them in",
                                    "mode": "", "detail": "", "attendee": "Phạm Minh Đức",
                                    "ticket_type": "Investor pass"}
    visitor, investor = techfest.ticket_types
    assert first.json["counts"] == {
        "day": hanoi_date(utcnow()).isoformat(), "checked_in": 1, "valid": 2,
        "types": [{"id": visitor.id, "checked_in": 0, "valid": 1}, {"id": investor.id, "checked_in": 1, "valid": 1}],
        "areas": [{"area": "Day 1", "label": "Day 1", "count": 1}],
    }

    again = scan(app, staff, techfest, {"code": ticket.code, "area": "Day 1"})
    assert again.status_code == 409
    assert again.json["answer"]["outcome"] == "already"
    assert "by Trần Thị Bình at Day 1." in again.json["answer"]["detail"]
    assert len(check_ins(db)) == 1


def test_a_scan_of_something_else_than_a_ticket_gets_a_clear_400(app, staff, techfest):
    response = scan(app, staff, techfest, {"code": "WIFI:S:hall;T:WPA;P:secret;;", "area": ""})
    assert response.status_code == 400
    assert response.json["answer"]["title"] == "Not a ticket code"
    assert response.json["answer"]["detail"].startswith("This is not a ticket code")


@pytest.mark.parametrize("body", [None, ["a list"], [1], "x", {}, {"area": "Day 1"}, {"code": 42}, {"code": True},
                                  {"code": None}, {"code": "x", "area": 7}, {"code": "x", "area": ["Day 1"]}])
def test_a_malformed_scan_request_gets_a_clear_400(app, db, staff, techfest, body):
    response = scan(app, staff, techfest, body)
    assert response.status_code == 400
    assert response.json == {"error": "The scan could not be read. Reload the page and scan again."}
    assert check_ins(db) == []


@pytest.mark.parametrize("body", [b"null", b"not json", b"[" * 100_000])
def test_a_scan_whose_body_is_null_or_not_json_gets_a_clear_400(app, db, staff, techfest, body):
    response = staff.post(checkin_url(techfest, "scan"), data=body, content_type="application/json",
                          headers={"X-CSRFToken": csrf_token(staff, app)})
    assert response.status_code == 400
    assert response.json == {"error": "The scan could not be read. Reload the page and scan again."}
    assert check_ins(db) == []


def test_a_scan_without_the_pages_csrf_token_is_refused(db, staff, buyer, techfest):
    ticket = add_ticket(db, techfest, buyer)
    response = staff.post(checkin_url(techfest, "scan"), json={"code": ticket.code})
    assert response.status_code == 400
    assert response.json == {"error": "This page has expired. Reload it and scan again."}
    assert check_ins(db) == []


def test_live_counts_leave_out_tickets_that_no_longer_admit_anybody(app, db, staff, buyer, techfest):
    entered = add_ticket(db, techfest, buyer)
    add_ticket(db, techfest, buyer, email="late@example.vn")
    add_ticket(db, techfest, buyer, cancelled=True)
    add_ticket(db, techfest, buyer, status=OrderStatus.PENDING)
    scan(app, staff, techfest, {"code": entered.code, "area": ""})

    counts = staff.get(checkin_url(techfest, "counts")).json
    assert (counts["checked_in"], counts["valid"]) == (1, 2)
    assert counts["areas"] == [{"area": "", "label": "No area", "count": 1}]


# --- the page: lists, search --------------------------------------------------------------------

def test_the_page_offers_the_events_quotas_as_check_in_lists_and_shows_each_lists_entries(
        db, form, staff, buyer, techfest):
    in_hall = add_ticket(db, techfest, buyer, name="Vũ Thu Hà")
    on_day_one = add_ticket(db, techfest, buyer, name="Đặng Quốc Huy")
    check_in_by_form(form, staff, techfest, in_hall.code, area="Main hall")
    check_in_by_form(form, staff, techfest, on_day_one.code, area="Day 1")

    page = text_of(staff.get(checkin_url(techfest) + "?area=Main+hall"))
    assert '<option value="Day 1"></option><option value="Main hall"></option>' in page
    assert "Checking in on: <strong>Main hall</strong>" in page
    latest = page[page.index(f"Latest check-ins: {long_date(hanoi_date(utcnow()))}, Main hall"):]
    assert "Vũ Thu Hà" in latest and "Đặng Quốc Huy" not in latest
    assert '<span data-count="checked_in">2</span> / <span data-count="valid">2</span>' in page
    assert "<li><span>Day 1</span>: <strong>1</strong></li>" in page
    assert 'name="area" type="hidden" value="Main hall"' in page  # the typed-code form checks in on this list


def test_the_page_counts_the_chosen_day_and_offers_every_day_of_the_event(app, db, form, staff, buyer, techfest):
    both_days = add_ticket(db, techfest, buyer, name="Vũ Thu Hà")
    only_yesterday = add_ticket(db, techfest, buyer, name="Đặng Quốc Huy")
    add_ticket(db, techfest, buyer, name="Not come yet")
    checked_in_yesterday(db, staff.user, both_days, only_yesterday)
    scan(app, staff, techfest, {"code": both_days.code, "area": "Main hall"})
    today = hanoi_date(utcnow())
    yesterday, tomorrow = today - timedelta(days=1), today + timedelta(days=1)

    page = text_of(staff.get(checkin_url(techfest)))
    options = re.findall(r'<option value="(\d{4}-\d\d-\d\d)"( selected)?>([^<]*)</option>', page)
    assert options == [(yesterday.isoformat(), "", long_date(yesterday)),
                       (today.isoformat(), " selected", f"{long_date(today)} (today)"),
                       (tomorrow.isoformat(), "", long_date(tomorrow))]
    assert f"Checked in on {long_date(today)}" in page
    assert '<span data-count="checked_in">1</span> / <span data-count="valid">3</span>' in page
    assert "<li><span>Main hall</span>: <strong>1</strong></li>" in page and "Day 1</span>" not in page
    assert "A scan always checks the ticket in for today." not in page

    page = text_of(staff.get(checkin_url(techfest) + f"?day={yesterday.isoformat()}"))
    assert f"Checked in on {long_date(yesterday)}" in page
    assert '<span data-count="checked_in">2</span> / <span data-count="valid">3</span>' in page
    assert "<li><span>Day 1</span>: <strong>2</strong></li>" in page
    assert (f"You are looking at the counts of {long_date(yesterday)}. "
            "A scan always checks the ticket in for today.") in page
    latest = page[page.index(f"Latest check-ins: {long_date(yesterday)}"):]
    assert "Vũ Thu Hà" in latest and "Đặng Quốc Huy" in latest
    assert f'data-counts-url="/manage/events/{techfest.id}/checkin/counts?day={yesterday.isoformat()}"' in page
    assert f'name="day" type="hidden" value="{yesterday.isoformat()}"' in page  # the typed-code form stays on it

    counts = staff.get(checkin_url(techfest, "counts") + f"?day={yesterday.isoformat()}").json
    assert (counts["day"], counts["checked_in"], counts["areas"]) == (
        yesterday.isoformat(), 2, [{"area": "Day 1", "label": "Day 1", "count": 2}])
    assert staff.get(checkin_url(techfest, "counts") + f"?day={tomorrow.isoformat()}").json["checked_in"] == 0


def test_a_scan_answers_with_todays_counts_while_the_page_shows_another_day(app, db, staff, buyer, techfest):
    ticket = add_ticket(db, techfest, buyer)
    yesterday = hanoi_date(utcnow()) - timedelta(days=1)
    form_page = checkin_url(techfest) + f"?day={yesterday.isoformat()}"
    assert staff.get(form_page).status_code == 200
    counts = scan(app, staff, techfest, {"code": ticket.code, "area": ""}).json["counts"]
    assert (counts["day"], counts["checked_in"]) == (hanoi_date(utcnow()).isoformat(), 1)


@pytest.mark.parametrize("day", ["2020-01-01", "yesterday", "2026-02-30"])
def test_a_day_the_event_does_not_run_on_is_refused_clearly(staff, techfest, day):
    page = staff.get(checkin_url(techfest) + f"?day={day}")
    assert page.status_code == 400
    assert '<p class="field-error" id="day-error" role="alert">Choose one of the event&#39;s days.</p>' in (
        page.get_data(as_text=True))
    assert f"Checked in on {long_date(hanoi_date(utcnow()))}" in text_of(page)  # shown for today instead
    counts = staff.get(checkin_url(techfest, "counts") + f"?day={day}")
    assert (counts.status_code, counts.json) == (400, {"error": "Choose one of the event's days."})


def test_a_days_list_takes_the_same_few_queries_for_many_entries(db, form, staff, buyer, techfest):
    yesterday = (hanoi_date(utcnow()) - timedelta(days=1)).isoformat()

    def queries_for_the_day() -> int:
        with count_queries(db.engine) as counter:
            assert staff.get(checkin_url(techfest) + f"?day={yesterday}&area=Day+1").status_code == 200
        return len(counter)

    checked_in_yesterday(db, staff.user, add_ticket(db, techfest, buyer, name="Attendee 0"))
    few = queries_for_the_day()
    checked_in_yesterday(db, staff.user, *(add_ticket(db, techfest, buyer, name=f"Attendee {n}", type_index=n % 2)
                                           for n in range(1, 20)))
    many = queries_for_the_day()
    latest = text_of(staff.get(checkin_url(techfest) + f"?day={yesterday}&area=Day+1")).split("Latest check-ins")[1]
    assert latest.count("Attendee ") == 20
    assert many == few <= 10


def search_rows(response) -> list[str]:
    rows = re.findall(r"<tr>.*?</tr>", response.get_data(as_text=True), re.S)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", row)).split()) for row in rows if "<td>" in row]


def test_staff_find_attendees_by_name_email_or_code_and_check_them_in_from_the_results(
        db, form, staff, buyer, techfest):
    lan = add_ticket(db, techfest, buyer, name="Nguyễn Thị Lan", email="lan@startup.vn")
    add_ticket(db, techfest, buyer, name="Nguyễn Văn Nam", email="nam@example.vn", status=OrderStatus.PENDING)
    add_ticket(db, techfest, buyer, name="Hoàng Minh", email="minh@example.vn")
    add_ticket(db, create_event(db, **TECHMART), buyer, name="Nguyễn Techmart", email="t@example.vn")

    by_name = search_rows(staff.get(checkin_url(techfest) + "?q=Nguy"))
    assert by_name == ["Nguyễn Thị Lan lan@startup.vn Visitor pass Not checked in today Check in",
                       "Nguyễn Văn Nam nam@example.vn Visitor pass Not paid"]
    assert [row.split(" ")[0] for row in search_rows(staff.get(checkin_url(techfest) + "?q=STARTUP.VN"))] == ["Nguyễn"]
    assert search_rows(staff.get(checkin_url(techfest) + f"?q={lan.code[:10]}"))[0].startswith("Nguyễn Thị Lan")
    assert "No attendee matches “nobody”." in text_of(staff.get(checkin_url(techfest) + "?q=nobody"))

    checked = check_in_by_form(form, staff, techfest, lan.code, q="Nguy")
    assert answer_panel(checked).startswith("✓ Valid: let them in Nguyễn Thị Lan")
    assert search_rows(checked)[0].startswith("Nguyễn Thị Lan lan@startup.vn Visitor pass Checked in on ")


def test_the_search_takes_the_same_few_queries_for_many_results(db, form, staff, buyer, techfest):
    def queries_for_search(app_engine) -> int:
        with count_queries(app_engine) as counter:
            assert staff.get(checkin_url(techfest) + "?q=attendee").status_code == 200
        return len(counter)

    first = add_ticket(db, techfest, buyer, name="Attendee 0")
    check_in_by_form(form, staff, techfest, first.code)
    few = queries_for_search(db.engine)
    for n in range(1, 20):
        add_ticket(db, techfest, buyer, name=f"Attendee {n}", type_index=n % 2)
    many = queries_for_search(db.engine)
    assert len(search_rows(staff.get(checkin_url(techfest) + "?q=attendee"))) == 20
    assert many == few <= 13  # the test check-ins' list is one of them


# --- who may open it ----------------------------------------------------------------------------

def test_only_the_events_team_and_admins_may_check_people_in(app, db, form, login_as, buyer, techfest):
    ticket = add_ticket(db, techfest, buyer)
    other_organiser = login_as(Role.ORGANISER, locale="en")
    create_event(db, **TECHMART, team=(other_organiser.user,))
    member = login_as(locale="en")
    for refused in (other_organiser, member):
        assert refused.get(checkin_url(techfest)).status_code == 403
        assert check_in_by_form(form, refused, techfest, ticket.code).status_code == 403
        assert scan(app, refused, techfest, {"code": ticket.code}).status_code == 403
        assert refused.get(checkin_url(techfest, "counts")).status_code == 403
    assert check_ins(db) == []

    admin = login_as(Role.ADMIN, locale="en")
    assert admin.get(checkin_url(techfest)).status_code == 200
    assert check_in_by_form(form, admin, techfest, ticket.code).status_code == 200
    assert admin.get("/manage/events/999999/checkin/").status_code == 404


def test_a_visitor_is_sent_to_log_in_and_the_scanner_is_told_the_login_ended(app, db, client, buyer, techfest):
    page = client.get(checkin_url(techfest))
    assert page.status_code == 302
    assert urlsplit(page.location).path == "/login"
    ticket = add_ticket(db, techfest, buyer)
    client.get("/language/en")
    scanned = scan(app, client, techfest, {"code": ticket.code})
    assert scanned.status_code == 401
    assert scanned.json == {"error": "Your login has ended. Reload the page and log in again."}
    with db.session_factory() as s:
        assert s.scalar(select(func.count(CheckIn.id))) == 0


# --- the short code printed under the QR code ----------------------------------------------------

def test_the_short_code_printed_under_the_qr_code_is_let_in_however_it_is_typed(app, db, form, staff, buyer, techfest,
                                                                                  login_as):
    ticket = add_ticket(db, techfest, buyer, name="Nguyễn Văn An")
    printed = ticket.printed_code
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", printed)

    typed = f" {printed[:2].lower()} {printed[2:].lower()} "  # lower case, spaces where the reader paused
    first = check_in_by_form(form, staff, techfest, typed, area="Main hall")
    assert answer_panel(first) == "✓ Valid: let them in Nguyễn Văn An Visitor pass"
    assert [e.ticket_id for e in check_ins(db)] == [ticket.id]
    again = scan(app, staff, techfest, {"code": printed.replace("-", "")})
    assert again.status_code == 409
    assert again.json["answer"]["outcome"] == "already"


def test_letters_read_as_digits_are_taken_for_them_and_a_wrong_length_is_refused(db, form, staff, buyer, techfest):
    ticket = add_ticket(db, techfest, buyer, name="An")
    with db.transaction() as s:
        s.get(Ticket, ticket.id).short_code = "10A0B1C0"
    assert answer_panel(check_in_by_form(form, staff, techfest, "lOa0-bIcO")).startswith("✓ Valid: let them in An")
    assert check_in_by_form(form, staff, techfest, "10A0-B1C").status_code == 400  # seven characters
    assert check_in_by_form(form, staff, techfest, "10A0-B1CU").status_code == 400  # U is not in the alphabet
    assert check_in_by_form(form, staff, techfest, "ZZZZ-ZZZZ").status_code == 404


def test_a_short_code_of_another_events_ticket_names_that_event(db, form, staff, buyer, techfest):
    ticket = add_ticket(db, create_event(db, **TECHMART), buyer, name="Lê Hoàng Cường")
    response = check_in_by_form(form, staff, techfest, ticket.printed_code)
    assert answer_panel(response) == "✕ Wrong event: do not let in This ticket is for Techmart Hanoi 2026."


def test_the_ticket_page_the_mail_and_the_qr_picture_carry_the_short_code(app, db, login_as, mailbox):
    visitor = login_as(locale="en", email="hoa@example.vn", name="Phạm Thị Hoa")
    event = create_event(db)
    with app.test_request_context(), db.transaction() as s:
        order = orders.place_order(s, event=s.get(Event, event.id), buyer=visitor.user, attendees=[
            orders.AttendeeInput(ticket_type_id=event.ticket_types[0].id, name="Phạm Thị Hoa", email="hoa@example.vn")])
        ticket_id, printed, order_code = order.tickets[0].id, order.tickets[0].printed_code, order.code

    page = " ".join(re.sub(r"<[^>]+>", " ", text_of(visitor.get(f"/orders/{order_code}"))).split())
    assert f"Code to type if the QR code cannot be scanned: {printed}" in page
    mailbox.deliver()
    [mail] = mailbox.wait_for("hoa@example.vn")
    assert f"Ticket code: {printed}" in text_body(mail)
    assert printed in html_body(mail)
    picture = Image.open(io.BytesIO(visitor.get(f"/tickets/{ticket_id}/qr.png").data)).convert("L")
    assert picture.height > picture.width  # a line under the square QR code
    assert picture.crop((0, picture.width, picture.width, picture.height)).getextrema()[0] == 0  # printed in black


# --- test check-ins before the event --------------------------------------------------------------

@pytest.fixture
def next_month(db, staff):
    return create_event(db, **TECHMART, team=(staff.user,))  # starts in 30 days


def test_before_the_event_a_test_check_in_says_so_and_counts_nowhere(app, db, form, staff, buyer, next_month):
    ticket = add_ticket(db, next_month, buyer, name="Nguyễn Văn An")
    invite = text_of(staff.get(checkin_url(next_month)))
    assert "Try the door with test check-ins" in invite
    page = text_of(staff.get(checkin_url(next_month) + "?test=1"))
    assert "<h1>Test check-in: Techmart Hanoi 2026</h1>" in page
    assert "Test mode: nobody is let in and nothing is counted." in page

    tried = check_in_by_form(form, staff, next_month, ticket.printed_code.lower(), test="1")
    assert tried.status_code == 200
    assert answer_panel(tried) == ("✓ Test check-in: not counted Test: this ticket would be let in Nguyễn Văn An "
                                   "Visitor pass Nothing is counted: delete the test check-ins once the door is "
                                   "ready.")
    again = scan(app, staff, next_month, {"code": ticket.code, "test": True})
    assert (again.status_code, again.json["answer"]["title"]) == (409, "Test: already tried today")
    assert "1 test check-in, counted nowhere." in text_of(tried)
    [entry] = check_ins(db)
    assert entry.is_test

    first_day = hanoi_date(next_month.starts_at).isoformat()
    assert staff.get(checkin_url(next_month, "counts") + f"?day={first_day}").json["checked_in"] == 0
    dashboard = text_of(staff.get(f"/manage/events/{next_month.id}/attendees?checked_in=yes"))
    assert "0 attendees match" in dashboard
    assert "Checked in" not in search_rows(staff.get(checkin_url(next_month) + "?q=an&test=1"))[0]
    # without test mode, the same ticket is still refused before the event
    assert check_in_by_form(form, staff, next_month, ticket.code).status_code == 409


def test_the_organisers_delete_the_test_check_ins_and_it_is_audited(db, form, staff, buyer, next_month, techfest):
    tried = [add_ticket(db, next_month, buyer, name=f"An {n}") for n in range(3)]
    for ticket in tried:
        check_in_by_form(form, staff, next_month, ticket.code, test="1")
    real = add_ticket(db, techfest, buyer, name="Running")
    check_in_by_form(form, staff, techfest, real.code)

    deleted = form(staff, checkin_url(next_month, "tests/delete"))
    assert deleted.status_code == 302
    assert "3 test check-ins deleted." in text_of(staff.get(deleted.location))
    assert [(e.ticket_id, e.is_test) for e in check_ins(db)] == [(real.id, False)]
    with db.session_factory() as s:
        assert s.scalar(select(AuditEntry.details).where(AuditEntry.action == "checkin.tests_deleted")) == {
            "deleted": 3}
    assert staff.post(checkin_url(next_month, "tests/delete")).status_code == 400  # no form token


def test_test_check_ins_end_when_the_event_begins(app, db, form, staff, buyer, techfest):
    ticket = add_ticket(db, techfest, buyer, name="An")
    page = text_of(staff.get(checkin_url(techfest) + "?test=1"))
    assert "Test mode" not in page and "Try the door with test check-ins" not in page
    refused = check_in_by_form(form, staff, techfest, ticket.code, test="1")
    assert refused.status_code == 409
    assert "Test check-ins end when the event&#39;s first day begins" in refused.get_data(as_text=True)
    assert scan(app, staff, techfest, {"code": ticket.code, "test": True}).status_code == 409
    assert check_ins(db) == []


# --- searching without accents -------------------------------------------------------------------

def test_the_check_in_search_ignores_case_and_vietnamese_accents(db, staff, buyer, techfest):
    add_ticket(db, techfest, buyer, name="Nguyễn Thị Đào", email="dao@example.vn")
    add_ticket(db, techfest, buyer, name="DRJDJX Trading", email="sales@drjdjx.vn")
    add_ticket(db, techfest, buyer, name="Lê Văn Nam", email="nam@example.vn")

    def found(term: str) -> list[str]:
        return [row.split(" ")[0] for row in search_rows(staff.get(checkin_url(techfest) + f"?q={term}"))]

    assert found("nguyen thi dao") == ["Nguyễn"]
    assert found("ĐÀO") == ["Nguyễn"]
    assert found("drjdjx") == ["DRJDJX"]
    assert found("van") == ["Lê"]


def test_the_orders_list_finds_a_buyer_without_accents(db, staff, techfest, make_user):
    add_ticket(db, techfest, make_user(email="lan@example.vn", name="Đỗ Thị Lan"), name="Đỗ Thị Lan")
    add_ticket(db, techfest, make_user(email="nam@example.vn", name="Vũ Văn Nam"), name="Vũ Văn Nam")
    page = text_of(staff.get(f"/manage/events/{techfest.id}/orders?q=do+thi"))
    assert "Đỗ Thị Lan" in page and "Vũ Văn Nam" not in page
    assert 'value="do thi"' in page


def test_test_check_ins_left_when_the_event_begins_can_still_be_deleted(db, form, staff, buyer, techfest):
    ticket = add_ticket(db, techfest, buyer, name="An")
    with db.transaction() as s:
        s.add(CheckIn(ticket_id=ticket.id, checked_in_at=utcnow() - timedelta(days=3), checked_in_by_id=staff.user.id,
                      is_test=True))
    page = text_of(staff.get(checkin_url(techfest)))
    assert "1 test check-in, counted nowhere." in page
    assert answer_panel(check_in_by_form(form, staff, techfest, ticket.code)).startswith("✓ Valid: let them in")
    form(staff, checkin_url(techfest, "tests/delete"))
    assert [e.is_test for e in check_ins(db)] == [False]
