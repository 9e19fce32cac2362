"""The demo's calendar. Its dates were written on 23 November 2026 for a TechFest on 10–12 December 2026; loaded
later, every one of them moves forward by the same whole number of weeks, so the demo shows events still to come on
the same weekdays, booth selection open and a call taking applications on whatever day `make run` loads it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from portal.db import utcnow
from portal.i18n import HANOI, hanoi_date

#: the day the demo's dates were written for
WRITTEN_ON = date(2026, 11, 23)


def demo_shift(now: datetime) -> timedelta:
    """How far the demo's dates move when loaded at `now`: the weeks since WRITTEN_ON, a started week counting."""
    days = (hanoi_date(now) - WRITTEN_ON).days
    return timedelta(weeks=max(0, -(-days // 7)))


def demo_moment(month: int, day: int, hour: int, minute: int = 0, *, year: int = 2026,
                now: datetime | None = None) -> datetime:
    """A moment of the demo's plan, written as Hanoi wall time, on the calendar of the day it is loaded; in UTC."""
    planned = datetime(year, month, day, hour, minute, tzinfo=HANOI)
    return (planned + demo_shift(now or utcnow())).astimezone(UTC)
