"""Events with ticket types and tickets in any order status, written straight to the database for tests
that start at the door (check-in) rather than at the till."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select

from portal.accounts.models import User
from portal.db import utcnow
from portal.events.models import (
    Event,
    EventOrganiser,
    EventStatus,
    Order,
    OrderStatus,
    Quota,
    Ticket,
    TicketType,
)
from portal.events.orders import expire_pending_orders, recount_quotas


def create_event(db, *, slug: str = "techfest-hanoi-2026", name_en: str = "TechFest Hanoi 2026",
                 name_vi: str = "TechFest Hà Nội 2026", team: tuple[User, ...] = (),
                 ticket_types: tuple[tuple[str, str, int], ...] = (("Visitor pass", "Vé khách tham quan", 0),),
                 quota_names: tuple[str, ...] = ("Day 1",), starts_in: timedelta = timedelta(days=30)) -> Event:
    """A published three-day event starting `starts_in` from now (a month ahead unless told); every ticket type
    counts against every quota (100 seats each)."""
    start = utcnow() + starts_in
    with db.transaction() as s:
        quotas = [Quota(name=name, size=100) for name in quota_names]
        event = Event(
            slug=slug, name_en=name_en, name_vi=name_vi, status=EventStatus.PUBLISHED,
            starts_at=start, ends_at=start + timedelta(days=2), quotas=quotas,
            ticket_types=[TicketType(name_en=en, name_vi=vi, price=price, position=i, quotas=quotas)
                          for i, (en, vi, price) in enumerate(ticket_types)],
            team=[EventOrganiser(user_id=member.id) for member in team],
        )
        s.add(event)
    return event


def add_ticket(db, event: Event, buyer: User, *, name: str = "Nguyễn Văn An", email: str = "an@example.vn",
               status: OrderStatus = OrderStatus.PAID, type_index: int = 0, cancelled: bool = False,
               expires_in: timedelta = timedelta(days=3)) -> Ticket:
    """One ticket in an order of its own with `status` (a pending order expires after `expires_in`); its quotas
    count it, as if it had been ordered."""
    ticket_type = event.ticket_types[type_index]
    now = utcnow()
    with db.transaction() as s:
        ticket = Ticket(ticket_type_id=ticket_type.id, price=ticket_type.price, code=secrets.token_urlsafe(32),
                        attendee_name=name, attendee_email=email, cancelled_at=now if cancelled else None)
        s.add(Order(
            code=secrets.token_hex(6).upper(), event_id=event.id, buyer_id=buyer.id, status=status,
            total=ticket_type.price, provider="free" if ticket_type.price == 0 else "manual", tickets=[ticket],
            paid_at=now if status is OrderStatus.PAID else None,
            expires_at=now + expires_in if status is OrderStatus.PENDING else None,
        ))
        s.flush()
        recount_quotas(s, s.scalars(select(Quota).where(Quota.event_id == event.id)).all())
    return ticket


def expire_order(db, order_id: int) -> None:
    """The pending order runs out unpaid and is released, giving its seats back, as the minute job does."""
    with db.transaction() as s:
        s.get(Order, order_id).expires_at = utcnow() - timedelta(seconds=1)
        expire_pending_orders(s)
