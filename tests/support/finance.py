"""Money in tests of refunds, receipts and the finance page: orders and booths paid through a provider or recorded
by hand by an organiser, and a stand-in for Stripe's refund API (there is no network)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import stripe
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.booths import services as booth_services
from portal.booths.models import BookingStatus, Booth, BoothBooking
from portal.booths.payable import BOOTH_BOOKING
from portal.db import utcnow
from portal.events import manage
from portal.events.models import Event, Order
from portal.payments import refunds, services
from portal.payments.models import Payment
from tests.support.payments import PRICE, SLUG, STRIPE_SECRET_KEY, open_payment, place_pending_order


def pay(app, db, buyer: User, ticket_type_id: int, *, provider: str = "stripe", tickets: int = 1
        ) -> tuple[Order, Payment]:
    """An order whose money arrived through `provider`, confirmed the way the provider's notification does."""
    order = place_pending_order(app, db, buyer, ticket_type_id, provider=provider, tickets=tickets)
    payment = open_payment(app, db, order, provider)
    confirm(app, db, payment, provider)
    return order, payment


def pay_by_hand(app, db, organiser: User, buyer: User, ticket_type_id: int, *, tickets: int = 1
                ) -> tuple[Order, Payment]:
    """An order paid to the organisers (at their desk, by invoice) and marked paid by `organiser` as the orders
    list's button does; the payment that recorded it."""
    order = place_pending_order(app, db, buyer, ticket_type_id, provider="manual", tickets=tickets)
    with app.test_request_context(), db.transaction() as s:
        manage.act_on_order(s, s.get(User, organiser.id), s.get(Event, order.event_id), order.id, "mark-paid")
        return order, s.scalars(select(Payment).where(Payment.order_id == order.id)).one()


def reserve_booth(db, exhibitor: User, event_id: int, *, number: str, price: int, deposit: int,
                  booth_id: int | None = None) -> int:
    """A booth of the event reserved by `exhibitor` and waiting for payment, the deposit first when it is less than
    the price, as an approved application leaves it; returns the booking id. A new booth `number`, or the booth
    `booth_id`."""
    now = utcnow()
    with db.transaction() as s:
        booth = s.get(Booth, booth_id) if booth_id else Booth(event_id=event_id, number=number, x=0, y=0, w=3, h=3,
                                                              size_m2=9.0, price=price)
        booking = BoothBooking(event_id=event_id, booth=booth, exhibitor_id=exhibitor.id,
                               status=BookingStatus.AWAITING_PAYMENT, hold_expires_at=now, submitted_at=now,
                               company_name="Công ty Sen Vàng", amount_due=price, deposit_due=deposit,
                               payment_due_at=now + timedelta(days=7))
        s.add(booking)
        s.flush()
        return booking.id


def open_booth_payment(app, db, booking_id: int, provider: str = "vietqr") -> Payment:
    """The payment of the booking's next instalment, opened as the exhibitor's pay button does."""
    now = utcnow()
    with app.test_request_context(), db.transaction() as s:
        return services.open_payment(s, BOOTH_BOOKING.describe(s.get(BoothBooking, booking_id), now), provider, now)


def pay_booth(app, db, booking_id: int, provider: str = "vietqr") -> Payment:
    """The booking's next instalment paid through `provider`, confirmed the way the provider's notification does."""
    payment = open_booth_payment(app, db, booking_id, provider)
    confirm(app, db, payment, provider)
    return payment


def pay_booth_by_hand(app, db, organiser: User, booking_id: int) -> Payment:
    """The booking's next instalment recorded by `organiser` as received, as the booking page's form does; the
    payment that recorded it."""
    with app.test_request_context(), db.transaction() as s:
        booking = s.get(BoothBooking, booking_id)
        booth_services.record_payment(s, s.get(User, organiser.id), booking.event, booking_id,
                                      expected_paid=booking.amount_paid)
        return s.scalars(select(Payment).where(Payment.booth_booking_id == booking_id)
                         .order_by(Payment.id.desc())).first()


BOOTH_PRICE = 4 * PRICE


def lapsed_booth_transfer(app, db, exhibitor: User, *, booth_id: int | None = None) -> Payment:
    """`exhibitor`'s reservation of a booth of the SLUG event (a new one, or `booth_id`), waiting for a transfer of
    its full price and lapsed by the sweep before the money came; returns the transfer's payment."""
    with db.session_factory() as s:
        event_id = s.scalar(select(Event.id).where(Event.slug == SLUG))
        number = f"L-{s.scalar(select(func.count(Booth.id))) + 1:02d}"
    booking_id = reserve_booth(db, exhibitor, event_id, number=number, price=BOOTH_PRICE, deposit=BOOTH_PRICE,
                               booth_id=booth_id)
    payment = open_booth_payment(app, db, booking_id)
    now = utcnow()
    with app.test_request_context(), db.transaction() as s:
        s.get(BoothBooking, booking_id).payment_due_at = now - timedelta(minutes=1)
        assert [b.id for b in booth_services.lapse_unpaid_reservations(s, now)] == [booking_id]
    return payment


def booking_of(db, payment: Payment) -> BoothBooking:
    with db.session_factory() as s:
        return s.get(BoothBooking, payment.booth_booking_id)


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
