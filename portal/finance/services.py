"""An event's money for its organisers: ticket order and booth booking payments by method and state, refunds, what
waits for review, and the check that the payments add up to the orders and booth instalments they paid. Every figure
comes from a fixed number of aggregate queries, however many orders and bookings the event has.

Refunds from the finance page go through here: a payment is the event's when its order or booking is, and only then
does payments.refunds give its money back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, exists, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from portal.accounts.models import User
from portal.audit.services import record
from portal.booths.models import BoothBooking
from portal.booths.payable import BOOTH_BOOKING
from portal.db import utcnow
from portal.errors import NotFound
from portal.events.models import Event, Order, OrderStatus
from portal.events.payable import ORDER
from portal.exports import ExportFile, Table, check_format, export_file, spreadsheet_time
from portal.i18n import render_stored_message
from portal.payments import refunds
from portal.payments.models import COLLECTED_STATUSES, Payment, PaymentStatus, Refund, RefundStatus
from portal.payments.payables import kind_of
from portal.payments.providers import PROVIDERS, REFUNDED_BY_HAND
from portal.payments.services import Outcome

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
#: a pending refund of a payment that is not by card waits for the organisers to send the money
REFUND_TO_SEND = _l("To send back")
KIND_LABELS = {ORDER.key: _l("Tickets"), BOOTH_BOOKING.key: _l("Booths")}
#: what a booth payment paid for (instalment_of)
INSTALMENT_LABELS = {"deposit": _l("Deposit"), "balance": _l("Balance"), "full": _l("Full price")}


def provider_label(key: str) -> str:
    provider = PROVIDERS.get(key)
    return str(provider.label) if provider else key


@dataclass(frozen=True)
class MethodLine:
    """Payments for one kind of thing (payables.PayableKind.key) through one provider in one state."""

    kind: str
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
    #: what arrived through every provider (money an organiser recorded by hand included), before refunds
    received: int
    refunded: int
    #: the totals of the orders those payments confirmed
    orders_paid: int
    #: payments waiting for an organiser's decision (reconciliation's review queue)
    in_review: int
    #: the booth instalments those payments confirmed
    booths_paid: int = 0
    #: received beyond what payments asked, accepted by an organiser: owed back to the payers (or sent back already)
    overpaid: int = 0
    #: refunds owed to payers that the organisers have not sent yet
    to_send: int = 0
    #: received on payments that settled nothing (too late, paid twice) and went back whole to the payer
    returned: int = 0

    @property
    def net(self) -> int:
        return self.received - self.refunded

    @property
    def difference(self) -> int:
        """Money received beyond (or short of) what it paid and what is owed back: nonzero only while payments wait
        for review."""
        return self.received - self.orders_paid - self.booths_paid - self.overpaid - self.returned

    @property
    def by_provider(self) -> list[ProviderTotal]:
        totals: dict[str, tuple[int, int]] = {}
        for line in self.lines:
            received, refunded = totals.get(line.provider, (0, 0))
            totals[line.provider] = (received + line.received, refunded + line.refunded)
        return [ProviderTotal(key, received, refunded) for key, (received, refunded) in sorted(totals.items())
                if received]


def _of_event(query, event: Event):
    """`query` about payments narrowed to the event's: its ticket orders' and its booth bookings'."""
    return (query.outerjoin(Order, Payment.order_id == Order.id)
            .outerjoin(BoothBooking, Payment.booth_booking_id == BoothBooking.id)
            .where(or_(Order.event_id == event.id, BoothBooking.event_id == event.id)))


def _event_payments(event: Event):
    return _of_event(select(Payment), event)


_KIND = case((Payment.order_id.is_not(None), ORDER.key), else_=BOOTH_BOOKING.key)
_SETTLED = Payment.status.in_(COLLECTED_STATUSES) & Payment.review_reason.is_(None)


def _total(column):
    return func.coalesce(func.sum(column), 0)


def summary(session: Session, event: Event) -> FinanceSummary:
    rows = session.execute(_of_event(
        select(_KIND, Payment.provider, Payment.status, func.count(Payment.id), _total(Payment.amount),
               _total(Payment.amount_received), _total(Payment.amount_refunded)), event)
        .group_by(_KIND, Payment.provider, Payment.status).order_by(_KIND.desc(), Payment.provider, Payment.status)
    ).all()
    lines = [MethodLine(kind, provider, PaymentStatus(status), count, asked, received, refunded)
             for kind, provider, status, count, asked, received, refunded in rows]
    collected = [line for line in lines if line.status in COLLECTED_STATUSES]
    has_collected_payment = exists().where(Payment.order_id == Order.id, Payment.status.in_(COLLECTED_STATUSES))
    settled = select(_total(Order.total)).where(
        Order.event_id == event.id, Order.status.in_(SETTLED_ORDER_STATUSES), Order.total > 0)
    orders_paid = session.scalar(settled.where(has_collected_payment))
    flagged = Payment.review_reason.is_not(None)
    returned = flagged & (Payment.status == PaymentStatus.REFUNDED)
    in_review, booths_paid, overpaid, given_back = session.execute(_of_event(select(
        func.count(case((flagged & ~returned, Payment.id))),
        _total(case((_SETTLED & Payment.booth_booking_id.is_not(None), Payment.amount), else_=0)),
        _total(case((_SETTLED & (Payment.amount_received > Payment.amount),
                     Payment.amount_received - Payment.amount), else_=0)),
        _total(case((returned, Payment.amount_received), else_=0))), event)).one()
    to_send = session.scalar(_of_event(select(_total(Refund.amount)).select_from(Refund).join(Refund.payment), event)
                             .where(Refund.status == RefundStatus.PENDING, Payment.provider.in_(REFUNDED_BY_HAND)))
    return FinanceSummary(lines=lines, received=sum(line.received for line in collected),
                          refunded=sum(line.refunded for line in collected), orders_paid=orders_paid,
                          in_review=in_review, booths_paid=booths_paid, overpaid=overpaid, returned=given_back,
                          to_send=to_send)


def _loaded(query):
    """Payments with what their rows show: the order and its buyer, or the booking, its booth and exhibitor."""
    return query.options(joinedload(Payment.order).joinedload(Order.buyer),
                         joinedload(Payment.booth_booking).joinedload(BoothBooking.booth),
                         joinedload(Payment.booth_booking).joinedload(BoothBooking.exhibitor),
                         selectinload(Payment.refunds))


def payment_page(session: Session, event: Event, page: int) -> tuple[list[Payment], int]:
    """The event's payments, newest first, with their orders or bookings, buyers and refunds loaded."""
    total = session.scalar(_of_event(select(func.count(Payment.id)), event))
    payments = session.scalars(
        _loaded(_event_payments(event)).order_by(Payment.created_at.desc(), Payment.id.desc())
        .limit(PAYMENTS_PER_PAGE).offset((page - 1) * PAYMENTS_PER_PAGE)
    ).unique().all()
    return list(payments), total


def recent_refunds(session: Session, event: Event) -> list[Refund]:
    return list(session.scalars(
        _of_event(select(Refund).join(Refund.payment), event)
        .options(joinedload(Refund.payment).joinedload(Payment.order),
                 joinedload(Refund.payment).joinedload(Payment.booth_booking).joinedload(BoothBooking.booth),
                 joinedload(Refund.created_by))
        .order_by(Refund.created_at.desc(), Refund.id.desc()).limit(RECENT_REFUNDS)
    ))


def to_send(refund: Refund) -> bool:
    """Owed back and not sent yet: the organisers send it themselves (not a card payment's refund at Stripe)."""
    return refund.status is RefundStatus.PENDING and not refund.payment.method.refunds_online


def instalments(session: Session, payments: list[Payment]) -> dict[int, str]:
    """What each booth payment paid for, a key of INSTALMENT_LABELS: the deposit until the booking's settled
    payments before it reached it, the balance after; the full price when the booking asked for no deposit."""
    booking_ids = {payment.booth_booking_id for payment in payments if payment.booth_booking_id}
    if not booking_ids:
        return {}
    earlier = session.execute(select(Payment.booth_booking_id, Payment.id, Payment.amount).where(
        Payment.booth_booking_id.in_(booking_ids), _SETTLED).order_by(Payment.id)).all()
    found = {}
    for payment in payments:
        booking = payment.booth_booking
        if booking is None:
            continue
        if booking.deposit_due >= booking.amount_due:
            found[payment.id] = "full"
            continue
        before = sum(amount for booking_id, payment_id, amount in earlier
                     if booking_id == booking.id and payment_id < payment.id)
        found[payment.id] = "deposit" if before < booking.deposit_due else "balance"
    return found


def paid_for_label(payment: Payment, instalment: str | None = None) -> str:
    """What a payment paid for, as its rows name it: the order code, or the booth and instalment."""
    if payment.order is not None:
        return payment.order.code
    label = _("Booth %(number)s", number=payment.booth_booking.booth.number)
    return f"{label} ({INSTALMENT_LABELS[instalment]})" if instalment else label


def payer(payment: Payment) -> User:
    return payment.order.buyer if payment.order is not None else payment.booth_booking.exhibitor


# --- export ---------------------------------------------------------------------------------

def payment_table(payments: list[Payment], instalment_of: dict[int, str]) -> Table:
    headers = [_("Payment"), _("Paid for"), _("Buyer"), _("E-mail"), _("Method"), _("Status"),
               _("Amount asked (VND)"), _("Received (VND)"), _("Refunded (VND)"), _("Kept (VND)"),
               _("Transfer reference"), _("Provider reference"), _("Created at (Hanoi time)"),
               _("Paid at (Hanoi time)"), _("Waiting for review"), _("For"), _("Instalment")]
    rows = [
        [payment.id, paid_for_label(payment), payer(payment).full_name, payer(payment).email,
         provider_label(payment.provider), str(PAYMENT_STATUS_LABELS[payment.status]), payment.amount,
         payment.amount_received, payment.amount_refunded, payment.amount_kept, payment.transfer_reference or "",
         payment.provider_payment_id or payment.provider_reference or "", spreadsheet_time(payment.created_at),
         spreadsheet_time(payment.succeeded_at),
         render_stored_message(payment.review_message) if payment.review_reason else "",
         str(KIND_LABELS[kind_of(payment).key]),
         str(INSTALMENT_LABELS[instalment_of[payment.id]]) if payment.id in instalment_of else ""]
        for payment in payments
    ]
    return Table(headers, rows)


def export_payments(session: Session, actor: User, event: Event, file_format: str, *, ip_address: str | None = None,
                    now: datetime | None = None) -> ExportFile:
    """Every payment of the event for the accounting system, with an audit entry saying who took it."""
    check_format(file_format)
    payments = list(session.scalars(_loaded(_event_payments(event)).order_by(Payment.created_at, Payment.id))
                    .unique())
    record(session, "event.payments_exported", actor_id=actor.id, object_type="event", object_id=event.id,
           ip_address=ip_address, format=file_format, rows=len(payments))
    return export_file(payment_table(payments, instalments(session, payments)), file_format,
                       name=f"{event.slug}-payments", sheet_title=_("Payments"), now=now or utcnow())


# --- refunds of the event's payments --------------------------------------------------------

def event_payment(session: Session, event: Event, payment_id: int) -> Payment:
    """A payment of `event`, for a ticket order or a booth booking; NotFound for any other."""
    payment = session.get(Payment, payment_id)
    if payment is None or payment.paid_for.event_id != event.id:
        raise NotFound()
    return payment


def payment_to_refund(session: Session, event: Event, *, order_id: int | None = None,
                      booking_id: int | None = None) -> Payment | None:
    """The latest payment of an order or a booth booking of `event` that has money left to refund, if any;
    NotFound when the order or booking is not the event's."""
    target = session.get(Order, order_id) if order_id is not None else session.get(BoothBooking, booking_id)
    if target is None or target.event_id != event.id:
        raise NotFound()
    link = Payment.order_id == order_id if order_id is not None else Payment.booth_booking_id == booking_id
    payments = session.scalars(select(Payment).where(link).order_by(Payment.id.desc())).all()
    return next((payment for payment in payments if refunds.refundable(payment)), None)


def refund(session: Session, organiser: User, event: Event, payment_id: int, *, amount: int, reason: str,
           request_token: str, now: datetime) -> Outcome:
    """payments.refunds.refund, for a payment of the event only."""
    event_payment(session, event, payment_id)
    return refunds.refund(session, organiser, payment_id, amount=amount, reason=reason, request_token=request_token,
                          now=now)


def confirm_sent(session: Session, organiser: User, event: Event, refund_id: int, now: datetime) -> Refund:
    """payments.refunds.confirm_sent, for a refund of a payment of the event only."""
    refund_row = session.get(Refund, refund_id)
    if refund_row is None:
        raise NotFound()
    event_payment(session, event, refund_row.payment_id)
    return refunds.confirm_sent(session, organiser, refund_id, now)
