from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.accounts.models import User, UserRole
from portal.audit.services import list_entries
from portal.notifications.models import OutboxMessage
from portal.search import matches

PER_PAGE = 50


def site_overview(session: Session) -> dict:
    users_total, users_verified = session.execute(
        select(func.count(User.id), func.count(User.email_verified_at))
    ).one()
    roles = dict(session.execute(select(UserRole.role, func.count()).group_by(UserRole.role)).all())
    mail = dict(session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
    recent, _ = list_entries(session, per_page=10)
    return {"users_total": users_total, "users_verified": users_verified, "roles": roles, "mail": mail,
            "recent_audit": recent}


def search_users(session: Session, query: str = "", page: int = 1) -> tuple[list[User], int]:
    stmt = select(User)
    if query.strip():
        stmt = stmt.where(matches(User.search_text, query))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    users = session.scalars(stmt.order_by(User.created_at.desc(), User.id.desc())
                            .limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    return list(users), total


def list_mail(session: Session, page: int = 1) -> tuple[list[OutboxMessage], int]:
    total = session.scalar(select(func.count(OutboxMessage.id))) or 0
    messages = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())
                               .limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    return list(messages), total
