"""Money in tests of refunds, receipts and the finance page: orders paid through a provider, and a stand-in for
Stripe's refund API (there is no network)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import stripe

from portal.accounts.models import User
from portal.booths.models import BookingStatus, Booth, BoothBooking
from portal.db import utcnow
from portal.events.models import Order
from portal.payments import refunds, services
from portal.payments.models import Payment
from portal.payments.payables import BOOTH_BOOKING
from tests.support.payments import STRIPE_SECRET_KEY, open_payment, place_pending_order


def pay(app, db, buyer: User, ticket_type_id: int, *, provider: str = "stripe", tickets: int = 1
        ) -> tuple[Order, Payment]:
    """An order whose money arrived through `provider`, confirmed the way the provider's notification does."""
    order = place_pending_order(app, db, buyer, ticket_type_id, provider=provider, tickets=tickets)
    payment = open_payment(app, db, order, provider)
    confirm(app, db, payment, provider)
    return order, payment


def reserve_booth(db, exhibitor: User, event_id: int, *, number: str, price: int, deposit: int) -> int:
    """A booth of the event reserved by `exhibitor` and waiting for payment, the deposit first when it is less than
    the price, as an approved application leaves it; returns the booking id."""
    now = utcnow()
    with db.transaction() as s:
        booth = Booth(event_id=event_id, number=number, x=0, y=0, w=3, h=3, size_m2=9.0, price=price)
        booking = BoothBooking(event_id=event_id, booth=booth, exhibitor_id=exhibitor.id,
                               status=BookingStatus.AWAITING_PAYMENT, hold_expires_at=now, submitted_at=now,
                               company_name="Công ty Sen Vàng", amount_due=price, deposit_due=deposit,
                               payment_due_at=now + timedelta(days=7))
        s.add(booking)
        s.flush()
        return booking.id


def pay_booth(app, db, booking_id: int, provider: str = "vietqr") -> Payment:
    """The booking's next instalment paid through `provider`, confirmed the way the provider's notification does."""
    now = utcnow()
    with app.test_request_context(), db.transaction() as s:
        payment = services.open_payment(s, BOOTH_BOOKING.describe(s.get(BoothBooking, booking_id), now), provider,
                                        now)
    confirm(app, db, payment, provider)
    return payment


def confirm(app, db, payment: Payment, provider: str) -> None:
    now = utcnow()
    with app.test_request_context(), db.transaction() as s:
        if provider == "vietqr":
            outcome = services.apply_bank_transfer(s, payment.id, amount=payment.amount,
                                                   external_id=f"line-{payment.id}", now=now)
        else:
            outcome = services.handle_notification(
                s, provider=provider, external_id=f"evt-paid-{payment.id}", event_type="checkout.session.completed",
                payment_id=payment.id, now=now,
                act=lambda locked: services.confirm_payment(s, locked, amount=locked.amount, currency="vnd", now=now,
                                                            provider_payment_id=f"pi_test_for_{locked.id}"))
    assert outcome is services.Outcome.FULFILLED


@dataclass
class FakeStripeRefunds:
    """Stands in for refunds.create_stripe_refund. Like Stripe, a repeated idempotency key gets the refund made the
    first time; `during` runs inside the call (a webhook arriving before Stripe's answer); `fail` raises."""

    calls: list[tuple[str, dict]] = field(default_factory=list)
    made: dict[str, refunds.StripeRefund] = field(default_factory=dict)
    status: str = "succeeded"
    fail: bool = False
    during: Callable[[str, dict], None] | None = None
    numbers: itertools.count = field(default_factory=lambda: itertools.count(1))

    def __call__(self, api_key: str, params: dict, idempotency_key: str) -> refunds.StripeRefund:
        assert api_key == STRIPE_SECRET_KEY
        self.calls.append((idempotency_key, params))
        if self.fail:
            raise stripe.APIConnectionError("Could not connect to Stripe")
        if idempotency_key not in self.made:
            self.made[idempotency_key] = refunds.StripeRefund(f"re_test_{next(self.numbers)}", self.status)
            if self.during:
                self.during(self.made[idempotency_key].id, params)
        return self.made[idempotency_key]
