"""Ticket orders as something payments collect money for: the order kind of payable, registered with payments."""

from __future__ import annotations

from datetime import datetime

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload

from portal.accounts.models import User
from portal.events import orders
from portal.events.models import Order, OrderStatus
from portal.i18n import lazy_localized, localized
from portal.notifications.services import absolute_url, queue_mail
from portal.payments.models import Payment, Refund
from portal.payments.payables import Payable, PayableKind, register

#: orders whose pending payments can no longer be paid
ORDERS_GONE = (OrderStatus.EXPIRED, OrderStatus.CANCELLED)


class OrderKind(PayableKind):
    key = "order"
    foreign_key = "order_id"
    relationship = "order"
    #: "vé": ticket
    reference_prefix = "VE"

    def describe(self, order: Order, now: datetime) -> Payable:
        title = _l("%(event)s – order %(code)s", event=lazy_localized(order.event, "name"), code=order.code)
        with force_locale(order.locale):
            description = str(title)
        return Payable(kind=self, target=order, buyer_id=order.buyer_id, provider_key=order.provider,
                       amount_due=order.total, description=description, title=title, buyer_email=order.buyer.email,
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

    def loader_options(self, payment_path) -> list:
        return [payment_path.joinedload(Payment.order).joinedload(Order.event)]

    def no_longer_payable(self) -> Select:
        return select(Order.id).where(Order.status.in_(ORDERS_GONE))

    def fulfil(self, session: Session, order: Order, payment: Payment, now: datetime) -> None:
        orders.mark_paid(session, None, order, now=now, payment_id=payment.id, provider=payment.provider)

    def refunded(self, session: Session, order: Order, payment: Payment, now: datetime) -> None:
        """Cancels the order's tickets; their seats go to the waiting list (orders.mark_refunded)."""
        orders.mark_refunded(session, order, now=now, payment_id=payment.id)

    def tell_refund(self, session: Session, payment: Payment, refund: Refund, **mail) -> None:
        order = payment.order
        with force_locale(order.locale):
            name = localized(order.event, "name")
        queue_mail(session, to=order.buyer.email, locale=order.locale,
                   template="order_refunded", subject=_l("Refund for your order %(code)s", code=order.code),
                   order=order, event_name=name, receipt_link=absolute_url("receipts.buyer_receipt", code=order.code),
                   **mail)

    def reinstate(self, session: Session, order: Order, now: datetime) -> None:
        orders.reinstate_lapsed(session, order, now=now)


ORDER = register(OrderKind())
