"""Free slots against cases worked out by hand: weekly hours in the mentor's zone, overrides, buffers, notice, limits,
and daylight-saving changes where the mentor (Berlin) and the startup (Hanoi, no DST) are in different zones."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from portal.mentoring.availability import Booked, Rules, free_slots, is_free

HOUR = timedelta(hours=1)
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


def rules(zone="Asia/Ho_Chi_Minh", weekly=None, overrides=None, buffer=0, notice=0, per_day=10, per_week=50):
    return Rules(timezone=zone, weekly=weekly or {}, overrides=overrides or {}, buffer=timedelta(minutes=buffer),
                 notice=timedelta(hours=notice), per_day=per_day, per_week=per_week)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_berlin_mentors_monday_morning_moves_an_hour_earlier_in_utc_and_in_hanoi_after_the_clocks_change():
    monday_morning = rules("Europe/Berlin", weekly={0: [(time(9), time(12))]})
    slots = free_slots(monday_morning, [], HOUR, now=utc(2027, 3, 21, 12), days=9)
    # 22 March: CET (UTC+1); 29 March: CEST (UTC+2), the clocks went forward on Sunday 28 March
    assert slots == [utc(2027, 3, 22, 8), utc(2027, 3, 22, 9), utc(2027, 3, 22, 10),
                     utc(2027, 3, 29, 7), utc(2027, 3, 29, 8), utc(2027, 3, 29, 9)]
    # a startup in Hanoi (UTC+7 all year) sees 15:00, 16:00, 17:00, then 14:00, 15:00, 16:00
    assert [s.astimezone(HANOI).hour for s in slots] == [15, 16, 17, 14, 15, 16]


def test_hours_that_start_inside_the_skipped_hour_begin_when_the_clock_resumes():
    # Sunday 28 March 2027 in Berlin: 02:00 becomes 03:00; hours written 02:30–04:30 hold one hour, 03:30–04:30 CEST
    sunday = rules("Europe/Berlin", weekly={6: [(time(2, 30), time(4, 30))]})
    assert free_slots(sunday, [], HOUR, now=utc(2027, 3, 27), days=1) == [utc(2027, 3, 28, 1, 30)]


def test_the_hour_that_happens_twice_in_autumn_counts_once():
    # Sunday 31 October 2027 in Berlin: 03:00 CEST becomes 02:00 CET; hours 01:00–04:00 last four real hours
    sunday = rules("Europe/Berlin", weekly={6: [(time(1), time(4))]})
    slots = free_slots(sunday, [], HOUR, now=utc(2027, 10, 30), days=1)
    assert slots == [utc(2027, 10, 30, 23), utc(2027, 10, 31, 0), utc(2027, 10, 31, 1), utc(2027, 10, 31, 2)]


def test_an_override_replaces_the_day_or_takes_it_off():
    weekly = {1: [(time(9), time(11))]}  # Tuesdays, Hanoi time
    overrides = {date(2027, 1, 5): [], date(2027, 1, 12): [(time(14), time(16))]}
    slots = free_slots(rules(weekly=weekly, overrides=overrides), [], HOUR, now=utc(2027, 1, 3), days=14)
    assert slots == [utc(2027, 1, 12, 7), utc(2027, 1, 12, 8)]  # the 5th off, the 12th in the afternoon


def test_a_booked_session_and_its_buffer_block_the_slots_that_would_touch_it():
    weekly = {2: [(time(9), time(13))]}  # Wednesday 9:00–13:00 Hanoi = 02:00–06:00 UTC
    booked = [Booked(utc(2027, 1, 6, 3), utc(2027, 1, 6, 4, 15))]  # 10:00–11:00 with a 15-minute buffer
    slots = free_slots(rules(weekly=weekly, buffer=15), booked, HOUR, now=utc(2027, 1, 5), days=2)
    # 9:00 would end 10:00 and need its buffer to 10:15; 11:00 starts inside the booked buffer; 12:00 is free
    assert slots == [utc(2027, 1, 6, 5)]


def test_minimum_notice_hides_the_slots_too_soon():
    weekly = {2: [(time(9), time(13))]}
    slots = free_slots(rules(weekly=weekly, notice=2), [], HOUR, now=utc(2027, 1, 6, 1, 30), days=1)
    assert slots == [utc(2027, 1, 6, 4), utc(2027, 1, 6, 5)]  # earliest 03:30 UTC


def test_the_limits_per_day_and_per_week_close_the_day_or_the_week():
    weekly = {0: [(time(9), time(12))], 1: [(time(9), time(12))], 2: [(time(9), time(12))]}
    monday = Booked(utc(2027, 1, 4, 2), utc(2027, 1, 4, 3))
    one_a_day = free_slots(rules(weekly=weekly, per_day=1), [monday], HOUR, now=utc(2027, 1, 3), days=2)
    assert [s.day for s in one_a_day] == [5, 5, 5]  # Monday is full
    two_a_week = free_slots(rules(weekly=weekly, per_week=1), [monday], HOUR, now=utc(2027, 1, 3), days=9)
    assert {s.day for s in two_a_week} == {11, 12}  # the next week only (Monday 11, Tuesday 12; 13 is beyond)


def test_a_booking_checks_the_very_slot_it_asks_for():
    weekly = {2: [(time(9), time(13))]}
    now = utc(2027, 1, 5)
    assert is_free(rules(weekly=weekly), [], HOUR, utc(2027, 1, 6, 3), now)
    assert not is_free(rules(weekly=weekly), [], HOUR, utc(2027, 1, 6, 3, 30), now)  # not on the slot grid
    assert not is_free(rules(weekly=weekly), [], HOUR, utc(2027, 1, 4, 3), now)  # in the past
