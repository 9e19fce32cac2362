"""Events' reminder kinds: the event to its ticket holders (with the ticket), and an unpaid order to its buyer
before it expires."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import literal, select
from sqlalchemy.orm import Session, joinedload

from portal.accounts.models import User
from portal.events.models import Event, Order, OrderStatus, Ticket
from portal.i18n import format_local_datetime, format_vnd, localized
from portal.notifications.services import BuiltAtSend, absolute_url
from portal.reminders.kinds import (
    BEFORE,
    DefaultRule,
    ReminderKind,
    first_example,
    loader,
    register_kind,
    user_recipient,
)

ATTENDEES, BUYER = "attendees", "buyer"


def _tickets(rule, after, up_to):
    return (select(Ticket.id.label("target_id"), literal("t").label("recipient_ref"),
                   Ticket.attendee_email.label("email"), Order.locale.label("locale"),
                   Event.starts_at.label("occurs_at"))
            .join(Order, Ticket.order_id == Order.id).join(Event, Order.event_id == Event.id)
            .where(Order.event_id == rule.scope_id, Order.status == OrderStatus.PAID, Ticket.cancelled_at.is_(None),
                   Event.starts_at > after, Event.starts_at <= up_to))


_load_tickets = loader(Ticket, joinedload(Ticket.order).joinedload(Order.event), joinedload(Ticket.ticket_type))


def _ticket_values(ticket: Ticket, _recipient: str) -> dict[str, str]:
    event = ticket.order.event
    return {"name": ticket.attendee_name, "event": localized(event, "name"), "venue": localized(event, "venue"),
            "starts_at": format_local_datetime(event.starts_at, "short"),
            "ticket_type": localized(ticket.ticket_type, "name"),
            "link": absolute_url("events.event_page", slug=event.slug)}


def _example_ticket(session: Session, event_id: int) -> tuple[Ticket, str] | None:
    return first_example(session, _load_tickets, select(Ticket.id).join(Order).where(Order.event_id == event_id)
                         .order_by(Ticket.id), "t")


register_kind(ReminderKind(
    name="event_ticket", label=_l("The event starts"), scope="event",
    audiences={ATTENDEES: _l("Ticket holders")}, directions=frozenset({BEFORE}),
    default_subject=_l("Reminder: {event} starts {starts_at}"),
    default_body=_l("Hello {name},\n\n{event} starts {starts_at} at {venue}. Your ticket ({ticket_type}) is attached: "
                    "show its QR code at the entrance."),
    placeholders={"name": _l("the ticket holder's name"), "event": _l("the event's name"),
                  "venue": _l("the venue"), "starts_at": _l("when the event starts"),
                  "ticket_type": _l("the ticket type"), "link": _l("the event's page")},
    candidates=_tickets, load=_load_tickets, values=_ticket_values, example=_example_ticket,
    defaults=(DefaultRule(timedelta(days=-7), timedelta(days=2), ATTENDEES),
              DefaultRule(timedelta(days=-1), timedelta(hours=12), ATTENDEES)),
    attachments=lambda ticket, _recipient, locale: [BuiltAtSend("ticket_qr", {"ticket_id": ticket.id}),
                                                    BuiltAtSend("ticket_calendar",
                                                                {"ticket_id": ticket.id, "locale": locale})],
    max_offset=timedelta(days=180),
))


def _unpaid_orders(rule, after, up_to):
    return (select(Order.id.label("target_id"), *user_recipient(Order.locale), Order.expires_at.label("occurs_at"))
            .join(User, Order.buyer_id == User.id)
            .where(Order.event_id == rule.scope_id, Order.status == OrderStatus.PENDING, Order.total > 0,
                   Order.expires_at > after, Order.expires_at <= up_to))


_load_orders = loader(Order, joinedload(Order.event), joinedload(Order.buyer))


def _order_values(order: Order, _recipient: str) -> dict[str, str]:
    return {"name": order.buyer.full_name, "event": localized(order.event, "name"), "code": order.code,
            "amount": format_vnd(order.total), "expires_at": format_local_datetime(order.expires_at, "short"),
            "link": absolute_url("events.order_detail", code=order.code)}


def _example_order(session: Session, event_id: int) -> tuple[Order, str] | None:
    return first_example(session, _load_orders, select(Order.id).where(Order.event_id == event_id, Order.total > 0)
                         .order_by(Order.id), "buyer")


register_kind(ReminderKind(
    name="order_payment", label=_l("An unpaid order expires"), scope="event",
    audiences={BUYER: _l("The buyer")}, directions=frozenset({BEFORE}),
    default_subject=_l("Your order for {event} is waiting for payment"),
    default_body=_l("Hello {name},\n\nYour order {code} for {event} ({amount}) has not been paid yet. It keeps your "
                    "tickets until {expires_at}; after that they are released. If you have paid already, you can "
                    "ignore this message."),
    placeholders={"name": _l("the buyer's name"), "event": _l("the event's name"), "code": _l("the order's code"),
                  "amount": _l("the amount to pay"), "expires_at": _l("when the order expires"),
                  "link": _l("the order's page, to pay")},
    candidates=_unpaid_orders, load=_load_orders, values=_order_values, example=_example_order,
    # a quarter of the 3 days an order waits by default: time for a company's accountant to make a transfer
    defaults=(DefaultRule(timedelta(hours=-18), timedelta(hours=6), BUYER),),
    max_offset=timedelta(days=30),
))
