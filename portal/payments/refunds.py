"""Refunds an organiser gives from a ticket order's payment: through Stripe's refund API for card payments, recorded
by hand for everything else (the organisers send a bank transfer back themselves).

Seats: a full refund refunds the order, which cancels its tickets and offers the seats to the waiting list
(orders.mark_refunded). A partial refund (a discount given afterwards, one attendee who cannot come) keeps every
ticket valid; an organiser who wants seats back cancels tickets as a separate decision.

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
from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.audit.services import record
from portal.errors import DomainError, NotFound
from portal.events.models import Event
from portal.i18n import format_vnd, localized
from portal.notifications.services import absolute_url, queue_mail
from portal.payments import services
from portal.payments.models import COLLECTED_STATUSES, Payment, Refund, RefundStatus
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


def refundable(payment: Payment) -> int:
    """What may still be refunded: received, minus refunded, minus refunds Stripe is still working on."""
    if payment.status not in COLLECTED_STATUSES:
        return 0
    pending = sum(refund.amount for refund in payment.refunds if refund.status is RefundStatus.PENDING)
    return max(payment.amount_kept - pending, 0)


def event_payment(session: Session, event: Event, payment_id: int) -> Payment:
    """A ticket order's payment of `event`; NotFound for any other."""
    payment = session.get(Payment, payment_id)
    if payment is None or payment.order is None or payment.order.event_id != event.id:
        raise NotFound()
    return payment


def refund(session: Session, organiser: User, event: Event, payment_id: int, *, amount: int, reason: str,
           request_token: str, now: datetime) -> Outcome:
    """Gives `amount` of the payment back, in the request's transaction; commits between asking Stripe and noting
    its answer, so no lock is held while Stripe answers. DUPLICATE when this request token was handled before."""
    event_payment(session, event, payment_id)
    created: list[Refund] = []

    def start(payment: Payment) -> Outcome:
        if payment.status not in COLLECTED_STATUSES:
            raise NotRefundable()
        left = refundable(payment)
        if amount <= 0 or amount > left:
            raise RefundTooLarge(_l("You can refund at most %(left)s of this payment.", left=format_vnd(left)))
        card = payment.provider == "stripe"
        refund_row = Refund(amount=amount, reason=reason.strip(), created_by_id=organiser.id, created_at=now,
                            status=RefundStatus.PENDING if card else RefundStatus.SUCCEEDED)
        payment.refunds.append(refund_row)
        session.flush()
        created.append(refund_row)
        record(session, "payment.refund_requested", actor_id=organiser.id, object_type="payment",
               object_id=payment.id, amount=amount, reason=refund_row.reason, provider=payment.provider)
        if card:
            return Outcome.WAITING
        outcome = services.record_refunds(session, payment, refunded_total=payment.amount_refunded + amount,
                                          currency=payment.currency, refunds=[], now=now)
        _tell_buyer(session, payment, refund_row)
        return outcome

    outcome = services.handle_notification(
        session, provider=REQUEST_PROVIDER, external_id=f"{payment_id}:{request_token}", event_type="refund.requested",
        payment_id=payment_id, act=start, now=now)
    if outcome is Outcome.WAITING:
        return _through_stripe(session, created[0].id, now)
    return outcome


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
    order = payment.order
    with force_locale(order.locale):
        name = localized(order.event, "name")
    queue_mail(session, key=f"refund:{refund_row.id}", to=order.buyer.email, locale=order.locale,
               template="order_refunded", subject=_l("Refund for your order %(code)s", code=order.code),
               order=order, event_name=name, amount=refund_row.amount, reason=refund_row.reason,
               fully=payment.amount_kept <= 0, card=payment.provider == "stripe",
               receipt_link=absolute_url("receipts.buyer_receipt", code=order.code))
