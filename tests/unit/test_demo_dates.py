"""The demo never goes stale: loaded on any day, TechFest and Techmart are still to come (on their planned weekdays),
booth selection and the incubator's call are open, and the closed call is over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from portal import demo_calendar as dates
from portal.booths.models import BoothSaleSettings
from portal.demo import load_demo
from portal.events.models import Event
from portal.i18n import HANOI
from portal.incubation.models import Call


@pytest.mark.parametrize(("now", "weeks"), [
    (datetime(2026, 11, 20, 9, tzinfo=UTC), 0),  # before the day they were written for: as written
    (datetime(2026, 11, 23, 9, tzinfo=UTC), 0),
    (datetime(2026, 11, 23, 17, 30, tzinfo=UTC), 1),  # already 24 November in Hanoi
    (datetime(2026, 12, 7, 5, tzinfo=UTC), 2),
    (datetime(2026, 12, 8, 5, tzinfo=UTC), 3),
])
def test_the_demo_dates_move_by_the_weeks_begun_since_they_were_written(now, weeks):
    assert dates.demo_shift(now) == timedelta(weeks=weeks)
    moved = dates.demo_moment(12, 10, 8, now=now).astimezone(HANOI)
    assert (moved.weekday(), moved.hour) == (datetime(2026, 12, 10).weekday(), 8)
    assert moved.date() == (datetime(2026, 12, 10) + timedelta(weeks=weeks)).date()


@pytest.mark.parametrize("days_later", [0, 30, 400])
def test_the_demo_loaded_on_any_day_has_events_to_come_and_open_selection_and_call(app, db, monkeypatch, days_later):
    loaded_at = datetime.now(UTC) + timedelta(days=days_later)
    monkeypatch.setattr(dates, "utcnow", lambda: loaded_at)
    load_demo(app)
    with db.session_factory() as s:
        techfest, techmart = (s.scalar(select(Event).where(Event.slug == slug))
                              for slug in ("techfest-hanoi-2026", "techmart-hanoi-2026"))
        assert loaded_at < techfest.starts_at < techfest.ends_at < techmart.starts_at
        assert techfest.starts_at.astimezone(HANOI).strftime("%A %H:%M") == "Thursday 08:00"
        assert all(techfest.starts_at <= item.starts_at < item.ends_at <= techfest.ends_at
                   for item in techfest.programme)
        selection = s.get(BoothSaleSettings, techfest.id)
        assert selection.selection_opens_at < loaded_at < selection.selection_closes_at < techfest.starts_at
        open_call, closed_call = (s.scalar(select(Call).where(Call.slug == slug))
                                  for slug in ("uom-tao-2027-dot-1", "tang-toc-2026"))
        assert open_call.opens_at < loaded_at < open_call.closes_at
        assert closed_call.closes_at < loaded_at
