"""Mentoring in Chromium: a startup reads suggestions with their reasons, books a free time, both sides get the mail
with the calendar file, the startup moves the session by the mailed link, and the mentor gives feedback on a past
session. axe checks every page on the way."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.db import utcnow
from portal.mentoring.models import MentoringSession, SessionStatus, StartupNeeds
from portal.notifications.models import OutboxMessage
from tests.browser.steps import log_in, translated
from tests.support.a11y import assert_accessible
from tests.support.mentoring import make_mentor, make_startup

pytestmark = pytest.mark.browser


def test_suggestion_booking_link_and_feedback(page, app, db, make_user, new_context, live_server):
    mentor_user, mentor_id = make_mentor(db, make_user, name="Ms Banker", buffer=15)
    founder, startup = make_startup(db, make_user, "Ví Xanh")
    with db.transaction() as s:
        s.add(StartupNeeds(organisation_id=startup, sector="fintech", stage="mvp", functions=["fundraising"],
                           languages=["en"]))

    log_in(page, founder.email)
    page.goto("/mentoring/suggestions")
    expect(page.locator(".suggestions")).to_contain_text("same sector: Fintech; expertise in fundraising")
    assert_accessible(page)
    page.get_by_role("link", name="See the free times").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ms Banker")
    assert_accessible(page)
    page.locator("input[name=slot]").first.check()
    page.get_by_label("What would you like to discuss?").fill("Seed round")
    page.get_by_role("button", name="Book this time").click()
    expect(page.locator(".flashes")).to_contain_text("Your session is booked.")
    assert_accessible(page)

    with db.session_factory() as s:
        mails = s.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key.like("mentoring:%:booked:%"))).all()
        booked_at = s.scalar(select(MentoringSession.starts_at))
    assert sorted(m.to_address for m in mails) == sorted([founder.email, mentor_user.email])
    assert all(m.attachments[0]["content_type"] == "text/calendar" for m in mails)
    link = re.search(r"/mentoring/s/[^\s]+", next(m for m in mails if m.to_address == founder.email).body_text)

    # the mailed link works without logging in
    visitor = new_context().new_page()
    visitor.goto(link.group(0))
    assert_accessible(visitor)
    visitor.locator("input[name=slot]").nth(2).check()
    # the mail's link carries no language: a visitor without an account reads Vietnamese
    visitor.get_by_role("button", name=translated(app, "Move the session to this time")).click()
    expect(visitor.locator(".flashes")).to_contain_text(translated(app, "The session is moved; both sides get the new "
                                                                         "time and calendar file."))
    with db.session_factory() as s:
        assert s.scalar(select(MentoringSession.starts_at)) != booked_at

    # a session that has taken place: the mentor gives feedback
    with db.transaction() as s:
        past = utcnow().replace(microsecond=0) - timedelta(days=3)
        s.add(MentoringSession(mentor_id=mentor_id, organisation_id=startup, starts_at=past,
                               ends_at=past + timedelta(hours=1), blocked_until=past + timedelta(minutes=75),
                               status=SessionStatus.CONFIRMED))
    mentor_page = new_context().new_page()
    log_in(mentor_page, mentor_user.email)
    mentor_page.goto("/mentoring/sessions")
    assert_accessible(mentor_page)
    mentor_page.get_by_role("link", name="Give feedback").click()
    mentor_page.get_by_label("How useful was the session?").select_option("4")
    mentor_page.get_by_role("textbox", name="Notes").fill("Prepare the financial model.")
    assert_accessible(mentor_page)
    mentor_page.get_by_role("button", name="Send").click()
    expect(mentor_page.locator(".flashes")).to_contain_text("Thank you for your feedback.")
