"""A reminder to pay before an unpaid order expires (the payments of expired orders are closed by payments.expiry)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from portal.events.models import Order, OrderStatus
from portal.i18n import localized
from portal.notifications.models import OutboxMessage
from portal.notifications.services import absolute_url, queue_mail

#: the reminder goes out once this share of an order's time to pay is left: a quarter of 3 days is 18 hours, enough
#: for a company's accountant to make a transfer, and a quarter of 30 minutes still leaves a card payer 7 minutes
REMINDER_SHARE_LEFT = 0.25


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
