"""Organisers run their events: details and cover image, team, programme, ticket types, quotas, questions and
the orders that come in. Every change is audited; access is checked by the callers through permissions.py."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import Select, func, inspect, or_, select
from sqlalchemy.orm import Session, selectinload
from werkzeug.datastructures import FileStorage

from portal import uploads
from portal.accounts.models import Role, User
from portal.accounts.services import find_user_by_email
from portal.audit.services import record
from portal.db import utcnow
from portal.errors import Conflict, Invalid, NotFound
from portal.events import options, orders
from portal.events.models import (
    Event,
    EventOrganiser,
    Order,
    OrderStatus,
    ProgrammeItem,
    Question,
    QuestionKind,
    Quota,
    Ticket,
    TicketKind,
    TicketType,
)
from portal.events.signals import seats_freed
from portal.i18n import format_local_datetime, localized
from portal.reminders.rules import create_default_rules
from portal.search import matches


def _assign(item, data: dict) -> None:
    """Copies form data onto a model's own columns; keys, event and relationships are never set this way."""
    columns = {column.key for column in item.__table__.columns} - {"id", "event_id"}
    for name, value in data.items():
        if name not in columns:
            raise TypeError(f"{type(item).__name__} has no editable column {name!r}")
        setattr(item, name, value)


# --- events ---------------------------------------------------------------------------------

def slugify(text: str) -> str:
    # NFKD splits "ư" into "u" + a mark but leaves "đ" whole, so it is spelled out first.
    plain = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    ascii_text = plain.encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:70].strip("-") or "event"


def unique_slug(session: Session, name: str) -> str:
    base = slugify(name)
    taken = set(session.scalars(select(Event.slug).where(
        (Event.slug == base) | Event.slug.like(f"{base}-%"))))
    slug, number = base, 1
    while slug in taken:
        number += 1
        slug = f"{base}-{number}"
    return slug


def create_event(session: Session, creator: User, data: dict, *, cover: FileStorage | None,
                 upload_folder: Path) -> Event:
    """A new event with its creator on the team; the web address comes from the English name."""
    event = Event(slug=unique_slug(session, data["name_en"]))
    _assign(event, data)
    if cover:
        _change_cover(session, event, upload_folder, store_cover_image(cover, upload_folder))
    event.team.append(EventOrganiser(user=creator))
    session.add(event)
    session.flush()
    create_default_rules(session, "event", event.id)
    record(session, "event.created", actor_id=creator.id, object_type="event", object_id=event.id, slug=event.slug)
    return event


def update_event(session: Session, actor: User, event: Event, data: dict, *, cover: FileStorage | None,
                 upload_folder: Path, remove_cover: bool = False, move_programme: bool = False) -> None:
    """Keeps the web address: links to the event have already been shared. A new cover replaces the old one
    (`remove_cover` is then ignored). With `move_programme` every programme item moves as far as the start; either
    way the programme must still fit the event's dates."""
    if move_programme:
        shift = data["starts_at"] - event.starts_at
        for item in event.programme:
            item.starts_at, item.ends_at = item.starts_at + shift, item.ends_at + shift
    _assign(event, data)
    _check_programme_fits(event)
    if cover:
        _change_cover(session, event, upload_folder, store_cover_image(cover, upload_folder))
    elif remove_cover:
        _change_cover(session, event, upload_folder, None)
    record(session, "event.updated", actor_id=actor.id, object_type="event", object_id=event.id)
    # published again, or its end moved later: seats freed meanwhile may be offered now
    seats_freed.send(event, session=session, now=utcnow())


#: how many programme items a refused date change names before saying how many more there are
ITEMS_NAMED = 5


def _outside(event: Event, starts_at: datetime, ends_at: datetime) -> bool:
    return starts_at < event.starts_at or ends_at > event.ends_at


def _check_programme_fits(event: Event) -> None:
    """Refuses dates that would leave programme items outside the event, naming them."""
    outside = [item for item in event.programme if _outside(event, item.starts_at, item.ends_at)]
    if not outside:
        return
    names = [_l("%(title)s (%(start)s – %(end)s)", title=localized(item, "title"),
                start=format_local_datetime(item.starts_at, "short"), end=format_local_datetime(item.ends_at, "short"))
             for item in outside[:ITEMS_NAMED]]
    if len(outside) > ITEMS_NAMED:
        names.append(_l("and %(count)d more", count=len(outside) - ITEMS_NAMED))
    too_early = any(item.starts_at < event.starts_at for item in outside)
    raise Invalid(_l("These programme items would fall outside the new dates: %(items)s. Move or delete them first, "
                     "or choose dates that include them.", items="; ".join(str(name) for name in names)),
                  "starts_at" if too_early else "ends_at")


# --- cover images ---------------------------------------------------------------------------

MAX_COVER_BYTES = 2 * 1024 * 1024
COVER_NAME = re.compile(r"[0-9a-f]{32}\.(png|jpg|webp)")


def _change_cover(session: Session, event: Event, folder: Path, name: str | None) -> None:
    """Points the event at its new cover file (None: no cover). Files do not roll back, so the old one is deleted
    only once the change has committed, and the new one if the change never commits."""
    if inspect(event).persistent:
        # Locks the event's row, so two organisers replacing the cover at once each delete the one they replace.
        session.refresh(event, ["cover_image"], with_for_update=True)
    replaced, event.cover_image = event.cover_image, name
    uploads.replace_after_commit(session, folder, replaced, name)


def store_cover_image(upload: FileStorage, folder: Path) -> str:
    return uploads.store_image(
        upload, folder, limit=MAX_COVER_BYTES, field="cover",
        too_big=_l("The cover image is larger than 2 MB. Make it smaller and upload it again."),
        not_a_picture=_l("The cover image must be a PNG, JPEG or WebP picture."))


# --- team -----------------------------------------------------------------------------------

def team_of(session: Session, event: Event) -> list[EventOrganiser]:
    return list(session.scalars(
        select(EventOrganiser).where(EventOrganiser.event_id == event.id)
        .options(selectinload(EventOrganiser.user)).order_by(EventOrganiser.id)
    ))


def add_team_member(session: Session, actor: User, event: Event, email: str) -> User:
    user = find_user_by_email(session, email)
    if user is None or not user.has_role(Role.ORGANISER):
        raise Invalid(_l("No organiser uses this e-mail address. An administrator must give them the organiser "
                         "role first."), "email")
    if any(member.user_id == user.id for member in event.team):
        raise Conflict(_l("%(name)s is already on the team.", name=user.full_name))
    event.team.append(EventOrganiser(user=user))
    session.flush()
    record(session, "event.team_member_added", actor_id=actor.id, object_type="event", object_id=event.id,
           member_id=user.id)
    return user


def remove_team_member(session: Session, actor: User, event: Event, user_id: int) -> None:
    member = next((m for m in event.team if m.user_id == user_id), None)
    if member is None:
        raise NotFound()
    if user_id == actor.id and len(event.team) == 1:
        raise Conflict(_l("You are the last organiser of this event. Add someone else before leaving the team."))
    event.team.remove(member)
    session.flush()
    record(session, "event.team_member_removed", actor_id=actor.id, object_type="event", object_id=event.id,
           member_id=user_id)


# --- programme, ticket types, quotas, questions ----------------------------------------------

def _check_programme_item(session: Session, event: Event, data: dict, item: ProgrammeItem | None) -> dict:
    if _outside(event, data["starts_at"], data["ends_at"]):
        raise Invalid(_l("The programme item must take place during the event (%(start)s – %(end)s).",
                         start=format_local_datetime(event.starts_at, "short"),
                         end=format_local_datetime(event.ends_at, "short")), "starts_at")
    return {}


def _check_quota(session: Session, event: Event, data: dict, item: Quota | None) -> dict:
    """Turns the chosen ticket-type ids into the event's own ticket types (a tampered id is refused), and counts
    the seats their tickets and offers hold, which the size may not go below."""
    own = {t.id: t for t in event.ticket_types}
    chosen = data.pop("ticket_types")
    if not set(chosen) <= set(own):
        raise Invalid(_l("Choose ticket types of this event."), "ticket_types")
    # Every quota of the event locked, so no order of a chosen type takes a seat between the count and the save.
    orders.lock_quotas(session, [q.id for q in event.quotas])
    held = sum(orders.seats_held_counted(session, chosen).values())
    if data["size"] < held:
        raise Invalid(lazy_ngettext(
            "%(num)d seat of these ticket types is already taken, so the quota cannot be smaller.",
            "%(num)d seats of these ticket types are already taken, so the quota cannot be smaller.", held), "size")
    return {"ticket_types": [own[type_id] for type_id in chosen], "held": held}


def _answers_to(question: Question) -> Select:
    """The answers tickets hold for `question`, as text, leaving out those left blank."""
    answer = Ticket.answers[str(question.id)].as_string()
    return (select(answer).join(Order, Order.id == Ticket.order_id)
            .where(Order.event_id == question.event_id, answer.is_not(None)))


def _check_question(session: Session, event: Event, data: dict, item: Question | None) -> dict:
    """Answers already given keep their meaning: the kind of an answered question stays, and options keep their
    keys (options.py)."""
    if item is not None and data["kind"] is not item.kind and session.scalar(_answers_to(item).limit(1)) is not None:
        raise Invalid(_l("People have already answered this question, so its kind of answer cannot change. "
                         "Add a new question instead."), "kind")
    if data["kind"] is QuestionKind.CHOICE:
        answered = {str(key) for key in session.scalars(_answers_to(item).distinct())} if item is not None else set()
        data["options"] = options.revise(item.options if item is not None else [], data["options"], answered)
    else:
        # Options only mean something for a choice; keeping stale ones would show up in exports.
        data["options"] = []
    return {}


def _no_rule(session: Session, event: Event, data: dict, item) -> dict:
    return {}


@dataclass(frozen=True)
class Part:
    #: its name in the audit log
    name: str
    #: the rule its data must follow (the item is None for a new one); it may adjust the data and returns the
    #: relationships (and counters) to set
    check: Callable[[Session, Event, dict, object], dict]
    order_by: tuple
    #: what its list page shows of it, loaded with the list
    eager: tuple = ()
    #: which rows of the table organisers manage here
    scope: tuple = ()


PARTS = {
    ProgrammeItem: Part("programme_item", _check_programme_item, (ProgrammeItem.starts_at, ProgrammeItem.id)),
    # Exhibitor badge types are issued with booths (portal/booths), never edited or sold here.
    TicketType: Part("ticket_type", _no_rule, (TicketType.position, TicketType.id),
                     (selectinload(TicketType.quotas),), (TicketType.kind == TicketKind.PUBLIC,)),
    Quota: Part("quota", _check_quota, (Quota.id,), (selectinload(Quota.ticket_types),)),
    Question: Part("question", _check_question, (Question.position, Question.id)),
}


def parts_of(session: Session, event: Event, model: type) -> list:
    part = PARTS[model]
    return list(session.scalars(
        select(model).where(model.event_id == event.id, *part.scope).options(*part.eager).order_by(*part.order_by)))


def get_part(session: Session, event: Event, model: type, item_id: int):
    """A programme item, ticket type, quota or question of this event; another event's is not found."""
    item = session.scalar(select(model).where(model.id == item_id, model.event_id == event.id, *PARTS[model].scope))
    if item is None:
        raise NotFound()
    return item


def save_part(session: Session, actor: User, event: Event, model: type, data: dict, item=None):
    """Creates (item None) or updates a part of the event. A quota or ticket type changed may free seats (a quota
    raised, a sale extended), which go to the waiting list at once."""
    part = PARTS[model]
    data = dict(data)
    relationships = part.check(session, event, data, item)
    action = "updated" if item is not None else "created"
    if item is None:
        item = model(event_id=event.id)
        session.add(item)
    _assign(item, data)
    for relationship, value in relationships.items():
        setattr(item, relationship, value)
    session.flush()
    record(session, f"event.{part.name}_{action}", actor_id=actor.id, object_type=part.name, object_id=item.id,
           event_id=event.id)
    if model in (Quota, TicketType):
        seats_freed.send(event, session=session, now=utcnow())
    return item


def delete_part(session: Session, actor: User, event: Event, item) -> None:
    name = PARTS[type(item)].name
    if isinstance(item, TicketType) and session.scalar(
            select(Ticket.id).where(Ticket.ticket_type_id == item.id).limit(1)) is not None:
        raise Conflict(_l("Tickets of this type have been ordered, so it cannot be deleted. End its sale instead."))
    session.delete(item)
    session.flush()
    if isinstance(item, TicketType):
        # the type's open offers went with it (its tickets would have stopped the deletion)
        orders.recount_quotas(session, event.quotas)
    record(session, f"event.{name}_deleted", actor_id=actor.id, object_type=name, object_id=item.id,
           event_id=event.id)


# --- orders ---------------------------------------------------------------------------------

ORDERS_PER_PAGE = 25


def list_orders(session: Session, event: Event, *, status: OrderStatus | None = None, search: str = "",
                page: int = 1) -> tuple[list[Order], int]:
    """One page of the event's orders, newest first, with buyers and tickets: three queries whatever the page.
    `search` finds an order by its code, or by its buyer's or an attendee's name or e-mail (any case or accents)."""
    query = select(Order).where(Order.event_id == event.id)
    if status is not None:
        query = query.where(Order.status == status)
    if search:
        query = query.where(or_(Order.code == search.upper(), Order.buyer.has(matches(User.search_text, search)),
                                Order.tickets.any(matches(Ticket.search_text, search))))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page_of_orders = session.scalars(
        query.options(selectinload(Order.buyer), selectinload(Order.tickets))
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(ORDERS_PER_PAGE).offset((page - 1) * ORDERS_PER_PAGE)
    ).all()
    return list(page_of_orders), total


@dataclass(frozen=True)
class OrderAction:
    #: the lifecycle step
    step: Callable
    #: the statuses in which the orders list offers it
    offered_in: frozenset[OrderStatus]
    #: the statuses in which it has already been done (a second click changes nothing)
    done_in: frozenset[OrderStatus]


ORDER_ACTIONS = {
    "mark-paid": OrderAction(orders.mark_paid, frozenset({OrderStatus.PENDING}), frozenset({OrderStatus.PAID})),
    "approve": OrderAction(orders.approve_order, frozenset({OrderStatus.AWAITING_APPROVAL}),
                           frozenset({OrderStatus.PENDING, OrderStatus.PAID})),
    # refusing an order waiting for approval is cancelling it
    "cancel": OrderAction(orders.cancel_order,
                          frozenset({OrderStatus.AWAITING_APPROVAL, OrderStatus.PENDING, OrderStatus.PAID}),
                          frozenset({OrderStatus.CANCELLED})),
}


def actions_for(order: Order) -> list[str]:
    """The actions organisers may take on the order as it stands, in the order the list shows them."""
    return [key for key, action in ORDER_ACTIONS.items() if order.status in action.offered_in]


def act_on_order(session: Session, organiser: User, event: Event, order_id: int, action: str) -> tuple[Order, bool]:
    """Runs an organiser's action on an order; False when it had already been done (a double click).

    The order row is locked first, so two clicks arriving together run one after the other."""
    step, done_statuses = ORDER_ACTIONS[action].step, ORDER_ACTIONS[action].done_in
    order = session.scalar(
        select(Order).where(Order.id == order_id, Order.event_id == event.id).with_for_update()
        .execution_options(populate_existing=True)
    )
    if order is None:
        raise NotFound()
    if order.status in done_statuses:
        return order, False
    step(session, organiser, order)
    return order, True
