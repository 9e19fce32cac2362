"""Stripe's webhook: events signed as Stripe signs them confirm an order exactly once, whatever their order, however
often and however simultaneously they arrive; anything unsigned, old or mismatched changes nothing."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
import stripe
from sqlalchemy import func, select, update

from portal.audit.models import AuditEntry
from portal.db import utcnow
from portal.events.models import Event, Order, OrderStatus, Ticket
from portal.events.orders import availability
from portal.notifications.models import OutboxMessage
from portal.payments.models import Payment, PaymentEvent, PaymentStatus, Refund, ReviewReason
from tests.support.mail import text_body
from tests.support.payments import (
    WEBHOOK_SECRET,
    checkout_event,
    create_paid_event,
    enable_stripe,
    load,
    open_payment,
    place_pending_order,
    post_webhook,
    refund_event,
    signed,
)

COMPLETED = "checkout.session.completed"
EXPIRED = "checkout.session.expired"


@pytest.fixture
def order(app, db, make_user, monkeypatch) -> Order:
    enable_stripe(app, monkeypatch)
    ticket_type_id = create_paid_event(db)
    buyer = make_user(email="ha@example.vn", locale="en", name="Phạm Thu Hà")
    return place_pending_order(app, db, buyer, ticket_type_id, tickets=2)


@pytest.fixture
def payment(app, db, order) -> Payment:
    return open_payment(app, db, order)


def order_status(db, order: Order) -> OrderStatus:
    return load(db, Order, order.id).status


def fulfilments(db, order: Order) -> int:
    """How many times the order was confirmed: its audit entries and its confirmation mails must agree."""
    with db.session_factory() as s:
        paid = s.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "order.paid",
                                                                AuditEntry.object_id == str(order.id)))
        mails = s.scalar(select(func.count(OutboxMessage.id))
                         .where(OutboxMessage.idempotency_key == f"order-confirmed:{order.id}"))
    assert paid == mails
    return paid


def logged_events(db) -> list[tuple[str, str]]:
    with db.session_factory() as s:
        return [(e.type, e.outcome) for e in s.scalars(select(PaymentEvent).order_by(PaymentEvent.id))]


# --- the happy path ---------------------------------------------------------------------------

def test_a_completed_checkout_confirms_the_order_and_mails_the_tickets(client, db, order, payment, mailbox):
    response = post_webhook(client, checkout_event(COMPLETED, payment))
    assert response.status_code == 200
    assert response.json == {"outcome": "fulfilled"}

    assert order_status(db, order) is OrderStatus.PAID
    saved = load(db, Payment, payment.id)
    assert (saved.status, saved.amount_received, saved.provider_payment_id) == (
        PaymentStatus.SUCCEEDED, 500_000, f"pi_test_for_{payment.id}")
    assert saved.review_reason is None
    assert fulfilments(db, order) == 1
    assert logged_events(db) == [(COMPLETED, "fulfilled")]

    mailbox.deliver()
    [message] = mailbox.wait_for("ha@example.vn")
    assert "Investor pass" in text_body(message)
    assert len([part for part in message.iter_attachments() if part.get_content_type() == "image/png"]) == 2


# --- refused: bad signature, old signature, no secret -----------------------------------------

def test_a_bad_signature_is_refused_with_400_and_changes_nothing(client, db, order, payment):
    event = checkout_event(COMPLETED, payment)
    assert post_webhook(client, event, secret="whsec_someone_else").status_code == 400

    body, header = signed(event)
    forged_body = body.replace(b'"amount_total": 500000', b'"amount_total": 5')
    assert forged_body != body
    assert client.post("/payments/stripe/webhook", data=forged_body, content_type="application/json",
                       headers={"Stripe-Signature": header}).status_code == 400
    assert client.post("/payments/stripe/webhook", data=body, content_type="application/json").status_code == 400
    assert client.post("/payments/stripe/webhook", data=body, content_type="application/json",
                       headers={"Stripe-Signature": "t=1,v1=nonsense"}).status_code == 400

    assert order_status(db, order) is OrderStatus.PENDING
    assert load(db, Payment, payment.id).status is PaymentStatus.PENDING
    assert logged_events(db) == []


def test_a_signature_older_than_five_minutes_is_refused(client, db, order, payment):
    event = checkout_event(COMPLETED, payment)
    stale = post_webhook(client, event, timestamp=int(time.time()) - 6 * 60)
    assert stale.status_code == 400
    assert order_status(db, order) is OrderStatus.PENDING and logged_events(db) == []
    # the refusal logged nothing, so the same event signed now is handled
    assert post_webhook(client, event).json == {"outcome": "fulfilled"}


def test_without_a_webhook_secret_nothing_is_accepted(app, client, db, order, payment, monkeypatch):
    event = checkout_event(COMPLETED, payment)
    monkeypatch.setitem(app.config, "STRIPE_WEBHOOK_SECRET", None)
    assert post_webhook(client, event).status_code == 400
    assert order_status(db, order) is OrderStatus.PENDING


# --- refused: signed, but not an event the portal can read ------------------------------------

def post_signed_text(client, body: str):
    """`body` exactly as given, signed as Stripe signs: the signature is right whatever the body holds."""
    header = stripe.WebhookSignature.generate_signature_header(body, WEBHOOK_SECRET)
    return client.post("/payments/stripe/webhook", data=body.encode(), content_type="application/json",
                       headers={"Stripe-Signature": header})


def _changed(path: str, value):
    """An edit of the event: `value` put at `path` ("data.object.metadata"), or the field removed for DELETE."""
    def edit(event: dict) -> dict:
        *parents, name = path.split(".")
        target = event
        for parent in parents:
            target = target[parent]
        if value is DELETE:
            del target[name]
        else:
            target[name] = value
        return event
    edit.__name__ = f"{path} removed" if value is DELETE else f"{path}={value!r}"[:60]
    return edit


DELETE = object()
MALFORMED_COMPLETED = [
    _changed("type", DELETE), _changed("data", DELETE), _changed("id", DELETE), _changed("type", 5),
    _changed("id", ["evt_1"]), _changed("id", "evt_" + "x" * 300), _changed("type", "checkout." + "x" * 100),
    _changed("data", 5), _changed("data", [1]), _changed("data", None), _changed("data.object", DELETE),
    _changed("data.object", [1]), _changed("data.object", "cs_test_1"), _changed("data.object", 7),
    _changed("data.object.metadata", [1]), _changed("data.object.metadata", "payment 1"),
    _changed("data.object.amount_total", "500000"), _changed("data.object.amount_total", 500000.5),
    _changed("data.object.amount_total", 10**12), _changed("data.object.amount_total", True),
    _changed("data.object.currency", 704), _changed("data.object.payment_status", ["paid"]),
    _changed("data.object.payment_intent", {"id": "pi_1"}), _changed("data.object.payment_intent", "pi_" + "x" * 300),
    _changed("data.object.id", 12),
]


@pytest.mark.parametrize("body", ["[1,2,3]", '"x"', "null", "5", "{}", "not json", "{", "[" * 100_000,
                                  '{"id": "evt_1", "type": "checkout.session.completed", "data": NaN}'])
def test_a_signed_body_that_is_not_an_event_is_refused_as_malformed(client, db, order, payment, caplog, body):
    response = post_signed_text(client, body)
    assert (response.status_code, response.json) == (400, {"error": "malformed event"})
    assert "malformed Stripe event" in caplog.text
    assert order_status(db, order) is OrderStatus.PENDING and logged_events(db) == []


@pytest.mark.parametrize("edit", MALFORMED_COMPLETED, ids=lambda edit: edit.__name__)
def test_a_signed_event_missing_what_the_portal_reads_is_refused_and_changes_nothing(client, db, order, payment,
                                                                                      caplog, edit):
    response = post_webhook(client, edit(checkout_event(COMPLETED, payment)))
    assert (response.status_code, response.json) == (400, {"error": "malformed event"})
    assert "malformed Stripe event" in caplog.text
    assert order_status(db, order) is OrderStatus.PENDING
    saved = load(db, Payment, payment.id)
    assert (saved.status, saved.amount_received, saved.provider_payment_id) == (PaymentStatus.PENDING, 0, None)
    assert logged_events(db) == []


@pytest.mark.parametrize("edit", [
    _changed("data.object.refunds", [1]), _changed("data.object.refunds", {"data": {"id": "re_1"}}),
    _changed("data.object.refunds", {"data": [1]}), _changed("data.object.refunds", {"data": [{"id": "re_1"}]}),
    _changed("data.object.refunds", {"data": [{"id": "re_1", "amount": "500000"}]}),
    _changed("data.object.refunds", {"data": [{"amount": 500_000}]}),
    _changed("data.object.refunds", {"data": [{"id": "re_1", "amount": 500_000, "metadata": [1]}]}),
    _changed("data.object.amount_refunded", "all"), _changed("data.object.payment_intent", 1),
], ids=lambda edit: edit.__name__)
def test_a_signed_refund_event_of_another_shape_is_refused_and_refunds_nothing(client, db, order, payment, edit):
    assert post_webhook(client, checkout_event(COMPLETED, payment)).json == {"outcome": "fulfilled"}
    response = post_webhook(client, edit(refund_event(payment, amount_refunded=500_000,
                                                      refunds=[("re_1", 500_000)])))
    assert (response.status_code, response.json) == (400, {"error": "malformed event"})
    assert order_status(db, order) is OrderStatus.PAID
    assert load(db, Payment, payment.id).amount_refunded == 0
    assert logged_events(db) == [(COMPLETED, "fulfilled")]


def test_an_event_of_a_type_the_portal_ignores_needs_only_an_id_a_type_and_data_object(client, db, payment):
    event = {"id": "evt_other", "type": "customer.created", "data": {"object": {"id": "cus_1", "metadata": [1]}}}
    assert post_webhook(client, event).json == {"outcome": "ignored"}


def test_a_payment_id_in_the_metadata_that_is_not_a_number_is_an_unknown_payment(client, db, order, payment):
    event = checkout_event(COMPLETED, payment)
    event["data"]["object"]["metadata"] = {"payment_id": "²"}
    event["data"]["object"]["id"] = "cs_nobody_made"
    assert post_webhook(client, event).json == {"outcome": "unknown payment"}
    assert order_status(db, order) is OrderStatus.PENDING


# --- repeats ----------------------------------------------------------------------------------

def test_a_repeated_event_is_answered_but_fulfils_nothing_twice(client, db, order, payment, mailbox):
    event = checkout_event(COMPLETED, payment)
    assert post_webhook(client, event).json == {"outcome": "fulfilled"}
    assert post_webhook(client, event).json == {"outcome": "duplicate"}
    assert fulfilments(db, order) == 1
    assert logged_events(db) == [(COMPLETED, "fulfilled")]
    assert mailbox.deliver()["sent"] == 1


def _at_once(app, requests: list[dict]) -> list:
    """Posts every event from its own thread, all released together; returns the responses in order."""
    barrier = threading.Barrier(len(requests))
    responses: list = [None] * len(requests)

    def send(index: int) -> None:
        client = app.test_client()
        barrier.wait()
        responses[index] = post_webhook(client, requests[index])

    threads = [threading.Thread(target=send, args=(n,)) for n in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return responses


def test_copies_of_an_event_arriving_at_once_fulfil_the_order_exactly_once(app, db, order, payment, mailbox):
    event = checkout_event(COMPLETED, payment)
    responses = _at_once(app, [event] * 8)
    assert [r.status_code for r in responses] == [200] * 8
    assert sorted(r.json["outcome"] for r in responses) == ["duplicate"] * 7 + ["fulfilled"]
    assert order_status(db, order) is OrderStatus.PAID
    assert fulfilments(db, order) == 1
    assert mailbox.deliver()["sent"] == 1


def test_two_events_about_one_payment_at_once_fulfil_it_once(app, db, order, payment):
    """checkout.session.completed and async_payment_succeeded are different events about the same money: the lock
    on the payment makes the second see what the first did."""
    events = [checkout_event(COMPLETED, payment), checkout_event("checkout.session.async_payment_succeeded", payment)]
    responses = _at_once(app, events * 3)
    outcomes = sorted(r.json["outcome"] for r in responses)
    assert outcomes == ["duplicate"] * 4 + ["fulfilled", "ignored"]
    assert fulfilments(db, order) == 1


# --- events in any order ----------------------------------------------------------------------

def test_an_expiry_arriving_after_the_payment_changes_nothing(client, db, order, payment):
    assert post_webhook(client, checkout_event(COMPLETED, payment)).json == {"outcome": "fulfilled"}
    assert post_webhook(client, checkout_event(EXPIRED, payment)).json == {"outcome": "ignored"}
    assert order_status(db, order) is OrderStatus.PAID
    assert load(db, Payment, payment.id).status is PaymentStatus.SUCCEEDED


def test_a_payment_arriving_after_the_expiry_still_confirms_the_order(client, db, order, payment):
    assert post_webhook(client, checkout_event(EXPIRED, payment)).json == {"outcome": "expired"}
    assert load(db, Payment, payment.id).status is PaymentStatus.EXPIRED
    assert order_status(db, order) is OrderStatus.PENDING  # the order keeps its own time to pay

    assert post_webhook(client, checkout_event(COMPLETED, payment)).json == {"outcome": "fulfilled"}
    assert order_status(db, order) is OrderStatus.PAID
    assert load(db, Payment, payment.id).status is PaymentStatus.SUCCEEDED


def test_a_delayed_payment_method_waits_for_stripes_verdict(client, db, order, payment):
    unpaid = checkout_event(COMPLETED, payment, payment_status="unpaid")
    assert post_webhook(client, unpaid).json == {"outcome": "waiting"}
    assert order_status(db, order) is OrderStatus.PENDING
    assert load(db, Payment, payment.id).status is PaymentStatus.PENDING

    succeeded = checkout_event("checkout.session.async_payment_succeeded", payment)
    assert post_webhook(client, succeeded).json == {"outcome": "fulfilled"}
    assert order_status(db, order) is OrderStatus.PAID


def test_a_failed_delayed_payment_leaves_the_order_waiting_for_another_try(client, db, order, payment):
    post_webhook(client, checkout_event(COMPLETED, payment, payment_status="unpaid"))
    failed = checkout_event("checkout.session.async_payment_failed", payment)
    assert post_webhook(client, failed).json == {"outcome": "failed"}
    assert load(db, Payment, payment.id).status is PaymentStatus.FAILED
    assert order_status(db, order) is OrderStatus.PENDING


# --- money that does not fit ------------------------------------------------------------------

@pytest.mark.parametrize(("amount", "currency", "reason", "received"), [
    (499_999, "vnd", ReviewReason.AMOUNT_MISMATCH, 499_999),
    (5_000_000, "vnd", ReviewReason.AMOUNT_MISMATCH, 5_000_000),
    (500_000, "usd", ReviewReason.CURRENCY_MISMATCH, 0),
])
def test_a_wrong_amount_or_currency_is_flagged_for_review_and_not_fulfilled(client, db, order, payment, amount,
                                                                             currency, reason, received):
    event = checkout_event(COMPLETED, payment, amount=amount, currency=currency)
    assert post_webhook(client, event).json == {"outcome": "flagged"}
    assert order_status(db, order) is OrderStatus.PENDING
    saved = load(db, Payment, payment.id)
    assert (saved.review_reason, saved.amount_received) == (reason, received)
    assert saved.review_message["params"] == {"asked": {"amount": payment.amount, "currency": "VND"},
                                              "received": {"amount": amount, "currency": currency.upper()}}
    assert fulfilments(db, order) == 0


def test_money_for_an_order_that_ran_out_of_time_is_flagged(client, db, order, payment):
    with db.transaction() as s:
        s.execute(update(Order).values(expires_at=utcnow() - timedelta(minutes=1)))
    assert post_webhook(client, checkout_event(COMPLETED, payment)).json == {"outcome": "flagged"}
    saved = load(db, Payment, payment.id)
    assert saved.status is PaymentStatus.SUCCEEDED  # the money did arrive
    assert saved.review_reason is ReviewReason.NOT_FULFILLED
    assert "expired before it was paid" in saved.review_message["message"]
    assert order_status(db, order) is OrderStatus.PENDING and fulfilments(db, order) == 0


def test_a_second_payment_for_a_paid_order_is_flagged_not_fulfilled_again(app, client, db, order, payment):
    post_webhook(client, checkout_event(COMPLETED, payment))
    with db.transaction() as s:  # a second attempt the buyer opened before the first one completed
        s.add(Payment(order_id=order.id, amount=500_000, provider="stripe", status=PaymentStatus.PENDING))
    with db.session_factory() as s:
        second = s.scalars(select(Payment).order_by(Payment.id.desc())).first()
    assert post_webhook(client, checkout_event(COMPLETED, second)).json == {"outcome": "flagged"}
    assert load(db, Payment, second.id).review_reason is ReviewReason.NOT_FULFILLED
    assert fulfilments(db, order) == 1


# --- refunds made in Stripe -------------------------------------------------------------------

def seats_left(db, order: Order) -> int:
    with db.session_factory() as s:
        return next(iter(availability(s, s.get(Event, order.event_id)).values()))


def test_a_full_refund_in_stripe_refunds_the_order_and_gives_its_seats_back(client, db, order, payment):
    post_webhook(client, checkout_event(COMPLETED, payment))
    assert seats_left(db, order) == 98
    refunded = refund_event(payment, amount_refunded=500_000, refunds=[("re_test_1", 500_000)])
    assert post_webhook(client, refunded).json == {"outcome": "refunded"}

    saved = load(db, Payment, payment.id)
    assert (saved.status, saved.amount_refunded) == (PaymentStatus.REFUNDED, 500_000)
    with db.session_factory() as s:
        [refund] = s.scalars(select(Refund)).all()
        assert (refund.amount, refund.provider_refund_id, refund.created_by_id) == (500_000, "re_test_1", None)
        assert all(t.cancelled_at for t in s.scalars(select(Ticket)))
    assert order_status(db, order) is OrderStatus.REFUNDED
    assert seats_left(db, order) == 100


def test_partial_refunds_add_up(client, db, order, payment):
    post_webhook(client, checkout_event(COMPLETED, payment))
    post_webhook(client, refund_event(payment, amount_refunded=200_000, refunds=[("re_test_1", 200_000)]))
    assert load(db, Payment, payment.id).status is PaymentStatus.PARTIALLY_REFUNDED
    assert order_status(db, order) is OrderStatus.PAID

    # the next event lists both refunds: the first is not counted again
    both = [("re_test_1", 200_000), ("re_test_2", 300_000)]
    post_webhook(client, refund_event(payment, amount_refunded=500_000, refunds=both))
    saved = load(db, Payment, payment.id)
    assert (saved.status, saved.amount_refunded) == (PaymentStatus.REFUNDED, 500_000)
    with db.session_factory() as s:
        assert sorted(s.scalars(select(Refund.amount))) == [200_000, 300_000]
    assert order_status(db, order) is OrderStatus.REFUNDED


# --- what the portal does not know ------------------------------------------------------------

def test_an_event_about_an_unknown_payment_is_logged_and_acknowledged(client, db, order, payment):
    stranger = Payment(id=987_654, amount=1, provider="stripe")
    assert post_webhook(client, checkout_event(COMPLETED, stranger)).json == {"outcome": "unknown payment"}
    assert order_status(db, order) is OrderStatus.PENDING
    assert logged_events(db) == [(COMPLETED, "unknown payment")]


def test_events_the_portal_does_not_use_are_acknowledged(client, db, payment):
    event = checkout_event("payment_intent.created", payment)
    assert post_webhook(client, event).json == {"outcome": "ignored"}
