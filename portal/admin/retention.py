"""What the portal stops keeping: links (tokens) that expired, sessions that ended, the text of mail delivered or
cancelled and the record of scheduler runs, each past RETENTION_DAYS. Every clean-up is in the audit log with its
counts.

A delivered message's row stays, emptied of its text and address: its idempotency key keeps answering "queued
before", so a reminder or a letter queued again after the clean-up is still not sent twice."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlalchemy.orm import Session

from portal.accounts.models import AuthSession, AuthToken
from portal.audit.services import record
from portal.notifications.models import JobRun, OutboxMessage, OutboxStatus

#: what an emptied message shows instead of its text
REMOVED = "—"


def clean_up(session: Session, now: datetime, retention_days: int) -> dict[str, int]:
    cutoff = now - timedelta(days=retention_days)
    counts = {
        # a link past its expiry opens nothing, used or not
        "tokens": session.execute(delete(AuthToken).where(AuthToken.expires_at < now)).rowcount,
        "sessions": session.execute(delete(AuthSession).where(
            or_(AuthSession.expires_at < cutoff, AuthSession.revoked_at < cutoff))).rowcount,
        "mail": session.execute(
            update(OutboxMessage)
            .where(or_(OutboxMessage.sent_at < cutoff,
                       (OutboxMessage.status == OutboxStatus.CANCELLED) & (OutboxMessage.created_at < cutoff)),
                   OutboxMessage.body_text != REMOVED)
            .values(to_address=REMOVED, body_text=REMOVED, body_html=REMOVED, attachments=[], compose=None)
            .execution_options(synchronize_session=False)).rowcount,
        "job_runs": session.execute(delete(JobRun).where(JobRun.started_at < cutoff)).rowcount,
    }
    if any(counts.values()):
        record(session, "retention.cleaned", retention_days=retention_days, **counts)
    return counts
