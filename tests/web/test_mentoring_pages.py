"""The mentoring pages over HTTP: a startup states its needs, reads suggestions with reasons, books a free time; the
mentor answers; the mailed link moves the session without logging in and stops working after; managers only on
their pages."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from portal.accounts.models import Role, User
from portal.audit.models import AuditEntry
from portal.db import utcnow
from portal.demo import load_demo
from portal.incubation.models import Cohort, CohortMember, Programme
from portal.mentoring.models import MentoringSession, SessionStatus
from portal.notifications.models import OutboxMessage
from tests.browser.steps import translated
from tests.conftest import login
from tests.support.mentoring import make_mentor, make_startup
from tests.support.web import post_form


def client_for(app, user):
    client = app.test_client()
    login(client, app, user)
    return client


def free_times(html: str) -> list[str]:
    return re.findall(r'name="slot" value="([^"]+)"', html)


def test_a_startup_finds_a_mentor_books_and_moves_the_session_by_the_mailed_link(app, db, make_user, mailbox):
    mentor_user, mentor_id = make_mentor(db, make_user, name="Ms Banker", confirms=False)
    founder, startup = make_startup(db, make_user)
    client = client_for(app, founder)
    saved = post_form(client, app, "/mentoring/needs", {"sector": "fintech", "stage": "mvp",
                                                         "functions": ["fundraising"], "languages": ["en"]})
    assert saved.status_code == 303
    suggestions = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Ms Banker" in suggestions
    assert "same sector: Fintech; expertise in fundraising; speaks English" in suggestions
    page = client.get(f"/mentors/{mentor_id}").get_data(as_text=True)
    times = free_times(page)
    assert times
    refused = post_form(client, app, f"/mentors/{mentor_id}/book", {"organisation_id": startup, "length": 60,
                                                                    "slot": "2020-01-01T02:00:00+00:00"})
    assert refused.status_code == 409 and "This time is not free" in refused.get_data(as_text=True)
    booked = post_form(client, app, f"/mentors/{mentor_id}/book", {"organisation_id": startup, "length": 60,
                                                                   "slot": times[0], "topic": "Seed round"})
    assert booked.status_code == 303
    assert "The mentor will accept or decline it" in client.get("/mentoring/sessions").get_data(as_text=True)
    # the mentor accepts from their list
    mentor_client = client_for(app, mentor_user)
    with db.session_factory() as s:
        session_id = s.scalar(select(MentoringSession.id))
    assert "waiting for the mentor" in mentor_client.get("/mentoring/sessions").get_data(as_text=True)
    post_form(mentor_client, app, f"/mentoring/sessions/{session_id}/answer", {"answer": "accept"})
    with db.session_factory() as s:
        assert s.get(MentoringSession, session_id).status == SessionStatus.CONFIRMED
        mail = s.scalars(select(OutboxMessage).where(OutboxMessage.to_address == founder.email,
                                                     OutboxMessage.idempotency_key.like("%:accepted:%"))).one()
    link = re.search(r"http://[^\s]+/mentoring/s/[^\s]+", mail.body_text).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    anonymous = app.test_client()
    page = anonymous.get(f"/{path}").get_data(as_text=True)
    assert 'name="action" value="move"' in page  # a visitor without an account reads it in Vietnamese
    later = free_times(page)[1]
    moved = post_form(anonymous, app, f"/{path}", {"slot": later, "action": "move"})
    assert moved.status_code == 303
    with db.session_factory() as s:
        assert s.get(MentoringSession, session_id).starts_at.isoformat() == later
    stale = anonymous.get(f"/{path}")
    assert stale.status_code == 403
    assert translated(app, "Link not valid") in stale.get_data(as_text=True)


def test_mentoring_management_is_for_managers_and_a_forged_post_is_refused_first(app, db, login_as):
    for path in ("/mentoring/manage/", "/mentoring/manage/matching", "/mentoring/manage/weights",
                 "/mentoring/manage/report"):
        assert login_as(Role.STARTUP).get(path).status_code == 403
        assert login_as(Role.MENTOR).get(path).status_code == 403
        assert login_as(Role.INCUBATOR_MANAGER, locale="en").get(path).status_code == 200
    manager = login_as(Role.INCUBATOR_MANAGER)
    assert manager.post("/mentoring/manage/matching/publish").status_code == 400


def test_someone_else_s_session_is_not_found(app, db, make_user):
    _mentor, mentor_id = make_mentor(db, make_user)
    founder, startup = make_startup(db, make_user)
    stranger, _other = make_startup(db, make_user, "Other")
    client = client_for(app, founder)
    times = free_times(client.get(f"/mentors/{mentor_id}").get_data(as_text=True))
    post_form(client, app, f"/mentors/{mentor_id}/book", {"organisation_id": startup, "length": 60, "slot": times[0]})
    with db.session_factory() as s:
        session_id = s.scalar(select(MentoringSession.id))
    outsider = client_for(app, stranger)
    assert post_form(outsider, app, f"/mentoring/sessions/{session_id}/cancel").status_code == 404
    assert outsider.get(f"/mentoring/sessions/{session_id}/feedback").status_code == 404


def test_a_mentor_writes_weekly_hours_with_vietnamese_or_english_day_names_and_reads_them_in_their_language(
        app, db, make_user):
    mentor, mentor_id = make_mentor(db, make_user, hours=[], locale="vi")
    client = client_for(app, mentor)
    saved = post_form(client, app, "/mentoring/hours", {
        "weekly": "T2 09:00-12:00\nThứ ba 14:00-17:00\nthu 4 08:00-09:00\nCN 10:00-11:00\nFriday 13:00-15:00",
        "overrides": "2027-01-05 nghỉ\n2027-01-06 off"})
    assert saved.status_code == 303
    page = client.get("/mentoring/hours").get_data(as_text=True)
    assert "T2 09:00-12:00\nT3 14:00-17:00\nT4 08:00-09:00\nT6 13:00-15:00\nCN 10:00-11:00" in page
    assert "2027-01-05 nghỉ\n2027-01-06 nghỉ" in page
    with db.transaction() as s:
        s.get(User, mentor.id).locale = "en"
    english = client.get("/mentoring/hours").get_data(as_text=True)
    assert "Mon 09:00-12:00\nTue 14:00-17:00\nWed 08:00-09:00\nFri 13:00-15:00\nSun 10:00-11:00" in english
    assert "2027-01-05 off" in english


def test_hours_with_a_line_that_names_no_day_are_refused_keeping_what_was_typed(app, db, make_user):
    mentor, _mentor_id = make_mentor(db, make_user, locale="vi")
    client = client_for(app, mentor)
    typed = "T2 09:00-12:00\nThứ tám 09:00-10:00"
    refused = post_form(client, app, "/mentoring/hours", {"weekly": typed, "overrides": ""})
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert translated(app, "Line %(number)d: write a day and hours, for example Mon 09:00-12:00.") % {
        "number": 2} in html
    assert "Thứ tám 09:00-10:00" in html


def held_session(s, mentor_id: int, organisation_id: int, starts_at: datetime, minutes: int) -> None:
    ends_at = starts_at + timedelta(minutes=minutes)
    s.add(MentoringSession(mentor_id=mentor_id, organisation_id=organisation_id, starts_at=starts_at,
                           ends_at=ends_at, blocked_until=ends_at, status=SessionStatus.CONFIRMED))


def test_the_hours_report_sums_sessions_held_per_programme_mentor_and_hanoi_month_and_downloads_them(
        app, db, make_user, login_as):
    _banker, banker = make_mentor(db, make_user, name="=Ms Banker")
    _lawyer, lawyer = make_mentor(db, make_user, name="Mr Lawyer")
    _founder, in_cohort = make_startup(db, make_user, "Cohort startup")
    _other, outside = make_startup(db, make_user, "Startup outside")
    with db.transaction() as s:
        programme = Programme(slug="uom-tao", name_vi="Ươm tạo 2026", name_en="Incubation 2026")
        s.add(programme)
        s.flush()
        cohort = Cohort(programme_id=programme.id, name="K1", starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31))
        cohort.members = [CohortMember(organisation_id=in_cohort)]
        s.add(cohort)
        # 23:30 UTC on 30 November is 06:30 on 1 December in Hanoi
        held_session(s, banker, in_cohort, datetime(2026, 11, 30, 23, 30, tzinfo=UTC), 90)
        held_session(s, banker, outside, datetime(2026, 11, 10, 3, 0, tzinfo=UTC), 60)
        held_session(s, lawyer, in_cohort, datetime(2026, 11, 12, 3, 0, tzinfo=UTC), 30)
        held_session(s, lawyer, outside, datetime(2099, 1, 1, 3, 0, tzinfo=UTC), 60)  # still to come
    manager = login_as(Role.INCUBATOR_MANAGER, locale="en")
    page = manager.get("/mentoring/manage/report").get_data(as_text=True)
    per_programme = page[page.index('id="per-programme"'):page.index('id="per-mentor"')]
    assert re.search(r"Incubation 2026</th><td>2</td><td>2\.0</td>", per_programme)
    assert re.search(r"No programme</th><td>1</td><td>1\.0</td>", per_programme)
    assert re.search(r"=Ms Banker</th><td>2</td><td>2\.5</td>", page)
    assert re.search(r"11/2026</th><td[^>]*>1\.5</td>", page) and re.search(r"12/2026</th><td[^>]*>1\.5</td>", page)
    exported = post_form(manager, app, "/mentoring/manage/report/hours.csv")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    lines = exported.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0] == "Month,Mentor,Programme,Sessions held,Minutes,Hours"
    assert lines[1:] == ["11/2026,'=Ms Banker,No programme,1,60,1.0", "11/2026,Mr Lawyer,Incubation 2026,1,30,0.5",
                         "12/2026,'=Ms Banker,Incubation 2026,1,90,1.5"]
    with db.session_factory() as s:
        assert s.scalar(select(AuditEntry.action).order_by(AuditEntry.id.desc()).limit(1)) == \
            "mentoring.hours_exported"
    assert login_as(Role.MENTOR).post("/mentoring/manage/report/hours.csv").status_code == 403


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PROFILE = {"headline_vi": "Chuyên gia gọi vốn", "headline_en": "Fundraising expert", "bio_vi": "", "bio_en": "",
           "organisation_name": "", "sectors": ["fintech"], "functions": ["fundraising"], "languages": ["vi"],
           "timezone": "Asia/Ho_Chi_Minh", "location": "", "session_length": "60", "buffer_minutes": "15",
           "minimum_notice_hours": "24", "sessions_per_day": "3", "sessions_per_week": "5", "mentee_capacity": "3",
           "visible": "y"}


def photo_path(html: str) -> str:
    return re.search(r'src="(/mentors/\d+/photo/[0-9a-f]{32}\.png)"', html).group(1)


def test_a_mentor_s_photo_is_checked_shown_in_the_directory_and_replaced_without_leaving_the_old_file(
        app, db, make_user):
    mentor, mentor_id = make_mentor(db, make_user, name="Ms Photo", locale="en")
    client = client_for(app, mentor)
    not_a_picture = post_form(client, app, "/mentoring/profile", {
        **PROFILE, "headline_en": "Kept as typed", "photo": (io.BytesIO(b"%PDF-1.7 a deck"), "me.png")},
        content_type="multipart/form-data")
    assert not_a_picture.status_code == 400
    assert "The photo must be a PNG, JPEG or WebP picture." in not_a_picture.get_data(as_text=True)
    assert "Kept as typed" in not_a_picture.get_data(as_text=True)
    too_big = post_form(client, app, "/mentoring/profile", {
        **PROFILE, "photo": (io.BytesIO(PNG + b"\0" * 2 * 1024 * 1024), "me.png")}, content_type="multipart/form-data")
    assert "The photo is larger than 2 MB." in too_big.get_data(as_text=True)
    uploads = Path(app.instance_path) / "uploads"
    before = set(uploads.iterdir()) if uploads.exists() else set()
    saved = post_form(client, app, "/mentoring/profile", {**PROFILE, "photo": (io.BytesIO(PNG), "me.png")},
                      content_type="multipart/form-data")
    assert saved.status_code == 303
    shown = photo_path(app.test_client().get("/mentors").get_data(as_text=True))
    served = app.test_client().get(shown)
    assert served.status_code == 200 and served.mimetype == "image/png" and served.data == PNG
    assert photo_path(app.test_client().get(f"/mentors/{mentor_id}").get_data(as_text=True)) == shown
    first = set(uploads.iterdir()) - before
    assert len(first) == 1
    post_form(client, app, "/mentoring/profile", {**PROFILE, "photo": (io.BytesIO(PNG + b"2"), "new.png")},
              content_type="multipart/form-data")
    second = set(uploads.iterdir()) - before
    assert len(second) == 1 and second != first
    assert app.test_client().get(shown).status_code == 404  # the old name is gone
    post_form(client, app, "/mentoring/profile", {**PROFILE, "remove_photo": "y"})
    assert set(uploads.iterdir()) - before == set()
    assert "/photo/" not in app.test_client().get("/mentors").get_data(as_text=True)


def test_a_hidden_mentor_s_photo_is_not_served_to_others(app, db, make_user):
    mentor, mentor_id = make_mentor(db, make_user, name="Ms Hidden", locale="en")
    client = client_for(app, mentor)
    post_form(client, app, "/mentoring/profile", {**PROFILE, "photo": (io.BytesIO(PNG), "me.png")},
              content_type="multipart/form-data")
    hidden = {key: value for key, value in PROFILE.items() if key != "visible"}
    post_form(client, app, "/mentoring/profile", hidden)
    own = photo_path(client.get("/mentoring/profile").get_data(as_text=True))
    assert client.get(own).status_code == 200
    assert app.test_client().get(own).status_code == 404


def test_the_directory_search_ignores_case_and_vietnamese_accents(app, db, make_user):
    make_mentor(db, make_user, name="Nguyễn Thị Hằng")
    make_mentor(db, make_user, name="Trần Văn Bình")
    listing = app.test_client().get("/mentors?q=NGUYEN thi hang").get_data(as_text=True)
    assert "Nguyễn Thị Hằng" in listing and "Trần Văn Bình" not in listing


def week_of(html: str) -> dict[str, list[str]]:
    """Each day's heading in the week calendar and the sessions listed under it."""
    days = re.findall(r'<li class="week-day[^"]*">\s*<h3>(.*?)</h3>(.*?)</li>\s*(?=<li class="week-day|</ol>)', html,
                      re.S)
    return {re.sub(r"<.*", "", heading).strip(): [" ".join(re.sub(r"<[^>]+>", " ", item).split())
                                                  for item in re.findall(r'<li class="week-session[^"]*">(.*?)</li>',
                                                                         body, re.S)]
            for heading, body in days}


def test_both_sides_see_their_sessions_in_a_hanoi_week_calendar(app, db, make_user):
    mentor, mentor_id = make_mentor(db, make_user, name="Ms Calendar", locale="en")
    founder, startup = make_startup(db, make_user, "Calendar startup")
    with db.transaction() as s:
        # 17:30 UTC on Sunday 10 January 2027 is 00:30 on Monday 11 January in Hanoi
        held_session(s, mentor_id, startup, datetime(2027, 1, 10, 17, 30, tzinfo=UTC), 60)
        held_session(s, mentor_id, startup, datetime(2027, 1, 13, 2, 0, tzinfo=UTC), 60)
        cancelled = datetime(2027, 1, 14, 2, 0, tzinfo=UTC)
        s.add(MentoringSession(mentor_id=mentor_id, organisation_id=startup, starts_at=cancelled,
                               ends_at=cancelled + timedelta(hours=1), blocked_until=cancelled + timedelta(hours=1),
                               status=SessionStatus.CANCELLED))
    mentor_week = week_of(client_for(app, mentor).get("/mentoring/calendar?week=2027-01-13").get_data(as_text=True))
    assert list(mentor_week)[0] == "Monday 11/1" and list(mentor_week)[-1] == "Sunday 17/1"
    assert mentor_week["Monday 11/1"] == ["00:30–01:30 Calendar startup"]
    assert mentor_week["Wednesday 13/1"] == ["09:00–10:00 Calendar startup"]
    assert mentor_week["Thursday 14/1"] == []  # the cancelled one
    startup_week = week_of(client_for(app, founder).get("/mentoring/calendar?week=2027-01-11").get_data(as_text=True))
    assert startup_week["Wednesday 13/1"] == ["09:00–10:00 Ms Calendar"]
    assert all(not items for items in week_of(client_for(app, founder).get(
        "/mentoring/calendar?week=2027-01-18").get_data(as_text=True)).values())
    assert client_for(app, founder).get("/mentoring/calendar?week=nonsense").status_code == 200
    stranger, _other = make_startup(db, make_user, "Someone else")
    assert all(not items for items in week_of(client_for(app, stranger).get(
        "/mentoring/calendar?week=2027-01-13").get_data(as_text=True)).values())


def test_the_report_s_cards_rows_and_chart_count_the_same_sessions(app, db, login_as):
    """The demo's sessions: two held and confirmed ones still to come; the cards are the rows' and the months' sums,
    and sessions to come are counted apart, not mixed into the hours held."""
    load_demo(app)
    with db.session_factory() as s:
        confirmed = list(s.scalars(select(MentoringSession).where(MentoringSession.status == SessionStatus.CONFIRMED)))
    held = [booked for booked in confirmed if booked.ends_at <= utcnow()]
    assert held and len(held) < len(confirmed)

    page = login_as(Role.INCUBATOR_MANAGER, locale="en").get("/mentoring/manage/report").get_data(as_text=True)

    def figure(element_id: str) -> str:
        return re.search(rf'id="{element_id}">([^<]*)<', page).group(1)

    mentors = re.search(r'<table id="per-mentor">.*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    rows = re.findall(r"<td>(\d+)</td><td>([\d.]+)</td>", mentors)
    months = re.search(r'id="hours-per-month-table".*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    hours = sum((booked.ends_at - booked.starts_at).total_seconds() / 3600 for booked in held)
    assert int(figure("stat-held")) == sum(int(count) for count, _hours in rows) == len(held)
    assert float(figure("stat-hours")) == round(sum(float(h) for _count, h in rows), 1) == round(hours, 1)
    assert round(sum(float(h) for h in re.findall(r"<td[^>]*>([\d.]+)</td>", months)), 1) == round(hours, 1)
    assert int(figure("stat-upcoming")) == len(confirmed) - len(held)
