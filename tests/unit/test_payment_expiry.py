"""Unpaid orders running out of time: one reminder (the default rule) before they expire, and their pending
payments expired after."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from portal.events import orders
from portal.events.models import Order, TicketType
from portal.finance.tasks import expire_payments
from portal.payments import expiry
from portal.payments.models import Payment, PaymentStatus
from tests.support.mail import text_body
from tests.support.payments import create_paid_event, load, open_payment, place_pending_order
from tests.support.reminders import default_rules, run_at

BUYER = "thu.ha@example.vn"


@pytest.fixture
def ticket_type_id(db) -> int:
    return create_paid_event(db)


@pytest.fixture
def order(app, db, make_user, ticket_type_id) -> Order:
    buyer = make_user(email=BUYER, locale="en", name="Thu Hà")
    return place_pending_order(app, db, buyer, ticket_type_id, provider="vietqr")


def remind(app, db, mailbox, now) -> None:
    run_at(app, mailbox, now)


@pytest.fixture
def rules(db, ticket_type_id):
    with db.session_factory() as s:
        event_id = s.get(TicketType, ticket_type_id).event_id
    default_rules(db, "event", event_id)


def test_the_reminder_goes_out_once_18_hours_before_the_order_expires(app, db, order, rules, mailbox):
    due = order.expires_at - timedelta(hours=18)

    remind(app, db, mailbox, due - timedelta(minutes=1))
    assert mailbox.to(BUYER) == []
    remind(app, db, mailbox, due)
    remind(app, db, mailbox, due + timedelta(hours=1))
    remind(app, db, mailbox, order.expires_at + timedelta(minutes=1))

    [mail] = mailbox.to(BUYER)
    assert "waiting for payment" in mail["Subject"] and "TechFest Hanoi 2026" in mail["Subject"]
    body = text_body(mail)
    assert order.code in body and f"/orders/{order.code}" in body


def test_a_paid_order_gets_no_reminder(app, db, order, rules, mailbox):
    with db.transaction() as s:
        orders.mark_paid(s, None, s.get(Order, order.id), now=order.created_at)
    remind(app, db, mailbox, order.expires_at - timedelta(hours=18))
    assert [mail["Subject"] for mail in mailbox.to(BUYER) if "waiting for payment" in mail["Subject"]] == []
    assert mailbox.to(BUYER)  # the confirmation of the payment itself


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


def test_the_scheduled_job_expires_payments(app, db, order):
    open_payment(app, db, order, "vietqr")
    with db.transaction() as s:
        orders.expire_pending_orders(s, order.expires_at + timedelta(minutes=1))
    with time_machine.travel(order.expires_at + timedelta(minutes=1), tick=False), app.app_context():
        assert expire_payments(app) == {"payments_expired": 1}
        assert expire_payments(app) == {"payments_expired": 0}
