"""Issue 15's payment journeys in Chromium, in Vietnamese: a buyer who chose to pay the organiser reads how, then
switches to a bank transfer and to the demo card and pays; an organiser approves an order and the buyer pays from
the mail; a transfer paying part shows what is still owed to the buyer and in the organisers' list."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.accounts.models import Role
from portal.db import utcnow
from portal.events.models import Eligibility, Event, EventOrganiser, Order, OrderStatus, TicketType
from portal.payments import services
from portal.payments.models import Payment
from tests.browser.steps import log_in, translated
from tests.support.a11y import assert_accessible
from tests.support.mail import first_link, text_body
from tests.support.payments import (
    SLUG,
    add_bank_account,
    create_paid_event,
    enable_demo_card,
    open_payment,
    place_pending_order,
)
from tests.support.web import path_of

pytestmark = pytest.mark.browser

BUYER = "thu.ha@example.vn"
INSTRUCTIONS = "Chuyển khoản tới Techcombank 1903 5555 0000, TRUNG TÂM ĐỔI MỚI SÁNG TẠO. Hoá đơn: finance@hic.vn"


@pytest.fixture
def vi(app):
    def text(message: str, **values) -> str:
        return translated(app, message) % values if values else translated(app, message)

    return text


@pytest.fixture
def ticket_type_id(app, db, monkeypatch) -> int:
    """TechFest's paid pass, with the organisers' own instructions; the demo card and bank transfer on offer."""
    enable_demo_card(app, monkeypatch)
    add_bank_account(db)
    type_id = create_paid_event(db)
    with db.transaction() as s:
        s.scalar(select(Event).where(Event.slug == SLUG)).payment_instructions_vi = INSTRUCTIONS
    return type_id


def the_order(db) -> Order:
    with db.session_factory() as s:
        return s.scalars(select(Order)).one()


def test_a_buyer_paying_the_organiser_reads_how_then_switches_and_pays(page, app, db, make_user, vi,
                                                                         ticket_type_id):
    make_user(email=BUYER, name="Phạm Thu Hà")
    log_in(page, BUYER)
    page.goto(f"/events/{SLUG}")
    page.get_by_label(vi("Number of tickets: %(name)s", name="Vé nhà đầu tư")).select_option("1")
    page.get_by_role("button", name=vi("Register")).click()
    place = page.get_by_role("button", name=vi("Place the order"))
    place.click()  # nothing chosen for the buyer: the form asks
    expect(page.locator("fieldset .field-error")).to_have_text(vi("Choose how you will pay."))
    page.get_by_label(vi("Pay the organiser")).check()
    place.click()

    code = the_order(db).code
    expect(page).to_have_url(f"/orders/{code}")
    panel = page.locator("#how-to-pay")
    expect(panel).to_contain_text(vi("How to pay: %(provider)s", provider=vi("Pay the organiser")))
    expect(panel).to_contain_text(INSTRUCTIONS)
    expect(panel).to_contain_text(code)
    expect(panel).to_contain_text("250.000 ₫")
    assert_accessible(page)

    page.get_by_label(vi("Bank transfer (VietQR)")).check()
    page.get_by_role("button", name=vi("Pay this way")).click()
    expect(page.get_by_role("heading", name=vi("Pay by bank transfer"))).to_be_visible()
    expect(page.locator(".transfer-qr svg")).to_be_visible()
    assert_accessible(page)

    page.goto(f"/orders/{code}")
    page.get_by_label(vi("Demo card (no real money)")).check()
    page.get_by_role("button", name=vi("Pay this way")).click()
    expect(page.get_by_role("heading", name=vi("Demo card"))).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name=vi("Pay %(amount)s", amount="250.000 ₫")).click()
    expect(page).to_have_url(f"/orders/{code}")
    expect(page.locator("dl")).to_contain_text(vi("Confirmed"))
    with db.session_factory() as s:
        assert [(p.provider, p.status.value) for p in s.scalars(select(Payment).order_by(Payment.id))] == [
            ("vietqr", "expired"), ("demo_card", "succeeded")]


def test_an_approved_order_is_paid_from_the_mail(page, app, db, make_user, mailbox, new_context, vi, ticket_type_id):
    with db.transaction() as s:
        s.get(TicketType, ticket_type_id).eligibility = Eligibility.APPROVAL
    buyer = make_user(email=BUYER, name="Phạm Thu Hà")
    organiser = make_user(Role.ORGANISER, email="btc@example.vn")
    order = place_pending_order(app, db, buyer, ticket_type_id, provider="manual")
    with db.transaction() as s:
        s.add(EventOrganiser(event_id=order.event_id, user_id=organiser.id))

    desk = new_context().new_page()
    log_in(desk, organiser.email)
    desk.goto(f"/manage/events/{order.event_id}/orders")
    assert_accessible(desk)
    desk.get_by_role("button", name=f"{vi('Approve')} {order.code}").click()
    expect(desk.locator(".flashes")).to_contain_text(vi("Order %(code)s is approved.", code=order.code))

    mailbox.deliver()
    [mail] = mailbox.wait_for(BUYER)
    assert INSTRUCTIONS in text_body(mail) and order.code in text_body(mail)
    log_in(page, BUYER)
    page.goto(path_of(first_link(mail, f"/orders/{order.code}")))
    expect(page.locator("#how-to-pay")).to_contain_text(INSTRUCTIONS)
    assert_accessible(page)
    page.get_by_label(vi("Demo card (no real money)")).check()
    page.get_by_role("button", name=vi("Pay this way")).click()
    page.get_by_role("button", name=vi("Pay %(amount)s", amount="250.000 ₫")).click()
    expect(page.locator("dl")).to_contain_text(vi("Confirmed"))
    assert the_order(db).status is OrderStatus.PAID


def test_a_partial_transfer_shows_what_is_still_owed(page, app, db, make_user, new_context, vi, ticket_type_id):
    buyer = make_user(email=BUYER, name="Phạm Thu Hà")
    admin = make_user(Role.ADMIN, email="admin@example.vn")
    order = place_pending_order(app, db, buyer, ticket_type_id, provider="vietqr")
    payment = open_payment(app, db, order, "vietqr")
    with app.test_request_context(), db.transaction() as s:
        services.apply_bank_transfer(s, payment.id, amount=100_000, external_id="line-part", now=utcnow())

    log_in(page, BUYER)
    page.goto(f"/orders/{order.code}")
    expect(page.locator("#partly-paid")).to_have_text(vi(
        "%(received)s of %(amount)s has arrived; %(left)s is still to pay.", received="100.000 ₫",
        amount="250.000 ₫", left="150.000 ₫"))
    assert_accessible(page)
    page.get_by_role("button", name=vi("Show the transfer details")).click()
    expect(page.locator("#partly-paid")).to_contain_text("150.000 ₫")
    assert_accessible(page)

    desk = new_context().new_page()
    log_in(desk, admin.email)
    desk.goto(f"/manage/events/{order.event_id}/orders")
    expect(desk.locator(".partly-paid")).to_have_text(vi("Partly paid: %(received)s of %(total)s",
                                                          received="100.000 ₫", total="250.000 ₫"))
    assert_accessible(desk)
