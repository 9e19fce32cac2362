from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from portal.db import utcnow
from portal.incubation.models import Call, CallStatus


def open_calls(session: Session, limit: int = 6) -> list[Call]:
    return list(session.scalars(
        select(Call)
        .options(joinedload(Call.programme))
        .where(Call.status == CallStatus.OPEN, Call.closes_at >= utcnow())
        .order_by(Call.closes_at)
        .limit(limit)
    ))


def all_calls(session: Session) -> list[Call]:
    return list(session.scalars(select(Call).options(joinedload(Call.programme)).order_by(Call.opens_at.desc())))
