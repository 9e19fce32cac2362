"""An exhibitor withdraws an application in Chromium: from the booking page, through the confirmation, to the booth
offered to others again; the organiser sees who withdrew it. axe checks every page on the way."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from portal.booths import services
from portal.booths.models import BookingStatus, BoothBooking
from tests.browser.steps import log_in
from tests.support.a11y import assert_accessible
from tests.support.booths import as_exhibitor, create_hall
from tests.unit.test_booths_lifecycle import APPLICATION

pytestmark = pytest.mark.browser


def test_an_exhibitor_withdraws_an_application_after_confirming(page, app, db, make_user, new_context):
    hall = create_hall(db, make_user, approval_required=True)
    exhibitor = make_user(locale="en", email="thu.ha@songhong.vn", name="Lê Thu Hà")
    held = as_exhibitor(app, db, services.hold_booth, exhibitor, hall.booths["B-01"])
    as_exhibitor(app, db, services.submit_application, exhibitor, held.id, APPLICATION)

    log_in(page, exhibitor.email)
    page.goto(f"/booths/bookings/{held.id}")
    page.get_by_role("link", name="Withdraw my application…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Withdraw your application for booth B-01?")
    assert_accessible(page)
    page.get_by_role("button", name="Yes, withdraw my application for booth B-01").click()

    expect(page.locator(".flashes")).to_contain_text("You have withdrawn your application for booth B-01.")
    expect(page.locator("dl")).to_contain_text("Withdrawn by the exhibitor")
    expect(page.get_by_role("link", name="Withdraw my application…")).to_have_count(0)
    assert_accessible(page)
    page.get_by_role("link", name="Back to the plan").click()
    expect(page.locator(f'a.booth[data-booth="{hall.booths["B-01"]}"]')).to_have_class(
        re.compile(r"\bbooth-available\b"))
    with db.session_factory() as s:
        assert s.get(BoothBooking, held.id).status is BookingStatus.WITHDRAWN

    organiser = new_context().new_page()
    log_in(organiser, hall.organiser.email)
    organiser.goto(f"/manage/events/{hall.event_id}/booths/bookings/{held.id}")
    # the organiser reads Vietnamese
    expect(organiser.locator("#booking-status")).to_have_text("Đơn vị trưng bày đã rút đơn")
    expect(organiser.get_by_text("đơn vị trưng bày đã rút đơn lúc")).to_be_visible()
    assert_accessible(organiser)
