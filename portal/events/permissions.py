"""Who may manage an event: admins, and organisers who are on that event's team."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import Role, User
from portal.errors import NotFound, PermissionDenied
from portal.events.models import Event, EventOrganiser


def _on_team(session: Session, user: User, event_id: int) -> bool:
    return session.scalar(
        select(EventOrganiser.id).where(EventOrganiser.event_id == event_id, EventOrganiser.user_id == user.id)
    ) is not None


def can_manage_event(session: Session, user: User, event: Event) -> bool:
    if user.has_role(Role.ADMIN):
        return True
    return user.has_role(Role.ORGANISER) and _on_team(session, user, event.id)


def managed_event(session: Session, user: User, event_id: int) -> Event:
    """The event if `user` may manage it. Whoever is not on its team (nor an admin) is refused (403) before the
    event is looked up, so a missing event and another organiser's look the same; a missing one is 404 for admins."""
    if not user.has_role(Role.ADMIN) and not (user.has_role(Role.ORGANISER) and _on_team(session, user, event_id)):
        raise PermissionDenied()
    event = session.get(Event, event_id)
    if event is None:
        raise NotFound()
    return event


def managed_events(session: Session, user: User) -> list[Event]:
    query = select(Event).order_by(Event.starts_at.desc())
    if not user.has_role(Role.ADMIN):
        query = query.join(EventOrganiser).where(EventOrganiser.user_id == user.id)
    return list(session.scalars(query))
