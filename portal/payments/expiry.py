"""Unpaid orders running out of time: a reminder to pay before an order expires, and pending payments closed once
their order or booth booking can no longer be paid.

The order itself expires elsewhere (events.orders.expire_pending_orders, booths' sweeps); this module only tells
the buyer in time and tidies the payments left behind, so a finance page never shows money as still expected for
an order that is gone. A transfer that arrives anyway is still matched by its reference and lands in the review
queue (reconciliation.py), because an expired payment may still succeed (services.TRANSITIONS).
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from portal.booths.models import BookingStatus, BoothBooking
from portal.events.models import Order, OrderStatus
from portal.i18n import localized
from portal.notifications.models import OutboxMessage
from portal.notifications.services import absolute_url, queue_mail
from portal.payments import services
from portal.payments.models import Payment, PaymentStatus

#: the reminder goes out once this share of an order's time to pay is left: a quarter of 3 days is 18 hours, enough
#: for a company's accountant to make a transfer, and a quarter of 30 minutes still leaves a card payer 7 minutes
REMINDER_SHARE_LEFT = 0.25
ORDERS_GONE = (OrderStatus.EXPIRED, OrderStatus.CANCELLED)
BOOKINGS_GONE = (BookingStatus.LAPSED, BookingStatus.RELEASED, BookingStatus.EXPIRED, BookingStatus.REJECTED)


def reminder_key(order: Order) -> str:
    return f"order-payment-reminder:{order.id}"


def reminder_due_at(order: Order) -> datetime:
    return order.expires_at - (order.expires_at - order.created_at) * REMINDER_SHARE_LEFT


def remind_unpaid_orders(session: Session, now: datetime) -> int:
    """Queues one reminder per unpaid order whose time to pay is running out (the outbox key makes a second run,
    or a crash between queueing and committing, send nothing twice); returns how many were queued now."""
    waiting = session.scalars(
        select(Order).where(Order.status == OrderStatus.PENDING, Order.total > 0, Order.expires_at > now)
        .options(joinedload(Order.buyer), joinedload(Order.event))
    ).all()
    due = [order for order in waiting if reminder_due_at(order) <= now]
    reminded = set(session.scalars(select(OutboxMessage.idempotency_key).where(
        OutboxMessage.idempotency_key.in_([reminder_key(order) for order in due]))))
    queued = 0
    for order in due:
        if reminder_key(order) in reminded:
            continue
        with force_locale(order.locale):
            event_name = localized(order.event, "name")
        queued += queue_mail(
            session, key=reminder_key(order), to=order.buyer.email, locale=order.locale,
            template="order_payment_reminder", subject=_l("Your order for %(event)s is waiting for payment",
                                                          event=event_name),
            order=order, event=order.event, link=absolute_url("events.order_detail", code=order.code),
        )
    return queued


def expire_abandoned_payments(session: Session, now: datetime) -> int:
    """Pending payments of orders and booth bookings that can no longer be paid become expired."""
    abandoned = session.scalars(
        select(Payment).outerjoin(Order, Payment.order_id == Order.id)
        .outerjoin(BoothBooking, Payment.booth_booking_id == BoothBooking.id)
        .where(Payment.status == PaymentStatus.PENDING,
               or_(Order.status.in_(ORDERS_GONE), BoothBooking.status.in_(BOOKINGS_GONE)))
        .with_for_update(of=Payment)
    ).all()
    for payment in abandoned:
        services.expire_payment(session, payment, now)
    return len(abandoned)
