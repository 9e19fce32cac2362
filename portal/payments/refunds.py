"""Refunds an organiser gives from a ticket order's or a booth booking's payment: through Stripe's refund API for
card payments, recorded by hand for everything else (the organisers send a bank transfer back themselves).

Seats: a full refund refunds the order, which cancels its tickets and offers the seats to the waiting list
(orders.mark_refunded). A partial refund (a discount given afterwards, one attendee who cannot come) keeps every
ticket valid; an organiser who wants seats back cancels tickets as a separate decision. Booths likewise: once
nothing is left to refund of a booking's payments its booking is cancelled and the booth freed
(booths.services.cancel_booking); a partial refund keeps the booth.

Money owed back that an organiser accepted from the review queue (an overpayment, reconciliation.accept_line) is a
refund pending until they record with confirm_sent that they sent it.

A refund request carries a token made when the form was shown; it goes through the payment event log like a
provider's notification, so a double click (or a resubmitted form) refunds once. A Stripe refund is asked for with
an idempotency key of our refund row, and carries that row's id in its metadata: the `charge.refunded` webhook that
follows finds the refund it reports among ours instead of counting it again (stripe_checkout._charge_refunded).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import stripe
from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.audit.services import record
from portal.booths import services as booth_services
from portal.booths.models import BoothBooking
from portal.errors import Conflict, DomainError, NotFound
from portal.events.models import Event, Order
from portal.i18n import format_vnd, localized
from portal.notifications.services import absolute_url, queue_mail
from portal.payments import services
from portal.payments.models import COLLECTED_STATUSES, Payment, PaymentStatus, Refund, RefundStatus
from portal.payments.services import Outcome

log = logging.getLogger(__name__)

#: the payment event log's provider for refund requests made in the portal
REQUEST_PROVIDER = "portal_refund"
#: Stripe's refund statuses that mean the money is on its way back
STRIPE_ACCEPTED = ("succeeded", "pending")


class RefundTooLarge(DomainError):
    default_message = _l("This refund is larger than what is left to refund.")


class NotRefundable(DomainError):
    status_code = 409
    default_message = _l("Only a payment whose money arrived can be refunded.")


class RefundUnavailable(DomainError):
    status_code = 503
    default_message = _l("Stripe could not make the refund just now; nothing was refunded. Please try again later.")


@dataclass(frozen=True)
class StripeRefund:
    id: str
    status: str


def create_stripe_refund(api_key: str, params: dict, idempotency_key: str) -> StripeRefund:
    """The one call to Stripe that gives card money back (tests replace it: they have no network). Stripe answers a
    repeated idempotency key with the refund it made the first time."""
    client = stripe.StripeClient(api_key, max_network_retries=2)
    refund = client.v1.refunds.create(params=params, options={"idempotency_key": idempotency_key})
    return StripeRefund(refund.id, refund.status)


def _received_in_review(payment: Payment) -> bool:
    """Money arrived on a payment that could not be settled by it (part of the amount, or more, still pending)."""
    return payment.status is PaymentStatus.PENDING and payment.amount_received > 0


def refundable(payment: Payment) -> int:
    """What may still be refunded: received, minus refunded, minus refunds in progress (at Stripe, or owed back and
    not yet sent)."""
    if payment.status not in COLLECTED_STATUSES and not _received_in_review(payment):
        return 0
    pending = sum(refund.amount for refund in payment.refunds if refund.status is RefundStatus.PENDING)
    return max(payment.amount_kept - pending, 0)


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
    return next((payment for payment in payments if refundable(payment)), None)


def refund(session: Session, organiser: User, event: Event, payment_id: int, *, amount: int, reason: str,
           request_token: str, now: datetime) -> Outcome:
    """Gives `amount` of the payment back, in the request's transaction; commits between asking Stripe and noting
    its answer, so no lock is held while Stripe answers. DUPLICATE when this request token was handled before."""
    event_payment(session, event, payment_id)
    created: list[Refund] = []

    def start(payment: Payment) -> Outcome:
        left = refundable(payment)
        if not left and payment.status not in COLLECTED_STATUSES:
            raise NotRefundable()
        if amount <= 0 or amount > left:
            raise RefundTooLarge(_l("You can refund at most %(left)s of this payment.", left=format_vnd(left)))
        if _received_in_review(payment):
            # money that settled nothing (a part, an excess, a late transfer) is given back: it did arrive
            services.count_as_received(payment, now)
        card = payment.provider == "stripe"
        refund_row = Refund(amount=amount, reason=reason.strip(), created_by_id=organiser.id, created_at=now,
                            status=RefundStatus.PENDING if card else RefundStatus.SUCCEEDED)
        payment.refunds.append(refund_row)
        session.flush()
        created.append(refund_row)
        record(session, "payment.refund_requested", actor_id=organiser.id, object_type="payment",
               object_id=payment.id, amount=amount, reason=refund_row.reason, provider=payment.provider)
        if card:
            outcome = Outcome.WAITING
        else:
            outcome = services.record_refunds(session, payment, refunded_total=payment.amount_refunded + amount,
                                              currency=payment.currency, refunds=[], now=now)
            _tell_buyer(session, payment, refund_row)
        return outcome

    outcome = services.handle_notification(
        session, provider=REQUEST_PROVIDER, external_id=f"{payment_id}:{request_token}", event_type="refund.requested",
        payment_id=payment_id, act=start, now=now)
    if outcome is Outcome.WAITING:
        outcome = _through_stripe(session, created[0].id, now)
    if created and outcome is not Outcome.FAILED:
        # after Stripe accepted a card refund: one it refused (or could not reach) frees nothing
        _free_booth(session, organiser, event, session.get(Payment, payment_id), created[0].reason, now)
    return outcome


def _free_booth(session: Session, organiser: User, event: Event, payment: Payment, reason: str,
                now: datetime) -> None:
    """The booth policy: a booking with nothing left to refund on any of its payments is cancelled, which frees
    its booth and tells the exhibitor; one still holding money keeps its booth."""
    if payment.booth_booking_id is None:
        return
    booking = booth_services.locked_booking(session, payment.booth_booking_id, event=event)
    others = session.scalars(select(Payment).where(Payment.booth_booking_id == booking.id,
                                                   Payment.id != payment.id)).all()
    if booking.is_active and refundable(payment) == 0 and not any(refundable(other) for other in others):
        booth_services.cancel_booking(session, organiser, event, booking.id, message=reason, now=now)


class AlreadySent(Conflict):
    default_message = _l("This refund had already been recorded as sent.")


def confirm_sent(session: Session, organiser: User, event: Event, refund_id: int, now: datetime) -> Refund:
    """The organisers sent back money owed to a payer (a refund pending on a payment that is not by card): it is
    recorded as refunded and the payer is told. A second click finds it done (AlreadySent)."""
    refund_row = session.get(Refund, refund_id)
    if refund_row is None:
        raise NotFound()
    payment = services.locked_payment(session, refund_row.payment_id)
    if payment.paid_for.event_id != event.id or payment.provider == "stripe":
        raise NotFound()
    session.refresh(refund_row)
    if refund_row.status is not RefundStatus.PENDING:
        raise AlreadySent()
    refund_row.status = RefundStatus.SUCCEEDED
    services.record_refunds(session, payment, refunded_total=payment.amount_refunded + refund_row.amount,
                            currency=payment.currency, refunds=[], now=now)
    record(session, "payment.refund_sent", actor_id=organiser.id, object_type="payment", object_id=payment.id,
           refund_id=refund_row.id, amount=refund_row.amount)
    _tell_buyer(session, payment, refund_row)
    return refund_row


def _through_stripe(session: Session, refund_id: int, now: datetime) -> Outcome:
    refund_row = session.get(Refund, refund_id)
    params = {"payment_intent": refund_row.payment.provider_payment_id, "amount": refund_row.amount,
              "reason": "requested_by_customer", "metadata": {"refund_id": str(refund_row.id)}}
    session.commit()
    try:
        answer = create_stripe_refund(current_app.config["STRIPE_SECRET_KEY"], params,
                                      idempotency_key=f"portal-refund-{refund_id}")
    except stripe.StripeError as error:
        log.warning("Stripe refused refund %s: %s", refund_id, error)
        _give_up(session, refund_id)
        raise RefundUnavailable() from error
    payment = services.locked_payment(session, refund_row.payment_id)
    refund_row = session.get(Refund, refund_id)
    refund_row.provider_refund_id = refund_row.provider_refund_id or answer.id
    if answer.status not in STRIPE_ACCEPTED:
        refund_row.status = RefundStatus.FAILED
        return Outcome.FAILED
    _tell_buyer(session, payment, refund_row)
    if answer.status == "succeeded" and refund_row.status is RefundStatus.PENDING:
        # the webhook may have come first: then it confirmed this refund and counted its money already
        refund_row.status = RefundStatus.SUCCEEDED
        return services.record_refunds(session, payment, refunded_total=payment.amount_refunded + refund_row.amount,
                                       currency=payment.currency, refunds=[], now=now)
    return Outcome.REFUNDED if refund_row.status is RefundStatus.SUCCEEDED else Outcome.WAITING


def _give_up(session: Session, refund_id: int) -> None:
    refund_row = session.get(Refund, refund_id)
    services.locked_payment(session, refund_row.payment_id)
    refund_row.status = RefundStatus.FAILED
    session.commit()


def _tell_buyer(session: Session, payment: Payment, refund_row: Refund) -> None:
    """The buyer's (or exhibitor's) mail about a refund, once per refund."""
    common = {"key": f"refund:{refund_row.id}", "amount": refund_row.amount, "reason": refund_row.reason,
              "fully": payment.amount_kept <= 0, "card": payment.provider == "stripe"}
    order = payment.order
    if order is None:
        booking = payment.booth_booking
        exhibitor = booking.exhibitor
        with force_locale(exhibitor.locale):
            name = localized(booking.event, "name")
        queue_mail(session, to=exhibitor.email, locale=exhibitor.locale, template="booth_refunded",
                   subject=_l("Refund for your booth at %(event)s", event=name), booking=booking,
                   exhibitor=exhibitor, event_name=name, link=booth_services.booking_link(booking), **common)
        return
    with force_locale(order.locale):
        name = localized(order.event, "name")
    queue_mail(session, to=order.buyer.email, locale=order.locale,
               template="order_refunded", subject=_l("Refund for your order %(code)s", code=order.code),
               order=order, event_name=name, receipt_link=absolute_url("receipts.buyer_receipt", code=order.code),
               **common)
