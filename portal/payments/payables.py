"""What a payment pays for: a ticket order or a booth booking, seen through one interface.

A `PayableKind` knows how to describe its rows as a `Payable` (the amount due now, who pays, in which language,
until when), how to lock one for the fulfilment, and what to call when the money arrived or went back. Payments,
providers and their pages work on Payables only, so booth bookings are paid the way ticket orders are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import url_for
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from portal.accounts.models import User
from portal.booths import services as booth_services
from portal.booths.models import BoothBooking
from portal.errors import NotFound
from portal.events import orders
from portal.events.models import Order
from portal.i18n import localized
from portal.notifications.services import absolute_url
from portal.payments.models import Payment
from portal.payments.providers import MANUAL

CURRENCY = "VND"


@dataclass(frozen=True)
class Payable:
    kind: PayableKind
    #: the order or the booking
    target: Order | BoothBooking
    buyer_id: int
    #: the provider the buyer chose (a key of providers.PROVIDERS)
    provider_key: str
    #: what to pay now, in đồng (a booking's next instalment)
    amount_due: int
    #: what the buyer paid for, in their language, e.g. "TechFest Hanoi 2026 – order 7K3Q…"
    description: str
    buyer_email: str
    locale: str
    #: whether money is still expected: waiting for payment and before its deadline
    open: bool
    pay_before: datetime | None
    currency: str = CURRENCY

    @property
    def page_url(self) -> str:
        """The buyer's page of the order or booking: what they come back to after paying."""
        endpoint, values = self.kind.page_endpoint(self.target)
        return url_for(endpoint, **values)

    @property
    def absolute_page_url(self) -> str:
        """The same, for a provider sending the buyer back (built from BASE_URL)."""
        endpoint, values = self.kind.page_endpoint(self.target)
        return absolute_url(endpoint, **values)

    @property
    def payment_link(self) -> dict[str, int]:
        """The Payment columns that point at it."""
        return {self.kind.foreign_key: self.target.id}


class PayableKind:
    key: str
    #: the Payment column pointing at this kind of row
    foreign_key: str
    #: how this kind's transfer references start (vietqr.new_reference)
    reference_prefix: str

    def describe(self, target, now: datetime) -> Payable:
        raise NotImplementedError

    def for_buyer(self, session: Session, buyer: User, key: str, now: datetime) -> Payable:
        """The payable `buyer` may pay, by the key its URLs use; NotFound for anybody else's."""
        raise NotImplementedError

    def locked(self, session: Session, target_id: int):
        """The row, locked until the transaction ends, and read afresh: the fulfilment decides on it."""
        raise NotImplementedError

    def page_endpoint(self, target) -> tuple[str, dict]:
        """The endpoint and URL values of the buyer's page of the order or booking."""
        raise NotImplementedError

    def metadata(self, target) -> dict[str, str]:
        """What a provider keeps with the payment so that people reading its dashboard know what was bought."""
        raise NotImplementedError

    def fulfil(self, session: Session, target, payment: Payment, now: datetime) -> None:
        """The payment's money arrived: confirm the order or booking. A DomainError means it can no longer take
        the money (expired, cancelled, already paid); nothing is changed then."""
        raise NotImplementedError

    def refunded(self, session: Session, target, payment: Payment, now: datetime) -> None:
        """All of the payment went back to the buyer."""
        raise NotImplementedError

    def reinstate(self, session: Session, target, now: datetime) -> None:
        """Money that arrived after the deadline is accepted by an organiser: give the expired order or reservation
        back what it held, so that `fulfil` can confirm it; a DomainError says why it cannot be. Locked `target`."""


class _OrderKind(PayableKind):
    key = "order"
    foreign_key = "order_id"
    #: "vé": ticket
    reference_prefix = "VE"

    def describe(self, order: Order, now: datetime) -> Payable:
        with force_locale(order.locale):
            description = str(_l("%(event)s – order %(code)s", event=localized(order.event, "name"),
                                 code=order.code))
        return Payable(kind=self, target=order, buyer_id=order.buyer_id, provider_key=order.provider,
                       amount_due=order.total, description=description, buyer_email=order.buyer.email,
                       locale=order.locale, open=order.awaits_payment(now), pay_before=order.expires_at)

    def for_buyer(self, session: Session, buyer: User, key: str, now: datetime) -> Payable:
        return self.describe(orders.get_order_for(session, buyer, key), now)

    def locked(self, session: Session, target_id: int) -> Order:
        return session.scalar(
            select(Order).where(Order.id == target_id)
            # the buyer for the mail's address; their roles are not needed, so not loaded (a statement fewer)
            .options(joinedload(Order.event), joinedload(Order.buyer).lazyload(User.roles))
            .with_for_update(of=Order).execution_options(populate_existing=True)
        )

    def page_endpoint(self, order: Order) -> tuple[str, dict]:
        return "events.order_detail", {"code": order.code}

    def metadata(self, order: Order) -> dict[str, str]:
        return {"order_code": order.code}

    def fulfil(self, session: Session, order: Order, payment: Payment, now: datetime) -> None:
        orders.mark_paid(session, None, order, now=now, payment_id=payment.id, provider=payment.provider)

    def refunded(self, session: Session, order: Order, payment: Payment, now: datetime) -> None:
        orders.mark_refunded(session, order, now=now, payment_id=payment.id)

    def reinstate(self, session: Session, order: Order, now: datetime) -> None:
        orders.reinstate_lapsed(session, order, now=now)


class _BoothBookingKind(PayableKind):
    key = "booth_booking"
    foreign_key = "booth_booking_id"
    #: "gian hàng": booth
    reference_prefix = "GH"

    def describe(self, booking: BoothBooking, now: datetime) -> Payable:
        exhibitor = booking.exhibitor
        with force_locale(exhibitor.locale):
            description = str(_l("%(event)s – booth %(number)s", event=localized(booking.event, "name"),
                                 number=booking.booth.number))
        return Payable(kind=self, target=booking, buyer_id=booking.exhibitor_id,
                       provider_key=booking.provider or MANUAL.key,
                       amount_due=booth_services.next_instalment(booking), description=description,
                       buyer_email=exhibitor.email, locale=exhibitor.locale, open=booking.awaits_payment(now),
                       pay_before=booking.payment_due_at)

    def for_buyer(self, session: Session, buyer: User, key: str, now: datetime) -> Payable:
        booking = session.get(BoothBooking, int(key)) if key.isdigit() else None
        if booking is None or booking.exhibitor_id != buyer.id:
            raise NotFound()
        return self.describe(booking, now)

    def locked(self, session: Session, target_id: int) -> BoothBooking:
        return booth_services.locked_booking(session, target_id)

    def page_endpoint(self, booking: BoothBooking) -> tuple[str, dict]:
        return "booths.booking", {"booking_id": booking.id}

    def metadata(self, booking: BoothBooking) -> dict[str, str]:
        return {"booth_booking_id": str(booking.id), "booth": booking.booth.number}

    def fulfil(self, session: Session, booking: BoothBooking, payment: Payment, now: datetime) -> None:
        booth_services.record_provider_payment(session, booking.id, amount=payment.amount, provider=payment.provider,
                                               payment_id=payment.id, now=now)

    def refunded(self, session: Session, booking: BoothBooking, payment: Payment, now: datetime) -> None:
        """Booth refunds follow the organisers' decision (a cancelled booking), not the money: nothing to do."""

    def reinstate(self, session: Session, booking: BoothBooking, now: datetime) -> None:
        booth_services.reinstate_lapsed(session, booking, now=now)


ORDER = _OrderKind()
BOOTH_BOOKING = _BoothBookingKind()
PAYABLE_KINDS: dict[str, PayableKind] = {kind.key: kind for kind in (ORDER, BOOTH_BOOKING)}
REFERENCE_PREFIXES = tuple(kind.reference_prefix for kind in PAYABLE_KINDS.values())


def kind_of(payment: Payment) -> PayableKind:
    return ORDER if payment.order_id is not None else BOOTH_BOOKING


def target_id_of(payment: Payment) -> int:
    return payment.order_id if payment.order_id is not None else payment.booth_booking_id
