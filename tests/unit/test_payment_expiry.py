"""Unpaid orders running out of time: one reminder before they expire, and their pending payments expired after."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.events import orders, payment_reminders
from portal.events.models import Order
from portal.finance.tasks import remind_and_expire_payments
from portal.payments import expiry
from portal.payments.models import Payment, PaymentStatus
from tests.support.mail import text_body
from tests.support.payments import create_paid_event, load, open_payment, place_pending_order

BUYER = "thu.ha@example.vn"


@pytest.fixture
def ticket_type_id(db) -> int:
    return create_paid_event(db)


@pytest.fixture
def order(app, db, make_user, ticket_type_id) -> Order:
    buyer = make_user(email=BUYER, locale="en", name="Thu Hà")
    return place_pending_order(app, db, buyer, ticket_type_id, provider="vietqr")


def remind(app, db, now) -> int:
    with app.app_context(), db.transaction() as s:
        return payment_reminders.remind_unpaid_orders(s, now)


def test_the_reminder_goes_out_once_when_a_quarter_of_the_time_is_left(app, db, order, mailbox):
    time_to_pay = order.expires_at - order.created_at
    quarter_left = order.expires_at - time_to_pay / 4

    assert remind(app, db, quarter_left - timedelta(minutes=1)) == 0
    assert remind(app, db, quarter_left) == 1
    assert remind(app, db, quarter_left + timedelta(hours=1)) == 0
    assert remind(app, db, order.expires_at + timedelta(minutes=1)) == 0

    mailbox.deliver()
    [mail] = mailbox.to(BUYER)
    assert "waiting for payment" in mail["Subject"] and "TechFest Hanoi 2026" in mail["Subject"]
    body = text_body(mail)
    assert order.code in body and f"/orders/{order.code}" in body


def test_a_paid_order_gets_no_reminder(app, db, order):
    with db.transaction() as s:
        orders.mark_paid(s, None, s.get(Order, order.id), now=order.created_at)
    assert remind(app, db, order.expires_at - timedelta(minutes=1)) == 0


def test_the_payments_of_an_expired_order_expire_and_others_stay_open(app, db, make_user, order, ticket_type_id):
    payment = open_payment(app, db, order, "vietqr")
    after = order.expires_at + timedelta(minutes=1)
    with db.transaction() as s:
        orders.expire_pending_orders(s, after)
    # placed later, so still within its time
    later = place_pending_order(app, db, make_user(email="khac@example.vn"), ticket_type_id, provider="vietqr")
    still_open = open_payment(app, db, later, "vietqr")
    with app.app_context(), db.transaction() as s:
        assert expiry.expire_abandoned_payments(s, after) == 1
    assert load(db, Payment, payment.id).status is PaymentStatus.EXPIRED
    assert load(db, Payment, still_open.id).status is PaymentStatus.PENDING
    with app.app_context(), db.transaction() as s:
        assert expiry.expire_abandoned_payments(s, after) == 0


def test_the_scheduled_job_reminds_and_expires(app, db, make_user, order, mailbox):
    """Wired as the scheduler runs it: an order placed long ago and nearly out of time gets its reminder."""
    with db.transaction() as s:
        placed = s.get(Order, order.id)
        placed.expires_at = placed.created_at + timedelta(minutes=5)
        placed.created_at -= timedelta(hours=1)
    with app.app_context():  # as scheduler.run_job runs it
        assert remind_and_expire_payments(app) == {"payment_reminders": 1, "payments_expired": 0}
        assert remind_and_expire_payments(app) == {"payment_reminders": 0, "payments_expired": 0}
    mailbox.deliver()
    assert len(mailbox.to(BUYER)) == 1
