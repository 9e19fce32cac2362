"""Issue 5's exhibitor journey in Chromium: an exhibitor opens TechFest's floor plan, holds a booth and watches the
countdown, submits the application; an organiser approves it and records the payment on the organisers' pages; the
booth shows sold on the public plan; the exhibitor names two staff badges. axe checks every page on the way."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.accounts.models import User
from portal.booths import services
from portal.booths.models import BookingStatus, BoothBooking
from tests.browser.steps import log_in, translated
from tests.support.a11y import assert_accessible
from tests.support.booths import as_organiser, create_hall, join_organisation

pytestmark = pytest.mark.browser

EXHIBITOR = "thu.ha@songhong.vn"
COUNTDOWN = re.compile(r"^1[45]:\d\d$")


def test_an_exhibitor_holds_applies_is_approved_pays_and_names_two_badges(page, app, db, make_user, new_context):
    def vi(message: str, **values) -> str:
        return translated(app, message, "vi") % values if values else translated(app, message, "vi")

    hall = create_hall(db, make_user, approval_required=True)
    make_user(email=EXHIBITOR, name="Lê Thu Hà")
    booth_id = hall.booths["A-02"]

    log_in(page, EXHIBITOR)
    page.goto("/events/techfest-hanoi-2026")
    page.get_by_role("link", name=vi("Exhibit: see the floor plan and choose a booth")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        vi("Booths at %(event)s", event="TechFest Hà Nội 2026"))
    assert_accessible(page)

    # On the drawing, by keyboard: the booth is a link named with its number and state.
    drawn = page.locator(f'a.booth[data-booth="{booth_id}"]')
    expect(drawn).to_have_attribute("aria-label", re.compile(r"A-02.*" + re.escape(vi("Available"))))
    drawn.focus()
    page.keyboard.press("Enter")
    chosen = page.locator("#chosen")
    expect(chosen).to_contain_text(vi("Booth %(number)s", number="A-02"))
    chosen.get_by_role("button", name=vi("Choose %(number)s", number="A-02")).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(vi("Application for booth %(number)s", number="A-02"))
    countdown = page.locator(".countdown-value")
    expect(countdown).to_have_text(COUNTDOWN)
    first = countdown.text_content()
    expect(countdown).not_to_have_text(first, timeout=3000)  # it counts down
    expect(page.locator(".hold-countdown")).to_contain_text(vi("Booth %(number)s is held for you until %(time)s.",
                                                               number="A-02", time="").rstrip(". "))
    assert_accessible(page)

    page.get_by_label(vi("Company name")).fill("Công ty Robot Sông Hồng")
    page.get_by_label(vi("Tax code")).fill("0101234567")
    page.get_by_label(vi("Products and services you will show")).fill("Rô-bốt phân loại thư")
    page.get_by_label(vi("Contact phone")).fill("+84 912 345 678")
    page.get_by_label(vi("Pay the organiser")).check()
    page.get_by_role("button", name=vi("Submit the application")).click()
    expect(page.locator(".flashes")).to_contain_text(
        vi("Your application for booth %(number)s has been sent. We have e-mailed you a copy.", number="A-02"))
    expect(page.locator("dl")).to_contain_text(vi("Awaiting approval"))
    assert_accessible(page)
    with db.session_factory() as s:
        booking_id = s.scalar(select(BoothBooking.id).where(BoothBooking.booth_id == booth_id))

    organiser = new_context().new_page()
    log_in(organiser, hall.organiser.email)
    organiser.goto(f"/manage/events/{hall.event_id}/booths/bookings/{booking_id}")
    assert_accessible(organiser)
    organiser.get_by_role("button", name=vi("Approve"), exact=True).click()
    expect(organiser.locator("#booking-status")).to_have_text(vi("Awaiting payment"))
    organiser.get_by_role("button", name=vi("Record the payment")).click()
    expect(organiser.locator("#booking-status")).to_have_text(vi("Sold"))

    visitor = new_context().new_page()
    visitor.goto("/events/techfest-hanoi-2026/booths")
    expect(visitor.locator(f'a.booth[data-booth="{booth_id}"]')).to_have_class(re.compile(r"\bbooth-sold\b"))
    expect(visitor.locator(f"#booth-row-{booth_id}")).to_contain_text(vi("Sold"))
    assert_accessible(visitor)

    page.goto("/")
    page.get_by_role("navigation", name=vi("Main")).get_by_role("link", name=vi("My booths")).click()
    expect(page.get_by_role("row", name=re.compile("A-02"))).to_contain_text(vi("Sold"))
    assert_accessible(page)
    page.get_by_role("link", name=vi("Name your staff for badges")).click()
    for name, email in (("Lê Thu Hà", EXHIBITOR), ("Đỗ Minh Khoa", "khoa@songhong.vn")):
        page.get_by_label(vi("Full name")).fill(name)
        page.get_by_label(vi("E-mail"), exact=True).fill(email)
        page.get_by_role("button", name=vi("Add the badge")).click()
        expect(page.get_by_role("row", name=re.compile(name))).to_contain_text(email)
    expect(page.locator("#badge-count")).to_have_text(
        vi("Booth %(number)s comes with %(allotment)d badges: %(named)d named, %(left)d left.", number="A-02",
           allotment=2, named=2, left=0))
    assert_accessible(page)
    with db.session_factory() as s:
        booking = s.get(BoothBooking, booking_id)
        assert booking.status is BookingStatus.SOLD
        assert sorted(t.attendee_name for t in booking.badge_order.tickets) == ["Lê Thu Hà", "Đỗ Minh Khoa"]


@pytest.mark.parametrize("width", [375, 1280])
def test_an_exhibitor_applies_from_their_organisation_is_told_a_wrong_phone_and_gets_a_deposit_receipt(
        page, app, db, make_user, width):
    def vi(message: str, **values) -> str:
        return translated(app, message, "vi") % values if values else translated(app, message, "vi")

    page.set_viewport_size({"width": width, "height": 800})
    hall = create_hall(db, make_user, deposit_percent=30, balance_days_before_event=10)
    exhibitor = make_user(email=EXHIBITOR, name="Lê Thu Hà")
    join_organisation(db, exhibitor, "Công ty Robot Sông Hồng", tax_code="0101234567")
    with db.transaction() as s:
        s.get(User, exhibitor.id).phone = "0912 345 678"
    booth_id = hall.booths["A-02"]

    log_in(page, EXHIBITOR)
    page.goto(f"/events/techfest-hanoi-2026/booths?booth={booth_id}#chosen")
    page.locator("#chosen").get_by_role("button", name=vi("Choose %(number)s", number="A-02")).click()
    expect(page.get_by_label(vi("Company name"))).to_have_value("Công ty Robot Sông Hồng")
    expect(page.get_by_label(vi("Tax code"))).to_have_value("0101234567")
    expect(page.get_by_label(vi("Contact phone"))).to_have_value("0912 345 678")

    page.get_by_label(vi("Products and services you will show")).fill("Rô-bốt phân loại thư")
    page.get_by_label(vi("Contact phone")).fill("abc")
    page.get_by_role("button", name=vi("Submit the application")).click()
    phone = page.get_by_label(vi("Contact phone"))
    expect(phone).to_have_value("abc")
    expect(phone).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#contact_phone-error")).to_have_text(
        vi("Enter a phone number, like 0912 345 678 or +84 912 345 678."))
    expect(page.get_by_label(vi("Products and services you will show"))).to_have_value("Rô-bốt phân loại thư")
    assert_accessible(page)

    phone.fill("+84 912 345 678")
    page.get_by_label(vi("Pay the organiser")).check()
    page.get_by_role("button", name=vi("Submit the application")).click()
    expect(page.locator("#deposit-terms")).to_contain_text("6.000.000")
    expect(page.locator("#balance-terms")).to_contain_text("14.000.000")
    expect(page.locator("#booth-receipt")).to_have_count(0)
    assert_accessible(page)
    with db.session_factory() as s:
        booking_id = s.scalar(select(BoothBooking.id).where(BoothBooking.booth_id == booth_id))

    as_organiser(app, db, services.record_payment, hall, booking_id)

    page.reload()
    expect(page.locator("#deposit-terms")).to_contain_text(vi("paid"))
    page.locator("#booth-receipt").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(vi("Receipt for booth %(number)s", number="A-02"))
    expect(page.locator("#receipt-payments")).to_contain_text(vi("Deposit"))
    expect(page.locator("#receipt-payments")).to_contain_text("6.000.000")
    expect(page.locator("#receipt-outstanding")).to_contain_text("14.000.000")
    expect(page.locator("#receipt-tax-code")).to_have_text("0101234567")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert_accessible(page)
