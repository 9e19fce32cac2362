"""The organisers' booth pages: the floor-plan editor (JSON and plain forms), the sale's settings and priority
windows, applications and bookings with their decisions, occupancy by zone and the exhibitor export, and
nobody else's event."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal.accounts.models import Role
from portal.audit.models import AuditEntry
from portal.booths import badges, services
from portal.booths.models import BookingStatus, Booth, BoothBooking, BoothSaleSettings, FloorPlan, PriorityWindow
from portal.booths.uploads import store_logo
from portal.db import utcnow
from portal.i18n import HANOI
from tests.browser.steps import translated
from tests.support.booths import add_booths, as_exhibitor, as_organiser, create_hall, join_organisation
from tests.support.ticketing import create_event
from tests.support.web import count_queries, csrf_token
from tests.unit.test_booths_lifecycle import APPLICATION, mails, reserve

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


@pytest.fixture
def organiser(login_as):
    return login_as(Role.ORGANISER, locale="en", name="Trần Minh Đức")


@pytest.fixture
def hall(db, make_user, organiser):
    """TechFest's hall (A-01, A-02, B-01, C-01) on a 60 × 40 grid; the logged-in organiser runs the event."""
    return create_hall(db, make_user, event=create_event(db, team=(organiser.user,)), approval_required=True)


@pytest.fixture
def exhibitor(make_user):
    return make_user(locale="en", email="exhibitor@example.vn", name="Lê Thu Hà")


def url(hall, path: str = "/") -> str:
    return f"/manage/events/{hall.event_id}/booths{path}"


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def stored_booth(db, booth_id: int) -> Booth | None:
    with db.session_factory() as s:
        return s.get(Booth, booth_id)


def stored_booking(db, booking_id: int) -> BoothBooking:
    with db.session_factory() as s:
        return s.get(BoothBooking, booking_id)


def post_json(client, app, path: str, payload: dict | None = None, *, token: bool = True):
    headers = {"X-CSRFToken": csrf_token(client, app)} if token else {}
    return client.post(path, json=payload or {}, headers=headers)


def booth_payload(**changes) -> dict:
    return {"id": None, "number": "D-01", "zone": "D", "x": 20, "y": 20, "w": 3, "h": 3, "price": 15_000_000,
            "size_m2": None, "corner": False, "power": True, "water": False, **changes}


# --- who may open what ------------------------------------------------------------------------

def test_every_page_renders_for_the_events_organiser(app, db, organiser, hall, exhibitor):
    booking = reserve(app, db, exhibitor, hall.booths["B-01"])
    with db.transaction() as s:
        window = PriorityWindow(event_id=hall.event_id, name_vi="Nhà tài trợ", name_en="Sponsors",
                                opens_at=utcnow())
        s.add(window)
    pages = ["/", "/settings", "/bookings", "/bookings?status=all", f"/bookings/{booking.id}", "/report",
             "/windows/new", f"/windows/{window.id}", f"/{hall.booths['A-01']}"]
    for path in pages:
        response = organiser.get(url(hall, path))
        assert response.status_code == 200, path
    plan = page_text(organiser.get(url(hall)))
    assert all(number in plan for number in ("A-01", "A-02", "B-01", "C-01"))
    assert f'href="/manage/events/{hall.event_id}/booths/"' in organiser.get(
        f"/manage/events/{hall.event_id}/dashboard").get_data(as_text=True)  # the Booths tab


def _routes(hall, booking_id: int, window_id: int) -> list[tuple[str, str]]:
    a01 = hall.booths["A-01"]
    return [
        ("GET", "/"), ("GET", "/settings"), ("GET", "/bookings"), ("GET", f"/bookings/{booking_id}"),
        ("GET", "/report"), ("GET", "/windows/new"), ("GET", f"/windows/{window_id}"), ("GET", f"/{a01}"),
        ("POST", "/floor-plan"), ("POST", "/new"), ("POST", f"/{a01}"), ("POST", f"/{a01}/delete"),
        ("POST", f"/{a01}/block"), ("POST", f"/{a01}/unblock"), ("POST", "/settings"), ("POST", "/windows/new"),
        ("POST", f"/windows/{window_id}"), ("POST", f"/windows/{window_id}/delete"),
        ("POST", f"/bookings/{booking_id}/approve"), ("POST", f"/bookings/{booking_id}/reject"),
        ("POST", f"/bookings/{booking_id}/cancel"), ("POST", f"/bookings/{booking_id}/payment"),
        ("POST", f"/bookings/{booking_id}/move"), ("POST", "/export.csv"), ("POST", "/export.xlsx"),
        ("GET", "/files/" + "0" * 32 + ".png"),
    ]


def test_another_events_organiser_is_refused_every_page_and_action(app, db, login_as, hall, exhibitor):
    booking = reserve(app, db, exhibitor, hall.booths["B-01"])
    with db.transaction() as s:
        window = PriorityWindow(event_id=hall.event_id, name_vi="Nhà tài trợ", name_en="Sponsors",
                                opens_at=utcnow())
        s.add(window)
    stranger = login_as(Role.ORGANISER, locale="en")
    create_event(db, slug="techmart-2026", team=(stranger.user,))  # organises another event
    token = csrf_token(stranger, app)
    for method, path in _routes(hall, booking.id, window.id):
        if method == "GET":
            response = stranger.get(url(hall, path))
        else:
            response = stranger.post(url(hall, path), data={"csrf_token": token, "message": "x", "amount": "1",
                                                            "booth": str(hall.booths["A-02"])})
        assert response.status_code == 403, (method, path)
    for path in ("/editor", f"/editor/{hall.booths['A-01']}/delete"):
        response = post_json(stranger, app, url(hall, path), booth_payload(id=hall.booths["A-01"]))
        assert response.status_code == 403 and response.json["error"], path
    assert stored_booking(db, booking.id).status is BookingStatus.AWAITING_APPROVAL
    assert stored_booth(db, hall.booths["A-01"]) is not None


def test_visitors_are_sent_to_log_in_and_the_editor_tells_them_their_login_ended(app, client, hall):
    response = client.get(url(hall))
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    response = post_json(client, app, url(hall, "/editor"), booth_payload())
    assert response.status_code == 401 and response.json["error"]


def test_a_forged_post_is_refused_before_anything_changes(app, db, organiser, hall):
    assert organiser.post(url(hall, f"/{hall.booths['A-01']}/block")).status_code == 400
    response = post_json(organiser, app, url(hall, "/editor"), booth_payload(), token=False)
    assert response.status_code == 400 and "expired" in response.json["error"]
    assert not stored_booth(db, hall.booths["A-01"]).blocked
    with db.session_factory() as s:
        assert s.scalar(select(Booth).where(Booth.number == "D-01")) is None


# --- the editor -------------------------------------------------------------------------------

def test_the_editor_adds_moves_and_resizes_a_booth_and_each_change_is_audited(app, db, organiser, hall):
    created = post_json(organiser, app, url(hall, "/editor"), booth_payload(number="d-01"))
    assert created.status_code == 200, created.json
    booth = created.json["booth"]
    assert (booth["number"], booth["size_m2"], booth["state"]) == ("D-01", 9.0, "available")
    moved = post_json(organiser, app, url(hall, "/editor"), booth_payload(id=booth["id"], x=30, w=4, size_m2=None))
    assert moved.status_code == 200 and "D-01 is saved" in moved.json["message"]
    stored = stored_booth(db, booth["id"])
    assert (stored.x, stored.w, stored.size_m2, stored.power) == (30, 4, 12.0, True)
    with db.session_factory() as s:
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.object_id == str(booth["id"]),
                                                            AuditEntry.object_type == "booth")
                            .order_by(AuditEntry.id)).all()
    assert actions == ["booth.created", "booth.updated"]


@pytest.mark.parametrize(("changes", "message"), [
    ({"x": 1, "y": 1}, "Booth A-02 would overlap booth A-01"),
    ({"x": 58, "y": 1}, "must lie inside the hall (60 × 40 grid units)"),
    ({"number": "B-01", "x": 40, "y": 1}, "There is already a booth B-01"),
])
def test_the_editor_refuses_a_move_and_puts_the_booth_back_where_it_is(app, db, organiser, hall, changes, message):
    a02 = hall.booths["A-02"]
    payload = booth_payload(**{"id": a02, "number": "A-02", "zone": "A", "x": 3, "y": 0, "price": 20_000_000,
                               **changes})
    response = post_json(organiser, app, url(hall, "/editor"), payload)
    assert response.status_code == 400
    assert message in response.json["error"]
    assert (response.json["booth"]["number"], response.json["booth"]["x"], response.json["booth"]["y"]) == (
        "A-02", 3, 0)
    stored = stored_booth(db, a02)
    assert (stored.number, stored.x, stored.y) == ("A-02", 3, 0)


def test_the_editors_refusal_speaks_the_organisers_language(app, db, login_as, make_user):
    organiser = login_as(Role.ORGANISER, locale="vi")
    hall = create_hall(db, make_user, event=create_event(db, team=(organiser.user,)))
    payload = booth_payload(id=hall.booths["A-02"], number="A-02", x=1, y=0)
    response = post_json(organiser, app, url(hall, "/editor"), payload)
    expected = translated(app, "Booth %(number)s would overlap booth %(other)s. Move or resize one of them.")
    assert response.json["error"] == expected % {"number": "A-02", "other": "A-01"}
    assert response.json["error"].startswith("Gian hàng A-02")


def test_the_editor_cannot_delete_a_booked_booth_but_deletes_a_free_one(app, db, organiser, hall, exhibitor):
    reserve(app, db, exhibitor, hall.booths["B-01"])
    response = post_json(organiser, app, url(hall, f"/editor/{hall.booths['B-01']}/delete"))
    assert response.status_code == 409
    assert "Booth B-01 has bookings, so it cannot be deleted. Block it instead." in response.json["error"]
    assert response.json["booth"]["state"] == "reserved"
    response = post_json(organiser, app, url(hall, f"/editor/{hall.booths['A-02']}/delete"))
    assert response.status_code == 200 and response.json["deleted"] == hall.booths["A-02"]
    assert stored_booth(db, hall.booths["A-02"]) is None


def test_the_editor_explains_a_booth_it_cannot_read(app, organiser, hall):
    response = post_json(organiser, app, url(hall, "/editor"), booth_payload(x="ten"))
    assert response.status_code == 400 and "could not be read" in response.json["error"]


def _booths_and_audit(db) -> tuple[list, int]:
    with db.session_factory() as s:
        booths = [(b.id, b.number, b.x, b.y, b.w, b.h, b.price, b.size_m2, b.corner)
                  for b in s.scalars(select(Booth).order_by(Booth.id))]
        return booths, len(s.scalars(select(AuditEntry.id)).all())


@pytest.mark.parametrize("body", [
    b"[1]", b'"x"', b"null", b"{}", b"not json", b"[" * 100_000, b'{"number": "D-01", "x": NaN}',
    *(json.dumps(booth_payload(**change)).encode() for change in (
        {"number": 7}, {"x": "20"}, {"x": 20.5}, {"y": True}, {"w": None}, {"price": [1]}, {"price": 10**12},
        {"zone": 5}, {"size_m2": "9"}, {"size_m2": True}, {"corner": "yes"}, {"id": "1"}, {"id": True})),
])
def test_the_editor_refuses_a_body_of_another_shape_with_400_and_changes_nothing(app, db, organiser, hall, body):
    before = _booths_and_audit(db)
    response = organiser.post(url(hall, "/editor"), data=body, content_type="application/json",
                              headers={"X-CSRFToken": csrf_token(organiser, app)})
    assert response.status_code == 400
    assert response.json["error"] == "The booth could not be read. Reload the page and try again."
    assert _booths_and_audit(db) == before


def test_the_editor_refuses_a_zone_longer_than_stored_with_the_rule(app, db, organiser, hall):
    before = _booths_and_audit(db)
    response = post_json(organiser, app, url(hall, "/editor"), booth_payload(zone="Z" * 41))
    assert (response.status_code, response.json["field"]) == (400, "zone")
    assert response.json["error"] == "A zone name has at most 40 characters."
    assert _booths_and_audit(db) == before


def test_the_editor_names_every_broken_rule_at_once_each_at_its_field(app, db, organiser, hall):
    before = _booths_and_audit(db)
    response = post_json(organiser, app, url(hall, "/editor"),
                         booth_payload(number="a b", zone="Z" * 300, x=59, price=-1))
    assert response.status_code == 400
    assert response.json["error"] == "Please correct the fields marked below."
    assert response.json["problems"] == {
        "number": "A booth number has letters and digits, groups joined by hyphens, at most 12 characters (like A-01).",
        "zone": "A zone name has at most 40 characters.",
        "x": "The booth must lie inside the hall (60 × 40 grid units).",
        "price": "The price cannot be negative."}
    assert _booths_and_audit(db) == before


def test_the_booth_form_names_every_broken_rule_at_once_keeping_what_was_typed(form, organiser, hall):
    response = form(organiser, url(hall, "/new"), {"number": "A-01", "zone": "Hall E", "x": "58", "y": "1",
                                                   "w": "3", "h": "2", "price": "9000000"})
    assert response.status_code == 400
    text = page_text(response)
    assert re.search(r'id="number-error">There is already a booth A-01\.<', text)
    assert re.search(r'id="x-error">The booth must lie inside the hall \(60 × 40 grid units\)\.<', text)
    assert 'value="Hall E"' in text and 'value="58"' in text


def test_a_zone_name_too_long_is_refused_at_its_field_which_says_its_limit(form, organiser, hall):
    page = page_text(organiser.get(url(hall)))
    zone = re.search(r'<input[^>]*name="zone"[^>]*>', page).group(0)
    assert 'maxlength="40"' in zone and 'aria-describedby="zone-hint"' in zone
    assert '<p class="hint" id="zone-hint">At most 40 characters.</p>' in page

    typed = ("Khu trưng bày công nghệ " * 13).strip()  # 311 characters
    response = form(organiser, url(hall, "/new"), {"number": "E-02", "zone": typed, "x": "40", "y": "30", "w": "2",
                                                   "h": "2", "price": "9000000"})

    assert response.status_code == 400
    text = page_text(response)
    assert re.search(r'id="zone-error">Use at most 40 characters\.<', text)
    assert f'value="{typed}"' in text  # all of it, to shorten


def test_a_refused_body_naming_a_booth_gets_that_booth_back_as_stored(app, db, organiser, hall):
    a02 = hall.booths["A-02"]
    response = post_json(organiser, app, url(hall, "/editor"), booth_payload(id=a02, number="A-02", x="far"))
    assert response.status_code == 400
    assert (response.json["booth"]["id"], response.json["booth"]["x"]) == (a02, 3)


def test_without_javascript_a_booth_is_added_by_its_coordinates(app, db, form, organiser, hall):
    data = {"number": "E-01", "zone": "E", "x": "40", "y": "30", "w": "2", "h": "3", "size_m2": "7,5",
            "price": "12000000", "water": "y"}
    response = form(organiser, url(hall, "/new"), data)
    assert response.status_code == 302
    with db.session_factory() as s:
        booth = s.scalar(select(Booth).where(Booth.number == "E-01"))
    assert (booth.x, booth.y, booth.w, booth.h, booth.size_m2, booth.price, booth.water) == (
        40, 30, 2, 3, 7.5, 12_000_000, True)


def test_a_refused_booth_form_keeps_what_was_typed(form, organiser, hall):
    response = form(organiser, url(hall, "/new"), {"number": "E-02", "zone": "Hall E", "x": "1", "y": "1", "w": "2",
                                                   "h": "2", "price": "9000000"})
    assert response.status_code == 400
    text = page_text(response)
    assert "Booth E-02 would overlap booth A-01" in text
    assert 'value="Hall E"' in text and 'value="9000000"' in text
    response = form(organiser, url(hall, "/new"), {"number": "E-02", "x": "1", "y": "1", "w": "0", "h": "2",
                                                   "price": "lots"})
    assert response.status_code == 400
    assert "Enter a whole number, like 12." in page_text(response) and 'value="lots"' in page_text(response)


def test_a_booth_is_edited_on_its_own_page(db, form, organiser, hall):
    a01 = hall.booths["A-01"]
    response = form(organiser, url(hall, f"/{a01}"), {"number": "A-01", "zone": "A", "x": "0", "y": "0", "w": "3",
                                                      "h": "3", "price": "25000000", "corner": "y"})
    assert response.status_code == 302
    assert stored_booth(db, a01).price == 25_000_000


def test_booths_are_blocked_and_unblocked_from_the_list(db, form, organiser, hall, app, exhibitor):
    a01 = hall.booths["A-01"]
    response = form(organiser, url(hall, f"/{a01}/block"))
    assert response.status_code == 302 and stored_booth(db, a01).blocked
    assert "Not for sale" in page_text(organiser.get(url(hall)))
    form(organiser, url(hall, f"/{a01}/unblock"))
    assert not stored_booth(db, a01).blocked
    reserve(app, db, exhibitor, hall.booths["B-01"])
    response = form(organiser, url(hall, f"/{hall.booths['B-01']}/block"), follow_redirects=True)
    assert "This cannot be done now: booth B-01 is Reserved: awaiting approval." in page_text(response)


# --- the hall -----------------------------------------------------------------------------------

def test_the_hall_gets_a_drawing_and_a_size(app, db, form, organiser, hall):
    response = form(organiser, url(hall, "/floor-plan"), {
        "width": "80", "height": "50", "grid_size": "12", "metres_per_unit": "0.5",
        "background": (io.BytesIO(PNG), "hall.png")}, content_type="multipart/form-data")
    assert response.status_code == 302
    with db.session_factory() as s:
        plan = s.get(FloorPlan, hall.event_id)
    assert (plan.width, plan.height, plan.grid_size, plan.metres_per_unit) == (80, 50, 12, 0.5)
    drawing = organiser.get(url(hall, f"/files/{plan.background}"))
    assert drawing.status_code == 200 and drawing.mimetype == "image/png" and drawing.data == PNG
    assert f"/files/{plan.background}" in organiser.get(url(hall)).get_data(as_text=True)


def test_an_svg_drawing_loses_its_script(db, form, organiser, hall):
    svg = (b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script>'
           b'<rect width="10" height="10" onclick="alert(2)" fill="#eee"/></svg>')
    form(organiser, url(hall, "/floor-plan"), {"width": "60", "height": "40", "grid_size": "16",
                                               "metres_per_unit": "1", "background": (io.BytesIO(svg), "hall.svg")},
         content_type="multipart/form-data")
    with db.session_factory() as s:
        name = s.get(FloorPlan, hall.event_id).background
    served = organiser.get(url(hall, f"/files/{name}"))
    assert served.mimetype == "image/svg+xml" and b"<rect" in served.data
    assert b"script" not in served.data and b"onclick" not in served.data
    assert "sandbox" in served.headers["Content-Security-Policy"]


@pytest.mark.parametrize(("upload", "fields", "message"), [
    ((b"just text", "hall.pdf"), {}, "The drawing must be a PNG, JPEG or SVG file."),
    ((PNG, "hall.png"), {"width": "2"}, "Booth A-01 would be outside the hall."),
    (None, {"metres_per_unit": "a lot"}, "Enter a number, like 2.5."),
])
def test_a_refused_hall_keeps_what_was_typed(app, db, form, organiser, hall, upload, fields, message):
    uploads = Path(app.instance_path) / "uploads"
    files_before = set(uploads.glob("*"))
    data = {"width": "70", "height": "45", "grid_size": "16", "metres_per_unit": "1", **fields}
    if upload:
        data["background"] = (io.BytesIO(upload[0]), upload[1])
    response = form(organiser, url(hall, "/floor-plan"), data, content_type="multipart/form-data")
    assert response.status_code == 400
    text = page_text(response)
    assert message in text and 'value="45"' in text
    with db.session_factory() as s:
        assert s.get(FloorPlan, hall.event_id) is None
    assert set(uploads.glob("*")) == files_before  # a drawing the plan does not use is not kept


# --- sale settings and priority windows --------------------------------------------------------

SETTINGS = {"hold_minutes": "20", "approval_required": "y", "deposit_percent": "30", "payment_days": "10",
            "balance_days_before_event": "14",
            "selection_opens_at": "2026-11-01 09:00", "selection_closes_at": "2026-11-20 17:00",
            "badge_rules": "12: 3\n*: 6"}


def test_the_sale_settings_are_saved_in_hanoi_time(db, form, organiser, hall):
    response = form(organiser, url(hall, "/settings"), SETTINGS)
    assert response.status_code == 302
    with db.session_factory() as s:
        settings = s.get(BoothSaleSettings, hall.event_id)
    assert (settings.hold_minutes, settings.deposit_percent, settings.payment_days,
            settings.balance_days_before_event) == (20, 30, 10, 14)
    assert settings.selection_opens_at.astimezone(HANOI).strftime("%Y-%m-%d %H:%M") == "2026-11-01 09:00"
    assert settings.badge_rules == [{"up_to_m2": 12, "badges": 3}, {"up_to_m2": None, "badges": 6}]
    text = page_text(organiser.get(url(hall, "/settings")))
    assert 'value="2026-11-20T17:00"' in text and "12: 3\n*: 6" in text and 'value="14"' in text
    form(organiser, url(hall, "/settings"), {**SETTINGS, "balance_days_before_event": ""})
    with db.session_factory() as s:  # left empty: the days to pay, counted from the deposit
        assert s.get(BoothSaleSettings, hall.event_id).balance_days_before_event is None


@pytest.mark.parametrize(("changes", "message"), [
    ({"deposit_percent": "150"}, "Enter a number between 0 and 100."),
    ({"balance_days_before_event": "400"}, "Enter a number between 0 and 365."),
    ({"selection_closes_at": "2026-10-01 09:00"}, "The selection deadline must come after the opening."),
    ({"badge_rules": "9: 2\n18: 4"}, "the last one for any larger booth"),
    ({"badge_rules": "nine: two"}, "Write one rule per line"),
])
def test_refused_settings_keep_what_was_typed(db, form, organiser, hall, changes, message):
    response = form(organiser, url(hall, "/settings"), {**SETTINGS, **changes})
    assert response.status_code == 400
    text = page_text(response)
    assert message in text
    assert f'value="{changes.get("deposit_percent", "30")}"' in text and "2026-11-01 09:00" in text
    with db.session_factory() as s:
        assert s.get(BoothSaleSettings, hall.event_id).deposit_percent == 100


def test_sponsors_get_a_priority_window_that_can_be_deleted(db, form, organiser, hall, make_user):
    sponsor = join_organisation(db, make_user(), "Viettel Solutions")
    response = form(organiser, url(hall, "/windows/new"), {"name_vi": "Nhà tài trợ", "name_en": "Sponsors",
                                                           "opens_at": "2026-10-25 09:00",
                                                           "organisations": [str(sponsor)]})
    assert response.status_code == 302
    text = page_text(organiser.get(url(hall, "/settings")))
    assert "Sponsors" in text and "Viettel Solutions" in text
    with db.session_factory() as s:
        window = s.scalar(select(PriorityWindow))
    assert window.opens_at.astimezone(HANOI).hour == 9
    response = form(organiser, url(hall, "/windows/new"), {"name_en": "Partners", "opens_at": "2026-10-25 09:00"})
    assert response.status_code == 400 and 'value="Partners"' in page_text(response)
    form(organiser, url(hall, f"/windows/{window.id}/delete"))
    with db.session_factory() as s:
        assert s.scalar(select(PriorityWindow)) is None


# --- applications and bookings -----------------------------------------------------------------

def test_the_list_filters_bookings_by_status(app, db, organiser, hall, exhibitor, make_user):
    waiting = reserve(app, db, exhibitor, hall.booths["B-01"])
    other = make_user(locale="en", email="other@example.vn")
    rejected = reserve(app, db, other, hall.booths["C-01"])
    as_organiser(app, db, services.reject_application, hall, rejected.id, message="Full")
    active = page_text(organiser.get(url(hall, "/bookings")))
    assert "B-01" in active and "C-01" not in active
    only_rejected = page_text(organiser.get(url(hall, "/bookings?status=rejected")))
    assert "C-01" in only_rejected and "B-01" not in only_rejected
    assert waiting.id


def test_approving_an_application_tells_the_exhibitor(app, db, form, organiser, hall, exhibitor):
    booking = reserve(app, db, exhibitor, hall.booths["B-01"])
    response = form(organiser, url(hall, f"/bookings/{booking.id}/approve"), {"message": "Welcome!"},
                    follow_redirects=True)
    assert "The application for booth B-01 is approved." in page_text(response)
    assert stored_booking(db, booking.id).status is BookingStatus.AWAITING_PAYMENT
    assert any("approved" in m.subject for m in mails(db, exhibitor.email))


def test_a_rejection_must_say_why_and_tells_the_exhibitor(app, db, form, organiser, hall, exhibitor):
    booking = reserve(app, db, exhibitor, hall.booths["B-01"])
    response = form(organiser, url(hall, f"/bookings/{booking.id}/reject"), {"message": " "}, follow_redirects=True)
    assert "Tell the exhibitor why their application is not accepted." in page_text(response)
    assert stored_booking(db, booking.id).status is BookingStatus.AWAITING_APPROVAL
    form(organiser, url(hall, f"/bookings/{booking.id}/reject"), {"message": "Products off topic"})
    assert stored_booking(db, booking.id).status is BookingStatus.REJECTED
    told = mails(db, exhibitor.email)[-1]
    assert "Your booth application" in told.subject and "Products off topic" in told.body_text


def test_the_booking_page_shows_the_application_with_its_logo(app, db, organiser, hall, exhibitor):
    logo = store_logo(FileStorage(io.BytesIO(PNG), "logo.png"), Path(app.instance_path) / "uploads")
    held = as_exhibitor(app, db, services.hold_booth, exhibitor, hall.booths["B-01"])
    as_exhibitor(app, db, services.submit_application, exhibitor, held.id,
                 services.Application(**{**vars(APPLICATION), "logo": logo}))
    text = page_text(organiser.get(url(hall, f"/bookings/{held.id}")))
    assert all(part in text for part in ("Công ty CP Sao Mai (demo)", "0101234567", "Robot giao hàng", "₫36,000,000",
                                         "Awaiting approval", f'src="/booths/bookings/{held.id}/logo"'))
    assert organiser.get(f"/booths/bookings/{held.id}/logo").data == PNG
    assert organiser.get(url(hall, f"/files/{logo}")).status_code == 404  # the drawing's address serves no logo


def test_a_payment_is_recorded_once_however_often_the_button_is_pressed(app, db, form, organiser, hall, exhibitor):
    booking = reserve(app, db, exhibitor, hall.booths["B-01"])
    as_organiser(app, db, services.approve_application, hall, booking.id)
    page = page_text(organiser.get(url(hall, f"/bookings/{booking.id}")))
    assert 'name="expected_paid" type="hidden" value="0"' in page and 'value="36000000"' in page
    click = {"amount": "36000000", "expected_paid": "0"}
    response = form(organiser, url(hall, f"/bookings/{booking.id}/payment"), click, follow_redirects=True)
    assert "booth B-01 is sold" in page_text(response)
    response = form(organiser, url(hall, f"/bookings/{booking.id}/payment"), click, follow_redirects=True)
    assert "This payment has already been recorded" in page_text(response)
    stored = stored_booking(db, booking.id)
    assert (stored.status, stored.amount_paid) == (BookingStatus.SOLD, 36_000_000)
    assert any("is paid" in m.subject for m in mails(db, exhibitor.email))


def test_a_payment_that_is_not_a_number_keeps_the_page(app, db, form, organiser, hall, exhibitor):
    booking = reserve(app, db, exhibitor, hall.booths["B-01"])
    as_organiser(app, db, services.approve_application, hall, booking.id)
    response = form(organiser, url(hall, f"/bookings/{booking.id}/payment"), {"amount": "ba triệu",
                                                                              "expected_paid": "0"})
    assert response.status_code == 400
    assert "Enter a whole number" in page_text(response) and 'value="ba triệu"' in page_text(response)


def test_an_exhibitor_is_moved_to_an_available_booth_and_told(app, db, form, organiser, hall, exhibitor):
    booking = reserve(app, db, exhibitor, hall.booths["B-01"])
    page = page_text(organiser.get(url(hall, f"/bookings/{booking.id}")))
    options = re.findall(r'<option value="(\d+)"', page)
    assert sorted(map(int, options)) == sorted(hall.booths[n] for n in ("A-01", "A-02", "C-01"))
    response = form(organiser, url(hall, f"/bookings/{booking.id}/move"),
                    {"booth": str(hall.booths["C-01"]), "note": "Bigger booth, same price"}, follow_redirects=True)
    assert "moved to booth C-01" in page_text(response)
    assert stored_booking(db, booking.id).booth_id == hall.booths["C-01"]
    told = mails(db, exhibitor.email)[-1]
    assert "has changed" in told.subject and "Bigger booth, same price" in told.body_text


def test_a_booking_is_cancelled_with_a_message(app, db, form, organiser, hall, exhibitor):
    booking = reserve(app, db, exhibitor, hall.booths["B-01"])
    response = form(organiser, url(hall, f"/bookings/{booking.id}/cancel"), {"message": "Duplicate"},
                    follow_redirects=True)
    assert "The booking of booth B-01 is cancelled." in page_text(response)
    assert stored_booking(db, booking.id).status is BookingStatus.CANCELLED
    assert any("cancelled" in m.subject for m in mails(db, exhibitor.email))


def test_another_events_booking_is_not_found(app, db, form, organiser, hall, make_user, exhibitor):
    other = create_hall(db, make_user, event=create_event(db, slug="techmart-2026"))
    booking = reserve(app, db, exhibitor, other.booths["B-01"])
    assert organiser.get(url(hall, f"/bookings/{booking.id}")).status_code == 404
    assert form(organiser, url(hall, f"/bookings/{booking.id}/approve")).status_code == 404
    assert form(organiser, url(hall, f"/{other.booths['A-01']}/block")).status_code == 404


def test_the_bookings_list_sends_as_many_queries_for_many_bookings_as_for_one(app, db, organiser, hall, make_user):
    def queries() -> int:
        with count_queries(db.engine) as counter:
            assert organiser.get(url(hall, "/bookings?status=all")).status_code == 200
        return len(counter)

    first = make_user(locale="en")
    join_organisation(db, first, "Công ty Sao Mai")
    reserve(app, db, first, hall.booths["A-01"])
    few = queries()
    add_booths(db, hall, [(f"F-{n:02d}", "F", n * 2, 30, 2, 2, 4.0, 1_000_000, False) for n in range(12)])
    for n in range(12):
        exhibitor = make_user(locale="en")
        join_organisation(db, exhibitor, f"Công ty {n}")
        reserve(app, db, exhibitor, hall.booths[f"F-{n:02d}"])
    assert queries() == few


def test_the_editor_page_sends_as_many_queries_for_many_booths_as_for_few(app, db, organiser, hall, make_user):
    def queries() -> int:
        with count_queries(db.engine) as counter:
            assert organiser.get(url(hall)).status_code == 200
        return len(counter)

    reserve(app, db, make_user(locale="en"), hall.booths["A-01"])
    few = queries()
    add_booths(db, hall, [(f"F-{n:02d}", "F", n * 2, 30, 2, 2, 4.0, 1_000_000, False) for n in range(20)])
    for n in range(5):
        reserve(app, db, make_user(locale="en"), hall.booths[f"F-{n:02d}"])
    assert queries() == few


# --- occupancy, revenue and the export ---------------------------------------------------------

def test_the_report_shows_occupancy_and_revenue_by_zone(app, db, organiser, hall, exhibitor, make_user):
    booking = reserve(app, db, exhibitor, hall.booths["B-01"])
    as_organiser(app, db, services.approve_application, hall, booking.id)
    as_organiser(app, db, services.record_payment, hall, booking.id)
    as_organiser(app, db, services.block_booth, hall, hall.booths["A-02"])
    response = organiser.get(url(hall, "/report"))
    text = page_text(response)
    zone_b = re.search(r'<tr data-zone="B">(.*?)</tr>', text, re.S).group(1)
    assert '<td class="sold">1</td>' in zone_b and '<td class="occupancy">100 %</td>' in zone_b
    zone_a = re.search(r'<tr data-zone="A">(.*?)</tr>', text, re.S).group(1)
    assert '<td class="blocked">1</td>' in zone_a and '<td class="occupancy">0 %</td>' in zone_a
    assert "₫36,000,000" in zone_b
    assert text.count('class="chart-bar"') == 2 * 3  # booked and paid for zones A, B, C


def test_the_exhibitor_export_neutralises_formulas_and_is_audited(app, db, form, organiser, hall, exhibitor):
    dangerous = services.Application(**{**vars(APPLICATION), "company_name": '=HYPERLINK("http://x")'})
    held = as_exhibitor(app, db, services.hold_booth, exhibitor, hall.booths["B-01"])
    as_exhibitor(app, db, services.submit_application, exhibitor, held.id, dangerous)
    response = form(organiser, url(hall, "/export.csv"))
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"  # the charset once
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert [row["Company"] for row in rows] == ["'=HYPERLINK(\"http://x\")"]
    spreadsheet = form(organiser, url(hall, "/export.xlsx"))
    assert spreadsheet.headers["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    workbook = load_workbook(io.BytesIO(spreadsheet.data))
    assert "'=HYPERLINK(\"http://x\")" in [cell.value for cell in workbook.active[2]]
    with db.session_factory() as s:
        assert s.scalars(select(AuditEntry.action).where(AuditEntry.action == "booth.exhibitors_exported")).all() == [
            "booth.exhibitors_exported"] * 2


# --- events pages that must leave exhibitor badges out (or count them in) ---------------------

@pytest.fixture
def badge(app, db, hall, exhibitor):
    """A sold booth B-01 whose exhibitor has named one member of staff."""
    booking = reserve(app, db, exhibitor, hall.booths["B-01"])
    as_organiser(app, db, services.approve_application, hall, booking.id)
    as_organiser(app, db, services.record_payment, hall, booking.id)
    return as_exhibitor(app, db, badges.add_badge, exhibitor, booking.id, name="Phạm Văn Nam",
                        email="nam@example.vn")


def test_check_in_counts_include_exhibitor_badges(app, db, hall, badge):
    from portal.events.checkin import counts
    from portal.events.models import Event
    from portal.i18n import hanoi_date

    with app.test_request_context(), db.session_factory() as s:
        event = s.get(Event, hall.event_id)
        day = hanoi_date(event.starts_at)
        found = counts(s, event, day)
    assert badge.ticket_type_id in [c.ticket_type_id for c in found.by_type]
    assert found.valid == 1


def test_the_ticket_type_list_and_the_dashboard_leave_the_badge_type_out(db, organiser, hall, badge):
    ticket_types = page_text(organiser.get(f"/manage/events/{hall.event_id}/ticket-types/"))
    assert "Visitor pass" in ticket_types and "Exhibitor" not in ticket_types
    assert organiser.get(f"/manage/events/{hall.event_id}/ticket-types/{badge.ticket_type_id}").status_code == 404
    dashboard = organiser.get(f"/manage/events/{hall.event_id}/dashboard").get_data(as_text=True)
    assert f'data-ticket-type="{badge.ticket_type_id}"' not in dashboard
    assert dashboard.count("data-ticket-type=") == 1


def test_the_selection_window_moves_with_the_settings(app, db, form, organiser, hall, exhibitor):
    """Closing selection on the settings page stops new holds at once."""
    closes = (utcnow() - timedelta(hours=1)).astimezone(HANOI).strftime("%Y-%m-%d %H:%M")
    opens = (utcnow() - timedelta(days=2)).astimezone(HANOI).strftime("%Y-%m-%d %H:%M")
    form(organiser, url(hall, "/settings"), {**SETTINGS, "selection_opens_at": opens, "selection_closes_at": closes})
    with pytest.raises(services.SelectionClosed):
        as_exhibitor(app, db, services.hold_booth, exhibitor, hall.booths["A-01"])
