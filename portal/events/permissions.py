"""Who may manage an event: admins, and organisers who are on that event's team."""

from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import Role, User
from portal.db import db_session
from portal.errors import NotFound, PermissionDenied
from portal.events.models import Event, EventOrganiser


def can_manage_event(session: Session, user: User, event: Event) -> bool:
    if user.has_role(Role.ADMIN):
        return True
    if not user.has_role(Role.ORGANISER):
        return False
    return session.scalar(
        select(EventOrganiser.id).where(EventOrganiser.event_id == event.id, EventOrganiser.user_id == user.id)
    ) is not None


def managed_event(session: Session, user: User, event_id: int) -> Event:
    """The event if `user` may manage it; another organiser's event is refused (403), a missing one 404."""
    event = session.get(Event, event_id)
    if event is None:
        raise NotFound()
    if not can_manage_event(session, user, event):
        raise PermissionDenied()
    return event


def managed_event_or_abort(event_id: int) -> Event:
    """For views: the event the request's user may manage; otherwise the request ends with 403 or 404."""
    try:
        return managed_event(db_session(), current_user, event_id)
    except (NotFound, PermissionDenied) as error:
        abort(error.status_code)


def managed_events(session: Session, user: User) -> list[Event]:
    query = select(Event).order_by(Event.starts_at.desc())
    if not user.has_role(Role.ADMIN):
        query = query.join(EventOrganiser).where(EventOrganiser.user_id == user.id)
    return list(session.scalars(query))
