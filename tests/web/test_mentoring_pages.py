"""The mentoring pages over HTTP: a startup states its needs, reads suggestions with reasons, books a free time; the
mentor answers; the mailed link moves the session without logging in and stops working after; managers only on
their pages."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.accounts.models import Role
from portal.db import utcnow
from portal.demo import load_demo
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
    assert round(sum(float(h) for h in re.findall(r"<td>([\d.]+)</td>", months)), 1) == round(hours, 1)
    assert int(figure("stat-upcoming")) == len(confirmed) - len(held)
