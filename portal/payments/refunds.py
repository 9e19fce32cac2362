"""Refunds an organiser gives from a payment: through Stripe's refund API for card payments, recorded by hand for
everything else (the organisers send a bank transfer back themselves).

What a refund does to what was paid for is the payable kind's policy (payables.PayableKind): a full refund refunds
a ticket order, which cancels its tickets and offers the seats to the waiting list, and a partial one keeps every
ticket valid (events/payable.py); a booth booking is cancelled once nothing is left to refund of its payments
(booths/payable.py). Who may refund which payment (an event's organisers) is decided above payments
(portal/finance).

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
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.audit.services import record
from portal.errors import Conflict, DomainError, NotFound
from portal.i18n import format_vnd
from portal.payments import services
from portal.payments.models import COLLECTED_STATUSES, Payment, PaymentStatus, Refund, RefundStatus
from portal.payments.payables import kind_of
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


def refund(session: Session, organiser: User, payment_id: int, *, amount: int, reason: str, request_token: str,
           now: datetime) -> Outcome:
    """Gives `amount` of the payment back, in the request's transaction; commits between asking Stripe and noting
    its answer, so no lock is held while Stripe answers. DUPLICATE when this request token was handled before.
    The caller has checked that `organiser` may refund this payment."""
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
        card = payment.method.refunds_online
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
        # after Stripe accepted a card refund: one it refused (or could not reach) changes nothing
        payment = session.get(Payment, payment_id)
        kind_of(payment).refund_given(session, organiser, payment, created[0].reason, now)
    return outcome


class AlreadySent(Conflict):
    default_message = _l("This refund had already been recorded as sent.")


def confirm_sent(session: Session, organiser: User, refund_id: int, now: datetime) -> Refund:
    """The organisers sent back money owed to a payer (a refund pending on a payment that is not by card): it is
    recorded as refunded and the payer is told. A second click finds it done (AlreadySent). The caller has checked
    that `organiser` may refund this refund's payment."""
    refund_row = session.get(Refund, refund_id)
    if refund_row is None:
        raise NotFound()
    payment = services.locked_payment(session, refund_row.payment_id)
    if payment.method.refunds_online:
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
    kind_of(payment).tell_refund(session, payment, refund_row, key=f"refund:{refund_row.id}", amount=refund_row.amount,
                                 reason=refund_row.reason, fully=payment.amount_kept <= 0,
                                 card=payment.method.refunds_online)
