from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from portal.accounts.models import OrganisationMember, User
from portal.db import utcnow
from portal.incubation.models import Application, Call, CallStatus


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


def applications_of(session: Session, user: User) -> list[Application]:
    """The applications of every organisation the person belongs to, newest first."""
    return list(session.scalars(
        select(Application).join(OrganisationMember, OrganisationMember.organisation_id == Application.organisation_id)
        .where(OrganisationMember.user_id == user.id)
        .options(selectinload(Application.call), selectinload(Application.organisation))
        .order_by(Application.created_at.desc())))
