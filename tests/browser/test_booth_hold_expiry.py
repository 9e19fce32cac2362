"""A hold running out while the exhibitor types, in Chromium with a hold that ends seconds after the page opens: at
zero the page shows the plan as the server now has it, the booth free again, and keeps every field typed and the
logo chosen; choosing the booth again carries the application along."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.booths import services
from portal.booths.models import BookingStatus, BoothBooking
from portal.db import utcnow
from tests.browser.steps import log_in
from tests.support.a11y import assert_accessible
from tests.support.booths import as_exhibitor, create_hall

pytestmark = pytest.mark.browser

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
#: how long the hold has left when the page opens: time enough to type, short enough to wait for
LEFT = timedelta(seconds=6)


def test_when_the_countdown_ends_the_plan_refreshes_and_nothing_typed_is_lost(page, app, db, make_user):
    hall = create_hall(db, make_user, hold_minutes=15)
    exhibitor = make_user(locale="en", email="thu.ha@songhong.vn", name="Lê Thu Hà")
    # held as if chosen 15 minutes ago, less a few seconds
    held = as_exhibitor(app, db, services.hold_booth, exhibitor, hall.booths["A-02"],
                        now=utcnow() - timedelta(minutes=15) + LEFT)
    log_in(page, exhibitor.email)
    page.goto(f"/booths/bookings/{held.id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Application for booth A-02")
    expect(page.locator(".countdown-value")).to_have_text(re.compile(r"^0:0\d$"))

    page.get_by_label("Company name").fill("Công ty Robot Sông Hồng")
    page.get_by_label("Tax code").fill("01012")  # not finished yet
    page.get_by_label("Products and services you will show").fill("Rô-bốt phân loại thư")
    page.get_by_label("Company logo (optional)").set_input_files(
        {"name": "logo.png", "mimeType": "image/png", "buffer": PNG})

    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a booth again", timeout=15_000)
    expect(page.locator(".flashes")).to_contain_text("Your hold on booth A-02 ran out at")
    expect(page.get_by_label("Company name")).to_have_value("Công ty Robot Sông Hồng")
    expect(page.get_by_label("Tax code")).to_have_value("01012")
    expect(page.get_by_label("Products and services you will show")).to_have_value("Rô-bốt phân loại thư")
    expect(page.get_by_text("Your logo has been received.")).to_be_visible()
    expect(page.locator(".field-error")).to_have_count(0)  # shown again, not judged: nothing was submitted
    expect(page.locator('.booth-plan [aria-label*="A-02"]')).to_have_class(re.compile(r"\bbooth-available\b"))
    assert_accessible(page)

    page.get_by_role("button", name="Choose A-02").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Application for booth A-02")
    expect(page.get_by_label("Company name")).to_have_value("Công ty Robot Sông Hồng")
    page.get_by_label("Tax code").fill("0101234567")
    page.get_by_label("Contact phone").fill("+84 912 345 678")
    page.get_by_label("Pay the organiser").check()
    page.get_by_role("button", name="Submit the application").click()
    expect(page.locator("dl").first).to_contain_text("Awaiting payment")
    expect(page.get_by_role("img", name="Logo of Công ty Robot Sông Hồng")).to_be_visible()
    assert_accessible(page)
    with db.session_factory() as s:
        booking = s.scalars(select(BoothBooking).where(BoothBooking.exhibitor_id == exhibitor.id)
                            .order_by(BoothBooking.id.desc())).first()
        assert (booking.status, booking.booth_id) == (BookingStatus.AWAITING_PAYMENT, hall.booths["A-02"])
        assert booking.logo and booking.logo.endswith(".png")
