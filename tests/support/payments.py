"""Payments in tests: orders waiting for payment, payment providers switched on, a stand-in for Stripe's API (there
is no network), and webhook events signed the way Stripe signs them."""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import stripe
from flask_babel import force_locale

from portal.accounts.models import User
from portal.db import utcnow
from portal.events.models import Event, EventStatus, Order, Quota, TicketType
from portal.events.orders import AttendeeInput, load_event_for_sale, place_order
from portal.events.payable import ORDER
from portal.payments import services, stripe_checkout
from portal.payments.models import BankAccount, Payment

STRIPE_SECRET_KEY = "sk_test_portal"
WEBHOOK_SECRET = "whsec_test_portal"
SLUG = "techfest-hanoi-2026"
PRICE = 250_000


def enable_stripe(app, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", STRIPE_SECRET_KEY)
    monkeypatch.setitem(app.config, "STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)


def enable_demo_card(app, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "DEMO_CARD", True)


def add_bank_account(db, *, active: bool = True, bank_bin: str = "970415", account_number: str = "0011001932418",
                     bank_name: str = "VietinBank – Hoàn Kiếm", holder_name: str = "TRUNG TAM DMST HA NOI") -> int:
    with db.transaction() as s:
        account = BankAccount(bank_bin=bank_bin, account_number=account_number, bank_name=bank_name,
                              holder_name=holder_name, active=active)
        s.add(account)
        s.flush()
        return account.id


def create_paid_event(db, *, price: int = PRICE, seats: int = 100) -> int:
    """TechFest a month ahead with one paid pass ("Investor pass"); returns the ticket type id."""
    start = utcnow() + timedelta(days=30)
    with db.transaction() as s:
        event = Event(slug=SLUG, name_vi="TechFest Hà Nội 2026", name_en="TechFest Hanoi 2026",
                      status=EventStatus.PUBLISHED, starts_at=start, ends_at=start + timedelta(days=2))
        ticket_type = TicketType(name_vi="Vé nhà đầu tư", name_en="Investor pass", price=price, max_per_order=5)
        event.ticket_types.append(ticket_type)
        event.quotas.append(Quota(name="Hội trường", size=seats, ticket_types=[ticket_type]))
        s.add(event)
        s.flush()
        return ticket_type.id


def place_pending_order(app, db, buyer: User, ticket_type_id: int, *, provider: str = "stripe",
                        tickets: int = 1) -> Order:
    """An order of `tickets` paid passes waiting for payment through `provider`, as the registration form places it."""
    with app.test_request_context(), force_locale(buyer.locale), db.transaction() as s:
        attendees = [AttendeeInput(ticket_type_id, f"Khách {n}", f"khach{n}@example.vn") for n in range(tickets)]
        return place_order(s, event=load_event_for_sale(s, SLUG), buyer=s.get(User, buyer.id), attendees=attendees,
                           provider_key=provider)


def open_payment(app, db, order: Order, provider: str = "stripe", now: datetime | None = None) -> Payment:
    """The order's pending payment through `provider`, as starting to pay opens it."""
    now = now or utcnow()
    with app.test_request_context(), db.transaction() as s:
        order = s.get(Order, order.id)
        return services.open_payment(s, ORDER.describe(order, now), provider, now)


def load(db, model, row_id: int):
    with db.session_factory() as s:
        return s.get(model, row_id)


# --- Stripe's API -----------------------------------------------------------------------------

@dataclass
class FakeStripe:
    """Stands in for stripe_checkout.create_checkout_session. Like Stripe, a repeated idempotency key gets the session
    made the first time; `fail` makes the next call raise as an unreachable API would."""

    calls: list[tuple[str, dict]] = field(default_factory=list)
    sessions: dict[str, stripe_checkout.CheckoutSession] = field(default_factory=dict)
    fail: bool = False
    #: seconds each call takes, so concurrent clicks overlap
    latency: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    numbers: itertools.count = field(default_factory=lambda: itertools.count(1))

    def __call__(self, api_key: str, params: dict, idempotency_key: str) -> stripe_checkout.CheckoutSession:
        assert api_key == STRIPE_SECRET_KEY
        time.sleep(self.latency)
        with self.lock:
            self.calls.append((idempotency_key, params))
            if self.fail:
                raise stripe.APIConnectionError("Could not connect to Stripe")
            if idempotency_key not in self.sessions:
                session_id = f"cs_test_{next(self.numbers)}"
                self.sessions[idempotency_key] = stripe_checkout.CheckoutSession(
                    session_id, f"https://checkout.stripe.com/c/pay/{session_id}",
                    datetime.fromtimestamp(params["expires_at"], UTC))
            return self.sessions[idempotency_key]


# --- webhooks ---------------------------------------------------------------------------------

_event_numbers = itertools.count(1)


def checkout_event(event_type: str, payment: Payment, *, amount: int | None = None, currency: str = "vnd",
                   payment_status: str = "paid", event_id: str | None = None) -> dict:
    """A Checkout Session event about `payment`, as Stripe sends it (the fields the portal reads, and a few more)."""
    session_id = payment.provider_reference or f"cs_test_for_{payment.id}"
    return {
        "id": event_id or f"evt_test_{next(_event_numbers)}",
        "object": "event",
        "type": event_type,
        "api_version": "2025-09-30.clover",
        "created": int(time.time()),
        "data": {"object": {
            "id": session_id,
            "object": "checkout.session",
            "amount_total": payment.amount if amount is None else amount,
            "currency": currency,
            "payment_status": payment_status,
            "payment_intent": f"pi_test_for_{payment.id}",
            "client_reference_id": str(payment.id),
            "metadata": {"payment_id": str(payment.id)},
        }},
    }


def refund_event(payment: Payment, *, amount_refunded: int, refunds: list[tuple[str, int]] = (),
                 event_id: str | None = None) -> dict:
    """charge.refunded for the payment's charge, `amount_refunded` in all so far."""
    return {
        "id": event_id or f"evt_test_{next(_event_numbers)}",
        "object": "event",
        "type": "charge.refunded",
        "created": int(time.time()),
        "data": {"object": {
            "id": f"ch_test_for_{payment.id}",
            "object": "charge",
            "amount": payment.amount,
            "amount_refunded": amount_refunded,
            "currency": "vnd",
            "refunded": amount_refunded >= payment.amount,
            "payment_intent": f"pi_test_for_{payment.id}",
            "refunds": {"object": "list", "data": [{"id": rid, "object": "refund", "amount": amount,
                                                     "status": "succeeded"} for rid, amount in refunds]},
        }},
    }


def signed(event: dict, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> tuple[bytes, str]:
    """The body and Stripe-Signature header: t=<timestamp>,v1=HMAC-SHA256(secret, "<timestamp>.<body>")."""
    body = json.dumps(event)
    return body.encode(), stripe.WebhookSignature.generate_signature_header(body, secret, timestamp=timestamp)


def post_webhook(client, event: dict, **signing):
    body, header = signed(event, **signing)
    return client.post("/payments/stripe/webhook", data=body, content_type="application/json",
                       headers={"Stripe-Signature": header})
