"""Orders and tickets: availability, placing an order without overselling, the order lifecycle.

The rule that matters: each quota row carries the seats it has given away (`held`), and an order takes its seats
by raising that counter under the row's lock, only while it stays within the size, in the transaction that writes
the order; every path that frees seats lowers it the same way (see "seats" below). PostgreSQL locks the quota rows;
SQLite's write transaction already holds its database lock from BEGIN IMMEDIATE.
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, func, select, true, union_all, update
from sqlalchemy.orm import Session, joinedload, selectinload

from portal.accounts.models import OrganisationKind, User
from portal.audit.services import record
from portal.db import settle, utcnow
from portal.errors import Conflict, DomainError, NotFound, PermissionDenied
from portal.events.models import (
    HOLDING_STATUSES,
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
)
from portal.events.options import offered
from portal.events.signals import seats_freed
from portal.events.tickets import ticket_ics, ticket_png
from portal.i18n import format_local_datetime, format_vnd, localized
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


# --- seats ----------------------------------------------------------------------------------
#
# A quota's `held` says how many of its seats are given away, so nobody counts tickets to sell one: whatever takes or
# frees seats (an order, a cancellation, an expiry, a refund, a waiting-list offer made, used, lapsed or withdrawn)
# changes it in its own transaction, under the quota row's lock. Rows are locked in id order, after any order or
# offer row the transaction locks, so two transactions never wait on each other in a cycle. A pending order or an
# offer past its time still counts until it is released: by the minute job, or under the lock of the next buyer or
# organiser who needs its quotas (lock_seats), whichever comes first; either way the waiting list is offered it first.

def _holding_by_type(orders_holding, offers_holding):
    """Seats per ticket type held by the live tickets of the orders `orders_holding` selects and by the open
    offers `offers_holding` selects."""
    type_ids = bindparam("type_ids", expanding=True)
    return union_all(
        select(Ticket.ticket_type_id, func.count(Ticket.id))
        .select_from(Order).join(Ticket, Ticket.order_id == Order.id)
        .where(Ticket.ticket_type_id.in_(type_ids), Ticket.cancelled_at.is_(None), orders_holding)
        .group_by(Ticket.ticket_type_id),
        select(WaitingListEntry.ticket_type_id, func.count(WaitingListEntry.id))
        .where(WaitingListEntry.ticket_type_id.in_(type_ids), WaitingListEntry.status == WaitingListStatus.OFFERED,
               offers_holding)
        .group_by(WaitingListEntry.ticket_type_id),
    )


#: Statements of the ordering path, built once: on this path building and compiling a statement costs more than
#: the database takes to run it.
#: seats of what has run out but is not released yet: found through the pending orders' and open offers' expiry
#: indexes, so it costs the same however many seats are sold
_SEATS_LAPSED = _holding_by_type(and_(Order.status == OrderStatus.PENDING, Order.expires_at <= bindparam("now")),
                                 WaitingListEntry.offer_expires_at <= bindparam("now"))
#: what `held` must say, counted from the tickets and offers (the repair, and quotas whose ticket types change)
_SEATS_HELD = _holding_by_type(Order.status.in_(HOLDING_STATUSES), true())
# One statement: an event has a handful of types, quotas and questions, so their joined rows stay few.
_EVENT_FOR_SALE = (
    select(Event).where(Event.slug == bindparam("slug"))
    .options(joinedload(Event.ticket_types).joinedload(TicketType.quotas), joinedload(Event.questions))
)
# populate_existing: the counters read under the lock, not those loaded with the event a moment before.
_LOCK_QUOTAS = (
    select(Quota).where(Quota.id.in_(bindparam("quota_ids", expanding=True))).order_by(Quota.id).with_for_update()
    .execution_options(populate_existing=True)
)
# Locks the row, checks the room and takes the seats in one round trip; PostgreSQL checks the condition again on
# the row as it stands once a concurrent order has committed.
_TAKE_SEATS = (
    update(Quota).where(Quota.id == bindparam("quota_id"), Quota.held + bindparam("seats") <= Quota.size)
    .values(held=Quota.held + bindparam("seats")).execution_options(synchronize_session=False)
)


def _per_quota(by_type: Counter, quotas) -> Counter:
    return Counter({quota.id: sum(by_type[t.id] for t in quota.ticket_types) for quota in quotas})


def _by_type(session: Session, statement, type_ids, now: datetime | None = None) -> Counter:
    seats = Counter()
    if type_ids:
        for type_id, count in session.execute(statement, {"type_ids": list(type_ids), "now": now}):
            seats[type_id] += count
    return seats


def seats_lapsed(session: Session, event: Event, now: datetime) -> Counter:
    """Seats per quota of the event held by pending orders and offers past their time, not released yet."""
    by_type = _by_type(session, _SEATS_LAPSED, [t.id for t in event.ticket_types], now)
    return Counter({quota.id: sum(by_type[t.id] for t in event.ticket_types if quota in t.quotas)
                    for quota in _quotas_of(event)}) if by_type else Counter()


def seats_held_counted(session: Session, type_ids) -> Counter:
    """Seats per ticket type its live tickets and open offers hold, counted (what the quotas' counters sum)."""
    return _by_type(session, _SEATS_HELD, type_ids)


def seats_taken(session: Session, quota_ids: list[int], now: datetime) -> dict[int, int]:
    """Seats each quota has given away at `now`, for the organisers' pages: its counter, less what has lapsed."""
    if not quota_ids:
        return {}
    quotas = session.scalars(select(Quota).where(Quota.id.in_(quota_ids))
                             .options(selectinload(Quota.ticket_types))).all()
    lapsed = _per_quota(_by_type(session, _SEATS_LAPSED, {t.id for q in quotas for t in q.ticket_types}, now), quotas)
    return {quota.id: quota.held - lapsed[quota.id] for quota in quotas}


def _quotas_of(event: Event) -> list[Quota]:
    """The quotas of the event's ticket types, in id order, as loaded with them."""
    return sorted({q.id: q for t in event.ticket_types for q in t.quotas}.values(), key=lambda q: q.id)


def _room(quota: Quota, lapsed: Counter) -> int:
    return quota.size - quota.held + lapsed[quota.id]


def availability(session: Session, event: Event, now: datetime | None = None) -> dict[int, int]:
    """Seats left per ticket type: the smallest room among its quotas; a type without a quota is not on sale."""
    lapsed = seats_lapsed(session, event, now or utcnow())
    return {t.id: min((max(_room(q, lapsed), 0) for q in t.quotas), default=0) for t in event.ticket_types}


def lock_quotas(session: Session, quota_ids) -> dict[int, Quota]:
    """The quota rows locked in id order, with their counters as they stand."""
    quota_ids = sorted(set(quota_ids))
    return {q.id: q for q in session.scalars(_LOCK_QUOTAS, {"quota_ids": quota_ids})} if quota_ids else {}


def change_held(session: Session, seats: Counter) -> None:
    """Adds `seats` (quota id → seats; negative frees them) to the quotas' counters, under their lock."""
    for quota_id, quota in lock_quotas(session, [q for q, n in seats.items() if n]).items():
        quota.held += seats[quota_id]


def seats_of(tickets) -> Counter:
    """Seats per quota held by the live ones of `tickets`."""
    return Counter(quota.id for ticket in tickets if ticket.cancelled_at is None for quota in ticket.ticket_type.quotas)


def free_seats(session: Session, event: Event, seats: Counter, now: datetime) -> None:
    """Gives back `seats` (quota id → seats) and tells the waiting list, which is offered them first."""
    change_held(session, Counter({quota_id: -n for quota_id, n in seats.items()}))
    seats_freed.send(event, session=session, now=now)


def release_lapsed(session: Session, event: Event, now: datetime) -> None:
    """Pending orders and offers of the event past their time give back their seats now, the waiting list first,
    so no seat waits for the minute job. Rows another transaction is releasing at this moment are left to it."""
    from portal.events import waitlist  # the waiting list builds on this module

    expire_pending_orders(session, now, event_id=event.id, skip_locked=True)
    waitlist.lapse_offers(session, now, event_id=event.id, skip_locked=True)


def lock_seats(session: Session, event: Event, now: datetime) -> dict[int, Quota]:
    """Every quota of the event's ticket types locked, with what has lapsed released: what a transaction holds
    before it reads their seats to hand them out."""
    quotas = lock_quotas(session, [q.id for q in _quotas_of(event)])
    release_lapsed(session, event, now)
    return quotas


def recount_quotas(session: Session, quotas) -> list[tuple[Quota, int]]:
    """Sets each quota's counter (locked first) to the seats its ticket types' live tickets and open offers hold;
    returns the quotas that were wrong, each with what it said."""
    locked = lock_quotas(session, [q.id for q in quotas])
    counted = _per_quota(seats_held_counted(session, {t.id for q in locked.values() for t in q.ticket_types}),
                         locked.values())
    wrong = [(quota, quota.held) for quota in locked.values() if quota.held != counted[quota.id]]
    for quota, _said in wrong:
        quota.held = counted[quota.id]
    return wrong


def repair_quotas(session: Session) -> list[tuple[Quota, int]]:
    """Every quota's counter recounted (`flask quotas repair`)."""
    return recount_quotas(session, session.scalars(select(Quota).options(selectinload(Quota.ticket_types))).all())


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


def _sold_out(types: dict[int, TicketType], counts: Counter, quota_id: int) -> SoldOut:
    sold_out = next(types[t] for t in counts if any(q.id == quota_id for q in types[t].quotas))
    return SoldOut(_l("Sorry, %(name)s is sold out.", name=localized(sold_out, "name")))


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

    # The seats the order takes from each quota; an offer's seat, held already, becomes its ticket's.
    wanted = Counter()
    for type_id, count in counts.items():
        for quota in types[type_id].quotas:
            wanted[quota.id] += count
    if not wanted:
        raise SoldOut()
    if offer is not None:
        wanted.subtract(quota.id for quota in offer.ticket_type.quotas)
    quotas = {q.id: q for type_id in counts for q in types[type_id].quotas}
    lapsed = seats_lapsed(session, event, now)
    locked = any(lapsed[quota_id] for quota_id in quotas)
    if locked:
        # Seats run out under somebody else's name: released first, and offered to the waiting list before this
        # buyer; what that wrote commits even if the buyer is then refused.
        quotas = lock_seats(session, event, now)
        settle(session)
        lapsed = Counter()
    # Sold out as things stand: refused before anything is written, so the answer ends with an empty commit.
    for quota_id in sorted(wanted):
        if wanted[quota_id] > _room(quotas[quota_id], lapsed):
            raise _sold_out(types, counts, quota_id)

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
    if locked:
        for quota_id, seats in wanted.items():
            quotas[quota_id].held += seats
        return order
    # The lock, taken last: every order waits for it, so it is held only for this statement and the commit. A
    # refusal here leaves the order's rows to the caller's rollback (end_refused).
    for quota_id in sorted(quota_id for quota_id, seats in wanted.items() if seats):
        if not session.execute(_TAKE_SEATS, {"quota_id": quota_id, "seats": wanted[quota_id]}).rowcount:
            raise _sold_out(types, counts, quota_id)
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
    """An order expired (or past its time, before it was released) waits for payment again if its seats are still
    free, taken under the quotas' lock, so a reinstated order never oversells; SeatsGone otherwise. Any other order
    is left as it is."""
    now = now or utcnow()
    # locked and read again, so the minute job does not expire it meanwhile
    session.execute(select(Order.id).where(Order.id == order.id).with_for_update())
    session.refresh(order, ["status", "expires_at"])
    if order.status is not OrderStatus.EXPIRED and not order.is_lapsed(now):
        return
    if order.status is OrderStatus.EXPIRED:
        # its seats were given back when it expired: it takes them again, after the waiting list had its turn
        tickets = session.scalars(select(Ticket).where(Ticket.order_id == order.id, Ticket.cancelled_at.is_(None))
                                  .options(joinedload(Ticket.ticket_type))).all()
        wanted = seats_of(tickets)
        quotas = lock_seats(session, order.event, now)
        if any(wanted[quota_id] > _room(quotas[quota_id], Counter()) for quota_id in wanted):
            raise SeatsGone()
        for quota_id, seats in wanted.items():
            quotas[quota_id].held += seats
        _move(order, OrderStatus.PENDING, now)
    # an order past its time but not released still holds its seats
    order.expires_at, order.cancelled_at = None, None
    record(session, "order.reinstated", object_type="order", object_id=order.id, code=order.code)


def mark_refunded(session: Session, order: Order, *, now: datetime | None = None, **payment) -> None:
    """All of a paid order's money went back through its payment provider: the tickets stop admitting anyone and
    the seats go to the waiting list. An order the organisers already cancelled stays as it is."""
    now = now or utcnow()
    if order.status is not OrderStatus.PAID:
        return
    freed = seats_of(order.tickets)
    _move(order, OrderStatus.REFUNDED, now)
    for ticket in order.tickets:
        ticket.cancelled_at = ticket.cancelled_at or now
    record(session, "order.refunded", object_type="order", object_id=order.id, code=order.code, **payment)
    free_seats(session, order.event, freed, now)


def approve_order(session: Session, organiser: User, order: Order, *, now: datetime | None = None) -> None:
    """A free order is confirmed (its tickets are mailed); a paid one waits for payment, and the buyer is told how
    to pay and by when."""
    now = now or utcnow()
    if order.total == 0:
        _move(order, OrderStatus.PAID, now)
        send_confirmation(session, order)
    else:
        _move(order, OrderStatus.PENDING, now)
        order.expires_at = now + timedelta(minutes=order.event.pending_order_minutes)
        _tell_buyer(session, order, "approved", _l("Your order for %(event)s is approved: please pay by %(when)s"),
                    provider=PROVIDERS[order.provider])
    record(session, "order.approved", actor_id=organiser.id, object_type="order", object_id=order.id,
           code=order.code)


def cancel_order(session: Session, actor: User, order: Order, *, now: datetime | None = None) -> None:
    """The organisers cancel an order, or refuse one waiting for their approval (the buyer is told): its seats are
    free at once."""
    now = now or utcnow()
    freed = seats_of(order.tickets)
    refused = order.status is OrderStatus.AWAITING_APPROVAL
    _move(order, OrderStatus.CANCELLED, now)
    for ticket in order.tickets:
        ticket.cancelled_at = ticket.cancelled_at or now
    record(session, "order.cancelled", actor_id=actor.id, object_type="order", object_id=order.id, code=order.code)
    if refused:
        _tell_buyer(session, order, "rejected", _l("Your order for %(event)s was not accepted"))
    free_seats(session, order.event, freed, now)


def _tell_buyer(session: Session, order: Order, decision: str, subject, **context) -> None:
    """The organisers' decision on an order waiting for their approval, mailed once in the buyer's language."""
    with force_locale(order.locale):
        event_name = localized(order.event, "name")
        subject = subject % {"event": event_name, "when": format_local_datetime(order.expires_at, "short")}
    queue_mail(session, key=f"order-{decision}:{order.id}", to=order.buyer.email, locale=order.locale,
               template="order_decision", subject=subject, decision=decision, order=order, event_name=event_name,
               link=absolute_url("events.order_detail", code=order.code), **context)


def _past_their_time(now: datetime):
    return (Order.status == OrderStatus.PENDING) & (Order.expires_at <= now)


def events_with_orders_past_their_time(session: Session, now: datetime) -> list[int]:
    """The events that have pending orders to expire (expire_pending_orders), in id order."""
    return list(session.scalars(
        select(Order.event_id).distinct().where(_past_their_time(now)).order_by(Order.event_id)))


def expire_pending_orders(session: Session, now: datetime | None = None, *, event_id: int | None = None,
                          skip_locked: bool = False) -> list[Order]:
    """Pending orders past their time (of one event, or of all) expire and give back their seats, which the waiting
    list is offered. With `skip_locked`, orders another transaction has locked are left to it."""
    now = now or utcnow()
    query = select(Order).where(_past_their_time(now))
    if event_id is not None:
        query = query.where(Order.event_id == event_id)
    due = session.scalars(query.order_by(Order.id).with_for_update(skip_locked=skip_locked)
                          .options(selectinload(Order.tickets).joinedload(Ticket.ticket_type)
                                   .selectinload(TicketType.quotas))).all()
    freed: dict[int, Counter] = {}
    for order in due:
        freed.setdefault(order.event_id, Counter()).update(seats_of(order.tickets))
        _move(order, OrderStatus.EXPIRED, now)
    for event in {order.event_id: order.event for order in due}.values():
        free_seats(session, event, freed[event.id], now)
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
    if ticket.order.buyer_id != user.id:
        raise PermissionDenied()
    # The order and its tickets locked and read again, as the organisers' actions lock the order: of several
    # cancels at once, one gives the seat back and the others find the ticket already cancelled.
    order = session.scalars(select(Order).where(Order.id == ticket.order_id).with_for_update()
                            .options(selectinload(Order.tickets)).execution_options(populate_existing=True)).one()
    if not ticket.may_cancel:
        raise Conflict(why_not_cancellable(ticket))
    freed = seats_of([ticket])
    ticket.cancelled_at = now
    if all(t.cancelled_at for t in order.tickets):
        _move(order, OrderStatus.CANCELLED, now)
    free_seats(session, order.event, freed, now)


# --- confirmation mail ----------------------------------------------------------------------

def _ticket_qr(session: Session, ticket_id: int) -> Attachment:
    ticket = session.get(Ticket, ticket_id)
    return Attachment(f"ve-{ticket.id}.png", "image/png", ticket_png(ticket))


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
