"""The daily digest: each organiser and incubator manager gets, once a day in their language, what happened on the
portal the day before (Hanoi time) in what they run: new orders and booth applications of their events, applications
submitted to the calls, and what failed (mail given up, scheduled jobs). Nobody gets a mail about a quiet day."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.accounts.models import Role, User, UserRole
from portal.booths.models import BoothBooking
from portal.events.models import EventOrganiser, Order
from portal.i18n import HANOI
from portal.incubation.models import Application
from portal.notifications.models import JobOutcome, JobRun, OutboxMessage, OutboxStatus
from portal.notifications.services import absolute_url, queue_mail

#: the digest of a day goes out from this hour of the next morning, Hanoi time
SEND_FROM_HOUR = 7


@dataclass(frozen=True)
class Figures:
    orders: int = 0
    booth_applications: int = 0
    applications: int = 0
    mail_failed: int = 0
    jobs_failed: int = 0

    def __bool__(self) -> bool:
        return any(vars(self).values())


def day_to_report(now: datetime) -> date | None:
    """Yesterday in Hanoi, once this morning's sending hour has come; None before it."""
    local = now.astimezone(HANOI)
    return local.date() - timedelta(days=1) if local.hour >= SEND_FROM_HOUR else None


def _utc_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), tzinfo=HANOI).astimezone(UTC)
    return start, start + timedelta(days=1)


def _per_event(session: Session, column, event_column, start, end) -> Counter:
    return Counter(dict(session.execute(select(event_column, func.count()).where(column >= start, column < end)
                                        .group_by(event_column)).all()))


def figures_by_user(session: Session, day: date) -> dict[int, Figures]:
    """One query per kind of figure, whatever the number of people and events."""
    start, end = _utc_bounds(day)
    orders = _per_event(session, Order.created_at, Order.event_id, start, end)
    bookings = _per_event(session, BoothBooking.submitted_at, BoothBooking.event_id, start, end)
    applications = session.scalar(select(func.count()).where(Application.submitted_at >= start,
                                                             Application.submitted_at < end))
    # mail given up that day: its last attempt was then (a failed message's next attempt is its last one)
    mail_failed = session.scalar(select(func.count()).where(OutboxMessage.status == OutboxStatus.FAILED,
                                                            OutboxMessage.next_attempt_at >= start,
                                                            OutboxMessage.next_attempt_at < end))
    jobs_failed = session.scalar(select(func.count()).where(JobRun.outcome == JobOutcome.FAILED,
                                                            JobRun.started_at >= start, JobRun.started_at < end))
    teams: dict[int, list[int]] = {}
    for user_id, event_id in session.execute(select(EventOrganiser.user_id, EventOrganiser.event_id)):
        teams.setdefault(user_id, []).append(event_id)
    roles: dict[int, set[Role]] = {}
    for user_id, role in session.execute(select(UserRole.user_id, UserRole.role).where(
            UserRole.role.in_([Role.ORGANISER, Role.INCUBATOR_MANAGER]))):
        roles.setdefault(user_id, set()).add(role)
    figures = {}
    for user_id, held in roles.items():
        events = teams.get(user_id, []) if Role.ORGANISER in held else []
        figures[user_id] = Figures(
            orders=sum(orders[event] for event in events),
            booth_applications=sum(bookings[event] for event in events),
            applications=applications if Role.INCUBATOR_MANAGER in held else 0,
            mail_failed=mail_failed, jobs_failed=jobs_failed)
    return figures


def queue_digests(session: Session, now: datetime) -> int:
    """Queues the digests of the day before; a second run the same day queues nothing (the key holds the day)."""
    day = day_to_report(now)
    if day is None:
        return 0
    queued = 0
    figures = figures_by_user(session, day)
    users = session.scalars(select(User).where(User.id.in_(list(figures)), User.is_active.is_(True)))
    for user in users:
        mine = figures[user.id]
        if not mine:
            continue
        queued += queue_mail(session, key=f"digest:{user.id}:{day.isoformat()}", to=user.email, locale=user.locale,
                             template="daily_digest",
                             subject=_l("The portal yesterday, %(day)s", day=day.strftime("%d/%m/%Y")),
                             name=user.full_name, day=day, figures=mine, link=absolute_url("core.dashboard"))
    return queued
