"""Paying from the buyer's side: choosing how to pay, Stripe Checkout (started once however often the button is
pressed, confirmed only by the webhook), the demo card, and the VietQR transfer page."""

from __future__ import annotations

import html
import re
import threading
from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select, update

from portal.accounts.models import Role
from portal.booths import services as booth_services
from portal.booths.models import BookingStatus, BoothBooking
from portal.db import utcnow
from portal.errors import DomainError
from portal.events.models import Order, OrderStatus, TicketType
from portal.events.orders import availability, load_event_for_sale
from portal.i18n import format_vnd
from portal.payments import stripe_checkout, vietqr
from portal.payments.models import BankAccount, Payment, PaymentEvent, PaymentStatus
from tests.browser.steps import translated
from tests.conftest import login
from tests.support.booths import as_exhibitor, create_hall
from tests.support.mail import text_body
from tests.support.payments import (
    PRICE,
    SLUG,
    WEBHOOK_SECRET,
    FakeStripe,
    add_bank_account,
    checkout_event,
    create_paid_event,
    enable_demo_card,
    enable_stripe,
    place_pending_order,
    post_webhook,
)
from tests.support.web import path_of

REGISTER = f"/events/{SLUG}/register"


@pytest.fixture
def ticket_type_id(db) -> int:
    return create_paid_event(db)


@pytest.fixture
def buyer(login_as):
    return login_as(locale="en", name="Phạm Thu Hà", email="ha@example.vn")


@pytest.fixture
def fake_stripe(app, monkeypatch) -> FakeStripe:
    enable_stripe(app, monkeypatch)
    fake = FakeStripe()
    monkeypatch.setattr(stripe_checkout, "create_checkout_session", fake)
    return fake


def payment_choices(page: str) -> list[str]:
    return re.findall(r'<input[^>]*\bname="provider"[^>]*\bvalue="([^"]*)"', page)


def register(form, client, ticket_type_id: int, provider: str, tickets: int = 1):
    data = {"provider": provider}
    for n in range(tickets):
        data |= {f"attendees-{n}-ticket_type_id": ticket_type_id, f"attendees-{n}-name": f"Nguyễn Văn An {n}",
                 f"attendees-{n}-email": f"an{n}@example.vn"}
    return form(client, REGISTER, data)


def only(db, model):
    with db.session_factory() as s:
        return s.scalars(select(model)).one()


def count(db, model) -> int:
    with db.session_factory() as s:
        return s.scalar(select(func.count()).select_from(model))


# --- choosing how to pay ----------------------------------------------------------------------

def test_only_providers_that_can_take_money_are_offered(app, db, buyer, ticket_type_id, monkeypatch):
    page = buyer.get(f"{REGISTER}?qty-{ticket_type_id}=1").get_data(as_text=True)
    assert payment_choices(page) == ["manual"]  # no Stripe keys, no bank account, no demo card

    enable_stripe(app, monkeypatch)
    enable_demo_card(app, monkeypatch)
    add_bank_account(db)
    page = buyer.get(f"{REGISTER}?qty-{ticket_type_id}=1").get_data(as_text=True)
    assert payment_choices(page) == ["manual", "stripe", "demo_card", "vietqr"]
    for shown in ("Card (Visa, Mastercard, JCB)", "Demo card (no real money)", "Bank transfer (VietQR)"):
        assert shown in page


def test_card_payment_is_hidden_and_refused_without_stripe_keys(app, db, form, buyer, ticket_type_id, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "sk_test_only_half_configured")
    page = buyer.get(f"{REGISTER}?qty-{ticket_type_id}=1").get_data(as_text=True)
    assert "stripe" not in payment_choices(page) and "Card (Visa" not in page

    response = register(form, buyer, ticket_type_id, "stripe")
    assert response.status_code == 400
    assert "Choose one of the offered answers." in response.get_data(as_text=True)
    assert count(db, Order) == 0


# --- Stripe Checkout --------------------------------------------------------------------------

def test_a_card_order_goes_straight_to_stripe_checkout_in_vnd(app, db, form, buyer, ticket_type_id, fake_stripe):
    response = register(form, buyer, ticket_type_id, "stripe", tickets=2)
    assert response.status_code == 302
    assert response.location == "https://checkout.stripe.com/c/pay/cs_test_1"

    order, payment = only(db, Order), only(db, Payment)
    assert (order.status, order.provider, payment.order_id) == (OrderStatus.PENDING, "stripe", order.id)
    assert (payment.provider_reference, payment.checkout_url) == ("cs_test_1", response.location)
    [(key, params)] = fake_stripe.calls
    assert key == f"checkout-session-{payment.id}"
    [line] = params["line_items"]
    # VND is zero-decimal at Stripe: 500000 is 500.000 ₫, not 5.000,00
    assert line["price_data"]["currency"] == "vnd" and line["price_data"]["unit_amount"] == 2 * PRICE == 500_000
    assert params["locale"] == "en" and params["customer_email"] == "ha@example.vn"
    assert params["metadata"] == {"payment_id": str(payment.id), "order_code": order.code}
    assert params["payment_intent_data"]["metadata"] == params["metadata"]
    base = app.config["BASE_URL"]
    assert params["success_url"] == f"{base}/payments/{payment.id}/card"
    assert params["cancel_url"] == f"{base}/orders/{order.code}"
    # the session ends with the order's time to pay (3 days here), within Stripe's 24 hours
    lifetime = params["expires_at"] - utcnow().timestamp()
    assert timedelta(hours=22) < timedelta(seconds=lifetime) <= timedelta(hours=23)


def test_a_vietnamese_buyer_gets_stripes_page_in_vietnamese(form, login_as, ticket_type_id, fake_stripe):
    register(form, login_as(locale="vi"), ticket_type_id, "stripe")
    [(_key, params)] = fake_stripe.calls
    assert params["locale"] == "vi"
    assert params["line_items"][0]["price_data"]["product_data"]["name"].startswith("TechFest Hà Nội 2026")


def test_pressing_pay_again_reuses_the_checkout_session(db, form, buyer, ticket_type_id, fake_stripe):
    first = register(form, buyer, ticket_type_id, "stripe")
    code = only(db, Order).code
    page = buyer.get(f"/orders/{code}").get_data(as_text=True)
    assert "Pay by card" in page and f'action="/orders/{code}/pay"' in page

    again = [form(buyer, f"/orders/{code}/pay") for _ in range(2)]
    assert [r.location for r in again] == [first.location] * 2
    assert count(db, Payment) == 1 and len(fake_stripe.calls) == 1


def test_clicks_at_once_make_one_payment_and_one_session(app, db, form, buyer, ticket_type_id, fake_stripe):
    code = place_pending_order(app, db, buyer.user, ticket_type_id).code
    fake_stripe.latency = 0.2  # every click is still waiting for Stripe when the others arrive
    clicks = 6
    barrier, locations = threading.Barrier(clicks), []

    def click() -> None:
        browser_tab = app.test_client()  # a test client serves one thread
        login(browser_tab, app, buyer.user)
        barrier.wait()
        locations.append(form(browser_tab, f"/orders/{code}/pay").location)

    threads = [threading.Thread(target=click) for _ in range(clicks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    payment = only(db, Payment)
    assert locations == [payment.checkout_url] * clicks
    assert {key for key, _params in fake_stripe.calls} == {f"checkout-session-{payment.id}"}
    assert len(fake_stripe.sessions) == 1


def test_when_stripe_cannot_be_reached_the_order_waits_and_the_buyer_can_try_again(db, form, buyer, ticket_type_id,
                                                                                   fake_stripe):
    fake_stripe.fail = True
    response = register(form, buyer, ticket_type_id, "stripe")
    order = only(db, Order)
    assert path_of(response.location) == f"/orders/{order.code}" and order.status is OrderStatus.PENDING
    page = buyer.get(response.location).get_data(as_text=True)
    assert "Card payment could not be started just now." in page and "Pay by card" in page

    fake_stripe.fail = False
    retried = form(buyer, f"/orders/{order.code}/pay")
    assert retried.location.startswith("https://checkout.stripe.com/")
    assert count(db, Payment) == 1  # the same payment, the same idempotency key
    assert {key for key, _params in fake_stripe.calls} == {f"checkout-session-{only(db, Payment).id}"}


def test_an_expired_checkout_session_is_replaced_by_a_new_one(db, client, form, buyer, ticket_type_id, fake_stripe):
    register(form, buyer, ticket_type_id, "stripe")
    first = only(db, Payment)
    post_webhook(client, checkout_event("checkout.session.expired", first))
    again = form(buyer, f"/orders/{only(db, Order).code}/pay")
    assert again.location == "https://checkout.stripe.com/c/pay/cs_test_2"
    with db.session_factory() as s:
        assert [p.status for p in s.scalars(select(Payment).order_by(Payment.id))] == [
            PaymentStatus.EXPIRED, PaymentStatus.PENDING]


def test_card_payment_switched_off_after_ordering_says_so_on_the_order_page(app, db, form, buyer, ticket_type_id,
                                                                           fake_stripe, monkeypatch):
    register(form, buyer, ticket_type_id, "stripe")
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", None)
    response = form(buyer, f"/orders/{only(db, Order).code}/pay")
    assert path_of(response.location) == f"/orders/{only(db, Order).code}"
    assert "This way of paying is not available at the moment." in buyer.get(response.location).get_data(
        as_text=True)


def test_coming_back_from_stripe_shows_processing_until_the_webhook_confirms(db, client, form, buyer, login_as,
                                                                             ticket_type_id, fake_stripe):
    register(form, buyer, ticket_type_id, "stripe")
    payment = only(db, Payment)
    back = buyer.get(f"/payments/{payment.id}/card?session_id=cs_test_1")
    page = back.get_data(as_text=True)
    assert back.status_code == 200
    assert "Your payment is being processed." in page and 'data-state="processing"' in page
    assert "/static/js/payments.js" in page and "<script>" not in page  # no inline script: the CSP forbids it
    assert buyer.get(f"/payments/{payment.id}/status").json == {"state": "processing"}
    # the visit itself confirms nothing
    assert only(db, Order).status is OrderStatus.PENDING

    post_webhook(client, checkout_event("checkout.session.completed", payment))
    assert buyer.get(f"/payments/{payment.id}/status").json == {"state": "done"}
    assert "Your payment has been received." in buyer.get(f"/payments/{payment.id}/card").get_data(as_text=True)

    stranger = login_as()
    assert stranger.get(f"/payments/{payment.id}/card").status_code == 404
    assert stranger.get(f"/payments/{payment.id}/status").status_code == 404


def test_the_webhook_secret_is_the_one_from_configuration(app, db, client, form, buyer, ticket_type_id, fake_stripe,
                                                          monkeypatch):
    register(form, buyer, ticket_type_id, "stripe")
    event = checkout_event("checkout.session.completed", only(db, Payment))
    monkeypatch.setitem(app.config, "STRIPE_WEBHOOK_SECRET", "whsec_rotated")
    assert post_webhook(client, event, secret=WEBHOOK_SECRET).status_code == 400
    assert post_webhook(client, event, secret="whsec_rotated").json == {"outcome": "fulfilled"}


# --- the demo card ----------------------------------------------------------------------------

def test_the_demo_card_completes_the_order_and_the_tickets_arrive(app, db, form, buyer, ticket_type_id, mailbox,
                                                                  monkeypatch):
    enable_demo_card(app, monkeypatch)
    response = register(form, buyer, ticket_type_id, "demo_card")
    payment = only(db, Payment)
    assert path_of(response.location) == f"/payments/{payment.id}/demo-card"
    page = buyer.get(response.location).get_data(as_text=True)
    assert "no card is charged and no money moves" in page and "₫250,000" in page

    paid = form(buyer, f"/payments/{payment.id}/demo-card")
    order = only(db, Order)
    assert path_of(paid.location) == f"/orders/{order.code}"
    assert order.status is OrderStatus.PAID
    assert "Confirmed" in buyer.get(paid.location).get_data(as_text=True)
    assert form(buyer, f"/payments/{payment.id}/demo-card").status_code == 302  # a second click changes nothing
    with db.session_factory() as s:
        assert [(e.provider, e.outcome) for e in s.scalars(select(PaymentEvent))] == [("demo_card", "fulfilled")]

    mailbox.deliver()
    [message] = mailbox.wait_for("ha@example.vn")
    assert "Investor pass" in text_body(message) and order.code in text_body(message)


def test_the_demo_card_is_unavailable_unless_switched_on(app, db, form, buyer, login_as, ticket_type_id, monkeypatch):
    enable_demo_card(app, monkeypatch)
    register(form, buyer, ticket_type_id, "demo_card")
    payment = only(db, Payment)
    assert login_as().get(f"/payments/{payment.id}/demo-card").status_code == 404  # not the buyer

    monkeypatch.setitem(app.config, "DEMO_CARD", False)
    assert buyer.get(f"/payments/{payment.id}/demo-card").status_code == 404
    assert form(buyer, f"/payments/{payment.id}/demo-card").status_code == 404
    assert only(db, Order).status is OrderStatus.PENDING


# --- VietQR bank transfer ---------------------------------------------------------------------

def test_the_transfer_page_shows_a_vietqr_code_for_the_exact_amount_and_reference(app, db, form, buyer,
                                                                                   ticket_type_id):
    add_bank_account(db, bank_bin="970415", account_number="0011001932418", holder_name="TRUNG TAM DMST HA NOI")
    response = register(form, buyer, ticket_type_id, "vietqr", tickets=2)
    payment = only(db, Payment)
    assert path_of(response.location) == f"/payments/{payment.id}/transfer"
    assert re.fullmatch(r"VE [2-9A-HJ-NP-Z]{6}", payment.transfer_reference)
    page = buyer.get(response.location).get_data(as_text=True)

    payload = re.search(r'data-vietqr="([^"]+)"', page).group(1)
    transfer = vietqr.decode_payload(payload)  # checks the CRC too
    assert transfer == vietqr.BankTransfer("970415", "0011001932418", 500_000, payment.transfer_reference)
    drawn = re.search(r'<path[^>]*\bd="([^"]+)"', page).group(1)
    assert drawn == re.search(r'\bd="([^"]+)"', vietqr.qr_svg(payload, "x")).group(1)  # the image is that payload

    for shown in ("0011001932418", "TRUNG TAM DMST HA NOI", "VietinBank – Hoàn Kiếm", "₫500,000",
                  payment.transfer_reference, "Pay before"):
        assert shown in page
    assert f'data-copy="{payment.transfer_reference}"' in page and 'data-copy="500000"' in page
    png = buyer.get(f"/payments/{payment.id}/vietqr.png")
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert only(db, Order).status is OrderStatus.PENDING  # until the transfer is seen on the statement


def test_coming_back_to_the_transfer_details_keeps_the_same_reference(db, form, buyer, login_as, ticket_type_id):
    add_bank_account(db)
    register(form, buyer, ticket_type_id, "vietqr")
    order, payment = only(db, Order), only(db, Payment)
    assert "Show the transfer details" in buyer.get(f"/orders/{order.code}").get_data(as_text=True)
    again = form(buyer, f"/orders/{order.code}/pay")
    assert path_of(again.location) == f"/payments/{payment.id}/transfer"
    assert count(db, Payment) == 1
    assert login_as().get(f"/payments/{payment.id}/transfer").status_code == 404


def test_the_transfer_page_of_an_order_past_its_time_asks_for_no_money(db, form, buyer, ticket_type_id):
    add_bank_account(db)
    register(form, buyer, ticket_type_id, "vietqr")
    with db.transaction() as s:
        s.execute(update(Order).values(expires_at=utcnow() - timedelta(minutes=1)))
    page = buyer.get(f"/payments/{only(db, Payment).id}/transfer").get_data(as_text=True)
    assert "This can no longer be paid" in page and "data-vietqr" not in page
    assert form(buyer, f"/orders/{only(db, Order).code}/pay").status_code == 302
    assert count(db, Payment) == 1  # no new payment for an order past its time


def test_without_an_active_account_the_transfer_page_says_so(db, form, buyer, ticket_type_id):
    account_id = add_bank_account(db)
    register(form, buyer, ticket_type_id, "vietqr")
    with db.transaction() as s:
        s.get(BankAccount, account_id).active = False
    payment = only(db, Payment)
    page = buyer.get(f"/payments/{payment.id}/transfer").get_data(as_text=True)
    assert "Bank transfer is not available at the moment." in page
    assert buyer.get(f"/payments/{payment.id}/vietqr.png").status_code == 404


def test_the_order_page_of_a_manual_order_says_what_to_write_with_the_payment(db, form, buyer, ticket_type_id):
    response = register(form, buyer, ticket_type_id, "manual")
    order = only(db, Order)
    assert path_of(response.location) == f"/orders/{order.code}"
    page = buyer.get(response.location).get_data(as_text=True)
    assert "How to pay: Pay the organiser" in page and order.code in page
    assert "Write with your payment (transfer memo)" in page and f'action="/orders/{order.code}/pay"' not in page
    assert count(db, Payment) == 0


def test_no_new_attempt_while_a_payment_waits_for_review(db, client, form, buyer, ticket_type_id, fake_stripe):
    register(form, buyer, ticket_type_id, "stripe")
    post_webhook(client, checkout_event("checkout.session.completed", only(db, Payment), amount=1))
    order = only(db, Order)
    response = form(buyer, f"/orders/{order.code}/pay")
    assert path_of(response.location) == f"/orders/{order.code}"
    assert "please do not pay again" in buyer.get(response.location).get_data(as_text=True)
    assert count(db, Payment) == 1 and len(fake_stripe.calls) == 1


# --- booth bookings pay the same way ----------------------------------------------------------

def test_an_exhibitor_pays_a_booth_deposit_with_the_demo_card(app, db, form, login_as, make_user, monkeypatch):
    enable_demo_card(app, monkeypatch)
    hall = create_hall(db, make_user, deposit_percent=30)
    exhibitor = login_as(Role.STARTUP, locale="en", email="lan@example.vn")
    booking = as_exhibitor(app, db, booth_services.hold_booth, exhibitor.user, hall.booths["A-01"])
    application = booth_services.Application("Sen Vàng AI", "0101234567", "AI", "Lan", "lan@example.vn", "0901 234 567")
    as_exhibitor(app, db, booth_services.submit_application, exhibitor.user, booking.id, application,
                 provider_key="demo_card")
    assert login_as().post(f"/payments/booth-bookings/{booking.id}/pay").status_code == 400  # no token
    assert form(login_as(), f"/payments/booth-bookings/{booking.id}/pay").status_code == 404  # not theirs

    started = form(exhibitor, f"/payments/booth-bookings/{booking.id}/pay")
    payment = only(db, Payment)
    assert path_of(started.location) == f"/payments/{payment.id}/demo-card"
    assert (payment.booth_booking_id, payment.amount) == (booking.id, 6_000_000)
    paid = form(exhibitor, started.location)
    assert path_of(paid.location) == f"/booths/bookings/{booking.id}"
    with db.session_factory() as s:
        saved = s.get(BoothBooking, booking.id)
        assert (saved.amount_paid, saved.status) == (6_000_000, BookingStatus.AWAITING_PAYMENT)


# --- amounts a way to pay cannot take ---------------------------------------------------------

def _seats_left(app, db) -> int:
    with app.test_request_context(), db.session_factory() as s:
        return next(iter(availability(s, load_event_for_sale(s, SLUG)).values()))


@pytest.fixture
def every_way_to_pay(app, db, monkeypatch, fake_stripe) -> None:
    enable_demo_card(app, monkeypatch)
    add_bank_account(db)


def test_only_ways_to_pay_that_can_take_the_total_are_offered(db, buyer, every_way_to_pay):
    ticket_type_id = create_paid_event(db, price=90_000_000)
    with db.transaction() as s:
        s.execute(update(TicketType).values(max_per_order=10))
    step_2 = f"{REGISTER}?qty-{ticket_type_id}="
    assert payment_choices(buyer.get(step_2 + "1").get_data(as_text=True)) == ["manual", "stripe", "demo_card",
                                                                                "vietqr"]
    # Stripe takes 8 digits (99,999,999 ₫), a VietQR transfer at most 499,999,999 ₫: the quantity makes the total
    assert payment_choices(buyer.get(step_2 + "2").get_data(as_text=True)) == ["manual", "demo_card", "vietqr"]
    assert payment_choices(buyer.get(step_2 + "6").get_data(as_text=True)) == ["manual", "demo_card"]


@pytest.mark.parametrize(("provider", "tickets", "refusal"), [
    ("vietqr", 2, "Bank transfer (VietQR) takes at most ₫499,999,999 in one payment, and this comes to "
                  "₫600,000,000. Choose another way to pay."),
    ("stripe", 1, "Card (Visa, Mastercard, JCB) takes at most ₫99,999,999 in one payment, and this comes to "
                  "₫300,000,000. Choose another way to pay."),
])
def test_a_way_to_pay_that_cannot_take_the_total_is_refused_before_the_order_holds_seats(
        app, db, form, buyer, every_way_to_pay, fake_stripe, provider, tickets, refusal):
    ticket_type_id = create_paid_event(db, price=300_000_000, seats=10)
    response = register(form, buyer, ticket_type_id, provider, tickets=tickets)
    assert response.status_code == 400
    page = html.unescape(response.get_data(as_text=True))
    assert refusal in page
    assert f'value="Nguyễn Văn An {tickets - 1}"' in page and f'value="an{tickets - 1}@example.vn"' in page
    assert payment_choices(page) == ["manual", "demo_card"] + (["vietqr"] if tickets == 1 else [])
    assert (count(db, Order), count(db, Payment), _seats_left(app, db)) == (0, 0, 10)
    assert fake_stripe.calls == []

    placed = register(form, buyer, ticket_type_id, "manual", tickets=tickets)
    assert placed.status_code == 302 and only(db, Order).total == 300_000_000 * tickets


def test_the_refusal_speaks_the_buyers_language(app, db, form, login_as, every_way_to_pay):
    buyer = login_as(locale="vi")
    ticket_type_id = create_paid_event(db, price=300_000_000)
    page = html.unescape(register(form, buyer, ticket_type_id, "vietqr", tickets=2).get_data(as_text=True))
    expected = translated(app, "%(method)s takes at most %(limit)s in one payment, and this comes to %(amount)s. "
                               "Choose another way to pay.")
    with app.test_request_context(), force_locale("vi"):
        amounts = {"limit": format_vnd(499_999_999), "amount": format_vnd(600_000_000)}
    assert expected % {"method": "Chuyển khoản ngân hàng (VietQR)", **amounts} in page
    assert count(db, Order) == 0


def test_an_order_beyond_what_any_payment_can_ask_is_refused_at_once(app, db, form, buyer, every_way_to_pay):
    ticket_type_id = create_paid_event(db, price=1_000_000_000, seats=10)
    step_2 = buyer.get(f"{REGISTER}?qty-{ticket_type_id}=3")
    assert step_2.status_code == 400
    refusal = "An order may come to at most ₫2,147,483,647. Please split it into several orders."
    assert refusal in html.unescape(step_2.get_data(as_text=True))

    response = register(form, buyer, ticket_type_id, "manual", tickets=3)
    assert response.status_code == 400
    assert refusal in html.unescape(response.get_data(as_text=True))
    assert (count(db, Order), _seats_left(app, db)) == (0, 10)


def test_a_transfer_order_placed_before_the_limit_was_checked_gets_no_500(app, db, form, buyer, every_way_to_pay):
    """Orders and payments written before amounts were checked: paying again is refused in words, and the
    transfer page of a payment already opened gives the details to transfer by hand, without a code."""
    ticket_type_id = create_paid_event(db, price=300_000_000)
    order = place_pending_order(app, db, buyer.user, ticket_type_id, provider="manual", tickets=2)
    with db.transaction() as s:
        s.execute(update(Order).values(provider="vietqr"))
    response = form(buyer, f"/orders/{order.code}/pay")
    assert path_of(response.location) == f"/orders/{order.code}"
    assert "Bank transfer (VietQR) takes at most ₫499,999,999" in html.unescape(
        buyer.get(response.location).get_data(as_text=True))
    assert count(db, Payment) == 0

    with db.transaction() as s:
        # asked into the account payment pages show, as every transfer is: only then are its details shown
        payment = Payment(order_id=order.id, amount=600_000_000, provider="vietqr", status=PaymentStatus.PENDING,
                          transfer_reference=vietqr.new_reference("VE"), created_at=utcnow(), updated_at=utcnow(),
                          bank_account=s.scalar(select(BankAccount).where(BankAccount.active.is_(True))))
        s.add(payment)
        s.flush()
        payment_id = payment.id
    page = buyer.get(f"/payments/{payment_id}/transfer")
    assert page.status_code == 200
    words = html.unescape(page.get_data(as_text=True))
    assert "data-vietqr" not in words and "more than a VietQR code can carry" in words and "₫600,000,000" in words
    assert buyer.get(f"/payments/{payment_id}/vietqr.png").status_code == 404


def test_a_booth_whose_instalment_a_way_to_pay_cannot_take_is_not_offered_it(app, db, form, login_as, make_user,
                                                                              every_way_to_pay):
    """A deposit of 30 % of 800,000,000 ₫ is 240,000,000 ₫, the balance 560,000,000 ₫: too much for one VietQR
    transfer, so bank transfer is not offered for this booth, and chosen anyway is refused with the hold kept."""
    hall = create_hall(db, make_user, deposit_percent=30,
                       booths=(("A-01", "A", 0, 0, 3, 3, 9.0, 800_000_000, True),
                               ("A-02", "A", 3, 0, 3, 3, 9.0, 20_000_000, False)))
    exhibitor = login_as(locale="en", email="lan@example.vn")
    form(exhibitor, "/events/techfest-hanoi-2026/booths/hold", {"booth": hall.booths["A-01"]})
    with db.session_factory() as s:
        booking = s.scalars(select(BoothBooking)).one()
    page = exhibitor.get(f"/booths/bookings/{booking.id}").get_data(as_text=True)
    assert payment_choices(page) == ["manual", "demo_card"]

    application = {"company_name": "Sen Vàng AI", "tax_code": "0101234567", "products": "AI", "contact_name": "Lan",
                   "contact_email": "lan@example.vn", "contact_phone": "0901 234 567"}
    refused = form(exhibitor, f"/booths/bookings/{booking.id}", {**application, "provider": "vietqr"})
    assert refused.status_code == 400
    words = html.unescape(refused.get_data(as_text=True))
    assert ("Bank transfer (VietQR) takes at most ₫499,999,999 in one payment, and this comes to ₫560,000,000."
            in words)
    assert 'value="Sen Vàng AI"' in words
    with db.session_factory() as s:
        assert s.get(BoothBooking, booking.id).status is BookingStatus.HELD

    sent = form(exhibitor, f"/booths/bookings/{booking.id}", {**application, "provider": "demo_card"})
    assert sent.status_code == 302
    with db.session_factory() as s:
        saved = s.get(BoothBooking, booking.id)
        assert (saved.status, saved.provider, saved.deposit_due) == (BookingStatus.AWAITING_PAYMENT, "demo_card",
                                                                     240_000_000)


def test_the_booth_service_refuses_a_way_to_pay_that_cannot_take_an_instalment(app, db, login_as, make_user):
    hall = create_hall(db, make_user, booths=(("A-01", "A", 0, 0, 3, 3, 9.0, 600_000_000, True),))
    exhibitor = login_as(Role.STARTUP, locale="en")
    booking = as_exhibitor(app, db, booth_services.hold_booth, exhibitor.user, hall.booths["A-01"])
    application = booth_services.Application("Sen Vàng AI", "0101234567", "AI", "Lan", "lan@example.vn", "0901 234 567")
    with pytest.raises(DomainError) as refusal:
        as_exhibitor(app, db, booth_services.submit_application, exhibitor.user, booking.id, application,
                     provider_key="vietqr")
    assert (refusal.value.status_code, refusal.value.field) == (400, "provider")
    assert "takes at most ₫499,999,999 in one payment, and this comes to ₫600,000,000" in str(refusal.value)
    with db.session_factory() as s:
        assert s.get(BoothBooking, booking.id).status is BookingStatus.HELD
