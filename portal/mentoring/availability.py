"""Free slots, computed from a mentor's weekly hours and date overrides (in the mentor's own time zone), minus what is
booked (with its buffer), inside the minimum notice, under the limits per day and per week. Nothing is stored: the
slots are UTC instants, shown in each viewer's zone by the pages.

A local time that does not exist on a day clocks jump forward is read as the first instant after the jump; one that
happens twice when they go back is the first of the two: Python's zoneinfo does both with fold=0."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Rules:
    """What the computation needs of a mentor, as plain values."""

    timezone: str
    #: weekday (0 = Monday) → [(start, end)] local times
    weekly: dict[int, list[tuple[time, time]]]
    #: local date → [(start, end)] hours of that day instead of the week's; [] for a day off
    overrides: dict[date, list[tuple[time, time]]]
    buffer: timedelta
    notice: timedelta
    per_day: int
    per_week: int


@dataclass(frozen=True)
class Booked:
    starts_at: datetime
    blocked_until: datetime  # the end plus the buffer


def rules_of(profile) -> Rules:
    weekly: dict[int, list[tuple[time, time]]] = {}
    for hours in profile.weekly_hours:
        weekly.setdefault(hours.weekday, []).append((hours.starts, hours.ends))
    overrides: dict[date, list[tuple[time, time]]] = {}
    for override in profile.overrides:
        day = overrides.setdefault(override.day, [])
        if override.starts is not None:
            day.append((override.starts, override.ends))
    return Rules(timezone=profile.timezone, weekly=weekly, overrides=overrides,
                 buffer=timedelta(minutes=profile.buffer_minutes), notice=timedelta(hours=profile.minimum_notice_hours),
                 per_day=profile.sessions_per_day, per_week=profile.sessions_per_week)


def free_slots(rules: Rules, booked: Iterable[Booked], length: timedelta, now: datetime,
               days: int = 90) -> list[datetime]:
    """The UTC starts of every free slot of `length` from now for `days` days, in order."""
    zone = ZoneInfo(rules.timezone)
    busy = sorted(booked, key=lambda b: b.starts_at)
    starts = [b.starts_at for b in busy]
    reach = list(itertools.accumulate((b.blocked_until for b in busy), max))
    per_day, per_week = _counts(busy, zone)
    earliest = now + rules.notice
    today = now.astimezone(zone).date()
    slots = []
    for offset in range(days + 1):
        day = today + timedelta(days=offset)
        if per_day.get(day, 0) >= rules.per_day or per_week.get(_week(day), 0) >= rules.per_week:
            continue
        for opens, closes in rules.overrides.get(day, rules.weekly.get(day.weekday(), [])):
            start = datetime.combine(day, opens, tzinfo=zone).astimezone(UTC)
            end = datetime.combine(day, closes, tzinfo=zone).astimezone(UTC)
            while start + length <= end:
                if start >= earliest and not _overlaps(starts, reach, start, start + length + rules.buffer):
                    slots.append(start)
                start += length
    return slots


def _overlaps(starts: list[datetime], reach: list[datetime], begin: datetime, until: datetime) -> bool:
    """Whether [begin, until) meets a booked [start, blocked_until): of the sessions starting before `until`, the
    furthest any reaches (`reach`, a running maximum) must stay at or before `begin`."""
    position = bisect.bisect_left(starts, until)
    return position > 0 and reach[position - 1] > begin


def _counts(busy: list[Booked], zone: ZoneInfo) -> tuple[dict[date, int], dict[tuple[int, int], int]]:
    per_day: dict[date, int] = {}
    per_week: dict[tuple[int, int], int] = {}
    for booked in busy:
        day = booked.starts_at.astimezone(zone).date()
        per_day[day] = per_day.get(day, 0) + 1
        per_week[_week(day)] = per_week.get(_week(day), 0) + 1
    return per_day, per_week


def _week(day: date) -> tuple[int, int]:
    year, week, _weekday = day.isocalendar()
    return year, week


def is_free(rules: Rules, booked: Iterable[Booked], length: timedelta, start: datetime, now: datetime) -> bool:
    """Whether `start` is one of the free slots (the check a booking makes just before it writes)."""
    zone = ZoneInfo(rules.timezone)
    days = (start.astimezone(zone).date() - now.astimezone(zone).date()).days
    if days < 0:
        return False
    return start in free_slots(rules, booked, length, now, days=days)
