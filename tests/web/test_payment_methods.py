"""How an unpaid order or booth booking is paid: nothing chosen for the payer, "pay the organiser" saying how, the
way to pay changed until it is paid (safely: one payment open, a second click harmless), the buyer mailed when the
organisers approve or refuse an order, and a transfer paying part shown to the payer and to the organisers."""

from __future__ import annotations

import html
import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Role
from portal.booths.models import BookingStatus, BoothBooking
from portal.db import utcnow
from portal.events.models import Eligibility, Event, EventOrganiser, Order, OrderStatus, TicketType
from portal.payments import services, stripe_checkout
from portal.payments.models import Payment, PaymentStatus
from tests.conftest import login
from tests.support.booths import create_hall
from tests.support.mail import text_body
from tests.support.payments import (
    SLUG,
    FakeStripe,
    add_bank_account,
    create_paid_event,
    enable_demo_card,
    enable_stripe,
    open_payment,
    place_pending_order,
)
from tests.support.web import count_queries, path_of

REGISTER = f"/events/{SLUG}/register"
INSTRUCTIONS_EN = "Transfer to Techcombank 1903 5555 0000, HANOI INNOVATION CENTRE. Invoices: finance@hic.vn"
INSTRUCTIONS_VI = "Chuyển khoản tới Techcombank 1903 5555 0000, TRUNG TÂM ĐỔI MỚI SÁNG TẠO. Hoá đơn: finance@hic.vn"


def words_of(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def payment_choices(page: str) -> list[str]:
    return re.findall(r'<input[^>]*\bname="provider"[^>]*\bvalue="([^"]*)"', page)


def checked_choices(page: str) -> list[str]:
    return [tag for tag in re.findall(r'<input[^>]*\bname="provider"[^>]*>', page) if "checked" in tag]


def rows(db, model, *conditions):
    with db.session_factory() as s:
        return list(s.scalars(select(model).where(*conditions).order_by(model.id)))


def order_of(db, code: str) -> Order:
    with db.session_factory() as s:
        return s.scalar(select(Order).where(Order.code == code))


@pytest.fixture
def ticket_type_id(db) -> int:
    type_id = create_paid_event(db)
    with db.transaction() as s:
        event = s.scalar(select(Event).where(Event.slug == SLUG))
        event.payment_instructions_en, event.payment_instructions_vi = INSTRUCTIONS_EN, INSTRUCTIONS_VI
    return type_id


@pytest.fixture
def every_way(app, db, monkeypatch) -> FakeStripe:
    """Card (with Stripe standing in), the demo card and bank transfer on offer besides paying the organiser."""
    enable_stripe(app, monkeypatch)
    enable_demo_card(app, monkeypatch)
    add_bank_account(db)
    fake = FakeStripe()
    monkeypatch.setattr(stripe_checkout, "create_checkout_session", fake)
    return fake


@pytest.fixture
def expired_sessions(monkeypatch) -> list[str]:
    """The Checkout Sessions the portal asked Stripe to close."""
    closed = []
    monkeypatch.setattr(stripe_checkout, "expire_checkout_session",
                        lambda api_key, session_id: closed.append(session_id))
    return closed


@pytest.fixture
def buyer(login_as):
    return login_as(locale="en", name="Phạm Thu Hà", email="ha@example.vn")


def change(form, client, code: str, provider: str | None):
    return form(client, f"/orders/{code}/payment-method", {} if provider is None else {"provider": provider})


# --- nothing chosen for the payer -------------------------------------------------------------

@pytest.mark.parametrize(("locale", "refusal"), [("en", "Choose how you will pay."),
                                                 ("vi", "Hãy chọn cách thanh toán.")])
def test_the_registration_chooses_no_way_to_pay_and_asks_for_one_in_the_buyers_language(
        db, form, login_as, ticket_type_id, every_way, locale, refusal):
    buyer = login_as(locale=locale)
    page = buyer.get(f"{REGISTER}?qty-{ticket_type_id}=1").get_data(as_text=True)
    assert payment_choices(page) == ["manual", "stripe", "demo_card", "vietqr"] and checked_choices(page) == []

    refused = form(buyer, REGISTER, {"attendees-0-ticket_type_id": ticket_type_id, "attendees-0-name": "Nguyễn An",
                                     "attendees-0-email": "an@example.vn"})
    assert refused.status_code == 400
    assert refusal in words_of(refused) and 'value="Nguyễn An"' in refused.get_data(as_text=True)
    assert rows(db, Order) == []


def test_a_booth_application_chooses_no_way_to_pay_for_the_exhibitor(db, form, login_as, make_user):
    hall = create_hall(db, make_user)
    exhibitor = login_as(locale="en")
    form(exhibitor, f"/events/{SLUG}/booths/hold", {"booth": hall.booths["A-02"]})
    booking = rows(db, BoothBooking)[0]
    page = exhibitor.get(f"/booths/bookings/{booking.id}").get_data(as_text=True)
    assert checked_choices(page) == []
    refused = form(exhibitor, f"/booths/bookings/{booking.id}", {
        "company_name": "Sen Vàng AI", "tax_code": "0101234567", "products": "AI", "contact_name": "Lan",
        "contact_email": "lan@example.vn", "contact_phone": "0901"})
    assert refused.status_code == 400 and "Choose how you will pay." in words_of(refused)
    assert rows(db, BoothBooking)[0].status is BookingStatus.HELD


# --- paying the organiser, and changing the way to pay -----------------------------------------

def test_paying_the_organiser_shows_their_instructions_and_the_other_ways(app, db, buyer, ticket_type_id, every_way):
    order = place_pending_order(app, db, buyer.user, ticket_type_id, provider="manual")
    page = buyer.get(f"/orders/{order.code}")
    words = words_of(page)
    for shown in ("How to pay: Pay the organiser", INSTRUCTIONS_EN, "Amount ₫250,000",
                  f"Write with your payment (transfer memo) {order.code}", "Pay before", "Change how you pay"):
        assert shown in words
    assert payment_choices(page.get_data(as_text=True)) == ["stripe", "demo_card", "vietqr"]


def test_the_organisers_instructions_are_in_the_buyers_language(app, db, login_as, ticket_type_id):
    buyer = login_as(locale="vi")
    order = place_pending_order(app, db, buyer.user, ticket_type_id, provider="manual")
    assert INSTRUCTIONS_VI in words_of(buyer.get(f"/orders/{order.code}"))


def test_switching_to_a_transfer_opens_one_payment_however_often_it_is_clicked(app, db, form, buyer, ticket_type_id,
                                                                               every_way):
    order = place_pending_order(app, db, buyer.user, ticket_type_id, provider="manual")
    first = change(form, buyer, order.code, "vietqr")
    again = change(form, buyer, order.code, "vietqr")
    payments = rows(db, Payment)
    assert len(payments) == 1 and payments[0].provider == "vietqr"
    assert path_of(first.location) == path_of(again.location) == f"/payments/{payments[0].id}/transfer"
    assert order_of(db, order.code).provider == "vietqr"


def test_switching_again_closes_the_payment_left_behind_and_the_new_one_pays(app, db, form, buyer, ticket_type_id,
                                                                             every_way):
    order = place_pending_order(app, db, buyer.user, ticket_type_id, provider="manual")
    change(form, buyer, order.code, "vietqr")
    to_card = change(form, buyer, order.code, "demo_card")
    transfer, demo = rows(db, Payment)
    assert (transfer.provider, transfer.status) == ("vietqr", PaymentStatus.EXPIRED)
    assert (demo.provider, demo.status) == ("demo_card", PaymentStatus.PENDING)
    assert path_of(to_card.location) == f"/payments/{demo.id}/demo-card"

    form(buyer, f"/payments/{demo.id}/demo-card")
    form(buyer, f"/payments/{demo.id}/demo-card")  # a double click
    assert order_of(db, order.code).status is OrderStatus.PAID
    assert [p.status for p in rows(db, Payment)] == [PaymentStatus.EXPIRED, PaymentStatus.SUCCEEDED]
    assert "Change how you pay" not in words_of(buyer.get(f"/orders/{order.code}"))


def test_leaving_a_card_payment_closes_its_checkout_page_at_stripe(app, db, form, buyer, ticket_type_id, every_way,
                                                                   expired_sessions):
    order = place_pending_order(app, db, buyer.user, ticket_type_id, provider="stripe")
    form(buyer, f"/orders/{order.code}/pay")
    card = rows(db, Payment)[0]
    change(form, buyer, order.code, "manual")
    assert expired_sessions == [card.provider_reference]
    assert rows(db, Payment)[0].status is PaymentStatus.EXPIRED
    assert "How to pay: Pay the organiser" in words_of(buyer.get(f"/orders/{order.code}"))


def test_clicks_at_once_on_different_ways_leave_one_payment_open(app, db, form, buyer, ticket_type_id, every_way):
    """Six tabs switching at once, to a transfer and to the demo card in turn: whichever came last is the way, and
    it alone has a payment open; every other was expired."""
    code = place_pending_order(app, db, buyer.user, ticket_type_id, provider="manual").code
    clicks = 6
    barrier, refused = threading.Barrier(clicks), []

    def click(provider: str) -> None:
        tab = app.test_client()  # a test client serves one thread
        login(tab, app, buyer.user)
        barrier.wait()
        if change(form, tab, code, provider).status_code != 302:
            refused.append(provider)

    threads = [threading.Thread(target=click, args=("vietqr" if n % 2 else "demo_card",)) for n in range(clicks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert refused == []
    still_open = rows(db, Payment, Payment.status == PaymentStatus.PENDING)
    assert len(still_open) == 1 and still_open[0].provider == order_of(db, code).provider


def test_a_tab_left_open_on_a_replaced_payment_charges_nothing(app, db, form, buyer, ticket_type_id, every_way):
    order = place_pending_order(app, db, buyer.user, ticket_type_id, provider="demo_card")
    form(buyer, f"/orders/{order.code}/pay")
    demo = rows(db, Payment)[0]
    change(form, buyer, order.code, "vietqr")
    assert "this payment is no longer expected" in words_of(buyer.get(f"/payments/{demo.id}/demo-card"))
    form(buyer, f"/payments/{demo.id}/demo-card")  # the old tab's button
    assert rows(db, Payment)[0].status is PaymentStatus.EXPIRED
    assert order_of(db, order.code).status is OrderStatus.PENDING
    transfer = rows(db, Payment)[1]
    change(form, buyer, order.code, "manual")
    assert "this payment is no longer expected" in words_of(buyer.get(f"/payments/{transfer.id}/transfer"))


@pytest.mark.parametrize(("provider", "refusal"), [
    (None, "Choose how you will pay."),
    ("free", "Choose one of the offered answers."),
    ("vietqr", "Bank transfer (VietQR) takes at most ₫499,999,999 in one payment, and this comes to ₫600,000,000."),
])
def test_a_change_that_cannot_be_made_says_why_and_changes_nothing(app, db, form, buyer, every_way, provider,
                                                                   refusal):
    order = place_pending_order(app, db, buyer.user, create_paid_event(db, price=600_000_000), provider="manual")
    response = change(form, buyer, order.code, provider)
    assert path_of(response.location) == f"/orders/{order.code}"
    assert refusal in words_of(buyer.get(response.location))
    assert order_of(db, order.code).provider == "manual" and rows(db, Payment) == []


def test_no_change_once_part_of_a_transfer_arrived(app, db, form, buyer, ticket_type_id, every_way):
    order = place_pending_order(app, db, buyer.user, ticket_type_id, provider="vietqr")
    form(buyer, f"/orders/{order.code}/pay")
    transfer_part(app, db, rows(db, Payment)[0], 100_000)
    response = change(form, buyer, order.code, "demo_card")
    assert "Part of your payment has arrived, so the way to pay can no longer be changed" in words_of(
        buyer.get(response.location))
    assert [(p.provider, p.status) for p in rows(db, Payment)] == [("vietqr", PaymentStatus.PENDING)]


def test_only_the_buyer_changes_the_way_to_pay(app, db, form, buyer, login_as, ticket_type_id, every_way):
    order = place_pending_order(app, db, buyer.user, ticket_type_id, provider="manual")
    assert change(form, login_as(), order.code, "vietqr").status_code == 404
    assert order_of(db, order.code).provider == "manual"


def test_an_exhibitor_paying_the_organiser_sees_how_and_switches_to_the_demo_card(db, form, login_as, make_user,
                                                                                  app, monkeypatch):
    enable_demo_card(app, monkeypatch)
    hall = create_hall(db, make_user)
    with db.transaction() as s:
        s.get(Event, hall.event_id).payment_instructions_en = INSTRUCTIONS_EN
    exhibitor = login_as(locale="en")
    form(exhibitor, f"/events/{SLUG}/booths/hold", {"booth": hall.booths["A-02"]})
    booking = rows(db, BoothBooking)[0]
    form(exhibitor, f"/booths/bookings/{booking.id}", {
        "company_name": "Sen Vàng AI", "tax_code": "0101234567", "products": "AI", "contact_name": "Lan",
        "contact_email": "lan@example.vn", "contact_phone": "0901 234 567", "provider": "manual"})
    words = words_of(exhibitor.get(f"/booths/bookings/{booking.id}"))
    for shown in ("How to pay: Pay the organiser", INSTRUCTIONS_EN, "Booth A-02 – Sen Vàng AI",
                  "Invoice made out to Sen Vàng AI (tax code 0101234567)", "Change how you pay"):
        assert shown in words

    switched = form(exhibitor, f"/booths/bookings/{booking.id}/payment-method", {"provider": "demo_card"})
    payment = rows(db, Payment)[0]
    assert path_of(switched.location) == f"/payments/{payment.id}/demo-card"
    form(exhibitor, f"/payments/{payment.id}/demo-card")
    assert rows(db, BoothBooking)[0].status is BookingStatus.SOLD


# --- the organisers' decision, by mail ----------------------------------------------------------

@pytest.fixture
def approval_order(app, db, ticket_type_id, login_as):
    """A paid order for a ticket the organisers approve, placed by a Vietnamese-speaking buyer; and an organiser."""
    with db.transaction() as s:
        s.get(TicketType, ticket_type_id).eligibility = Eligibility.APPROVAL
    buyer = login_as(locale="vi", name="Trần Minh", email="minh@example.vn")
    order = place_pending_order(app, db, buyer.user, ticket_type_id, provider="manual")
    organiser = login_as(Role.ORGANISER)
    with db.transaction() as s:
        s.add(EventOrganiser(event_id=s.get(Order, order.id).event_id, user_id=organiser.user.id))
    return order, buyer, organiser


def act(form, organiser, order: Order, action: str):
    return form(organiser, f"/manage/events/{order.event_id}/orders/{order.id}/{action}")


def test_approving_an_order_mails_the_buyer_how_to_pay_and_by_when_once(db, form, mailbox, approval_order,
                                                                        every_way):
    order, buyer, organiser = approval_order
    assert order.status is OrderStatus.AWAITING_APPROVAL
    act(form, organiser, order, "approve")
    act(form, organiser, order, "approve")  # a double click

    mailbox.deliver()
    [mail] = mailbox.to("minh@example.vn")
    approved = order_of(db, order.code)
    assert approved.status is OrderStatus.PENDING
    assert approved.expires_at - utcnow() > timedelta(days=2)
    body = text_body(mail)
    assert mail["Subject"].startswith("Đơn hàng của bạn cho TechFest Hà Nội 2026 đã được duyệt")
    for said in (order.code, "250.000", INSTRUCTIONS_VI, f"/orders/{order.code}"):
        assert said in body
    page = buyer.get(f"/orders/{order.code}").get_data(as_text=True)
    assert payment_choices(page) == ["stripe", "demo_card", "vietqr"] and INSTRUCTIONS_VI in html.unescape(page)


def test_refusing_an_order_mails_the_buyer(db, form, mailbox, approval_order):
    order, _buyer, organiser = approval_order
    act(form, organiser, order, "cancel")
    act(form, organiser, order, "cancel")
    mailbox.deliver()
    [mail] = mailbox.to("minh@example.vn")
    assert order.code in text_body(mail) and order_of(db, order.code).status is OrderStatus.CANCELLED


def test_approving_a_booth_application_mails_how_to_pay(app, db, make_user, login_as, form, mailbox):
    hall = create_hall(db, make_user, approval_required=True)
    exhibitor = login_as(locale="en", email="lan@example.vn")
    form(exhibitor, f"/events/{SLUG}/booths/hold", {"booth": hall.booths["A-02"]})
    booking = rows(db, BoothBooking)[0]
    form(exhibitor, f"/booths/bookings/{booking.id}", {
        "company_name": "Sen Vàng AI", "tax_code": "0101234567", "products": "AI", "contact_name": "Lan",
        "contact_email": "lan@example.vn", "contact_phone": "0901 234 567", "provider": "manual"})
    organiser = app.test_client()
    login(organiser, app, hall.organiser)
    form(organiser, f"/manage/events/{hall.event_id}/booths/bookings/{booking.id}/approve", {"message": ""})
    mailbox.deliver()
    approved = [m for m in mailbox.to("lan@example.vn") if "approved" in m["Subject"]]
    assert len(approved) == 1
    body = text_body(approved[0])
    assert "How to pay: Pay the organiser" in body and f"/booths/bookings/{booking.id}" in body


# --- a transfer paying part -----------------------------------------------------------------------

def transfer_part(app, db, payment: Payment, amount: int) -> None:
    with app.test_request_context(), db.transaction() as s:
        outcome = services.apply_bank_transfer(s, payment.id, amount=amount, external_id=f"line-{payment.id}-{amount}",
                                               now=utcnow())
    assert outcome is services.Outcome.PARTIAL


def test_a_partial_transfer_shows_what_arrived_and_what_is_owed(app, db, form, buyer, ticket_type_id, every_way,
                                                                login_as):
    order = place_pending_order(app, db, buyer.user, ticket_type_id, provider="vietqr")
    form(buyer, f"/orders/{order.code}/pay")
    payment = rows(db, Payment)[0]
    transfer_part(app, db, payment, 100_000)

    page = words_of(buyer.get(f"/orders/{order.code}"))
    assert "₫100,000 of ₫250,000 has arrived; ₫150,000 is still to pay." in page
    assert "Change how you pay" not in page
    transfer = words_of(buyer.get(f"/payments/{payment.id}/transfer"))
    assert "₫100,000 of ₫250,000 has arrived. Transfer the remaining ₫150,000 with the same memo." in transfer
    assert "Amount ₫150,000" in transfer

    admin = login_as(Role.ADMIN, locale="en")
    orders_list = words_of(admin.get(f"/manage/events/{order.event_id}/orders"))
    assert "Partly paid: ₫100,000 of ₫250,000" in orders_list
    finance = words_of(admin.get(f"/manage/events/{order.event_id}/finance"))
    assert "Partly paid: ₫100,000 of ₫250,000" in finance

    with app.test_request_context(), db.transaction() as s:
        services.apply_bank_transfer(s, payment.id, amount=150_000, external_id="line-rest", now=utcnow())
    assert order_of(db, order.code).status is OrderStatus.PAID
    assert "Partly paid" not in words_of(admin.get(f"/manage/events/{order.event_id}/orders"))


def test_the_organisers_orders_list_counts_what_arrived_in_one_query(app, db, buyer, ticket_type_id, login_as,
                                                                     every_way):
    admin = login_as(Role.ADMIN, locale="en")
    order = place_pending_order(app, db, buyer.user, ticket_type_id, provider="manual")
    url = f"/manage/events/{order.event_id}/orders"
    with count_queries(db.engine) as few:
        admin.get(url)
    for n in range(3):
        pending = place_pending_order(app, db, buyer.user, ticket_type_id, provider="vietqr")
        transfer_part(app, db, open_payment(app, db, pending, "vietqr"), 10_000 * (n + 1))
    with count_queries(db.engine) as many:
        assert "Partly paid: ₫30,000 of ₫250,000" in words_of(admin.get(url))
    assert len(many) == len(few)


def test_a_partly_paid_booth_shows_in_the_organisers_bookings(app, db, make_user, login_as, form):
    add_bank_account(db)
    hall = create_hall(db, make_user)
    exhibitor = login_as(locale="en")
    form(exhibitor, f"/events/{SLUG}/booths/hold", {"booth": hall.booths["A-02"]})
    booking = rows(db, BoothBooking)[0]
    form(exhibitor, f"/booths/bookings/{booking.id}", {
        "company_name": "Sen Vàng AI", "tax_code": "0101234567", "products": "AI", "contact_name": "Lan",
        "contact_email": "lan@example.vn", "contact_phone": "0901 234 567", "provider": "vietqr"})
    form(exhibitor, f"/booths/bookings/{booking.id}/pay")
    payment = rows(db, Payment)[0]
    transfer_part(app, db, payment, 5_000_000)
    assert "₫5,000,000 of ₫20,000,000 has arrived; ₫15,000,000 is still to pay." in words_of(
        exhibitor.get(f"/booths/bookings/{booking.id}"))
    admin = login_as(Role.ADMIN, locale="en")
    assert "Partly paid: ₫5,000,000 of ₫20,000,000" in words_of(
        admin.get(f"/manage/events/{hall.event_id}/booths/bookings"))


def test_the_event_form_keeps_the_organisers_payment_instructions(db, form, login_as, ticket_type_id):
    admin = login_as(Role.ADMIN, locale="en")
    with db.session_factory() as s:
        event_id = s.scalar(select(Event.id))
    page = admin.get(f"/manage/events/{event_id}/edit").get_data(as_text=True)
    assert "How to pay the organisers (Vietnamese)" in page and html.escape(INSTRUCTIONS_EN) in page
    with db.session_factory() as s:
        assert s.scalar(select(func.count(Event.id))) == 1
