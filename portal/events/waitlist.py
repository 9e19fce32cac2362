"""The waiting list: sold-out ticket types queue people; freed seats are offered to them in turn.

An offer reserves one seat for `event.waitlist_offer_hours` (it holds a seat of its quotas' counters, as a ticket does)
and reaches its holder as a personal link whose token is stored only as a hash. Offers are made under the
same quota lock as orders (quota rows in id order), so two runs never hand one seat to two people.

Whatever frees seats announces it once (signals.seats_freed); the list listens and offers them in the same
transaction. Joining takes the same lock, so a seat freed while someone joins is either offered to them or
found free (and they are told to register).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, joinedload

from portal.accounts.models import User
from portal.accounts.services import normalise_email
from portal.audit.services import record
from portal.db import utcnow
from portal.errors import Conflict, DomainError, NotFound
from portal.events import orders
from portal.events.models import (
    Event,
    EventStatus,
    Order,
    Quota,
    TicketType,
    WaitingListEntry,
    WaitingListStatus,
)
from portal.events.signals import seats_freed
from portal.i18n import localized
from portal.notifications.services import absolute_url, queue_mail
from portal.payments.providers import MANUAL
from portal.security import new_token, token_digest


class AlreadyOnWaitingList(Conflict):
    default_message = _l("You are already on the waiting list for this ticket type.")


class SeatsAvailable(Conflict):
    default_message = _l("Seats are available for this ticket type: register for it instead of joining "
                         "the waiting list.")


class NoSeatToOffer(Conflict):
    default_message = _l("No seat is free for this ticket type. Raise its quota or wait for a cancellation.")


class OfferUnavailable(DomainError):
    """A personal link that cannot be used (any more)."""

    status_code = 410
    default_message = _l("This waiting-list link can no longer be used: it has already been used, its "
                         "reservation has run out, or the link is incomplete. You can join the waiting list again "
                         "from the event page.")



# --- joining --------------------------------------------------------------------------------

def join(session: Session, *, event: Event, ticket_type: TicketType, user: User, name: str, email: str,
         now: datetime | None = None) -> WaitingListEntry:
    """Puts a person at the end of a sold-out ticket type's waiting list."""
    now = now or utcnow()
    if event.status is not EventStatus.PUBLISHED:
        raise orders.OrderRefused(_l("Registration for this event is closed."))
    # The type's own rules (sale window, eligibility) apply to the waiting list as they do to an order.
    orders.check_ticket_type(session, event, ticket_type, 1, user, now)
    # Under the quota lock: a cancellation committing meanwhile either shows its seat free here, or offers it to
    # this entry once it is written (its offer waits for this lock).
    orders.lock_seats(session, event, now)
    if orders.availability(session, event, now)[ticket_type.id] > 0:
        raise SeatsAvailable()
    email = normalise_email(email)
    entry = session.scalar(select(WaitingListEntry).where(WaitingListEntry.ticket_type_id == ticket_type.id,
                                                          WaitingListEntry.email == email))
    if entry is not None:
        return _rejoin(entry, user=user, name=name, now=now)
    entry = WaitingListEntry(ticket_type_id=ticket_type.id, user_id=user.id, email=email, name=name.strip(),
                             locale=user.locale, created_at=now)
    try:
        with session.begin_nested():
            session.add(entry)
    except IntegrityError:
        # The same person joined from another tab a moment earlier.
        raise AlreadyOnWaitingList() from None
    return entry


def _rejoin(entry: WaitingListEntry, *, user: User, name: str, now: datetime) -> WaitingListEntry:
    """Someone whose offer ran out, or who left, may queue again, at the end; anyone else already has their place."""
    if entry.status is WaitingListStatus.REMOVED:
        raise Conflict(_l("The organisers have taken you off this waiting list. Please contact them."))
    if entry.status is WaitingListStatus.CONVERTED:
        raise Conflict(_l("You have already booked a ticket through this waiting list."))
    if entry.status not in (WaitingListStatus.LAPSED, WaitingListStatus.LEFT):
        raise AlreadyOnWaitingList()
    entry.status, entry.created_at = WaitingListStatus.WAITING, now
    entry.user_id, entry.name, entry.locale = user.id, name.strip(), user.locale
    entry.offered_at = entry.offer_expires_at = None
    return entry


# --- offering seats -------------------------------------------------------------------------

@dataclass
class _Room:
    """The event's quotas, locked, while offers are being handed out: each offer holds a seat of its type's."""

    quotas: dict[int, Quota]

    def for_type(self, ticket_type: TicketType) -> int:
        return min((self.quotas[q.id].size - self.quotas[q.id].held for q in ticket_type.quotas), default=0)

    def take(self, ticket_type: TicketType) -> None:
        for quota in ticket_type.quotas:
            self.quotas[quota.id].held += 1


def _make_offer(session: Session, entry: WaitingListEntry, event: Event, now: datetime) -> None:
    token = new_token()
    entry.status = WaitingListStatus.OFFERED
    entry.offer_token_hash = token_digest(token)
    entry.offered_at = now
    entry.offer_expires_at = now + timedelta(hours=event.waitlist_offer_hours)
    session.flush()
    with force_locale(entry.locale):
        subject = _l("A seat is waiting for you at %(event)s", event=localized(event, "name"))
    queue_mail(
        session,
        key=f"waitlist-offer:{entry.id}:{now.isoformat()}",
        to=entry.email,
        locale=entry.locale,
        template="waitlist_offer",
        subject=subject,
        entry=entry,
        event=event,
        ticket_type=entry.ticket_type,
        link=absolute_url("waitlist.offer", token=token),
    )


def offer_freed_seats(session: Session, event: Event, now: datetime | None = None) -> list[WaitingListEntry]:
    """Offers every free seat of the event to the people waiting longest, each for a ticket type that has room.

    Runs in the caller's write transaction and holds the quota lock until it commits, so concurrent runs and
    orders queue behind it instead of giving one seat twice."""
    now = now or utcnow()
    if event.status is not EventStatus.PUBLISHED:
        return []
    # Not lock_seats: what has lapsed is released by whoever sent seats_freed, or will be, offered then.
    room = _Room(orders.lock_quotas(session, [q.id for t in event.ticket_types for q in t.quotas]))
    types = {t.id: t for t in event.ticket_types if not t.sale_has_ended(now)}
    offered: list[WaitingListEntry] = []
    while True:
        free = {type_id: room.for_type(t) for type_id, t in types.items()}
        open_types = [type_id for type_id, seats in free.items() if seats > 0]
        if not open_types:
            return offered
        # No more offers than free seats can follow from one batch; the first of the batch always fits, so
        # each round offers at least one seat or finds nobody waiting.
        batch = session.scalars(
            select(WaitingListEntry)
            .where(WaitingListEntry.ticket_type_id.in_(open_types),
                   WaitingListEntry.status == WaitingListStatus.WAITING)
            .order_by(WaitingListEntry.created_at, WaitingListEntry.id)
            .limit(sum(free[type_id] for type_id in open_types))
            .with_for_update().execution_options(populate_existing=True)
        ).all()
        if not batch:
            return offered
        for entry in batch:
            ticket_type = types[entry.ticket_type_id]
            if room.for_type(ticket_type) > 0:
                _make_offer(session, entry, event, now)
                room.take(ticket_type)
                offered.append(entry)


def offer_by_hand(session: Session, organiser: User, event: Event, entry: WaitingListEntry, *,
                  now: datetime | None = None) -> None:
    """An organiser offers a free seat to this person, ahead of those who joined earlier."""
    now = now or utcnow()
    if event.status is not EventStatus.PUBLISHED:
        raise Conflict(_l("Registration for this event is closed."))
    # Quotas before the entry, in the order offer_freed_seats takes them, so the two never deadlock.
    room = _Room(orders.lock_seats(session, event, now))
    session.refresh(entry, with_for_update=True)
    if not entry.may_offer_by_hand:
        raise Conflict(_l("Only someone who is waiting, or whose offer ran out, can be offered a seat."))
    if room.for_type(entry.ticket_type) <= 0:
        raise NoSeatToOffer()
    _make_offer(session, entry, event, now)
    room.take(entry.ticket_type)
    record(session, "waitlist.offered_by_hand", actor_id=organiser.id, object_type="waiting_list_entry",
           object_id=entry.id, event_id=event.id, email=entry.email)


def remove(session: Session, organiser: User, event: Event, entry: WaitingListEntry, *,
           now: datetime | None = None) -> None:
    """Takes a person off the list; a seat they were offered goes to the next in line."""
    session.refresh(entry, with_for_update=True)
    if not entry.may_remove:
        raise Conflict(_l("This person has already used their offer or been removed."))
    had_offer = entry.status is WaitingListStatus.OFFERED
    entry.status, entry.offer_token_hash = WaitingListStatus.REMOVED, None
    record(session, "waitlist.removed", actor_id=organiser.id, object_type="waiting_list_entry",
           object_id=entry.id, event_id=event.id, email=entry.email)
    if had_offer:
        orders.free_seats(session, event, _seat_of(entry), now or utcnow())


def _past_their_time(now: datetime):
    return (WaitingListEntry.status == WaitingListStatus.OFFERED) & (WaitingListEntry.offer_expires_at <= now)


def events_with_offers_past_their_time(session: Session, now: datetime) -> list[int]:
    """The events that have offers to lapse (lapse_offers), in id order."""
    return list(session.scalars(select(TicketType.event_id).distinct().join(WaitingListEntry)
                                .where(_past_their_time(now)).order_by(TicketType.event_id)))


def _seat_of(entry: WaitingListEntry) -> Counter:
    """The seat an open offer holds in each quota of its type."""
    return Counter(quota.id for quota in entry.ticket_type.quotas)


def lapse_offers(session: Session, now: datetime | None = None, *, event_id: int | None = None,
                 skip_locked: bool = False) -> list[WaitingListEntry]:
    """Offers past their time (of one event, or of all) end and give back their seats, which go to the next
    people in line. With `skip_locked`, offers another transaction has locked are left to it."""
    now = now or utcnow()
    query = select(WaitingListEntry).where(_past_their_time(now))
    if event_id is not None:
        query = query.join(TicketType).where(TicketType.event_id == event_id)
    due = session.scalars(query.order_by(WaitingListEntry.id)
                          .with_for_update(of=WaitingListEntry, skip_locked=skip_locked)).all()
    freed: dict[int, Counter] = {}
    for entry in due:
        entry.status, entry.offer_token_hash = WaitingListStatus.LAPSED, None
        freed.setdefault(entry.ticket_type.event_id, Counter()).update(_seat_of(entry))
    for event in {entry.ticket_type.event_id: entry.ticket_type.event for entry in due}.values():
        orders.free_seats(session, event, freed[event.id], now)
    return list(due)


@seats_freed.connect
def _offer_freed_seats(event: Event, *, session: Session, now: datetime) -> None:
    offer_freed_seats(session, event, now)


# --- the person's own places ----------------------------------------------------------------

@dataclass(frozen=True)
class Place:
    entry: WaitingListEntry
    #: their turn among those waiting for the type (1 = the next seat freed is theirs); None once offered
    position: int | None
    #: how many are waiting for the type
    waiting: int


def places_of(session: Session, user: User, *, ticket_type_id: int | None = None) -> list[Place]:
    """The person's entries still in line (waiting, or holding an offer), of every type or of one, each with their
    position and the length of its line: one query, however many entries and people waiting."""
    ahead, line = aliased(WaitingListEntry), aliased(WaitingListEntry)
    waiting = WaitingListStatus.WAITING
    position = (select(func.count(ahead.id)).where(
        ahead.ticket_type_id == WaitingListEntry.ticket_type_id, ahead.status == waiting,
        or_(ahead.created_at < WaitingListEntry.created_at,
            and_(ahead.created_at == WaitingListEntry.created_at, ahead.id <= WaitingListEntry.id)))
        .scalar_subquery())
    length = (select(func.count(line.id))
              .where(line.ticket_type_id == WaitingListEntry.ticket_type_id, line.status == waiting)
              .scalar_subquery())
    query = (select(WaitingListEntry, position, length)
             .where(WaitingListEntry.user_id == user.id,
                    WaitingListEntry.status.in_((waiting, WaitingListStatus.OFFERED)))
             .options(joinedload(WaitingListEntry.ticket_type).joinedload(TicketType.event))
             .order_by(WaitingListEntry.created_at, WaitingListEntry.id))
    if ticket_type_id is not None:
        query = query.where(WaitingListEntry.ticket_type_id == ticket_type_id)
    return [Place(entry, place if entry.status is waiting else None, in_line)
            for entry, place, in_line in session.execute(query)]


def own_entry(session: Session, user: User, entry_id: int) -> WaitingListEntry:
    """One of the person's own entries (anybody else's is not found)."""
    entry = session.scalar(select(WaitingListEntry).where(WaitingListEntry.id == entry_id,
                                                          WaitingListEntry.user_id == user.id))
    if entry is None:
        raise NotFound()
    return entry


def leave(session: Session, user: User, entry: WaitingListEntry, *, now: datetime | None = None) -> bool:
    """Takes the person off the list at their request; a seat they were offered goes to the next in line. Whether
    they were in line: leaving twice (two tabs, a double click) changes nothing the second time."""
    session.refresh(entry, with_for_update=True)
    if entry.status is WaitingListStatus.CONVERTED:
        raise Conflict(_l("You booked a ticket through this waiting list: cancel the ticket instead."))
    if not entry.is_in_line:
        return False
    had_offer = entry.status is WaitingListStatus.OFFERED
    entry.status, entry.offer_token_hash = WaitingListStatus.LEFT, None
    record(session, "waitlist.left", actor_id=user.id, object_type="waiting_list_entry", object_id=entry.id,
           event_id=entry.ticket_type.event_id)
    if had_offer:
        orders.free_seats(session, entry.ticket_type.event, _seat_of(entry), now or utcnow())
    return True


# --- using an offer -------------------------------------------------------------------------

def find_offer(session: Session, token: str, *, now: datetime | None = None,
               for_update: bool = False) -> WaitingListEntry:
    """The open offer behind a personal link, found by the token's hash only."""
    now = now or utcnow()
    query = select(WaitingListEntry).where(WaitingListEntry.offer_token_hash == token_digest(token),
                                           WaitingListEntry.status == WaitingListStatus.OFFERED)
    # Locking the row makes a link used twice at the same moment give one ticket: the second request
    # waits here and then finds the offer converted.
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    entry = session.scalar(query)
    if entry is None:
        raise OfferUnavailable()
    if entry.offer_expires_at <= now:
        raise OfferUnavailable(_l("This offer ran out unused. The seat has passed to the next person on "
                                  "the waiting list; you can join the list again from the event page."))
    return entry


def accept_offer(session: Session, token: str, *, buyer: User, name: str, email: str, organisation: str,
                 answers: dict[int, object], provider_key: str = MANUAL.key, now: datetime | None = None) -> Order:
    """Turns an open offer into an order for its one ticket, paid through `provider_key` unless it is free;
    a link that cannot be used raises OfferUnavailable."""
    now = now or utcnow()
    entry = find_offer(session, token, now=now, for_update=True)
    event = orders.load_event_for_sale(session, entry.ticket_type.event.slug)
    attendee = orders.AttendeeInput(ticket_type_id=entry.ticket_type_id, name=name, email=email,
                                    organisation=organisation, answers=answers)
    return orders.place_order(session, event=event, buyer=buyer, attendees=[attendee], offer=entry,
                              provider_key=provider_key, now=now)


# --- the organisers' view -------------------------------------------------------------------

@dataclass
class ListedEntry:
    entry: WaitingListEntry
    #: place in the queue among those still waiting (1 = next to be offered), None for everyone else
    position: int | None


def entries_by_type(session: Session, event: Event) -> list[tuple[TicketType, list[ListedEntry]]]:
    """Each ticket type with its list: the waiting in queue order first, then everyone else. Two queries."""
    types = list(session.scalars(select(TicketType).where(TicketType.event_id == event.id)
                                 .order_by(TicketType.position, TicketType.id)))
    entries = session.scalars(
        select(WaitingListEntry).where(WaitingListEntry.ticket_type_id.in_([t.id for t in types]))
        .order_by(WaitingListEntry.created_at, WaitingListEntry.id)
    ).all()
    waiting: dict[int, list[ListedEntry]] = {t.id: [] for t in types}
    others: dict[int, list[ListedEntry]] = {t.id: [] for t in types}
    for entry in entries:
        if entry.status is WaitingListStatus.WAITING:
            queue = waiting[entry.ticket_type_id]
            queue.append(ListedEntry(entry, len(queue) + 1))
        else:
            others[entry.ticket_type_id].append(ListedEntry(entry, None))
    return [(t, waiting[t.id] + others[t.id]) for t in types]


def managed_entry(session: Session, event: Event, entry_id: int) -> WaitingListEntry:
    """An entry of this event's lists (another event's entry is not found)."""
    entry = session.scalar(
        select(WaitingListEntry).join(TicketType)
        .where(WaitingListEntry.id == entry_id, TicketType.event_id == event.id)
    )
    if entry is None:
        raise NotFound()
    return entry
