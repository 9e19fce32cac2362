"""Orders and tickets: availability, placing an order without overselling, the order lifecycle.

The rule that matters: seats are counted and the order written in one transaction that holds a lock on
every quota involved, taken in a fixed order (quota id), so concurrent buyers queue instead of overselling.
PostgreSQL locks the quota rows (SELECT … FOR UPDATE); SQLite's write transaction already holds its
database lock from BEGIN IMMEDIATE.
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, func, or_, select, union_all
from sqlalchemy.orm import Session, joinedload, selectinload

from portal.accounts.models import OrganisationKind, User
from portal.audit.services import record
from portal.db import utcnow
from portal.errors import Conflict, DomainError, NotFound, PermissionDenied
from portal.events.models import (
    Eligibility,
    Event,
    EventStatus,
    Order,
    OrderStatus,
    Question,
    QuestionKind,
    Quota,
    Ticket,
    TicketType,
    WaitingListEntry,
    WaitingListStatus,
    quota_ticket_types,
)
from portal.events.options import offered
from portal.events.signals import seats_freed
from portal.events.tickets import qr_png, ticket_ics
from portal.i18n import format_vnd, localized
from portal.notifications.services import (
    Attachment,
    BuiltAtSend,
    ComposedAtSend,
    absolute_url,
    queue_mail,
    register_attachment_builder,
    register_context_builder,
)
from portal.payments.models import Payment
from portal.payments.providers import FREE, MANUAL, MAX_AMOUNT, PROVIDERS


class SoldOut(Conflict):
    default_message = _l("Sorry, these tickets are sold out.")


class OrderRefused(DomainError):
    """The order breaks a rule of its ticket types (window, limit, eligibility, answers)."""


@dataclass
class AttendeeInput:
    ticket_type_id: int
    name: str
    email: str
    organisation: str = ""
    #: question id → answer (text, the chosen option's key, or bool)
    answers: dict[int, object] = field(default_factory=dict)


def _new_code(length: int) -> str:
    return secrets.token_urlsafe(length)


def new_order_code() -> str:
    """The reference shown to people and carried in transfer memos: 12 capital letters and digits."""
    return _new_code(9)[:12].upper().replace("-", "X").replace("_", "Y")


def new_ticket_code() -> str:
    """A ticket's QR content: unguessable, 43 URL-safe characters."""
    return _new_code(32)


# --- availability ---------------------------------------------------------------------------

#: Statements of the ordering path, built once: on this path building and compiling a statement costs more than
#: the database takes to run it.
_SEATS_TAKEN = union_all(
    # live tickets: of orders holding seats (awaiting approval, paid, or pending and not yet expired)
    select(quota_ticket_types.c.quota_id, func.count(Ticket.id))
    .join(Ticket, Ticket.ticket_type_id == quota_ticket_types.c.ticket_type_id)
    .join(Order, Order.id == Ticket.order_id)
    .where(quota_ticket_types.c.quota_id.in_(bindparam("quota_ids", expanding=True)), Ticket.cancelled_at.is_(None),
           or_(Order.status.in_([OrderStatus.AWAITING_APPROVAL, OrderStatus.PAID]),
               and_(Order.status == OrderStatus.PENDING, Order.expires_at > bindparam("now"))))
    .group_by(quota_ticket_types.c.quota_id),
    # open waiting-list offers, except the one being used now (exclude_offer_id 0 excludes none)
    select(quota_ticket_types.c.quota_id, func.count(WaitingListEntry.id))
    .join(WaitingListEntry, WaitingListEntry.ticket_type_id == quota_ticket_types.c.ticket_type_id)
    .where(quota_ticket_types.c.quota_id.in_(bindparam("quota_ids", expanding=True)),
           WaitingListEntry.status == WaitingListStatus.OFFERED, WaitingListEntry.offer_expires_at > bindparam("now"),
           WaitingListEntry.id != bindparam("exclude_offer_id"))
    .group_by(quota_ticket_types.c.quota_id),
)
# One statement: an event has a handful of types, quotas and questions, so their joined rows stay few.
_EVENT_FOR_SALE = (
    select(Event).where(Event.slug == bindparam("slug"))
    .options(joinedload(Event.ticket_types).joinedload(TicketType.quotas), joinedload(Event.questions))
)
# populate_existing: the sizes read under the lock, not those loaded with the event a moment before.
_LOCK_QUOTAS = (
    select(Quota).where(Quota.id.in_(bindparam("quota_ids", expanding=True))).order_by(Quota.id).with_for_update()
    .execution_options(populate_existing=True)
)


def seats_taken(session: Session, quota_ids: list[int], now: datetime,
                exclude_offer_id: int | None = None) -> dict[int, int]:
    """Seats each quota has given away: live tickets plus open waiting-list offers, in one round trip."""
    if not quota_ids:
        return {}
    taken = Counter({quota_id: 0 for quota_id in quota_ids})
    parameters = {"quota_ids": list(quota_ids), "now": now, "exclude_offer_id": exclude_offer_id or 0}
    for quota_id, seats in session.execute(_SEATS_TAKEN, parameters):
        taken[quota_id] += seats
    return dict(taken)


def availability(session: Session, event: Event, now: datetime | None = None) -> dict[int, int]:
    """Seats left per ticket type: the smallest room among its quotas; a type without a quota is not on sale."""
    now = now or utcnow()
    quotas = {q.id: q for t in event.ticket_types for q in t.quotas}
    taken = seats_taken(session, list(quotas), now)
    return {
        t.id: min((max(quotas[q.id].size - taken[q.id], 0) for q in t.quotas), default=0)
        for t in event.ticket_types
    }


def load_event_for_sale(session: Session, slug: str) -> Event:
    event = session.scalars(_EVENT_FOR_SALE, {"slug": slug}).unique().first()
    if event is None or event.status is EventStatus.DRAFT:
        raise NotFound()
    return event


# --- placing an order -----------------------------------------------------------------------

def _is_in_startup(session: Session, user: User) -> bool:
    return any(m.organisation.kind is OrganisationKind.STARTUP for m in user.memberships)


def check_ticket_type(session: Session, event: Event, ticket_type: TicketType, count: int, buyer: User,
                      now: datetime) -> None:
    """The rules of one ticket type for an order of `count` of it; raises OrderRefused with the reason."""
    name = localized(ticket_type, "name")
    if ticket_type.sale_starts_later(now):
        raise OrderRefused(_l("%(name)s is not on sale yet.", name=name))
    if ticket_type.sale_has_ended(now):
        raise OrderRefused(_l("The sale of %(name)s has ended.", name=name))
    if count > ticket_type.max_per_order:
        raise OrderRefused(_l("You can buy at most %(n)d of %(name)s in one order.", n=ticket_type.max_per_order,
                              name=name))
    if ticket_type.eligibility is Eligibility.STARTUP and not _is_in_startup(session, buyer):
        raise OrderRefused(_l("%(name)s is for members of a startup. Create or join your startup's "
                              "organisation first.", name=name))


def _clean_answers(questions: list[Question], answers: dict[int, object]) -> dict[str, object]:
    cleaned: dict[str, object] = {}
    for question in questions:
        value = answers.get(question.id)
        if question.kind is QuestionKind.CHECKBOX:
            value = bool(value)
        elif question.kind is QuestionKind.CHOICE:
            if value in (None, ""):
                value = None
            elif str(value) not in {option["key"] for option in offered(question.options)}:
                raise OrderRefused(_l("Choose one of the offered answers."))
            else:
                value = str(value)
        else:
            value = str(value or "").strip()[:2000] or None
        if question.required and value in (None, False):
            raise OrderRefused(_l("Please answer: %(question)s", question=localized(question, "label")))
        cleaned[str(question.id)] = value
    return cleaned


def _check_room(types: dict[int, TicketType], counts: Counter, quotas: list[Quota], taken: dict[int, int], *,
                own_tickets_counted: bool) -> None:
    """SoldOut unless every quota has room for the order's tickets (`counts` per type id); `taken` are the seats
    each quota has given away, the order's own among them once it is written."""
    for quota in quotas:
        wanted = sum(count for type_id, count in counts.items() if quota in types[type_id].quotas)
        if taken[quota.id] + (0 if own_tickets_counted else wanted) > quota.size:
            sold_out = next(types[t] for t in counts if quota in types[t].quotas)
            raise SoldOut(_l("Sorry, %(name)s is sold out.", name=localized(sold_out, "name")))


def check_total(total: int) -> None:
    """OrderRefused for an order that comes to more than one payment may ask, whatever the way to pay."""
    if total > MAX_AMOUNT:
        raise OrderRefused(_l("An order may come to at most %(limit)s. Please split it into several orders.",
                              limit=format_vnd(MAX_AMOUNT)))


def place_order(
    session: Session,
    *,
    event: Event,
    buyer: User,
    attendees: list[AttendeeInput],
    provider_key: str = MANUAL.key,
    offer: WaitingListEntry | None = None,
    now: datetime | None = None,
) -> Order:
    """Checks every rule, locks the quotas, counts the seats and writes the order, all in the caller's
    write transaction. Prices come from the ticket types, never from the request; a total the chosen way to pay
    cannot take is refused before anything is written (AmountNotAccepted)."""
    now = now or utcnow()
    if event.status is not EventStatus.PUBLISHED:
        raise OrderRefused(_l("Registration for this event is closed."))
    if not attendees:
        raise OrderRefused(_l("Choose at least one ticket."))
    types = {t.id: t for t in event.ticket_types}
    counts = Counter(a.ticket_type_id for a in attendees)
    for type_id, count in counts.items():
        if type_id not in types:
            raise OrderRefused(_l("This ticket type does not exist for this event."))
        check_ticket_type(session, event, types[type_id], count, buyer, now)
    if offer is not None and (set(counts) != {offer.ticket_type_id} or len(attendees) != 1):
        raise OrderRefused(_l("A waiting-list offer is for one ticket of its type."))
    answers = [_clean_answers(event.questions, a.answers) for a in attendees]
    total = sum(types[a.ticket_type_id].price for a in attendees)
    check_total(total)
    provider = FREE if total == 0 else PROVIDERS[provider_key]
    provider.check_amount(total)

    quota_ids = sorted({q.id for type_id in counts for q in types[type_id].quotas})
    if not quota_ids:
        raise SoldOut()
    excluded_offer = offer.id if offer else None
    # Sold out as things stand: refused before anything is written, so the answer ends with an empty commit.
    _check_room(types, counts, [q for type_id in counts for q in types[type_id].quotas],
                seats_taken(session, quota_ids, now, exclude_offer_id=excluded_offer), own_tickets_counted=False)

    needs_approval = any(types[t].eligibility is Eligibility.APPROVAL for t in counts)
    order = Order(
        code=new_order_code(),
        event_id=event.id, buyer_id=buyer.id, total=total, locale=buyer.locale,
        provider=provider.key,
        status=OrderStatus.AWAITING_APPROVAL if needs_approval else (
            OrderStatus.PAID if total == 0 else OrderStatus.PENDING),
        expires_at=None if (needs_approval or total == 0) else now + timedelta(minutes=event.pending_order_minutes),
        paid_at=now if (total == 0 and not needs_approval) else None,
    )
    order.tickets = [
        Ticket(ticket_type_id=a.ticket_type_id, price=types[a.ticket_type_id].price, code=new_ticket_code(),
               attendee_name=a.name.strip(), attendee_email=a.email.strip().lower(),
               attendee_organisation=a.organisation.strip(), answers=answer)
        for a, answer in zip(attendees, answers, strict=True)
    ]
    session.add(order)
    if offer is not None:
        offer.status = WaitingListStatus.CONVERTED
        offer.offer_token_hash = None
    session.flush()
    if order.status is OrderStatus.PAID:
        send_confirmation(session, order)
    # The lock, taken last: every order waits for it, so it is held only for the count and the commit. Quota rows
    # in id order, so two buyers never wait on each other in a cycle. The count includes this order's own tickets;
    # a refusal here leaves them to the caller's rollback (end_refused).
    quotas = session.scalars(_LOCK_QUOTAS, {"quota_ids": quota_ids}).all()
    _check_room(types, counts, quotas, seats_taken(session, quota_ids, now, exclude_offer_id=excluded_offer),
                own_tickets_counted=True)
    return order


# --- lifecycle ------------------------------------------------------------------------------

#: the order lifecycle: which status may follow which
TRANSITIONS: dict[OrderStatus, set[OrderStatus]] = {
    OrderStatus.AWAITING_APPROVAL: {OrderStatus.PENDING, OrderStatus.PAID, OrderStatus.CANCELLED},
    OrderStatus.PENDING: {OrderStatus.PAID, OrderStatus.EXPIRED, OrderStatus.CANCELLED},
    OrderStatus.PAID: {OrderStatus.CANCELLED, OrderStatus.REFUNDED},
    # money that arrived late, accepted by an organiser, brings an expired order back (reinstate_lapsed)
    OrderStatus.EXPIRED: {OrderStatus.PENDING},
    OrderStatus.CANCELLED: set(),
    OrderStatus.REFUNDED: set(),
}


def _move(order: Order, target: OrderStatus, now: datetime) -> None:
    if target not in TRANSITIONS[order.status]:
        raise Conflict(_l("This order cannot change from %(old)s to %(new)s.", old=order.status.value,
                          new=target.value))
    order.status = target
    if target is OrderStatus.PAID:
        order.paid_at, order.expires_at = now, None
    elif target in (OrderStatus.CANCELLED, OrderStatus.REFUNDED, OrderStatus.EXPIRED):
        order.cancelled_at = now


def mark_paid(session: Session, organiser: User | None, order: Order, *, now: datetime | None = None,
              **payment) -> None:
    """The money arrived: an organiser records it (the manual provider: a payment received by hand is written, which
    refunds give back like any other), or a payment provider confirmed it (`organiser` None, `payment` names the
    payment for the audit log)."""
    now = now or utcnow()
    if order.is_lapsed(now):
        raise Conflict(_l("This order expired before it was paid; its seats may have been sold."))
    _move(order, OrderStatus.PAID, now)
    if organiser is not None and order.total > 0:
        by_hand = Payment.received_by_hand(order.total, now, order=order)
        session.add(by_hand)
        session.flush()
        payment = {"payment_id": by_hand.id, "provider": by_hand.provider}
    record(session, "order.marked_paid" if organiser else "order.paid", actor_id=organiser.id if organiser else None,
           object_type="order", object_id=order.id, code=order.code, total=order.total, **payment)
    send_confirmation(session, order)


class SeatsGone(Conflict):
    default_message = _l("The seats of this order were taken by other buyers after it expired, so it cannot be "
                         "reinstated. Refund the transfer to the payer instead.")


def reinstate_lapsed(session: Session, order: Order, *, now: datetime | None = None) -> None:
    """An order expired (or past its time, before the sweep ran) waits for payment again if its seats are still
    free, counted under place_order's lock on its quotas, so a reinstated order never oversells; SeatsGone
    otherwise. Any other order is left as it is."""
    now = now or utcnow()
    if order.status is not OrderStatus.EXPIRED and not order.is_lapsed(now):
        return
    tickets = session.scalars(select(Ticket).where(Ticket.order_id == order.id, Ticket.cancelled_at.is_(None))
                              .options(joinedload(Ticket.ticket_type))).all()
    wanted = Counter(quota.id for ticket in tickets for quota in ticket.ticket_type.quotas)
    quota_ids = sorted(wanted)
    quotas = session.scalars(_LOCK_QUOTAS, {"quota_ids": quota_ids}).all() if quota_ids else []
    taken = seats_taken(session, quota_ids, now)
    if any(taken[quota.id] + wanted[quota.id] > quota.size for quota in quotas):
        raise SeatsGone()
    # the order's own tickets stopped counting when it expired: they count again from here
    if order.status is OrderStatus.EXPIRED:
        _move(order, OrderStatus.PENDING, now)
    order.expires_at, order.cancelled_at = None, None
    record(session, "order.reinstated", object_type="order", object_id=order.id, code=order.code)


def mark_refunded(session: Session, order: Order, *, now: datetime | None = None, **payment) -> None:
    """All of a paid order's money went back through its payment provider: the tickets stop admitting anyone and
    the seats go to the waiting list. An order the organisers already cancelled stays as it is."""
    now = now or utcnow()
    if order.status is not OrderStatus.PAID:
        return
    _move(order, OrderStatus.REFUNDED, now)
    for ticket in order.tickets:
        ticket.cancelled_at = ticket.cancelled_at or now
    record(session, "order.refunded", object_type="order", object_id=order.id, code=order.code, **payment)
    seats_freed.send(order.event, session=session, now=now)


def approve_order(session: Session, organiser: User, order: Order, *, now: datetime | None = None) -> None:
    now = now or utcnow()
    if order.total == 0:
        _move(order, OrderStatus.PAID, now)
        send_confirmation(session, order)
    else:
        _move(order, OrderStatus.PENDING, now)
        order.expires_at = now + timedelta(minutes=order.event.pending_order_minutes)
    record(session, "order.approved", actor_id=organiser.id, object_type="order", object_id=order.id,
           code=order.code)


def cancel_order(session: Session, actor: User, order: Order, *, now: datetime | None = None) -> None:
    """The organisers cancel an order, or refuse one waiting for their approval: its seats are free at once."""
    now = now or utcnow()
    _move(order, OrderStatus.CANCELLED, now)
    for ticket in order.tickets:
        ticket.cancelled_at = ticket.cancelled_at or now
    record(session, "order.cancelled", actor_id=actor.id, object_type="order", object_id=order.id, code=order.code)
    seats_freed.send(order.event, session=session, now=now)


def _past_their_time(now: datetime):
    return (Order.status == OrderStatus.PENDING) & (Order.expires_at <= now)


def events_with_orders_past_their_time(session: Session, now: datetime) -> list[int]:
    """The events that have pending orders to expire (expire_pending_orders), in id order."""
    return list(session.scalars(
        select(Order.event_id).distinct().where(_past_their_time(now)).order_by(Order.event_id)))


def expire_pending_orders(session: Session, now: datetime | None = None, *, event_id: int | None = None
                          ) -> list[Order]:
    """Pending orders past their time (of one event, or of all) expire, and announce the seats they give back
    (their tickets stopped counting when the time ran out; now the waiting list hears of it)."""
    now = now or utcnow()
    query = select(Order).where(_past_their_time(now))
    if event_id is not None:
        query = query.where(Order.event_id == event_id)
    due = session.scalars(query.order_by(Order.id).with_for_update()).all()
    for order in due:
        _move(order, OrderStatus.EXPIRED, now)
    for event in {order.event_id: order.event for order in due}.values():
        seats_freed.send(event, session=session, now=now)
    return list(due)


def get_order_for(session: Session, user: User, code: str) -> Order:
    """An order its buyer may see; anybody else gets 404, so codes cannot be probed."""
    order = session.scalar(
        select(Order).where(Order.code == code)
        .options(selectinload(Order.tickets).selectinload(Ticket.ticket_type), selectinload(Order.event))
    )
    if order is None or order.buyer_id != user.id:
        raise NotFound()
    return order


def get_ticket_for_holder(session: Session, user: User, ticket_id: int) -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or ticket.order.buyer_id != user.id:
        raise NotFound()
    return ticket


def change_attendee(session: Session, user: User, ticket: Ticket, *, name: str, email: str, organisation: str,
                    now: datetime | None = None) -> None:
    now = now or utcnow()
    if ticket.order.buyer_id != user.id:
        raise PermissionDenied()
    if not ticket.may_change_attendee(now):
        raise Conflict(_l("This ticket is no longer valid.") if not ticket.is_valid else
                       _l("Attendee details can no longer be changed for this event."))
    ticket.attendee_name, ticket.attendee_email = name.strip(), email.strip().lower()
    ticket.attendee_organisation = organisation.strip()


def why_not_cancellable(ticket: Ticket):
    """What stops the holder from cancelling a ticket themselves (see Ticket.may_cancel), in their words."""
    if ticket.price != 0:
        return _l("Paid tickets are cancelled by the organisers (a refund may apply).")
    if not ticket.is_valid:
        return _l("This ticket is already cancelled.")
    return _l("This ticket has already been used to enter.")


def cancel_free_ticket(session: Session, user: User, ticket: Ticket, *, now: datetime | None = None) -> None:
    """The holder gives back a free ticket; its seat is free at once."""
    now = now or utcnow()
    order = ticket.order
    if order.buyer_id != user.id:
        raise PermissionDenied()
    if not ticket.may_cancel:
        raise Conflict(why_not_cancellable(ticket))
    ticket.cancelled_at = now
    if all(t.cancelled_at for t in order.tickets):
        _move(order, OrderStatus.CANCELLED, now)
    seats_freed.send(order.event, session=session, now=now)


# --- confirmation mail ----------------------------------------------------------------------

def _ticket_qr(session: Session, ticket_id: int) -> Attachment:
    ticket = session.get(Ticket, ticket_id)
    return Attachment(f"ve-{ticket.id}.png", "image/png", qr_png(ticket.code))


def _ticket_calendar(session: Session, ticket_id: int, locale: str) -> Attachment:
    ticket = session.get(Ticket, ticket_id)
    event = ticket.order.event
    with force_locale(locale):
        data = ticket_ics(event, ticket, name=localized(event, "name"), venue=localized(event, "venue"),
                          description=ticket.attendee_name, stamp=utcnow())
    return Attachment(f"ve-{ticket.id}.ics", "text/calendar", data)


def _order_tickets(session: Session, order_id: int, locale: str) -> list[Attachment]:
    """Each ticket of the order still valid when the mail is sent, with its QR code and its calendar file."""
    ticket_ids = session.scalars(select(Ticket.id).where(Ticket.order_id == order_id, Ticket.cancelled_at.is_(None))
                                 .order_by(Ticket.id))
    return [attachment for ticket_id in ticket_ids
            for attachment in (_ticket_qr(session, ticket_id), _ticket_calendar(session, ticket_id, locale))]


register_attachment_builder("ticket_qr", _ticket_qr)
register_attachment_builder("ticket_calendar", _ticket_calendar)  # named by mails queued before order_tickets
register_attachment_builder("order_tickets", _order_tickets)


def _confirmation_context(session: Session, order_id: int) -> dict:
    order = session.scalar(
        select(Order).where(Order.id == order_id)
        .options(selectinload(Order.tickets).joinedload(Ticket.ticket_type), joinedload(Order.event),
                 joinedload(Order.buyer))
    )
    return {"order": order, "event": order.event, "tickets": [t for t in order.tickets if t.cancelled_at is None],
            "order_link": absolute_url("events.order_detail", code=order.code)}


register_context_builder("order_confirmed", _confirmation_context)


def send_confirmation(session: Session, order: Order) -> None:
    """The tickets by e-mail, each with its QR code and a calendar file; once per order. The sender renders it all,
    tickets included, so the buyer's request only writes one row."""
    with force_locale(order.locale):
        name = localized(order.event, "name")
    queue_mail(
        session,
        key=f"order-confirmed:{order.id}",
        to=order.buyer.email,
        locale=order.locale,
        template="order_confirmed",
        subject=_l("Your tickets for %(event)s", event=name),
        attachments=[BuiltAtSend("order_tickets", {"order_id": order.id, "locale": order.locale})],
        composed_at_send=ComposedAtSend("order_confirmed", {"order_id": order.id}),
    )
