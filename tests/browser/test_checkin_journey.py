"""Issue 4's door journey in Chromium: a visitor registers for TechFest with a free ticket, the ticket arrives by
mail with its QR code, a staff member checks it in on the check-in page, and a second scan says "already".
And the camera scanner (static/js/checkin.js with jsQR) reading a ticket from Chromium's fake camera."""

from __future__ import annotations

from datetime import timedelta

import pytest
import segno
from playwright.sync_api import expect
from sqlalchemy import func, select

from portal.accounts.models import Role
from portal.events.models import CheckIn, Order
from tests.browser.steps import log_in, translated
from tests.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.support.a11y import assert_accessible
from tests.support.mail import text_body
from tests.support.ticketing import add_ticket, create_event

pytestmark = pytest.mark.browser

VISITOR = "hoa.pham@example.vn"
#: the event started an hour ago: a ticket is only let in on one of the event's days
RUNNING = -timedelta(hours=1)


def test_a_visitor_registers_gets_the_qr_by_mail_and_is_checked_in_once(page, app, db, mailbox, make_user,
                                                                          new_context):
    def vi(message: str, **values) -> str:
        return translated(app, message, "vi") % values if values else translated(app, message, "vi")

    staff = make_user(Role.ORGANISER, email="door@example.vn", name="Trần Văn Cửa")
    techfest = create_event(db, team=(staff,), starts_in=RUNNING)
    make_user(email=VISITOR, name="Phạm Thị Hoa")

    log_in(page, VISITOR)
    page.goto(f"/events/{techfest.slug}")
    page.get_by_label(vi("Number of tickets: %(name)s", name="Vé khách tham quan")).select_option("1")
    page.get_by_role("button", name=vi("Register")).click()
    expect(page.locator("fieldset input[type=email]")).to_have_value(VISITOR)
    page.get_by_role("button", name=vi("Get my tickets")).click()
    expect(page.locator(".flashes")).to_contain_text(
        vi("Your tickets are confirmed. We have sent them to %(email)s.", email=VISITOR))

    mailbox.deliver()
    [mail] = mailbox.wait_for(VISITOR)
    assert [(part.get_content_type(), part.get_filename()) for part in mail.iter_attachments()
            if part.get_content_type() == "image/png"], "the ticket mail carries no QR code"
    # What the visitor reads out at the door: the code printed under the QR code on the ticket page
    page.goto(f"/orders/{order_code(db, techfest)}")
    printed = page.locator("[data-ticket-code]").inner_text()
    assert printed in text_body(mail)
    assert_accessible(page)

    door = new_context().new_page()
    log_in(door, staff.email)
    door.goto(f"/manage/events/{techfest.id}/checkin/?area=Day+1")
    expect(door.get_by_role("heading", level=1)).to_contain_text(vi("Check-in"))
    assert_accessible(door)
    answer = door.locator("#checkin-answer")

    door.get_by_role("textbox", name=vi("Ticket code"), exact=True).fill(printed.lower())  # typed as heard
    door.get_by_role("button", name=vi("Check in"), exact=True).click()
    expect(answer).to_contain_text(vi("Valid: let them in"))
    expect(answer).to_contain_text("Phạm Thị Hoa")
    expect(door.locator('[data-count="checked_in"]')).to_have_text("1")
    assert_accessible(door)

    door.get_by_role("textbox", name=vi("Ticket code"), exact=True).fill(printed.replace("-", " "))
    door.get_by_role("button", name=vi("Check in"), exact=True).click()
    expect(answer).to_contain_text(vi("Already checked in"))
    expect(answer).to_contain_text("Trần Văn Cửa")
    expect(door.locator('[data-count="checked_in"]')).to_have_text("1")


def order_code(db, event) -> str:
    with db.session_factory() as s:
        return s.scalar(select(Order.code).where(Order.event_id == event.id))


def test_before_the_event_the_door_tries_its_phones_with_test_check_ins_and_deletes_them(page, app, db, make_user):
    def vi(message: str, **values) -> str:
        return translated(app, message, "vi") % values if values else translated(app, message, "vi")

    staff = make_user(Role.ORGANISER, email="door@example.vn", name="Trần Văn Cửa")
    techfest = create_event(db, team=(staff,))  # a month ahead
    ticket = add_ticket(db, techfest, make_user(email="guest@example.vn"), name="Đỗ Minh Khang")
    log_in(page, staff.email)
    page.goto(f"/manage/events/{techfest.id}/checkin/")
    page.get_by_role("link", name=vi("Try the door with test check-ins")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(vi("Test check-in"))
    expect(page.locator(".checkin-test-banner")).to_contain_text(
        vi("Test mode: nobody is let in and nothing is counted."))
    assert_accessible(page)

    page.get_by_role("textbox", name=vi("Ticket code"), exact=True).fill(ticket.printed_code.lower())
    page.get_by_role("button", name=vi("Check in"), exact=True).click()
    answer = page.locator("#checkin-answer")
    expect(answer).to_contain_text(vi("Test check-in: not counted"))
    expect(answer).to_contain_text(vi("Test: this ticket would be let in"))
    expect(page.locator('[data-count="checked_in"]')).to_have_text("0")
    expect(page.locator(".checkin-tests")).to_contain_text("Đỗ Minh Khang")
    assert_accessible(page)

    page.get_by_role("button", name=vi("Delete all test check-ins")).click()
    expect(page.locator(".flashes")).to_contain_text(vi("%(num)d test check-in deleted.", num=1))
    expect(page.locator(".checkin-test-banner")).to_be_visible()
    with db.session_factory() as s:
        assert s.scalar(select(func.count(CheckIn.id))) == 0


def y4m_still(code: str, path, scale: int = 8) -> None:
    """A one-frame Y4M video of the ticket's QR code, which Chromium plays as its fake camera."""
    matrix = segno.make_qr(code, error="m").matrix
    border = 4
    modules = len(matrix) + 2 * border
    size = modules * scale + (modules * scale) % 2  # 4:2:0 needs even sides

    def dark(x: int, y: int) -> bool:
        row, column = y // scale - border, x // scale - border
        return 0 <= row < len(matrix) and 0 <= column < len(matrix) and bool(matrix[row][column])

    luma = bytes(0 if dark(x, y) else 255 for y in range(size) for x in range(size))
    neutral_chroma = bytes([128]) * ((size // 2) * (size // 2) * 2)
    path.write_bytes(f"YUV4MPEG2 W{size} H{size} F10:1 Ip A1:1 C420jpeg\n".encode() + b"FRAME\n" + luma
                     + neutral_chroma)


def test_the_camera_scanner_checks_a_ticket_in_once_while_it_stays_in_view(browser, live_server, app, db, make_user,
                                                                           tmp_path):
    staff = make_user(Role.ORGANISER, email="scanner@example.vn")
    techfest = create_event(db, team=(staff,), starts_in=RUNNING)
    ticket = add_ticket(db, techfest, make_user(email="guest@example.vn"), name="Đỗ Minh Khang")
    camera = tmp_path / "ticket.y4m"
    y4m_still(ticket.code, camera)
    phone = browser.browser_type.launch(executable_path=CHROMIUM, headless=True, args=[
        *CHROMIUM_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={camera}",
    ])
    try:
        context = phone.new_context(base_url=live_server, locale="vi-VN", permissions=["camera"])
        context.set_default_timeout(10_000)
        door = context.new_page()
        log_in(door, staff.email)
        door.goto(f"/manage/events/{techfest.id}/checkin/")
        door.get_by_role("button", name=translated(app, "Start the camera")).click()

        answer = door.locator("#checkin-answer")
        expect(answer).to_contain_text(translated(app, "Valid: let them in"))
        expect(answer).to_contain_text("Đỗ Minh Khang")
        expect(door.locator('[data-count="checked_in"]')).to_have_text("1")
        door.wait_for_timeout(1500)  # the code is still in view: it must not be sent again
        expect(answer).to_contain_text(translated(app, "Valid: let them in"))
    finally:
        phone.close()
    with db.session_factory() as s:
        assert s.scalar(select(func.count(CheckIn.id))) == 1
