"""The exhibitor's booth pages: the public plan (drawing, legend, list, filters), holding a booth and applying,
every refusal keeping what was typed, the exhibitor's bookings and badges, and who may see what."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from io import BytesIO
from pathlib import Path

import pytest
from flask_babel import force_locale
from sqlalchemy import select, update

from portal.accounts.models import User
from portal.booths import services
from portal.booths.models import BookingStatus, BoothBooking, FloorPlan, PlanImageKind
from portal.db import utcnow
from portal.events.models import Event, EventStatus, Ticket
from portal.i18n import LOCALE_COOKIE, format_local_datetime
from portal.notifications.models import OutboxMessage
from tests.browser.steps import translated
from tests.conftest import login
from tests.support.booths import add_booths, as_exhibitor, as_organiser, create_hall, join_organisation
from tests.support.mail import text_body
from tests.support.payments import enable_demo_card
from tests.support.reminders import default_rules, run_at
from tests.support.ticketing import create_event
from tests.support.web import count_queries

PLAN = "/events/techfest-hanoi-2026/booths"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
APPLICATION = {"company_name": "Công ty Robot Sông Hồng", "tax_code": "0101234567", "products": "Robots that sort mail",
               "contact_name": "Lê Thu Hà", "contact_email": "ha@songhong.vn", "contact_phone": "+84 912 345 678",
               "provider": "manual"}


def text_of(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


HOLD = f"{PLAN}/hold"


def choose_button(booth_id: int) -> str:
    return f'name="booth" value="{booth_id}"'


def list_rows(response) -> list[str]:
    """The booth numbers in the list view, in order."""
    return re.findall(r'<tr id="booth-row-\d+">\s*<th scope="row">([^<]+)</th>', response.get_data(as_text=True))


def booking_of(db, exhibitor: User) -> BoothBooking:
    with db.session_factory() as s:
        return s.scalars(select(BoothBooking).where(BoothBooking.exhibitor_id == exhibitor.id)
                         .order_by(BoothBooking.id.desc())).first()


def run_out(db, booking_id: int) -> None:
    """The hold's time has passed (the services read the clock; the pages cannot be given another one)."""
    with db.transaction() as s:
        s.execute(update(BoothBooking).where(BoothBooking.id == booking_id)
                  .values(hold_expires_at=utcnow() - timedelta(seconds=1)))


@pytest.fixture
def hall(db, make_user):
    return create_hall(db, make_user)


@pytest.fixture
def visitor(client):
    """Not logged in, reading English."""
    client.set_cookie(LOCALE_COOKIE, "en")
    return client


@pytest.fixture
def exhibitor(login_as):
    return login_as(locale="en", name="Lê Thu Hà", email="ha@songhong.vn")


@pytest.fixture
def rival(login_as):
    return login_as(locale="en", name="Phạm Quốc Bảo", email="bao@mekong.vn")


def hold(form, client, booth_id: int, data: dict | None = None):
    """Presses the booth's "Choose" button (on the plan, or on a refused application with its fields)."""
    return form(client, HOLD, {"booth": booth_id, **(data or {})})


# --- the plan ---------------------------------------------------------------------------------

def test_the_plan_draws_every_booth_with_its_state_and_lists_it_with_a_legend_in_words(app, db, hall, exhibitor,
                                                                                       make_user, visitor):
    as_exhibitor(app, db, services.hold_booth, make_user(locale="en"), hall.booths["B-01"])
    as_organiser(app, db, services.block_booth, hall, hall.booths["C-01"])

    page = visitor.get(PLAN)

    assert page.status_code == 200
    body = page.get_data(as_text=True)
    booths = re.findall(r'<a href="[^"]*booth=(\d+)[^"]*" class="booth booth-(\w+)[^"]*" aria-label="([^"]+)"', body)
    assert [(state, html.unescape(name)) for _id, state, name in booths] == [
        ("available", "Booth A-01, zone A, 9 m², ₫20,000,000: Available"),
        ("available", "Booth A-02, zone A, 9 m², ₫20,000,000: Available"),
        ("held", "Booth B-01, zone B, 18 m², ₫36,000,000: Held"),
        ("blocked", "Booth C-01, zone C, 36 m², ₫70,000,000: Not for sale"),
    ]
    assert re.search(r'<rect class="booth-shape" x="0" y="5" width="6" height="3"/>', body)  # B-01 at its place
    legend = re.search(r'<ul class="booth-legend".*?</ul>', body, re.S).group(0)
    assert re.findall(r"</svg>([^<]+)</li>", legend) == ["Available", "Held", "Reserved", "Sold", "Not for sale"]
    assert list_rows(page) == ["A-01", "A-02", "B-01", "C-01"]
    words = text_of(page)
    assert "A-01 A 9 m² ₫20,000,000 Corner booth Available Log in to choose A-01" in words
    assert "C-01 C 36 m² ₫70,000,000 Corner booth Not for sale —" in words

    signed_in = exhibitor.get(PLAN)
    assert f'action="{HOLD}"' in signed_in.get_data(as_text=True)
    assert choose_button(hall.booths["A-02"]) in signed_in.get_data(as_text=True)
    assert choose_button(hall.booths["B-01"]) not in signed_in.get_data(as_text=True)


def test_the_event_page_links_to_the_plan_only_once_it_has_booths(db, make_user, client):
    event = create_event(db)
    assert PLAN not in client.get(f"/events/{event.slug}").get_data(as_text=True)
    create_hall(db, make_user, event=event)
    assert f'href="{PLAN}"' in client.get(f"/events/{event.slug}").get_data(as_text=True)


def test_choosing_a_booth_on_the_drawing_shows_it_with_its_action_keeping_the_filters(hall, exhibitor):
    page = exhibitor.get(f"{PLAN}?zone=A&booth={hall.booths['A-02']}")

    chosen = re.search(r'<section id="chosen".*?</section>', page.get_data(as_text=True), re.S).group(0)
    assert "Booth A-02" in chosen and "Available" in chosen and "Choose A-02" in chosen
    assert f'href="{PLAN}?booth={hall.booths["A-01"]}&amp;zone=A#chosen"' in page.get_data(as_text=True)


@pytest.mark.parametrize(("query", "listed"), [
    ("zone=B", ["B-01"]),
    ("min_m2=10&max_m2=20", ["B-01"]),
    ("max_price=30000000", ["A-01", "A-02"]),
    ("corner=y", ["A-01", "C-01"]),
    ("corner=y&max_price=30000000", ["A-01"]),
    ("only_available=y", ["A-02", "B-01", "C-01"]),
])
def test_the_filters_narrow_the_list_and_dim_the_rest_of_the_drawing(app, db, hall, make_user, visitor, query,
                                                                     listed):
    as_exhibitor(app, db, services.hold_booth, make_user(), hall.booths["A-01"])

    page = visitor.get(f"{PLAN}?{query}")

    assert page.status_code == 200
    assert list_rows(page) == listed
    drawn = re.findall(r'class="booth ([^"]*)" aria-label="Booth ([\w-]+),', page.get_data(as_text=True))
    assert [number for classes, number in drawn if "booth-dimmed" not in classes] == listed
    assert len(drawn) == 4


def test_a_filter_that_is_not_a_number_is_refused_in_words_and_filters_nothing(hall, exhibitor):
    page = exhibitor.get(f"{PLAN}?min_m2=big&max_price=-5")

    assert page.status_code == 400
    assert "Enter a number, like 9 or 12.5." in text_of(page)
    assert "Enter 0 or more." in text_of(page)
    assert list_rows(page) == ["A-01", "A-02", "B-01", "C-01"]
    assert 'value="big"' in page.get_data(as_text=True)


def test_the_plan_sends_as_many_statements_for_60_booths_as_for_10(app, db, make_user, exhibitor):
    hall = create_hall(db, make_user, booths=[
        (f"A-{n:02d}", "A", n * 3, 0, 3, 3, 9.0, 20_000_000, False) for n in range(10)])

    def statements() -> int:
        with count_queries(db.engine) as counter:
            assert exhibitor.get(PLAN).status_code == 200
        return len(counter)

    as_exhibitor(app, db, services.hold_booth, exhibitor.user, hall.booths["A-00"])
    few = statements()
    add_booths(db, hall, [(f"B-{n:02d}", "B", (n % 10) * 3, 5 + (n // 10) * 3, 3, 3, 9.0, 20_000_000, n % 2 == 0)
                          for n in range(50)])
    for n in range(0, 50, 5):
        as_exhibitor(app, db, services.hold_booth, make_user(), hall.booths[f"B-{n:02d}"])
    assert statements() == few


def test_the_plan_of_a_draft_event_is_not_found_except_by_its_organisers(app, db, hall, exhibitor):
    with db.transaction() as s:
        s.get(Event, hall.event_id).status = EventStatus.DRAFT
    organiser = app.test_client()
    login(organiser, app, hall.organiser)

    assert exhibitor.get(PLAN).status_code == 404
    assert exhibitor.get(f"{PLAN}/background").status_code == 404
    assert organiser.get(PLAN).status_code == 200


def test_the_drawing_is_served_as_an_image_and_an_svg_cannot_run_anything(app, db, hall, client):
    """The drawing was sanitised on upload; served with a policy of its own, opened alone it still runs nothing."""
    folder = Path(app.instance_path) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    name = "0123456789abcdef0123456789abcdef.svg"
    (folder / name).write_bytes(b'<svg xmlns="http://www.w3.org/2000/svg"><rect width="1" height="1"/></svg>')
    with db.transaction() as s:
        s.add(FloorPlan(event_id=hall.event_id, background=name, background_kind=PlanImageKind.SVG))

    drawing = client.get(f"{PLAN}/background")
    page = client.get(PLAN)

    assert drawing.status_code == 200
    assert drawing.mimetype == "image/svg+xml"
    assert drawing.headers["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    assert f'<image href="{PLAN}/background"' in page.get_data(as_text=True)


def test_an_event_without_a_drawing_has_no_background_to_serve(hall, client):
    assert client.get(f"{PLAN}/background").status_code == 404


# --- holding and applying ---------------------------------------------------------------------

def test_choosing_a_booth_holds_it_shows_the_countdown_and_the_application_reserves_it(db, hall, exhibitor, form,
                                                                                        mailbox):
    chosen = hold(form, exhibitor, hall.booths["A-02"])

    booking = booking_of(db, exhibitor.user)
    assert chosen.status_code == 302
    assert chosen.headers["Location"].endswith(f"/booths/bookings/{booking.id}")
    assert booking.status is BookingStatus.HELD
    page = exhibitor.get(f"/booths/bookings/{booking.id}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'data-expires-at="{booking.hold_expires_at.isoformat()}"' in body
    assert re.search(r'data-server-now="\d{4}-\d\d-\d\dT', body)
    assert "Booth A-02 is held for you until" in text_of(page)
    assert "<script>" not in body  # the countdown is static/js/booth_plan.js (the CSP allows no inline script)
    assert 'value="Lê Thu Hà"' in body and 'value="ha@songhong.vn"' in body  # from the account

    sent = form(exhibitor, f"/booths/bookings/{booking.id}", APPLICATION)

    assert sent.status_code == 302
    booking = booking_of(db, exhibitor.user)
    assert (booking.status, booking.company_name, booking.amount_due) == (
        BookingStatus.AWAITING_PAYMENT, "Công ty Robot Sông Hồng", 20_000_000)
    page = exhibitor.get(sent.headers["Location"])
    words = text_of(page)
    assert "Your application for booth A-02 has been sent." in words
    assert "Status Awaiting payment" in words
    assert "To pay now ₫20,000,000" in words
    assert "How to pay: Pay the organiser" in words and "Write with your payment (transfer memo)" in words
    assert "Reserved: awaiting payment Yours" in text_of(exhibitor.get(PLAN))


def test_submitting_twice_sends_one_application(db, hall, exhibitor, form, mailbox):
    hold(form, exhibitor, hall.booths["A-02"])
    booking = booking_of(db, exhibitor.user)
    form(exhibitor, f"/booths/bookings/{booking.id}", APPLICATION)

    again = form(exhibitor, f"/booths/bookings/{booking.id}", {**APPLICATION, "company_name": "Other"})

    assert again.status_code == 302
    assert "Your application for booth A-02 has already been sent." in text_of(exhibitor.get(again.headers["Location"]))
    assert booking_of(db, exhibitor.user).company_name == "Công ty Robot Sông Hồng"


def test_a_wrong_field_keeps_everything_typed_including_the_logo(app, db, hall, exhibitor, form):
    hold(form, exhibitor, hall.booths["A-02"])
    booking = booking_of(db, exhibitor.user)

    refused = form(exhibitor, f"/booths/bookings/{booking.id}", {**APPLICATION, "tax_code": "12345",
                                                                  "logo": (BytesIO(PNG), "logo.png")},
                   content_type="multipart/form-data")

    assert refused.status_code == 400
    assert "A tax code has 10 digits" in text_of(refused)
    body = refused.get_data(as_text=True)
    assert 'value="Công ty Robot Sông Hồng"' in body and "Robots that sort mail" in body
    logo = re.search(r'name="logo_name" type="hidden" value="([0-9a-f]{32}\.png)"', body).group(1)
    assert "Your logo has been received." in text_of(refused)

    sent = form(exhibitor, f"/booths/bookings/{booking.id}", {**APPLICATION, "logo_name": logo})
    assert sent.status_code == 302
    assert booking_of(db, exhibitor.user).logo == logo
    assert (Path(app.instance_path) / "uploads" / logo).read_bytes() == PNG


@pytest.mark.parametrize("phone", ["abc", "12345", "0912 345 67", "+84"])
def test_a_phone_number_that_is_not_one_is_refused_on_its_field_keeping_what_was_typed(db, hall, exhibitor, form,
                                                                                    phone):
    hold(form, exhibitor, hall.booths["A-02"])
    booking = booking_of(db, exhibitor.user)

    refused = form(exhibitor, f"/booths/bookings/{booking.id}", {**APPLICATION, "contact_phone": phone})

    assert refused.status_code == 400
    body = refused.get_data(as_text=True)
    field = re.search(r'<input[^>]*name="contact_phone"[^>]*>', body).group(0)
    assert f'value="{html.escape(phone)}"' in field and 'aria-invalid="true"' in field
    assert "Enter a phone number, like 0912 345 678 or +84 912 345 678." in text_of(refused)
    assert 'value="Công ty Robot Sông Hồng"' in body
    assert booking_of(db, exhibitor.user).status is BookingStatus.HELD


@pytest.mark.parametrize("phone", ["0912345678", "024 3826 1234", "+84 912 345 678", "(+84) 912.345.678",
                                   "+33 1 23 45 67 89"])
def test_vietnamese_and_international_phone_numbers_are_accepted_as_typed(db, hall, exhibitor, form, phone):
    hold(form, exhibitor, hall.booths["A-02"])
    booking = booking_of(db, exhibitor.user)

    sent = form(exhibitor, f"/booths/bookings/{booking.id}", {**APPLICATION, "contact_phone": phone})

    assert sent.status_code == 302
    assert booking_of(db, exhibitor.user).contact_phone == phone


def test_a_new_application_starts_from_the_exhibitors_organisation_and_profile(db, hall, exhibitor, form):
    join_organisation(db, exhibitor.user, "Công ty Robot Sông Hồng", tax_code="0101234567-001")
    with db.transaction() as s:
        s.get(User, exhibitor.user.id).phone = "0912 345 678"

    chosen = hold(form, exhibitor, hall.booths["A-02"])

    body = exhibitor.get(chosen.headers["Location"]).get_data(as_text=True)
    names = "company_name|tax_code|contact_name|contact_phone"
    fields = dict(re.findall(rf'<input[^>]*name="({names})"[^>]*value="([^"]*)"', body))
    assert fields == {"company_name": "Công ty Robot Sông Hồng", "tax_code": "0101234567-001",
                      "contact_name": "Lê Thu Hà", "contact_phone": "0912 345 678"}


def test_a_logo_that_is_not_a_picture_is_refused_with_what_was_typed_kept(db, hall, exhibitor, form):
    hold(form, exhibitor, hall.booths["A-02"])
    booking = booking_of(db, exhibitor.user)

    refused = form(exhibitor, f"/booths/bookings/{booking.id}",
                   {**APPLICATION, "logo": (BytesIO(b"MZ not an image"), "logo.png")},
                   content_type="multipart/form-data")

    assert refused.status_code == 400
    assert "The logo must be a PNG, JPEG or WebP picture." in text_of(refused)
    assert 'value="0101234567"' in refused.get_data(as_text=True)
    assert booking_of(db, exhibitor.user).status is BookingStatus.HELD


def test_a_booth_just_taken_answers_409_with_the_plan_as_it_now_is(app, db, hall, exhibitor, rival, form):
    hold(form, rival, hall.booths["A-01"])

    late = hold(form, exhibitor, hall.booths["A-01"])

    assert late.status_code == 409
    assert "Booth A-01 has just been taken by another exhibitor. Please choose another one." in text_of(late)
    assert "A-01 A 9 m² ₫20,000,000 Corner booth Held —" in text_of(late)
    assert booking_of(db, exhibitor.user) is None


def test_an_expired_hold_keeps_the_application_and_offers_the_plan_to_choose_again(db, hall, exhibitor, rival,
                                                                                    form):
    hold(form, exhibitor, hall.booths["A-01"])
    first = booking_of(db, exhibitor.user)
    run_out(db, first.id)
    hold(form, rival, hall.booths["A-01"])  # the booth went to someone else meanwhile

    refused = form(exhibitor, f"/booths/bookings/{first.id}", APPLICATION)

    assert refused.status_code == 409
    assert "Your hold on booth A-01 ran out at" in text_of(refused)
    body = refused.get_data(as_text=True)
    assert 'value="Công ty Robot Sông Hồng"' in body and "Robots that sort mail" in body
    assert "A-01" not in list_rows(refused)  # held by the rival: not offered
    assert list_rows(refused) == ["A-02", "B-01", "C-01"]
    assert re.search(f'<button type="submit" form="application" {choose_button(hall.booths["A-02"])}[^>]* '
                     f'formaction="{HOLD}" formnovalidate>', body)

    # Choosing A-02 from that page carries the application along …
    again = hold(form, exhibitor, hall.booths["A-02"], APPLICATION)
    assert again.status_code == 200
    assert "Booth A-02 is yours for now. Check your application and submit it." in text_of(again)
    assert 'value="Công ty Robot Sông Hồng"' in again.get_data(as_text=True)
    second = booking_of(db, exhibitor.user)
    assert (second.booth_id, second.status) == (hall.booths["A-02"], BookingStatus.HELD)
    assert form(exhibitor, f"/booths/bookings/{second.id}", APPLICATION).status_code == 302
    assert booking_of(db, exhibitor.user).status is BookingStatus.AWAITING_PAYMENT


def test_an_expired_hold_is_refused_with_its_time_even_before_anyone_else_takes_the_booth(db, hall, exhibitor,
                                                                                          form):
    hold(form, exhibitor, hall.booths["B-01"])
    booking = booking_of(db, exhibitor.user)
    run_out(db, booking.id)

    refused = form(exhibitor, f"/booths/bookings/{booking.id}", APPLICATION)

    assert refused.status_code == 409
    assert "Your hold on booth B-01 ran out at" in text_of(refused)
    assert "B-01" in list_rows(refused)  # free again: it can be chosen again
    assert 'value="ha@songhong.vn"' in refused.get_data(as_text=True)


def test_choosing_again_a_booth_taken_meanwhile_keeps_the_application(db, hall, exhibitor, rival, form):
    hold(form, rival, hall.booths["B-01"])

    refused = hold(form, exhibitor, hall.booths["B-01"], APPLICATION)

    assert refused.status_code == 409
    assert "Booth B-01 has just been taken by another exhibitor." in text_of(refused)
    assert "Choose a booth again" in text_of(refused)
    assert 'value="Công ty Robot Sông Hồng"' in refused.get_data(as_text=True)


def test_a_blocked_booth_and_a_selection_not_yet_open_are_refused_in_the_page_language(app, db, make_user,
                                                                                        login_as, form):
    hall = create_hall(db, make_user)
    as_organiser(app, db, services.block_booth, hall, hall.booths["C-01"])
    techmart = create_event(db, slug="techmart-hanoi-2026", name_en="Techmart Hanoi 2026", name_vi="Techmart 2026")
    later = create_hall(db, make_user, event=techmart, opens_at=utcnow() + timedelta(days=2),
                        booths=[("T-01", "T", 0, 0, 3, 3, 9.0, 1_000_000, False)])
    vietnamese = login_as(locale="vi")

    blocked = hold(form, vietnamese, hall.booths["C-01"])
    early = form(vietnamese, "/events/techmart-hanoi-2026/booths/hold", {"booth": later.booths["T-01"]})

    assert early.status_code == blocked.status_code == 409
    assert translated(app, "Booth %(number)s is not for sale.") % {"number": "C-01"} in text_of(blocked)
    assert list_rows(blocked) == ["A-01", "A-02", "B-01", "C-01"]
    opens = translated(app, "Booth selection opens at %(general)s.").split("%(general)s")[0]
    assert opens and opens in text_of(early)


def test_at_the_countdowns_end_the_page_shows_the_plan_as_it_now_is_keeping_what_was_typed(app, db, hall,
                                                                                              exhibitor, form):
    """booth_plan.js posts the half-filled form with `refresh` when the countdown reaches zero."""
    hold(form, exhibitor, hall.booths["A-02"])
    booking = booking_of(db, exhibitor.user)
    run_out(db, booking.id)
    typed = {**APPLICATION, "tax_code": "01012", "refresh": "1", "logo": (BytesIO(PNG), "logo.png")}

    refreshed = form(exhibitor, f"/booths/bookings/{booking.id}", typed, content_type="multipart/form-data")

    assert refreshed.status_code == 409
    words = text_of(refreshed)
    assert "Your hold on booth A-02 ran out at" in words and "Choose a booth again" in words
    body = refreshed.get_data(as_text=True)
    assert 'class="field-error"' not in body  # shown again, not submitted: nothing is judged yet
    assert 'value="Công ty Robot Sông Hồng"' in body and 'value="01012"' in body and "Robots that sort mail" in body
    assert re.search(r'name="logo_name" type="hidden" value="[0-9a-f]{32}\.png"', body)
    assert list_rows(refreshed) == ["A-01", "A-02", "B-01", "C-01"]  # A-02 is free again: it can be chosen
    assert booking_of(db, exhibitor.user).submitted_at is None


def test_a_countdown_ahead_of_the_servers_clock_keeps_the_hold_and_what_was_typed(db, hall, exhibitor, form):
    hold(form, exhibitor, hall.booths["A-02"])
    booking = booking_of(db, exhibitor.user)

    refreshed = form(exhibitor, f"/booths/bookings/{booking.id}", {**APPLICATION, "refresh": "1"})

    assert refreshed.status_code == 200
    assert "Application for booth A-02" in text_of(refreshed)
    assert 'value="Công ty Robot Sông Hồng"' in refreshed.get_data(as_text=True)
    assert booking_of(db, exhibitor.user).status is BookingStatus.HELD


def test_letting_a_hold_go_frees_the_booth(db, hall, exhibitor, form):
    hold(form, exhibitor, hall.booths["A-02"])
    booking = booking_of(db, exhibitor.user)

    released = form(exhibitor, f"/booths/bookings/{booking.id}/release")

    assert released.status_code == 302 and released.headers["Location"].endswith(PLAN)
    assert booking_of(db, exhibitor.user).status is BookingStatus.RELEASED
    assert "You let booth A-02 go." in text_of(exhibitor.get(PLAN))
    assert "A-02 A 9 m² ₫20,000,000 — Available Choose A-02" in text_of(exhibitor.get(PLAN))


def test_a_form_without_its_csrf_token_holds_nothing(db, hall, exhibitor):
    assert exhibitor.post(HOLD, data={"booth": hall.booths["A-02"]}).status_code == 400
    assert booking_of(db, exhibitor.user) is None


# --- withdrawing ------------------------------------------------------------------------------

def test_an_exhibitor_withdraws_after_confirming_and_the_organisers_see_it(app, db, hall, exhibitor, form):
    hold(form, exhibitor, hall.booths["A-02"])
    booking = booking_of(db, exhibitor.user)
    form(exhibitor, f"/booths/bookings/{booking.id}", APPLICATION)
    withdraw = f"/booths/bookings/{booking.id}/withdraw"
    assert f'href="{withdraw}"' in exhibitor.get(f"/booths/bookings/{booking.id}").get_data(as_text=True)

    confirm = exhibitor.get(withdraw)
    assert "Withdraw your application for booth A-02?" in text_of(confirm)
    assert booking_of(db, exhibitor.user).status is BookingStatus.AWAITING_PAYMENT  # asking changes nothing
    done = form(exhibitor, withdraw)
    twice = form(exhibitor, withdraw)  # a double click

    assert done.status_code == twice.status_code == 302
    assert done.headers["Location"].endswith(f"/booths/bookings/{booking.id}")
    page = text_of(exhibitor.get(done.headers["Location"]))
    assert "You have withdrawn your application for booth A-02." in page
    assert "Status Withdrawn by the exhibitor" in page and "Withdraw my application" not in page
    assert booking_of(db, exhibitor.user).status is BookingStatus.WITHDRAWN
    assert "A-02 A 9 m² ₫20,000,000 — Available Choose A-02" in text_of(exhibitor.get(PLAN))
    organiser = app.test_client()
    login(organiser, app, hall.organiser)
    managed = f"/manage/events/{hall.event_id}/booths/bookings"
    assert "Đơn vị trưng bày đã rút đơn" in text_of(organiser.get(f"{managed}/{booking.id}"))  # in Vietnamese
    assert "Công ty Robot Sông Hồng" in text_of(organiser.get(f"{managed}?status=withdrawn"))


def test_a_paid_booth_cannot_be_withdrawn_and_the_page_says_whom_to_ask(app, db, hall, exhibitor, form):
    booking_id = sell(app, db, hall, exhibitor, form, "A-01")

    page = text_of(exhibitor.get(f"/booths/bookings/{booking_id}"))
    assert "Withdraw my application" not in page
    assert "To give it up, contact the organisers of TechFest Hanoi 2026" in page
    assert exhibitor.get(f"/booths/bookings/{booking_id}/withdraw").status_code == 302
    refused = form(exhibitor, f"/booths/bookings/{booking_id}/withdraw", follow_redirects=True)
    assert "Money has already been paid for this booth" in text_of(refused)
    assert booking_of(db, exhibitor.user).status is BookingStatus.SOLD


# --- permissions ------------------------------------------------------------------------------

def test_another_exhibitors_booking_and_badges_are_not_found(db, hall, exhibitor, rival, form):
    hold(form, rival, hall.booths["A-01"])
    theirs = booking_of(db, rival.user)

    for url in (f"/booths/bookings/{theirs.id}", f"/booths/bookings/{theirs.id}/badges"):
        assert exhibitor.get(url).status_code == 404
    assert form(exhibitor, f"/booths/bookings/{theirs.id}", APPLICATION).status_code == 404
    assert form(exhibitor, f"/booths/bookings/{theirs.id}/release").status_code == 404
    assert booking_of(db, rival.user).status is BookingStatus.HELD
    form(rival, f"/booths/bookings/{theirs.id}", APPLICATION)
    assert exhibitor.get(f"/booths/bookings/{theirs.id}/withdraw").status_code == 404
    assert form(exhibitor, f"/booths/bookings/{theirs.id}/withdraw").status_code == 404
    assert booking_of(db, rival.user).status is BookingStatus.AWAITING_PAYMENT


def test_the_logo_is_shown_to_its_exhibitor_and_the_events_organisers_only(app, db, make_user, hall, exhibitor,
                                                                            rival, form, client):
    hold(form, exhibitor, hall.booths["A-02"])
    booking = booking_of(db, exhibitor.user)
    form(exhibitor, f"/booths/bookings/{booking.id}", {**APPLICATION, "logo": (BytesIO(PNG), "logo.png")},
         content_type="multipart/form-data")
    logo = f"/booths/bookings/{booking.id}/logo"
    organiser = app.test_client()
    login(organiser, app, hall.organiser)
    other_organiser = app.test_client()
    login(other_organiser, app, create_hall(db, make_user, event=create_event(
        db, slug="techmart-hanoi-2026", name_en="Techmart Hanoi 2026", name_vi="Techmart 2026")).organiser)

    assert f'src="{logo}"' in exhibitor.get(f"/booths/bookings/{booking.id}").get_data(as_text=True)
    assert f'src="{logo}"' in organiser.get(
        f"/manage/events/{hall.event_id}/booths/bookings/{booking.id}").get_data(as_text=True)
    for allowed in (exhibitor, organiser):
        served = allowed.get(logo)
        assert (served.status_code, served.mimetype, served.data) == (200, "image/png", PNG)
        assert served.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in served.headers["Content-Security-Policy"]
        assert served.headers["Cache-Control"] == "no-store"
    assert rival.get(logo).status_code == other_organiser.get(logo).status_code == 404
    assert "/login" in client.get(logo).headers["Location"]


def test_a_booking_without_a_logo_has_none_to_serve(db, hall, exhibitor, form):
    hold(form, exhibitor, hall.booths["A-02"])
    booking = booking_of(db, exhibitor.user)
    assert exhibitor.get(f"/booths/bookings/{booking.id}/logo").status_code == 404


def test_a_booth_of_another_event_cannot_be_held_through_this_events_plan(db, make_user, hall, exhibitor, form):
    techmart = create_event(db, slug="techmart-hanoi-2026", name_en="Techmart Hanoi 2026", name_vi="Techmart 2026")
    other = create_hall(db, make_user, event=techmart, booths=[("T-01", "T", 0, 0, 3, 3, 9.0, 1, False)])

    assert hold(form, exhibitor, other.booths["T-01"]).status_code == 404
    assert booking_of(db, exhibitor.user) is None


def test_the_booking_pages_ask_visitors_to_log_in(hall, client):
    for response in (client.get("/booths/mine"), client.post(HOLD, data={"booth": hall.booths["A-01"]})):
        assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- my booths and badges ---------------------------------------------------------------------

def sell(app, db, hall, exhibitor_client, form, number: str) -> int:
    hold(form, exhibitor_client, hall.booths[number])
    booking = booking_of(db, exhibitor_client.user)
    assert form(exhibitor_client, f"/booths/bookings/{booking.id}", APPLICATION).status_code == 302
    as_organiser(app, db, services.record_payment, hall, booking.id)
    return booking.id


def test_my_booths_lists_each_booking_with_what_to_do_next_and_the_menu_shows_it(app, db, hall, exhibitor, form):
    assert "My booths" not in text_of(exhibitor.get("/"))
    sold = sell(app, db, hall, exhibitor, form, "A-01")
    hold(form, exhibitor, hall.booths["B-01"])
    form(exhibitor, f"/booths/bookings/{booking_of(db, exhibitor.user).id}", APPLICATION)

    page = exhibitor.get("/booths/mine")

    words = text_of(page)
    assert page.status_code == 200
    assert "B-01 TechFest Hanoi 2026 Awaiting payment ₫36,000,000 ₫0" in words
    assert "Pay ₫36,000,000" in words
    assert "A-01 TechFest Hanoi 2026 Sold ₫20,000,000 ₫20,000,000 — Name your staff for badges" in words
    assert f'href="/booths/bookings/{sold}/badges"' in page.get_data(as_text=True)
    assert 'href="/booths/mine"' in exhibitor.get("/").get_data(as_text=True)


def test_a_booth_is_paid_online_through_the_provider_chosen_with_the_application(app, db, hall, exhibitor, form,
                                                                                    monkeypatch):
    enable_demo_card(app, monkeypatch)
    hold(form, exhibitor, hall.booths["A-02"])
    booking = booking_of(db, exhibitor.user)
    assert 'value="demo_card"' in exhibitor.get(f"/booths/bookings/{booking.id}").get_data(as_text=True)
    form(exhibitor, f"/booths/bookings/{booking.id}", {**APPLICATION, "provider": "demo_card"})

    page = exhibitor.get(f"/booths/bookings/{booking.id}")
    assert f'action="/booths/bookings/{booking.id}/pay"' in page.get_data(as_text=True)
    assert "Pay with the demo card" in text_of(page)
    to_card = form(exhibitor, f"/booths/bookings/{booking.id}/pay")
    assert to_card.status_code == 302 and "/demo-card" in to_card.headers["Location"]
    back = form(exhibitor, to_card.headers["Location"])

    assert back.headers["Location"].endswith(f"/booths/bookings/{booking.id}")
    assert booking_of(db, exhibitor.user).status is BookingStatus.SOLD
    assert "Status Sold" in text_of(exhibitor.get(f"/booths/bookings/{booking.id}"))


def test_someone_elses_booking_cannot_be_paid_from_this_account(db, hall, exhibitor, rival, form):
    hold(form, rival, hall.booths["A-02"])
    theirs = booking_of(db, rival.user)
    form(rival, f"/booths/bookings/{theirs.id}", APPLICATION)

    assert form(exhibitor, f"/booths/bookings/{theirs.id}/pay").status_code == 404


def test_the_menu_shows_my_booths_after_login_to_someone_who_booked_elsewhere(app, db, hall, make_user):
    exhibitor = make_user(locale="en")
    as_exhibitor(app, db, services.hold_booth, exhibitor, hall.booths["A-01"])  # on another device
    browser = app.test_client()
    login(browser, app, exhibitor)

    with count_queries(db.engine) as counter:
        home = browser.get("/")
    assert 'href="/booths/mine"' in home.get_data(as_text=True)
    assert not [s for s in counter.statements if "booth_bookings" in s]  # known since login, not asked per page


def test_mails_about_a_booking_link_to_its_page(app, db, hall, exhibitor, form):
    hold(form, exhibitor, hall.booths["A-02"])
    booking = booking_of(db, exhibitor.user)
    with app.test_request_context(), db.session_factory() as s:
        assert services.booking_link(s.get(BoothBooking, booking.id)).endswith(f"/booths/bookings/{booking.id}")


def outbox_bodies(db, address: str) -> list[str]:
    with db.session_factory() as s:
        return [" ".join(body.split()) for body in s.scalars(
            select(OutboxMessage.body_text).where(OutboxMessage.to_address == address).order_by(OutboxMessage.id))]


def local_time(app, moment) -> str:
    with app.test_request_context(), force_locale("en"):
        return " ".join(format_local_datetime(moment, "short").split())


@pytest.fixture
def deposit_hall(db, make_user):
    """A-02 at ₫20,000,000: a deposit of 30 % (₫6,000,000) within 7 days, the balance (₫14,000,000) 10 days before
    the event."""
    return create_hall(db, make_user, deposit_percent=30, payment_days=7, balance_days_before_event=10)


def test_the_balance_has_its_own_deadline_shown_mailed_and_reminded(app, db, deposit_hall, exhibitor, form,
                                                                   mailbox):
    hold(form, exhibitor, deposit_hall.booths["A-02"])
    booking = booking_of(db, exhibitor.user)
    form(exhibitor, f"/booths/bookings/{booking.id}", APPLICATION)
    booking = booking_of(db, exhibitor.user)
    with db.session_factory() as s:
        starts_at = s.get(Event, deposit_hall.event_id).starts_at
    balance_due = starts_at - timedelta(days=10)
    deposit_due = booking.payment_due_at
    assert deposit_due < balance_due

    words = text_of(exhibitor.get(f"/booths/bookings/{booking.id}"))
    assert f"Deposit ₫6,000,000 · due by {local_time(app, deposit_due)}" in words
    assert f"Balance ₫14,000,000 · due by {local_time(app, balance_due)}" in words
    assert "To pay now" not in words
    assert (f"The balance of ₫14,000,000 is due by {local_time(app, balance_due)}."
            in outbox_bodies(db, "ha@songhong.vn")[-1])

    as_organiser(app, db, services.record_payment, deposit_hall, booking.id)

    paid = booking_of(db, exhibitor.user)
    assert (paid.status, paid.amount_paid, paid.payment_due_at) == (BookingStatus.AWAITING_PAYMENT, 6_000_000,
                                                                    balance_due)
    organiser = app.test_client()
    login(organiser, app, deposit_hall.organiser)  # who reads Vietnamese
    words = text_of(organiser.get(f"/manage/events/{deposit_hall.event_id}/booths/bookings/{booking.id}"))
    with app.test_request_context(), force_locale("vi"):
        balance_due_vi = " ".join(format_local_datetime(balance_due, "short").split())
    assert f"Số tiền còn lại 14.000.000 ₫ · hạn thanh toán {balance_due_vi}" in words
    words = text_of(exhibitor.get(f"/booths/bookings/{booking.id}"))
    assert "Deposit ₫6,000,000 · paid" in words
    assert f"Balance ₫14,000,000 · due by {local_time(app, balance_due)}" in words
    assert f"Still to pay: ₫14,000,000 by {local_time(app, balance_due)}." in outbox_bodies(db, "ha@songhong.vn")[-1]

    default_rules(db, "event", deposit_hall.event_id)

    def reminders() -> list:
        return [m for m in mailbox.to("ha@songhong.vn") if m["Subject"].startswith("Payment reminder")]

    run_at(app, mailbox, balance_due - timedelta(days=3))  # two days before the balance is due, not before
    assert reminders() == []
    run_at(app, mailbox, balance_due - timedelta(days=2, minutes=-1))
    [reminder] = reminders()
    assert (f"A reminder: ₫14,000,000 for booth A-02 at TechFest Hanoi 2026 is due by "
            f"{local_time(app, balance_due)}." in " ".join(text_body(reminder).split()))
    assert "If nothing has arrived by then, the reservation ends" in " ".join(text_body(reminder).split())

    with app.test_request_context(), db.transaction() as s:  # the balance date holds, as the deposit's did
        assert services.lapse_unpaid_reservations(s, balance_due - timedelta(minutes=1)) == []
    with app.test_request_context(), db.transaction() as s:
        assert [b.id for b in services.lapse_unpaid_reservations(s, balance_due)] == [booking.id]
    assert booking_of(db, exhibitor.user).status is BookingStatus.LAPSED
    assert (f"The balance for booth A-02 at TechFest Hanoi 2026 did not arrive by {local_time(app, balance_due)}, "
            f"so the reservation has ended and the booth is available again. The organisers will write to you "
            f"about the ₫6,000,000 you paid." in outbox_bodies(db, "ha@songhong.vn")[-1])


def test_without_a_balance_date_a_late_balance_is_for_the_organisers_to_chase(app, db, make_user, exhibitor, form,
                                                                              mailbox):
    hall = create_hall(db, make_user, deposit_percent=30, payment_days=7)
    hold(form, exhibitor, hall.booths["A-02"])
    booking = booking_of(db, exhibitor.user)
    form(exhibitor, f"/booths/bookings/{booking.id}", APPLICATION)
    assert "due within 7 days of your deposit" in text_of(exhibitor.get(f"/booths/bookings/{booking.id}"))
    paid = as_organiser(app, db, services.record_payment, hall, booking.id)

    default_rules(db, "event", hall.event_id)  # the balance's reminder does not threaten what will not happen
    run_at(app, mailbox, paid.payment_due_at - timedelta(days=2, minutes=-1))
    [reminder] = [m for m in mailbox.to("ha@songhong.vn") if m["Subject"].startswith("Payment reminder")]
    words = " ".join(text_body(reminder).split())
    assert "If nothing has arrived by then, the organisers will write to you about the balance;" in words
    assert "the reservation ends" not in words

    with app.test_request_context(), db.transaction() as s:
        assert services.lapse_unpaid_reservations(s, paid.payment_due_at + timedelta(days=1)) == []
    assert booking_of(db, exhibitor.user).status is BookingStatus.AWAITING_PAYMENT


def test_a_deposit_arriving_after_the_balance_date_gives_the_usual_days_to_pay(app, db, deposit_hall, exhibitor,
                                                                                form):
    hold(form, exhibitor, deposit_hall.booths["A-02"])
    booking = booking_of(db, exhibitor.user)
    form(exhibitor, f"/booths/bookings/{booking.id}", APPLICATION)
    with db.session_factory() as s:
        starts_at = s.get(Event, deposit_hall.event_id).starts_at
    late = starts_at - timedelta(days=9)

    paid = as_organiser(app, db, services.record_payment, deposit_hall, booking.id, now=late)

    assert paid.payment_due_at == late + timedelta(days=7)


def test_receipts_of_the_deposit_then_the_balance_say_what_was_paid_and_what_is_left(app, db, deposit_hall,
                                                                                      exhibitor, rival, form):
    hold(form, exhibitor, deposit_hall.booths["A-02"])
    booking = booking_of(db, exhibitor.user)
    form(exhibitor, f"/booths/bookings/{booking.id}", APPLICATION)
    receipt_url = f"/receipts/booths/{booking.id}"
    assert receipt_url not in exhibitor.get(f"/booths/bookings/{booking.id}").get_data(as_text=True)
    assert exhibitor.get(receipt_url).status_code == 404  # nothing paid yet

    as_organiser(app, db, services.record_payment, deposit_hall, booking.id)

    assert f'href="{receipt_url}"' in exhibitor.get(f"/booths/bookings/{booking.id}").get_data(as_text=True)
    assert f"{receipt_url} " in outbox_bodies(db, "ha@songhong.vn")[-1]
    words = text_of(exhibitor.get(receipt_url))
    assert "Receipt for booth A-02" in words
    assert "Company Công ty Robot Sông Hồng Tax code 0101234567" in words
    assert "Booth A-02, zone A, 9 m² 1 ₫20,000,000 ₫20,000,000 Total ₫20,000,000" in words
    assert re.search(r"Deposit · Pay the organiser · [^·]+ · ₫6,000,000", words)
    assert "Balance ·" not in words
    assert "Paid in the end: ₫6,000,000" in words and "Still to pay: ₫14,000,000" in words
    assert "không phải là hóa đơn điện tử" in words

    as_organiser(app, db, services.record_payment, deposit_hall, booking.id, expected_paid=6_000_000)

    words = text_of(exhibitor.get(receipt_url))
    assert re.search(r"Deposit · Pay the organiser · [^·]+ · ₫6,000,000 Balance · Pay the organiser · [^·]+ · "
                     r"₫14,000,000", words)
    assert "Paid in the end: ₫20,000,000" in words and "Still to pay" not in words
    assert f"{receipt_url} " in outbox_bodies(db, "ha@songhong.vn")[-1]
    pdf = exhibitor.get(f"{receipt_url}.pdf")
    assert (pdf.status_code, pdf.mimetype, pdf.data[:5]) == (200, "application/pdf", b"%PDF-")
    assert rival.get(receipt_url).status_code == 404 and rival.get(f"{receipt_url}.pdf").status_code == 404
    organiser_receipt = f"/manage/events/{deposit_hall.event_id}/finance/booth-bookings/{booking.id}/receipt"
    organiser = app.test_client()
    login(organiser, app, deposit_hall.organiser)  # who reads Vietnamese
    booking_page = organiser.get(f"/manage/events/{deposit_hall.event_id}/booths/bookings/{booking.id}")
    assert f'href="{organiser_receipt}"' in booking_page.get_data(as_text=True)
    assert "Biên nhận cho gian hàng A-02" in text_of(organiser.get(organiser_receipt))
    assert "20.000.000 ₫" in text_of(organiser.get(organiser_receipt))


def test_badges_are_named_up_to_the_allotment_then_refused_clearly(app, db, hall, exhibitor, form):
    booking_id = sell(app, db, hall, exhibitor, form, "A-01")  # 9 m²: two badges
    url = f"/booths/bookings/{booking_id}/badges"

    assert "comes with 2 badges: 0 named, 2 left" in text_of(exhibitor.get(url))
    for name, email in (("Lê Thu Hà", "ha@songhong.vn"), ("Đỗ Minh Khoa", "khoa@songhong.vn")):
        assert form(exhibitor, url, {"name": name, "email": email}).status_code == 302
    full = exhibitor.get(url)
    assert "comes with 2 badges: 2 named, 0 left" in text_of(full)
    assert "All badges of this booth are named." in text_of(full)

    refused = form(exhibitor, url, {"name": "Vũ Thị Mai", "email": "mai@songhong.vn"})

    assert refused.status_code == 409
    assert "Booth A-01 comes with 2 badges and all of them are named." in text_of(refused)
    assert 'value="Vũ Thị Mai"' in refused.get_data(as_text=True)
    with db.session_factory() as s:
        assert sorted(s.scalars(select(Ticket.attendee_name).where(Ticket.cancelled_at.is_(None)))) == [
            "Lê Thu Hà", "Đỗ Minh Khoa"]


def test_a_badge_is_renamed_or_removed_and_a_duplicate_address_is_refused_on_its_field(app, db, hall, exhibitor,
                                                                                        form):
    booking_id = sell(app, db, hall, exhibitor, form, "B-01")
    url = f"/booths/bookings/{booking_id}/badges"
    form(exhibitor, url, {"name": "Lê Thu Hà", "email": "ha@songhong.vn"})
    form(exhibitor, url, {"name": "Đỗ Minh Khoa", "email": "khoa@songhong.vn"})
    with db.session_factory() as s:
        first, second = s.scalars(select(Ticket.id).order_by(Ticket.id)).all()

    editing = exhibitor.get(f"{url}?edit={second}")
    assert 'value="khoa@songhong.vn"' in editing.get_data(as_text=True)
    duplicate = form(exhibitor, f"{url}/{second}", {"name": "Đỗ Minh Khoa", "email": "ha@songhong.vn"})
    assert duplicate.status_code == 400
    assert "ha@songhong.vn already has a badge for this booth." in text_of(duplicate)
    assert f'action="{url}/{second}"' in duplicate.get_data(as_text=True)  # the rename form stays open

    assert form(exhibitor, f"{url}/{second}", {"name": "Đỗ Minh Khoa Anh", "email": "khoa@songhong.vn"}
                ).status_code == 302
    assert form(exhibitor, f"{url}/{first}/remove").status_code == 302
    page = text_of(exhibitor.get(url))
    assert "1 named, 3 left" in page and "Đỗ Minh Khoa Anh" in page
    assert "The badge has been removed" in page


def test_badges_wait_until_the_booth_is_paid(db, hall, exhibitor, form):
    hold(form, exhibitor, hall.booths["A-02"])
    booking = booking_of(db, exhibitor.user)
    form(exhibitor, f"/booths/bookings/{booking.id}", APPLICATION)

    refused = form(exhibitor, f"/booths/bookings/{booking.id}/badges", {"name": "An", "email": "an@example.vn"})

    assert refused.status_code == 409
    assert "Badges can be named once the booth is paid." in text_of(refused)
