from __future__ import annotations

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, selectinload

from portal.audit.models import AuditEntry


def record(
    session: Session,
    action: str,
    *,
    actor_id: int | None = None,
    object_type: str | None = None,
    object_id: int | str | None = None,
    ip_address: str | None = None,
    **details,
) -> None:
    """Writes an audit entry in the caller's transaction, so it commits or rolls back with the change. One INSERT
    built once, not an ORM object: payments and orders write one per change, and the ORM's flush of it cost more."""
    session.execute(_INSERT_ENTRY, {
        "action": action, "actor_id": actor_id, "object_type": object_type,
        "object_id": None if object_id is None else str(object_id), "ip_address": ip_address, "details": details,
    })


_INSERT_ENTRY = insert(AuditEntry.__table__)


def list_entries(
    session: Session, *, action_prefix: str | None = None, page: int = 1, per_page: int = 50
) -> tuple[list[AuditEntry], int]:
    query = select(AuditEntry)
    if action_prefix:
        query = query.where(AuditEntry.action.startswith(action_prefix, autoescape=True))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    entries = session.scalars(
        query.options(selectinload(AuditEntry.actor))
        .order_by(AuditEntry.occurred_at.desc(), AuditEntry.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return list(entries), total or 0
