"""Issue 15 item 9 in Chromium: a person on a sold-out ticket type's waiting list sees their place in line, on the
type's page and in My tickets, and leaves the list after being asked; the next person moves up."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.events.models import WaitingListEntry, WaitingListStatus
from tests.browser.steps import log_in, translated
from tests.support.a11y import assert_accessible
from tests.web.test_waitlist import create_sale, join_directly, take_seat

pytestmark = pytest.mark.browser


def test_a_person_sees_their_place_in_line_and_leaves_the_waiting_list(page, app, db, make_user):
    def vi(message: str, **values) -> str:
        return translated(app, message, "vi") % values if values else translated(app, message, "vi")

    sale = create_sale(db)
    take_seat(app, db, sale, make_user(email="first@example.vn"))
    join_directly(db, sale, make_user(email="ahead@example.vn"))
    person = make_user(email="binh@example.vn", name="Trần Thị Bình")
    log_in(page, person.email)

    page.goto(sale.join_url)
    page.get_by_role("button", name=vi("Join the waiting list")).click()
    place = vi("You are number %(position)d of %(waiting)d waiting for %(name)s.", position=2, waiting=2,
               name="Vé tham quan")
    expect(page.locator("main")).to_contain_text(place)
    assert_accessible(page)
    join_directly(db, sale, make_user(email="after@example.vn"))

    page.goto("/tickets")
    card = page.locator("#waiting-heading + ul li")
    expect(card).to_contain_text(vi("You are number %(position)d of %(waiting)d waiting for %(name)s.", position=2,
                                    waiting=3, name="Vé tham quan"))
    assert_accessible(page)
    card.get_by_role("link", name=vi("Leave the waiting list for %(name)s", name="Vé tham quan")).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(
        vi("Leave the waiting list for %(name)s?", name="Vé tham quan"))
    assert_accessible(page)
    page.get_by_role("button", name=vi("Yes, leave the waiting list")).click()
    expect(page.locator(".flashes")).to_contain_text(
        vi("You have left the waiting list for %(name)s.", name="Vé tham quan"))
    expect(page.locator("#waiting-heading")).to_have_count(0)
    assert_accessible(page)

    page.go_back()  # the confirmation again, from the browser's history: leaving twice changes nothing
    page.reload()
    expect(page.locator("main")).to_contain_text(
        vi("You are no longer on the waiting list for %(name)s.", name="Vé tham quan"))
    with db.session_factory() as s:
        statuses = dict(s.execute(select(WaitingListEntry.email, WaitingListEntry.status)).all())
    assert statuses == {"ahead@example.vn": WaitingListStatus.WAITING, "binh@example.vn": WaitingListStatus.LEFT,
                        "after@example.vn": WaitingListStatus.WAITING}
