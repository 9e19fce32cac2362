"""What a dashboard starts with: the person's own current things (tickets, orders to pay, booths, organisations)
and, for each role, what waits for them. A fixed number of statements each, however many things there are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, contains_eager, joinedload, selectinload

from portal.accounts.models import Organisation, OrganisationMember, Role, User
from portal.booths.models import ACTIVE_STATUSES, BookingStatus, BoothBooking
from portal.events.models import Event, EventOrganiser, Order, OrderStatus, Ticket
from portal.mentoring.models import MentoringSession, MentorProfile
from portal.mentoring.sessions import HOLDING

#: how many upcoming tickets a dashboard lists before "all my tickets"
TICKETS_SHOWN = 6


@dataclass(frozen=True)
class MyThings:
    #: live tickets of paid orders for events not over yet, soonest first
    tickets: list[Ticket]
    #: orders still to pay, in time, or waiting for the organisers' approval
    open_orders: list[Order]
    #: booth bookings that hold their booth, for events not over yet
    bookings: list[BoothBooking]
    organisations: list[Organisation]

    def __bool__(self) -> bool:
        return bool(self.tickets or self.open_orders or self.bookings or self.organisations)


def my_things(session: Session, user: User, now: datetime) -> MyThings:
    tickets = session.scalars(
        select(Ticket).join(Ticket.order).join(Order.event)
        .where(Order.buyer_id == user.id, Order.status == OrderStatus.PAID, Ticket.cancelled_at.is_(None),
               Event.ends_at > now)
        .options(contains_eager(Ticket.order).contains_eager(Order.event), joinedload(Ticket.ticket_type))
        .order_by(Event.starts_at, Ticket.id).limit(TICKETS_SHOWN)).all()
    open_orders = session.scalars(
        select(Order).join(Order.event)
        .where(Order.buyer_id == user.id, Event.ends_at > now,
               (Order.status == OrderStatus.AWAITING_APPROVAL)
               | ((Order.status == OrderStatus.PENDING) & (Order.expires_at > now)))
        .options(contains_eager(Order.event)).order_by(Order.created_at.desc())).all()
    bookings = session.scalars(
        select(BoothBooking).join(BoothBooking.event)
        .where(BoothBooking.exhibitor_id == user.id, BoothBooking.status.in_(ACTIVE_STATUSES), Event.ends_at > now,
               (BoothBooking.status != BookingStatus.HELD) | (BoothBooking.hold_expires_at > now))
        .options(contains_eager(BoothBooking.event), joinedload(BoothBooking.booth))
        .order_by(Event.starts_at, BoothBooking.id)).all()
    organisations = session.scalars(
        select(Organisation).join(OrganisationMember).where(OrganisationMember.user_id == user.id)
        .options(joinedload(Organisation.startup_profile)).order_by(Organisation.name)).all()
    return MyThings(list(tickets), list(open_orders), list(bookings), list(organisations))


@dataclass(frozen=True)
class EventToRun:
    event: Event
    orders_to_approve: int
    booths_to_approve: int


def events_to_run(session: Session, user: User, now: datetime) -> list[EventToRun]:
    """The events the person organises (every event, for an admin) that are not over, soonest first, with what
    waits for their decision."""
    query = select(Event).where(Event.ends_at > now).order_by(Event.starts_at)
    if not user.has_role(Role.ADMIN):
        query = query.join(EventOrganiser).where(EventOrganiser.user_id == user.id)
    events = list(session.scalars(query))
    ids = [event.id for event in events]
    orders = dict(session.execute(
        select(Order.event_id, func.count()).where(Order.event_id.in_(ids),
                                                   Order.status == OrderStatus.AWAITING_APPROVAL)
        .group_by(Order.event_id)).all()) if ids else {}
    booths = dict(session.execute(
        select(BoothBooking.event_id, func.count()).where(BoothBooking.event_id.in_(ids),
                                                          BoothBooking.status == BookingStatus.AWAITING_APPROVAL)
        .group_by(BoothBooking.event_id)).all()) if ids else {}
    return [EventToRun(event, orders.get(event.id, 0), booths.get(event.id, 0)) for event in events]


def startup_sessions(session: Session, user: User, now: datetime) -> list[MentoringSession]:
    """The mentoring sessions booked for the person's startups, still to come."""
    return list(session.scalars(
        select(MentoringSession)
        .where(MentoringSession.organisation_id.in_(
            select(OrganisationMember.organisation_id).where(OrganisationMember.user_id == user.id)),
            MentoringSession.status.in_(HOLDING), MentoringSession.ends_at >= now)
        .options(selectinload(MentoringSession.mentor).selectinload(MentorProfile.user),
                 selectinload(MentoringSession.organisation))
        .order_by(MentoringSession.starts_at)))
