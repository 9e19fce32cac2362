"""An event's money for its organisers: ticket order payments by method and state, refunds, what waits for review,
and the check that the payments add up to the orders they paid. Every figure comes from a fixed number of
aggregate queries, however many orders the event has.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, joinedload

from portal.accounts.models import User
from portal.audit.services import record
from portal.db import utcnow
from portal.errors import NotFound
from portal.events.exports import AttendeeTable, to_csv, to_xlsx
from portal.events.models import Event, Order, OrderStatus
from portal.events.reports import hanoi_time
from portal.payments.models import COLLECTED_STATUSES, Payment, PaymentStatus, Refund, RefundStatus
from portal.payments.providers import PROVIDERS

PAYMENTS_PER_PAGE = 50
RECENT_REFUNDS = 50
#: orders whose money was taken: refunded ones too, their payments still show what came in and went back
SETTLED_ORDER_STATUSES = (OrderStatus.PAID, OrderStatus.REFUNDED)

PAYMENT_STATUS_LABELS = {
    PaymentStatus.PENDING: _l("Waiting for the money"),
    PaymentStatus.SUCCEEDED: _l("Paid"),
    PaymentStatus.FAILED: _l("Failed"),
    PaymentStatus.EXPIRED: _l("Expired"),
    PaymentStatus.REFUNDED: _l("Refunded"),
    PaymentStatus.PARTIALLY_REFUNDED: _l("Partly refunded"),
}
REFUND_STATUS_LABELS = {
    RefundStatus.PENDING: _l("In progress"),
    RefundStatus.SUCCEEDED: _l("Refunded"),
    RefundStatus.FAILED: _l("Failed"),
}


def provider_label(key: str) -> str:
    provider = PROVIDERS.get(key)
    return str(provider.label) if provider else key


@dataclass(frozen=True)
class MethodLine:
    """Payments through one provider in one state."""

    provider: str
    status: PaymentStatus
    count: int
    asked: int
    received: int
    refunded: int


@dataclass(frozen=True)
class ProviderTotal:
    provider: str
    received: int
    refunded: int

    @property
    def net(self) -> int:
        return self.received - self.refunded


@dataclass(frozen=True)
class FinanceSummary:
    lines: list[MethodLine]
    #: what arrived through providers, before refunds
    received: int
    refunded: int
    #: the totals of the orders those payments confirmed
    orders_paid: int
    #: paid orders with no payment recorded: marked paid by hand by an organiser
    paid_by_hand: int
    paid_by_hand_count: int
    #: payments waiting for an organiser's decision (reconciliation's review queue)
    in_review: int

    @property
    def net(self) -> int:
        return self.received - self.refunded

    @property
    def difference(self) -> int:
        """Money received beyond (or short of) the orders it paid: nonzero only while payments wait for review."""
        return self.received - self.orders_paid

    @property
    def by_provider(self) -> list[ProviderTotal]:
        totals: dict[str, tuple[int, int]] = {}
        for line in self.lines:
            received, refunded = totals.get(line.provider, (0, 0))
            totals[line.provider] = (received + line.received, refunded + line.refunded)
        return [ProviderTotal(key, received, refunded) for key, (received, refunded) in sorted(totals.items())
                if received]


def _event_payments(event: Event):
    return select(Payment).join(Payment.order).where(Order.event_id == event.id)


def summary(session: Session, event: Event) -> FinanceSummary:
    rows = session.execute(
        select(Payment.provider, Payment.status, func.count(Payment.id), func.coalesce(func.sum(Payment.amount), 0),
               func.coalesce(func.sum(Payment.amount_received), 0), func.coalesce(func.sum(Payment.amount_refunded), 0))
        .join(Payment.order).where(Order.event_id == event.id)
        .group_by(Payment.provider, Payment.status).order_by(Payment.provider, Payment.status)
    ).all()
    lines = [MethodLine(provider, PaymentStatus(status), count, asked, received, refunded)
             for provider, status, count, asked, received, refunded in rows]
    collected = [line for line in lines if line.status in COLLECTED_STATUSES]
    has_collected_payment = exists().where(Payment.order_id == Order.id, Payment.status.in_(COLLECTED_STATUSES))
    settled = select(func.coalesce(func.sum(Order.total), 0), func.count(Order.id)).where(
        Order.event_id == event.id, Order.status.in_(SETTLED_ORDER_STATUSES), Order.total > 0)
    orders_paid = session.execute(settled.where(has_collected_payment)).one()[0]
    by_hand, by_hand_count = session.execute(settled.where(~has_collected_payment)).one()
    in_review = session.scalar(select(func.count(Payment.id)).join(Payment.order)
                               .where(Order.event_id == event.id, Payment.review_reason.is_not(None)))
    return FinanceSummary(lines=lines, received=sum(line.received for line in collected),
                          refunded=sum(line.refunded for line in collected), orders_paid=orders_paid,
                          paid_by_hand=by_hand, paid_by_hand_count=by_hand_count, in_review=in_review)


def payment_page(session: Session, event: Event, page: int) -> tuple[list[Payment], int]:
    """The event's payments, newest first, with their orders, buyers and refunds loaded."""
    total = session.scalar(select(func.count(Payment.id)).join(Payment.order).where(Order.event_id == event.id))
    payments = session.scalars(
        _event_payments(event).options(joinedload(Payment.order).joinedload(Order.buyer),
                                       joinedload(Payment.refunds))
        .order_by(Payment.created_at.desc(), Payment.id.desc())
        .limit(PAYMENTS_PER_PAGE).offset((page - 1) * PAYMENTS_PER_PAGE)
    ).unique().all()
    return list(payments), total


def recent_refunds(session: Session, event: Event) -> list[Refund]:
    return list(session.scalars(
        select(Refund).join(Refund.payment).join(Payment.order).where(Order.event_id == event.id)
        .options(joinedload(Refund.payment).joinedload(Payment.order), joinedload(Refund.created_by))
        .order_by(Refund.created_at.desc(), Refund.id.desc()).limit(RECENT_REFUNDS)
    ))


# --- export ---------------------------------------------------------------------------------

def payment_table(payments: list[Payment]) -> AttendeeTable:
    headers = [_("Payment"), _("Order code"), _("Buyer"), _("E-mail"), _("Method"), _("Status"),
               _("Amount asked (VND)"), _("Received (VND)"), _("Refunded (VND)"), _("Kept (VND)"),
               _("Transfer reference"), _("Provider reference"), _("Created at (Hanoi time)"),
               _("Paid at (Hanoi time)"), _("Waiting for review")]
    rows = [
        [payment.id, payment.order.code, payment.order.buyer.full_name, payment.order.buyer.email,
         provider_label(payment.provider), str(PAYMENT_STATUS_LABELS[payment.status]), payment.amount,
         payment.amount_received, payment.amount_refunded, payment.amount_kept, payment.transfer_reference or "",
         payment.provider_payment_id or payment.provider_reference or "", _local(payment.created_at),
         _local(payment.succeeded_at), payment.review_note if payment.review_reason else ""]
        for payment in payments
    ]
    return AttendeeTable(headers, rows)


def _local(moment: datetime | None) -> datetime | None:
    return hanoi_time(moment).replace(tzinfo=None) if moment else None


@dataclass(frozen=True)
class PaymentsFile:
    filename: str
    mimetype: str
    content: bytes


EXPORT_FORMATS = {
    "csv": ("text/csv; charset=utf-8", to_csv),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             lambda table: to_xlsx(table, _("Payments"))),
}


def export_payments(session: Session, actor: User, event: Event, file_format: str, *, ip_address: str | None = None,
                    now: datetime | None = None) -> PaymentsFile:
    """Every payment of the event for the accounting system, with an audit entry saying who took it."""
    if file_format not in EXPORT_FORMATS:
        raise NotFound()
    mimetype, render = EXPORT_FORMATS[file_format]
    payments = list(session.scalars(
        _event_payments(event).options(joinedload(Payment.order).joinedload(Order.buyer))
        .order_by(Payment.created_at, Payment.id)
    ))
    record(session, "event.payments_exported", actor_id=actor.id, object_type="event", object_id=event.id,
           ip_address=ip_address, format=file_format, rows=len(payments))
    filename = f"{event.slug}-payments-{hanoi_time(now or utcnow()):%Y-%m-%d}.{file_format}"
    return PaymentsFile(filename, mimetype, render(payment_table(payments)))
