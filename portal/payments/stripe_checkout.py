"""Card payments through Stripe Checkout: the buyer pays on Stripe's page; the money is confirmed by Stripe's signed
webhook, never by the buyer coming back (PRODUCT.md §5).

VND is a zero-decimal currency at Stripe: 250000 means 250.000 ₫, the same integer the portal stores.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import stripe
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.errors import DomainError
from portal.json_body import MalformedBody, Text, json_object
from portal.notifications.services import absolute_url
from portal.payments import services
from portal.payments.models import Payment
from portal.payments.payables import Payable
from portal.payments.providers import STRIPE
from portal.payments.services import Outcome

log = logging.getLogger(__name__)

PROVIDER = STRIPE.key
#: Stripe keeps a Checkout Session open between 30 minutes and 24 hours; ours end with the order's time to pay,
#: within these bounds (the lower one leaves room to hand the same session out again, see EXPIRY_MARGIN)
SESSION_LIFETIME_MIN = timedelta(hours=1)
SESSION_LIFETIME_MAX = timedelta(hours=23)
#: Stripe's payment_status values that mean the money is there
PAID_STATUSES = ("paid", "no_payment_required")


class CardPaymentUnavailable(DomainError):
    status_code = 503
    default_message = _l("Card payment could not be started just now. Please try again in a few minutes.")


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str
    expires_at: datetime


def create_checkout_session(api_key: str, params: dict, idempotency_key: str) -> CheckoutSession:
    """The one call to Stripe that starts a payment (tests replace it: they have no network). Stripe answers a
    repeated idempotency key with the session it made the first time."""
    client = stripe.StripeClient(api_key, max_network_retries=2)
    session = client.v1.checkout.sessions.create(params=params, options={"idempotency_key": idempotency_key})
    return CheckoutSession(session.id, session.url, datetime.fromtimestamp(session.expires_at, UTC))


def expire_checkout_session(api_key: str, session_id: str) -> None:
    """Closes a Checkout Session the buyer left for another way to pay, so it can no longer take their card (tests
    replace it). One already completed or expired is refused by Stripe: nothing to do then."""
    client = stripe.StripeClient(api_key, max_network_retries=2)
    client.v1.checkout.sessions.expire(session_id)


def withdraw(session_id: str) -> None:
    """payments.services.change_method's hook for card payments, run after its commit: a failure is logged, not
    raised; the session still ends at its own expiry, and money paid through it meanwhile waits for review."""
    try:
        expire_checkout_session(current_app.config["STRIPE_SECRET_KEY"], session_id)
    except stripe.StripeError as error:
        log.warning("Stripe did not expire Checkout Session %s: %s", session_id, error)


def session_expiry(payable: Payable, now: datetime) -> datetime:
    latest = now + SESSION_LIFETIME_MAX
    return max(now + SESSION_LIFETIME_MIN, min(payable.pay_before or latest, latest))


def checkout_params(payment: Payment, payable: Payable) -> dict:
    """What Stripe is asked for. Made from the stored payment only, so two clicks send identical requests, as an
    idempotency key requires."""
    metadata = {"payment_id": str(payment.id), **payable.kind.metadata(payable.target)}
    return {
        "mode": "payment",
        "locale": "vi" if payable.locale == "vi" else "en",
        "customer_email": payable.buyer_email,
        "client_reference_id": str(payment.id),
        "line_items": [{
            "quantity": 1,
            "price_data": {"currency": payment.currency.lower(), "unit_amount": payment.amount,
                           "product_data": {"name": payable.description}},
        }],
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
        "success_url": absolute_url("payments.card_return", payment_id=payment.id),
        "cancel_url": payable.absolute_page_url,
        "expires_at": int(payment.expires_at.timestamp()),
    }


def start_checkout(session: Session, payable: Payable, now: datetime) -> str:
    """The Checkout page for `payable`: the open one if a click before made it, else a new one. Commits the
    payment before calling Stripe, so no lock is held while Stripe answers; two clicks at once send the same
    idempotency key and get the same session."""
    payment = services.open_payment(session, payable, PROVIDER, now)
    if payment.checkout_url:
        return payment.checkout_url
    if payment.expires_at is None:
        payment.expires_at = session_expiry(payable, now)
    payment_id, params = payment.id, checkout_params(payment, payable)
    session.commit()
    try:
        checkout = create_checkout_session(current_app.config["STRIPE_SECRET_KEY"], params,
                                           idempotency_key=f"checkout-session-{payment_id}")
    except stripe.StripeError as error:
        log.warning("Stripe refused a Checkout Session for payment %s: %s", payment_id, error)
        raise CardPaymentUnavailable() from error
    payment = services.locked_payment(session, payment_id)
    if payment.provider_reference is None:
        payment.provider_reference, payment.checkout_url = checkout.id, checkout.url
        payment.expires_at = checkout.expires_at
    return checkout.url


# --- the webhook ------------------------------------------------------------------------------

def verified_event(payload: bytes, signature: str | None, secret: str | None) -> dict:
    """The event in a webhook request, after checking its signature on the raw body and its age (at most five
    minutes, against replays), then its shape. Raises ValueError or stripe.SignatureVerificationError for the
    signature, MalformedBody for a signed body that is not an event the handlers can read."""
    stripe.WebhookSignature.verify_header(payload, signature, secret, stripe.Webhook.DEFAULT_TOLERANCE)
    # read as plain JSON: the library's event objects (construct_event) cost more CPU than handling the event
    try:
        event = json.loads(payload)
    except (ValueError, RecursionError) as error:
        raise MalformedBody(f"not JSON: {type(error).__name__}") from None
    return checked_event(event)


def checked_event(event: object) -> dict:
    """`event` if it has the shape the handlers rely on: an id, a type and data.object, and, for the types the
    portal acts on, the fields they read of the expected types (absent or null is fine: they make do without)."""
    json_object(event, {"id": Text(255), "type": Text(80), "data": dict})
    obj = json_object(event["data"], {"object": dict})["object"]
    if event["type"] in HANDLERS:
        json_object(obj, {}, SESSION_FIELDS if event["type"] != "charge.refunded" else CHARGE_FIELDS)
        for refund in json_object(obj.get("refunds") or {}, {}, {"data": list}).get("data") or []:
            json_object(refund, {"id": Text(255), "amount": int}, {"status": str, "metadata": dict})
    return event


def process_event(session: Session, event: dict, now: datetime) -> Outcome:
    """Acts on one verified event in the caller's transaction, which also logs its id: a repeat does nothing."""
    handler = HANDLERS.get(event["type"])
    obj = event["data"]["object"]
    payment_id = _payment_id(session, event["type"], obj) if handler else None

    def act(payment: Payment) -> Outcome:
        # the id our metadata claims is only checked here, under the payment's lock: one statement fewer per event
        return handler(session, payment, obj, now) if payment.provider == PROVIDER else Outcome.UNKNOWN_PAYMENT

    return services.handle_notification(
        session, provider=PROVIDER, external_id=event["id"], event_type=event["type"], payment_id=payment_id,
        act=act if handler else None, now=now,
    )


def _payment_id(session: Session, event_type: str, obj: dict) -> int | None:
    if event_type == "charge.refunded":
        return session.scalar(select(Payment.id).where(Payment.provider == PROVIDER,
                                                       Payment.provider_payment_id == obj.get("payment_intent")))
    # our metadata first; the session id in case the metadata was lost (a session made by hand in the dashboard)
    claimed = str((obj.get("metadata") or {}).get("payment_id", ""))
    if claimed.isdecimal():  # isdigit() would pass "²", which int() refuses
        return int(claimed)
    return session.scalar(select(Payment.id).where(Payment.provider == PROVIDER,
                                                   Payment.provider_reference == obj.get("id")))


def _note_session(payment: Payment, checkout: dict) -> None:
    payment.provider_reference = payment.provider_reference or checkout.get("id")
    payment.provider_payment_id = checkout.get("payment_intent") or payment.provider_payment_id


def _completed(session: Session, payment: Payment, checkout: dict, now: datetime) -> Outcome:
    _note_session(payment, checkout)
    if checkout.get("payment_status") not in PAID_STATUSES:
        return Outcome.WAITING  # a bank debit and the like: async_payment_succeeded or _failed follows
    return _async_succeeded(session, payment, checkout, now)


def _async_succeeded(session: Session, payment: Payment, checkout: dict, now: datetime) -> Outcome:
    _note_session(payment, checkout)
    return services.confirm_payment(session, payment, amount=int(checkout.get("amount_total") or 0),
                                    currency=checkout.get("currency") or "", now=now)


def _async_failed(session: Session, payment: Payment, checkout: dict, now: datetime) -> Outcome:
    return services.fail_payment(session, payment, now)


def _expired(session: Session, payment: Payment, checkout: dict, now: datetime) -> Outcome:
    return services.expire_payment(session, payment, now)


def _charge_refunded(session: Session, payment: Payment, charge: dict, now: datetime) -> Outcome:
    stripe_refunds = (charge.get("refunds") or {}).get("data", [])
    _name_portal_refunds(payment, stripe_refunds)
    listed = [(refund["id"], int(refund["amount"])) for refund in stripe_refunds
              if refund.get("status", "succeeded") == "succeeded"]
    return services.record_refunds(session, payment, refunded_total=int(charge.get("amount_refunded") or 0),
                                   currency=charge.get("currency") or "", refunds=listed, now=now)


def _name_portal_refunds(payment: Payment, stripe_refunds: list[dict]) -> None:
    """Notes Stripe's id on refunds started in the portal (refunds.py) that it reports before the portal heard
    Stripe's answer: their metadata names our row, so they are confirmed instead of counted a second time."""
    ours = {str(refund.id): refund for refund in payment.refunds if refund.provider_refund_id is None}
    for stripe_refund in stripe_refunds:
        portal_refund = ours.get(str((stripe_refund.get("metadata") or {}).get("refund_id", "")))
        if portal_refund is not None:
            portal_refund.provider_refund_id = stripe_refund["id"]


#: the fields of a Checkout Session and of a charge that the handlers read, and their types
SESSION_FIELDS = {"id": Text(255), "payment_status": str, "amount_total": int, "currency": str,
                  "payment_intent": Text(255), "metadata": dict}
CHARGE_FIELDS = {"payment_intent": Text(255), "amount_refunded": int, "currency": str, "refunds": dict}
HANDLERS: dict[str, Callable[[Session, Payment, dict, datetime], Outcome]] = {
    "checkout.session.completed": _completed,
    "checkout.session.async_payment_succeeded": _async_succeeded,
    "checkout.session.async_payment_failed": _async_failed,
    "checkout.session.expired": _expired,
    "charge.refunded": _charge_refunded,
}
