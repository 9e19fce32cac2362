"""Refunds, receipts and the finance page: an organiser gives money back once however often they click, never more
than was paid; Stripe's later webhook counts nothing twice; buyers get a receipt that says it is not an e-invoice;
the event's money adds up, exports run no formulas, and nobody sees another event's or another buyer's money."""

from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import func, select

from portal.accounts.models import Organisation, OrganisationKind, OrganisationMember, Role, User
from portal.audit.models import AuditEntry
from portal.booths.models import BookingStatus, BoothBooking
from portal.db import utcnow
from portal.events.models import Event, EventOrganiser, Order, OrderStatus, Ticket
from portal.events.orders import availability
from portal.notifications.models import OutboxMessage
from portal.payments import refunds
from portal.payments.models import Payment, PaymentStatus, Refund, RefundStatus
from tests.conftest import login as log_in
from tests.support.finance import FakeStripeRefunds, pay, pay_booth, reserve_booth
from tests.support.payments import (
    PRICE,
    SLUG,
    create_paid_event,
    enable_stripe,
    load,
    place_pending_order,
    post_webhook,
    refund_event,
)
from tests.support.web import count_queries, csrf_token, path_of


@pytest.fixture
def ticket_type_id(app, db, monkeypatch) -> int:
    enable_stripe(app, monkeypatch)
    return create_paid_event(db)


@pytest.fixture
def event_id(db, ticket_type_id) -> int:
    with db.session_factory() as s:
        return s.scalar(select(Event.id).where(Event.slug == SLUG))


@pytest.fixture
def organiser(db, login_as, event_id):
    client = login_as(Role.ORGANISER, locale="en", name="Trần Minh Đức")
    with db.transaction() as s:
        s.add(EventOrganiser(event_id=event_id, user_id=client.user.id))
    return client


@pytest.fixture
def buyer(db, make_user) -> User:
    user = make_user(email="ha@example.vn", locale="en", name="Phạm Thu Hà")
    with db.transaction() as s:
        company = Organisation(name="Công ty Cổ phần Sen Vàng", kind=OrganisationKind.COMPANY, tax_code="0101234567")
        company.members.append(OrganisationMember(user_id=user.id, is_owner=True))
        s.add(company)
    return user


@pytest.fixture
def stripe_refunds(monkeypatch) -> FakeStripeRefunds:
    fake = FakeStripeRefunds()
    monkeypatch.setattr(refunds, "create_stripe_refund", fake)
    return fake


def refund_url(event_id: int, payment: Payment) -> str:
    return f"/manage/events/{event_id}/finance/payments/{payment.id}/refund"


def refund_token(client, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200
    return re.search(r'name="request_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)).group(1)


def post_refund(client, app, url: str, *, amount: int, reason: str = "Khách không đến được", token: str | None = None):
    return client.post(url, data={"csrf_token": csrf_token(client, app), "amount": str(amount), "reason": reason,
                                  "request_token": token or refund_token(client, url)})


def refund_mails(db, payment: Payment) -> list[OutboxMessage]:
    with db.session_factory() as s:
        ids = [r.id for r in s.scalars(select(Refund).where(Refund.payment_id == payment.id))]
        return list(s.scalars(select(OutboxMessage).where(
            OutboxMessage.idempotency_key.in_([f"refund:{i}" for i in ids]))))


def valid_tickets(db, order: Order) -> int:
    with db.session_factory() as s:
        return s.scalar(select(func.count(Ticket.id)).where(Ticket.order_id == order.id, Ticket.cancelled_at.is_(None)))


# --- refunds ----------------------------------------------------------------------------------

def test_a_double_clicked_card_refund_refunds_once_and_the_webhook_adds_nothing(app, db, client, organiser, buyer,
                                                                                 ticket_type_id, event_id,
                                                                                 stripe_refunds):
    order, payment = pay(app, db, buyer, ticket_type_id, tickets=2)
    url = refund_url(event_id, payment)
    token = refund_token(organiser, url)

    first = post_refund(organiser, app, url, amount=100_000, token=token)
    assert first.status_code == 302
    again = post_refund(organiser, app, url, amount=100_000, token=token)
    assert "already been recorded" in organiser.get(path_of(again.headers["Location"])).get_data(as_text=True)

    assert len(stripe_refunds.calls) == 1
    [(key, params)] = stripe_refunds.calls
    assert params["payment_intent"] == f"pi_test_for_{payment.id}" and params["amount"] == 100_000
    saved = load(db, Payment, payment.id)
    assert (saved.status, saved.amount_refunded) == (PaymentStatus.PARTIALLY_REFUNDED, 100_000)

    # Stripe then reports the refund it made: it is ours, counted already
    webhook = refund_event(payment, amount_refunded=100_000, refunds=[("re_test_1", 100_000)])
    assert post_webhook(client, webhook).json == {"outcome": "ignored"}
    saved = load(db, Payment, payment.id)
    assert saved.amount_refunded == 100_000
    with db.session_factory() as s:
        [refund] = s.scalars(select(Refund)).all()
        assert (refund.amount, refund.status, refund.provider_refund_id) == (100_000, RefundStatus.SUCCEEDED,
                                                                              "re_test_1")
        assert refund.reason == "Khách không đến được"
        assert s.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "payment.refund_requested")) == 1
    # a partial refund keeps the tickets; the buyer is told once
    assert load(db, Order, order.id).status is OrderStatus.PAID
    assert valid_tickets(db, order) == 2
    [mail] = refund_mails(db, payment)
    assert mail.to_address == "ha@example.vn" and "remain valid" in mail.body_text


def test_a_webhook_arriving_before_stripe_answers_is_not_counted_twice(app, db, client, organiser, buyer,
                                                                       ticket_type_id, event_id, stripe_refunds):
    order, payment = pay(app, db, buyer, ticket_type_id)

    def webhook_first(refund_id: str, params: dict) -> None:
        event = refund_event(payment, amount_refunded=PRICE, refunds=[(refund_id, PRICE)])
        event["data"]["object"]["refunds"]["data"][0]["metadata"] = params["metadata"]
        assert post_webhook(client, event).json == {"outcome": "refunded"}

    stripe_refunds.during = webhook_first
    assert post_refund(organiser, app, refund_url(event_id, payment), amount=PRICE).status_code == 302

    saved = load(db, Payment, payment.id)
    assert (saved.status, saved.amount_refunded) == (PaymentStatus.REFUNDED, PRICE)
    with db.session_factory() as s:
        assert s.scalar(select(func.count(Refund.id))) == 1
    assert load(db, Order, order.id).status is OrderStatus.REFUNDED


def test_a_full_transfer_refund_is_recorded_by_hand_cancels_the_tickets_and_frees_the_seats(
        app, db, organiser, buyer, ticket_type_id, event_id, stripe_refunds):
    order, payment = pay(app, db, buyer, ticket_type_id, provider="vietqr", tickets=2)
    with db.session_factory() as s:
        before = availability(s, s.get(Event, event_id))

    response = post_refund(organiser, app, refund_url(event_id, payment), amount=2 * PRICE, reason="Sự kiện hoãn")
    assert response.status_code == 302
    assert "recorded and the buyer has been told" in organiser.get(path_of(response.headers["Location"])).get_data(
        as_text=True)

    assert stripe_refunds.calls == []
    saved = load(db, Payment, payment.id)
    assert (saved.status, saved.amount_refunded) == (PaymentStatus.REFUNDED, 2 * PRICE)
    assert load(db, Order, order.id).status is OrderStatus.REFUNDED
    assert valid_tickets(db, order) == 0
    with db.session_factory() as s:
        after = availability(s, s.get(Event, event_id))
        assert s.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "order.refunded")) == 1
    assert {quota: seats - before[quota] for quota, seats in after.items()} == {q: 2 for q in before}
    [mail] = refund_mails(db, payment)
    assert "no longer valid" in mail.body_text and "Sự kiện hoãn" in mail.body_text


def test_a_refund_larger_than_what_is_left_is_refused_and_keeps_what_was_typed(app, db, organiser, buyer,
                                                                             ticket_type_id, event_id, stripe_refunds):
    _, payment = pay(app, db, buyer, ticket_type_id, provider="vietqr")
    url = refund_url(event_id, payment)
    assert post_refund(organiser, app, url, amount=200_000).status_code == 302

    refused = post_refund(organiser, app, url, amount=60_000, reason="Giảm thêm")
    assert refused.status_code == 400
    body = refused.get_data(as_text=True)
    assert "You can refund at most ₫50,000 of this payment." in body
    assert 'value="60000"' in body and 'value="Giảm thêm"' in body
    assert load(db, Payment, payment.id).amount_refunded == 200_000


def test_stripe_being_unreachable_refunds_nothing_and_the_organiser_can_try_again(
        app, db, organiser, buyer, ticket_type_id, event_id, stripe_refunds):
    _, payment = pay(app, db, buyer, ticket_type_id)
    stripe_refunds.fail = True
    response = post_refund(organiser, app, refund_url(event_id, payment), amount=PRICE)
    assert response.status_code == 503
    assert "nothing was refunded" in response.get_data(as_text=True)
    saved = load(db, Payment, payment.id)
    assert (saved.status, saved.amount_refunded) == (PaymentStatus.SUCCEEDED, 0)
    with db.session_factory() as s:
        assert s.scalar(select(Refund.status)) is RefundStatus.FAILED

    # the page shown again carries a new request: sending it once Stripe is back refunds
    stripe_refunds.fail = False
    token = re.search(r'name="request_token" type="hidden" value="([^"]+)"', response.get_data(as_text=True)).group(1)
    again = post_refund(organiser, app, refund_url(event_id, payment), amount=PRICE, token=token)
    assert again.status_code == 302
    assert load(db, Payment, payment.id).amount_refunded == PRICE


# --- receipts ---------------------------------------------------------------------------------

def test_the_buyer_gets_a_receipt_with_company_lines_refunds_and_the_e_invoice_notice(app, db, buyer,
                                                                                      organiser, ticket_type_id,
                                                                                      event_id, stripe_refunds):
    order, payment = pay(app, db, buyer, ticket_type_id, provider="vietqr", tickets=2)
    post_refund(organiser, app, refund_url(event_id, payment), amount=100_000, reason="Giảm giá nhóm")
    client = app.test_client()
    log_in(client, app, buyer)

    order_page = client.get(f"/orders/{order.code}").get_data(as_text=True)
    assert f"/receipts/{order.code}" in order_page
    page = client.get(f"/receipts/{order.code}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Công ty Cổ phần Sen Vàng" in html and "0101234567" in html
    assert "Investor pass" in html and "500,000" in html
    assert "Giảm giá nhóm" in html and "400,000" in html
    assert "không phải là hóa đơn điện tử" in html and "not a legal e-invoice" in html

    pdf = client.get(f"/receipts/{order.code}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Công ty Cổ phần Sen Vàng" in text and "0101234567" in text
    assert "không phải là hóa đơn điện tử" in text and "not a legal e-invoice" in text
    assert order.code in text


def test_another_buyers_receipt_and_an_unpaid_orders_receipt_are_not_found(app, db, login_as, buyer, make_user,
                                                                          ticket_type_id):
    order, _ = pay(app, db, buyer, ticket_type_id)
    stranger = login_as()
    assert stranger.get(f"/receipts/{order.code}").status_code == 404
    assert stranger.get(f"/receipts/{order.code}.pdf").status_code == 404
    assert stranger.get("/receipts/NOSUCHCODE").status_code == 404

    unpaid = place_pending_order(app, db, stranger.user, ticket_type_id)
    assert stranger.get(f"/receipts/{unpaid.code}").status_code == 404


# --- the finance page -------------------------------------------------------------------------

def test_the_finance_page_adds_up_payments_and_refunds(app, db, organiser, buyer, ticket_type_id, event_id,
                                                       stripe_refunds):
    _, card = pay(app, db, buyer, ticket_type_id, tickets=2)
    _, transfer = pay(app, db, buyer, ticket_type_id, provider="vietqr")
    post_refund(organiser, app, refund_url(event_id, card), amount=150_000)

    html = organiser.get(f"/manage/events/{event_id}/finance").get_data(as_text=True)
    assert re.search(r'id="stat-received">₫750,000', html)
    assert re.search(r'id="stat-refunded">₫150,000', html)
    assert re.search(r'id="stat-net">₫600,000', html)
    assert "every payment matches its order" in html
    assert 'data-provider="stripe" data-status="partially_refunded"' in html
    assert 'data-provider="vietqr" data-status="succeeded"' in html
    assert "/payments/reconciliation/review" in html
    assert f'/finance/orders/{transfer.order_id}/receipt"' in html  # the printable page, which links its PDF


def test_the_finance_page_takes_the_same_queries_however_many_payments(app, db, organiser, make_user,
                                                                       ticket_type_id, event_id):
    def queries() -> int:
        with count_queries(db.engine) as counter:
            assert organiser.get(f"/manage/events/{event_id}/finance").status_code == 200
        return len(counter)

    pay(app, db, make_user(), ticket_type_id)
    few = queries()
    for n in range(4):
        pay(app, db, make_user(), ticket_type_id, provider="vietqr" if n % 2 else "stripe")
    assert queries() == few


def test_exports_are_audited_and_run_no_formulas(app, db, organiser, make_user, ticket_type_id, event_id):
    pay(app, db, make_user(name='=HYPERLINK("http://evil.example","x")', email="evil@example.vn"), ticket_type_id)
    token = csrf_token(organiser, app)

    exported = organiser.post(f"/manage/events/{event_id}/finance/payments/export.csv", data={"csrf_token": token})
    assert exported.status_code == 200
    assert exported.headers["Content-Type"] == "text/csv; charset=utf-8"  # the charset once
    rows = list(csv.reader(io.StringIO(exported.data.decode("utf-8-sig"))))
    assert rows[1][2] == "'=HYPERLINK(\"http://evil.example\",\"x\")" and rows[1][7] == str(PRICE)

    workbook = organiser.post(f"/manage/events/{event_id}/finance/payments/export.xlsx", data={"csrf_token": token})
    assert workbook.headers["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(workbook.data)).active
    assert sheet.cell(row=2, column=3).value.startswith("'=")
    with db.session_factory() as s:
        assert s.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "event.payments_exported")) == 2


def test_another_events_organiser_is_refused_everywhere(app, db, login_as, buyer, ticket_type_id, event_id):
    order, payment = pay(app, db, buyer, ticket_type_id)
    other = login_as(Role.ORGANISER)
    base = f"/manage/events/{event_id}/finance"
    for url in (base, f"{base}/payments/{payment.id}/refund", f"{base}/orders/{order.id}/receipt",
                f"{base}/orders/{order.id}/receipt.pdf"):
        assert other.get(url).status_code == 403, url
    token = csrf_token(other, app)
    assert other.post(f"{base}/payments/export.csv", data={"csrf_token": token}).status_code == 403
    assert other.post(f"{base}/payments/{payment.id}/refund",
                      data={"csrf_token": token, "amount": "1", "reason": "x", "request_token": "a" * 20}
                      ).status_code == 403
    assert load(db, Payment, payment.id).amount_refunded == 0
    assert buyer_client_refused(app, buyer, base)


def buyer_client_refused(app, buyer: User, url: str) -> bool:
    client = app.test_client()
    log_in(client, app, buyer)
    return client.get(url).status_code == 403


def test_a_payment_of_another_event_is_not_found_from_this_one(app, db, organiser, buyer, ticket_type_id, event_id):
    _, payment = pay(app, db, buyer, ticket_type_id)
    with db.transaction() as s:
        other = Event(slug="other-event", name_vi="Khác", name_en="Other", starts_at=utcnow(), ends_at=utcnow())
        s.add(other)
        s.flush()
        s.add(EventOrganiser(event_id=other.id, user_id=organiser.user.id))
        other_id = other.id
    assert organiser.get(refund_url(other_id, payment)).status_code == 404


# --- booth bookings -----------------------------------------------------------------------------

@pytest.fixture
def exhibitor(make_user) -> User:
    return make_user(Role.STARTUP, email="sen.vang@example.vn", locale="en", name="Lê Thị Sen")


def paid_booth(app, db, exhibitor: User, event_id: int, *, balance_by: str | None = "stripe") -> tuple[int, list]:
    """Booth A-01 (20,000,000 ₫, deposit 6,000,000 ₫) with its deposit paid by transfer and its balance by
    `balance_by`; the booking id and its payments."""
    booking_id = reserve_booth(db, exhibitor, event_id, number="A-01", price=20_000_000, deposit=6_000_000)
    payments = [pay_booth(app, db, booking_id, "vietqr")]
    if balance_by:
        payments.append(pay_booth(app, db, booking_id, balance_by))
    return booking_id, payments


def test_the_finance_page_and_its_exports_show_booth_deposits_and_balances(app, db, organiser, buyer, exhibitor,
                                                                           ticket_type_id, event_id):
    pay(app, db, buyer, ticket_type_id)
    paid_booth(app, db, exhibitor, event_id)

    html = organiser.get(f"/manage/events/{event_id}/finance").get_data(as_text=True)
    assert re.search(r'id="stat-received">₫20,250,000', html)
    assert re.search(r'id="finance-booths-paid">₫20,000,000', html)
    assert "every payment matches its order" in html
    assert 'data-provider="vietqr" data-status="succeeded" data-kind="booth_booking"' in html
    assert 'data-provider="stripe" data-status="succeeded" data-kind="booth_booking"' in html
    assert 'data-provider="stripe" data-status="succeeded" data-kind="order"' in html
    assert "Booth A-01 (Deposit)" in html and "Booth A-01 (Balance)" in html and "sen.vang@example.vn" in html

    token = csrf_token(organiser, app)
    exported = organiser.post(f"/manage/events/{event_id}/finance/payments/export.csv", data={"csrf_token": token})
    rows = list(csv.reader(io.StringIO(exported.data.decode("utf-8-sig"))))
    booths = {row[-1]: row for row in rows[1:] if row[-2] == "Booths"}
    assert set(booths) == {"Deposit", "Balance"}
    assert (booths["Deposit"][1], booths["Deposit"][3], booths["Deposit"][7]) == (
        "Booth A-01", "sen.vang@example.vn", "6000000")
    assert booths["Balance"][7] == "14000000"
    assert sum(int(row[7]) for row in rows[1:]) == 20_250_000
    workbook = organiser.post(f"/manage/events/{event_id}/finance/payments/export.xlsx", data={"csrf_token": token})
    sheet = load_workbook(io.BytesIO(workbook.data)).active
    assert sorted(row[-1] for row in sheet.iter_rows(min_row=2, values_only=True) if row[-1]) == ["Balance", "Deposit"]


def test_a_booth_refund_keeps_the_booth_until_everything_is_refunded_then_frees_it(app, db, organiser, exhibitor,
                                                                                   event_id, stripe_refunds):
    booking_id, (deposit, balance) = paid_booth(app, db, exhibitor, event_id)
    page = organiser.get(f"/manage/events/{event_id}/booths/bookings/{booking_id}").get_data(as_text=True)
    link = f"/manage/events/{event_id}/finance/booth-bookings/{booking_id}/refund"
    assert link in page
    assert path_of(organiser.get(link).headers["Location"]) == refund_url(event_id, balance)  # the latest one
    assert "Refund booth A-01" in organiser.get(refund_url(event_id, balance)).get_data(as_text=True)

    url = refund_url(event_id, balance)
    token = refund_token(organiser, url)
    assert post_refund(organiser, app, url, amount=2_000_000, reason="Giảm giá", token=token).status_code == 302
    post_refund(organiser, app, url, amount=2_000_000, reason="Giảm giá", token=token)  # a double click
    assert len(stripe_refunds.calls) == 1
    assert load(db, BoothBooking, booking_id).status is BookingStatus.SOLD  # a partial refund keeps the booth

    post_refund(organiser, app, url, amount=12_000_000, reason="Hủy gian hàng")
    assert load(db, BoothBooking, booking_id).status is BookingStatus.SOLD  # the deposit is still held
    post_refund(organiser, app, refund_url(event_id, deposit), amount=6_000_000, reason="Hủy gian hàng")

    booking = load(db, BoothBooking, booking_id)
    assert booking.status is BookingStatus.CANCELLED and booking.decision_message == "Hủy gian hàng"
    assert len(stripe_refunds.calls) == 2
    assert (load(db, Payment, deposit.id).status, load(db, Payment, balance.id).status) == (
        PaymentStatus.REFUNDED, PaymentStatus.REFUNDED)
    with db.session_factory() as s:
        keys = set(s.scalars(select(OutboxMessage.idempotency_key).where(
            OutboxMessage.to_address == exhibitor.email)))
        refund_ids = set(s.scalars(select(Refund.id)))
        subjects = set(s.scalars(select(OutboxMessage.subject).where(OutboxMessage.to_address == exhibitor.email)))
    assert {f"refund:{i}" for i in refund_ids} | {f"booth:cancelled:{booking_id}"} <= keys
    assert "Refund for your booth at TechFest Hanoi 2026" in subjects
    html = organiser.get(f"/manage/events/{event_id}/finance").get_data(as_text=True)
    assert re.search(r'id="stat-net">₫0', html) and "every payment matches its order" in html
    # a cancelled booking has nothing left to refund
    emptied = organiser.get(link, follow_redirects=True).get_data(as_text=True)
    assert "Nothing paid for this is left to refund." in emptied


def test_the_organisers_orders_list_leads_to_the_refund_form_of_a_paid_order(app, db, organiser, buyer, login_as,
                                                                              ticket_type_id, event_id):
    order, payment = pay(app, db, buyer, ticket_type_id, provider="vietqr")
    pending = place_pending_order(app, db, buyer, ticket_type_id)
    page = organiser.get(f"/manage/events/{event_id}/orders").get_data(as_text=True)
    link = f"/manage/events/{event_id}/finance/orders/{order.id}/refund"
    assert link in page and f"/finance/orders/{pending.id}/refund" not in page
    form = organiser.get(organiser.get(link).headers["Location"]).get_data(as_text=True)
    assert f"Refund order {order.code}" in form and 'id="refund-left">₫250,000' in form
    assert login_as(Role.ORGANISER).get(link).status_code == 403


def test_a_card_refund_stripe_refuses_keeps_the_booth(app, db, organiser, exhibitor, event_id, stripe_refunds):
    booking_id = reserve_booth(db, exhibitor, event_id, number="B-01", price=9_000_000, deposit=9_000_000)
    payment = pay_booth(app, db, booking_id, "stripe")
    stripe_refunds.status = "failed"
    post_refund(organiser, app, refund_url(event_id, payment), amount=9_000_000)
    stripe_refunds.fail = True
    assert post_refund(organiser, app, refund_url(event_id, payment), amount=9_000_000).status_code == 503
    assert load(db, BoothBooking, booking_id).status is BookingStatus.SOLD

    stripe_refunds.status, stripe_refunds.fail = "succeeded", False
    post_refund(organiser, app, refund_url(event_id, payment), amount=9_000_000)
    assert load(db, BoothBooking, booking_id).status is BookingStatus.CANCELLED


# --- money recorded by hand -----------------------------------------------------------------------

def payment_of(db, order: Order) -> Payment:
    """The order's only payment."""
    with db.session_factory() as s:
        return s.scalars(select(Payment).where(Payment.order_id == order.id)).one()


def test_an_order_marked_paid_by_hand_is_refunded_in_part_once_per_click_then_in_full(app, db, organiser, buyer,
                                                                                      ticket_type_id, event_id,
                                                                                      stripe_refunds):
    order = place_pending_order(app, db, buyer, ticket_type_id, provider="manual", tickets=2)
    orders_page = f"/manage/events/{event_id}/orders"
    for _click in range(2):  # a double click records the money once (payment_of finds one payment)
        organiser.post(f"{orders_page}/{order.id}/mark-paid", data={"csrf_token": csrf_token(organiser, app)})
    with db.session_factory() as s:
        before = availability(s, s.get(Event, event_id))
    link = f"/manage/events/{event_id}/finance/orders/{order.id}/refund"
    assert link in organiser.get(orders_page).get_data(as_text=True)
    url = path_of(organiser.get(link).headers["Location"])
    form = organiser.get(url).get_data(as_text=True)
    assert "Pay the organiser" in form and 'id="refund-left">₫500,000' in form
    assert "send the money back to the buyer yourself" in form

    token = refund_token(organiser, url)
    assert post_refund(organiser, app, url, amount=PRICE, reason="Một khách không đến", token=token).status_code == 302
    again = post_refund(organiser, app, url, amount=PRICE, reason="Một khách không đến", token=token)
    assert "already been recorded" in organiser.get(path_of(again.headers["Location"])).get_data(as_text=True)
    refused = post_refund(organiser, app, url, amount=2 * PRICE, reason="Hủy")
    assert refused.status_code == 400 and "You can refund at most ₫250,000" in refused.get_data(as_text=True)

    assert stripe_refunds.calls == []
    [partial] = refund_mails(db, payment_of(db, order))
    assert "₫250,000" in partial.body_text and "Một khách không đến" in partial.body_text
    assert "send the money back to the account you paid from" in partial.body_text
    assert "remain valid" in partial.body_text and valid_tickets(db, order) == 2

    assert post_refund(organiser, app, url, amount=PRICE, reason="Hủy cả đơn").status_code == 302
    assert load(db, Order, order.id).status is OrderStatus.REFUNDED and valid_tickets(db, order) == 0
    with db.session_factory() as s:
        after = availability(s, s.get(Event, event_id))
        audit = list(s.scalars(select(AuditEntry.action).where(AuditEntry.action.in_(
            ["order.marked_paid", "payment.refund_requested", "order.refunded"]))))
    assert {quota: seats - before[quota] for quota, seats in after.items()} == {q: 2 for q in before}
    assert sorted(audit) == ["order.marked_paid", "order.refunded", "payment.refund_requested",
                             "payment.refund_requested"]
    assert len(refund_mails(db, payment_of(db, order))) == 2
    html = organiser.get(f"/manage/events/{event_id}/finance").get_data(as_text=True)
    assert re.search(r'id="stat-received">₫500,000', html) and re.search(r'id="stat-net">₫0', html)
    assert 'data-provider="manual" data-status="refunded"' in html and "every payment matches its order" in html
    receipt = organiser.get(f"/manage/events/{event_id}/finance/orders/{order.id}/receipt").get_data(as_text=True)
    assert "Pay the organiser" in receipt and "Một khách không đến" in receipt


def test_a_booth_deposit_recorded_by_hand_is_refunded_and_frees_the_booth(app, db, organiser, exhibitor, event_id,
                                                                        stripe_refunds):
    booking_id = reserve_booth(db, exhibitor, event_id, number="C-07", price=20_000_000, deposit=6_000_000)
    booking_page = f"/manage/events/{event_id}/booths/bookings/{booking_id}"
    recorded = organiser.post(f"{booking_page}/payment", data={"csrf_token": csrf_token(organiser, app),
                                                                "amount": "6000000", "expected_paid": "0"})
    assert recorded.status_code == 302
    link = f"/manage/events/{event_id}/finance/booth-bookings/{booking_id}/refund"
    assert link in organiser.get(booking_page).get_data(as_text=True)
    url = path_of(organiser.get(link).headers["Location"])
    assert 'id="refund-left">₫6,000,000' in organiser.get(url).get_data(as_text=True)

    refused = post_refund(organiser, app, url, amount=6_000_001, reason="Hủy gian hàng")
    assert refused.status_code == 400 and load(db, BoothBooking, booking_id).status is BookingStatus.AWAITING_PAYMENT
    token = refund_token(organiser, url)
    for _click in range(2):
        post_refund(organiser, app, url, amount=6_000_000, reason="Hủy gian hàng", token=token)

    booking = load(db, BoothBooking, booking_id)
    assert booking.status is BookingStatus.CANCELLED and booking.decision_message == "Hủy gian hàng"
    with db.session_factory() as s:
        [payment] = s.scalars(select(Payment).where(Payment.booth_booking_id == booking_id)).all()
        subjects = list(s.scalars(select(OutboxMessage.subject).where(OutboxMessage.to_address == exhibitor.email)))
    assert (payment.provider, payment.status, payment.amount_refunded) == ("manual", PaymentStatus.REFUNDED,
                                                                           6_000_000)
    assert subjects.count("Refund for your booth at TechFest Hanoi 2026") == 1
    assert subjects.count("Your booth booking for TechFest Hanoi 2026 is cancelled") == 1
    html = organiser.get(f"/manage/events/{event_id}/finance").get_data(as_text=True)
    assert re.search(r'id="stat-received">₫6,000,000', html) and re.search(r'id="stat-net">₫0', html)
    assert "every payment matches its order" in html
