"""Booth bookings as something payments collect money for (a deposit, then the balance), and the booth refund
policy: registered with payments as the booth booking kind of payable."""

from __future__ import annotations

from datetime import datetime

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.booths import services as booth_services
from portal.booths.models import BookingStatus, BoothBooking
from portal.errors import NotFound
from portal.i18n import lazy_localized, localized
from portal.notifications.services import queue_mail
from portal.payments.models import Payment, Refund
from portal.payments.payables import Payable, PayableKind, register
from portal.payments.providers import MANUAL
from portal.payments.refunds import refundable

#: bookings whose pending payments can no longer be paid
BOOKINGS_GONE = (BookingStatus.LAPSED, BookingStatus.RELEASED, BookingStatus.EXPIRED, BookingStatus.REJECTED)


class BoothBookingKind(PayableKind):
    key = "booth_booking"
    foreign_key = "booth_booking_id"
    relationship = "booth_booking"
    #: "gian hàng": booth
    reference_prefix = "GH"

    def describe(self, booking: BoothBooking, now: datetime) -> Payable:
        exhibitor = booking.exhibitor
        title = _l("%(event)s – booth %(number)s", event=lazy_localized(booking.event, "name"),
                   number=booking.booth.number)
        with force_locale(exhibitor.locale):
            description = str(title)
        return Payable(kind=self, target=booking, buyer_id=booking.exhibitor_id,
                       provider_key=booking.provider or MANUAL.key,
                       amount_due=booth_services.next_instalment(booking), description=description, title=title,
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

    def loader_options(self, payment_path) -> list:
        return [payment_path.joinedload(Payment.booth_booking).joinedload(BoothBooking.booth)]

    def no_longer_payable(self) -> Select:
        return select(BoothBooking.id).where(BoothBooking.status.in_(BOOKINGS_GONE))

    def fulfil(self, session: Session, booking: BoothBooking, payment: Payment, now: datetime) -> None:
        booth_services.record_provider_payment(session, booking.id, amount=payment.amount, provider=payment.provider,
                                               payment_id=payment.id, now=now)

    def refunded(self, session: Session, booking: BoothBooking, payment: Payment, now: datetime) -> None:
        """Booth refunds follow the organisers' decision (refund_given), not the money: nothing to do."""

    def refund_given(self, session: Session, organiser: User, payment: Payment, reason: str, now: datetime) -> None:
        """The booth policy: a booking with nothing left to refund on any of its payments is cancelled, which frees
        its booth and tells the exhibitor; one still holding money keeps its booth."""
        booking = booth_services.locked_booking(session, payment.booth_booking_id)
        others = session.scalars(select(Payment).where(Payment.booth_booking_id == booking.id,
                                                       Payment.id != payment.id)).all()
        if booking.is_active and refundable(payment) == 0 and not any(refundable(other) for other in others):
            booth_services.cancel_booking(session, organiser, booking.event, booking.id, message=reason, now=now)

    def tell_refund(self, session: Session, payment: Payment, refund: Refund, **mail) -> None:
        booking = payment.booth_booking
        exhibitor = booking.exhibitor
        with force_locale(exhibitor.locale):
            name = localized(booking.event, "name")
        queue_mail(session, to=exhibitor.email, locale=exhibitor.locale, template="booth_refunded",
                   subject=_l("Refund for your booth at %(event)s", event=name), booking=booking,
                   exhibitor=exhibitor, event_name=name, link=booth_services.booking_link(booking), **mail)

    def reinstate(self, session: Session, booking: BoothBooking, now: datetime) -> None:
        booth_services.reinstate_lapsed(session, booking, now=now)


BOOTH_BOOKING = register(BoothBookingKind())
