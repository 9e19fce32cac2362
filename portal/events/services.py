from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.events.models import Event, EventStatus


def upcoming_published_events(session: Session, limit: int = 6) -> list[Event]:
    return list(session.scalars(
        select(Event)
        .where(Event.status == EventStatus.PUBLISHED, Event.ends_at >= utcnow())
        .order_by(Event.starts_at)
        .limit(limit)
    ))
