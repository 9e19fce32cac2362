"""Reminders from the default rules, at the right Hanoi moment, through the outbox to a real SMTP server: cancelled
and rescheduled targets, opt-outs, and what happens after the scheduler was down."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.accounts.models import OrganisationMember
from portal.events.models import Order, OrderStatus, Ticket
from portal.incubation.models import (
    Application,
    ApplicationStatus,
    Call,
    Cohort,
    CohortMember,
    KpiReport,
    Milestone,
    Review,
)
from portal.mentoring.models import FeedbackSide, MentoringSession, SessionFeedback, SessionStatus
from portal.reminders.models import Reminder, ReminderRule
from tests.support import mentoring as mentoring_support
from tests.support.incubation import make_call, reviewer_in_pool
from tests.support.incubation import make_startup as make_incubated_startup
from tests.support.mail import first_link, text_body
from tests.support.reminders import default_rules, hanoi, run_at
from tests.support.ticketing import add_ticket, create_event

#: TechFest opens at 9:00 in Hanoi on 10 December (02:00 UTC)
OPENS = hanoi(2026, 12, 10, 9, 0)


@pytest.fixture
def event(db, make_user):
    created = create_event(db)
    with db.transaction() as s:
        s.get(type(created), created.id).starts_at = OPENS
    default_rules(db, "event", created.id)
    return created


def _order_locale(db, ticket: Ticket, locale: str) -> None:
    with db.transaction() as s:
        s.get(Order, s.get(Ticket, ticket.id).order_id).locale = locale


def test_ticket_holders_are_reminded_7_days_and_1_day_before_in_their_language_with_the_ticket(
        app, db, make_user, event, mailbox):
    buyer = make_user()
    english = add_ticket(db, event, buyer, name="Jane Doe", email="jane@example.com")
    _order_locale(db, english, "en")
    add_ticket(db, event, buyer, name="Trần Bình", email="binh@example.vn")
    add_ticket(db, event, buyer, name="Lê Huỷ", email="huy@example.vn", cancelled=True)
    add_ticket(db, event, buyer, name="Chưa Trả", email="unpaid@example.vn", status=OrderStatus.PENDING)

    run_at(app, mailbox, OPENS - timedelta(days=7, minutes=1))
    assert mailbox.to("jane@example.com") == []

    run_at(app, mailbox, OPENS - timedelta(days=7))
    [mail] = mailbox.to("jane@example.com")
    assert mail["Subject"] == "Reminder: TechFest Hanoi 2026 starts 12/10/26, 9:00 AM"
    assert "Hello Jane Doe" in text_body(mail)
    assert {part.get_filename() for part in mail.iter_attachments()} == {f"ve-{english.id}.png",
                                                                          f"ve-{english.id}.ics"}
    [vietnamese] = mailbox.to("binh@example.vn")
    assert vietnamese["Subject"].startswith("Nhắc lịch: TechFest Hà Nội 2026")
    assert mailbox.to("huy@example.vn") == [] and mailbox.to("unpaid@example.vn") == []

    run_at(app, mailbox, OPENS - timedelta(days=7) + timedelta(minutes=30))  # a later run sends nothing again
    assert len(mailbox.to("jane@example.com")) == 1

    run_at(app, mailbox, OPENS - timedelta(days=1))
    assert len(mailbox.to("jane@example.com")) == 2 and len(mailbox.to("binh@example.vn")) == 2


@pytest.fixture
def booked(db, make_user):
    """A confirmed hour with a mentor at 14:00 in Hanoi on 10 December; the startup's founder is in English."""
    mentor, mentor_id = mentoring_support.make_mentor(db, make_user, name="Phạm Cố Vấn", locale="vi")
    founder, organisation_id = mentoring_support.make_startup(db, make_user, name="Lúa Xanh", locale="en")
    with db.transaction() as s:
        found = MentoringSession(mentor_id=mentor_id, organisation_id=organisation_id, booked_by_id=founder.id,
                                 starts_at=hanoi(2026, 12, 10, 14), ends_at=hanoi(2026, 12, 10, 15),
                                 blocked_until=hanoi(2026, 12, 10, 15), status=SessionStatus.CONFIRMED, topic="Gọi vốn")
        s.add(found)
    default_rules(db, "mentoring", None)
    return found, mentor, founder


def test_both_sides_are_reminded_24_hours_and_1_hour_before_and_asked_for_feedback_after(
        app, db, booked, mailbox):
    found, mentor, founder = booked
    run_at(app, mailbox, hanoi(2026, 12, 9, 13, 59))
    assert mailbox.to(founder.email) == []
    run_at(app, mailbox, hanoi(2026, 12, 9, 14))
    assert [m["Subject"] for m in mailbox.to(founder.email)] == ["Reminder: mentoring session 12/10/26, 2:00 PM"]
    assert [m["Subject"] for m in mailbox.to(mentor.email)] == ["Nhắc lịch: buổi cố vấn 14:00 10/12/26"]
    run_at(app, mailbox, hanoi(2026, 12, 10, 13))
    assert len(mailbox.to(founder.email)) == 2 and len(mailbox.to(mentor.email)) == 2

    with db.transaction() as s:  # the founder rates the session at once; the mentor does not
        s.add(SessionFeedback(session_id=found.id, side=FeedbackSide.STARTUP, rating=5, author_id=founder.id))
    run_at(app, mailbox, hanoi(2026, 12, 10, 17))
    assert len(mailbox.to(founder.email)) == 2
    [*_, asked] = mailbox.to(mentor.email)
    assert f"/mentoring/sessions/{found.id}/feedback" in text_body(asked)


def test_a_cancelled_session_is_not_reminded_and_a_moved_one_only_at_its_new_time(app, db, booked, mailbox):
    found, mentor, founder = booked
    run_at(app, mailbox, hanoi(2026, 12, 9, 14))  # 24 h before the first time
    assert len(mailbox.to(founder.email)) == 1
    with db.transaction() as s:  # moved to the next day, same hour
        moved = s.get(MentoringSession, found.id)
        moved.starts_at, moved.ends_at = hanoi(2026, 12, 11, 14), hanoi(2026, 12, 11, 15)
        moved.blocked_until, moved.link_version = moved.ends_at, moved.link_version + 1
    run_at(app, mailbox, hanoi(2026, 12, 10, 13))  # 1 h before the old time: nothing
    assert len(mailbox.to(founder.email)) == 1
    run_at(app, mailbox, hanoi(2026, 12, 10, 14))  # 24 h before the new time
    [_, new_time] = mailbox.to(founder.email)
    assert "12/11/26, 2:00" in new_time["Subject"]

    with db.transaction() as s:
        s.get(MentoringSession, found.id).status = SessionStatus.CANCELLED
    run_at(app, mailbox, hanoi(2026, 12, 11, 13))
    assert len(mailbox.to(founder.email)) == 2 and len(mailbox.to(mentor.email)) == 2


def test_the_link_in_a_reminder_stops_that_kind_without_logging_in(app, db, booked, mailbox, client, form):
    _found, mentor, founder = booked
    run_at(app, mailbox, hanoi(2026, 12, 9, 14))
    [mail] = mailbox.to(founder.email)
    link = first_link(mail, "/reminders/stop/")
    path = link.split("://", 1)[1].split("/", 1)[1]

    page = client.get("/" + path)  # opening the link (a mail scanner does too) stops nothing yet
    assert page.status_code == 200 and "Dừng các lời nhắc này" in page.get_data(as_text=True)
    response = form(client, "/" + path, {"action": "stop"})
    assert response.status_code == 200

    run_at(app, mailbox, hanoi(2026, 12, 10, 13))
    assert len(mailbox.to(founder.email)) == 1  # no 1-hour reminder for the founder
    assert len(mailbox.to(mentor.email)) == 2  # the mentor did not opt out
    run_at(app, mailbox, hanoi(2026, 12, 10, 17))  # another kind (feedback) still comes
    assert len(mailbox.to(founder.email)) == 2

    tampered = form(client, "/" + path[:-3] + "xyz", {"action": "stop"})
    assert tampered.status_code == 403
    assert client.post("/" + path, data={"action": "stop"}).status_code == 400  # our page's form needs its token


def test_a_mail_clients_one_click_unsubscribe_needs_no_page_token(app, db, booked, mailbox, client):
    _found, _mentor, founder = booked
    run_at(app, mailbox, hanoi(2026, 12, 9, 14))
    path = first_link(mailbox.to(founder.email)[0], "/reminders/stop/").split("://", 1)[1].split("/", 1)[1]
    assert client.post("/" + path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    run_at(app, mailbox, hanoi(2026, 12, 10, 13))
    assert len(mailbox.to(founder.email)) == 1


def test_after_downtime_a_reminder_goes_out_once_if_late_enough_to_matter_and_is_skipped_otherwise(
        app, db, booked, mailbox):
    _found, _mentor, founder = booked
    # down from before the 24-hour reminder until 6 hours after it (its late window is 12 hours)
    run_at(app, mailbox, hanoi(2026, 12, 9, 20))
    run_at(app, mailbox, hanoi(2026, 12, 9, 20, 1))
    assert len(mailbox.to(founder.email)) == 1
    # down again across the 1-hour reminder until 50 minutes after it (its window is 45 minutes): skipped
    run_at(app, mailbox, hanoi(2026, 12, 10, 13, 50))
    assert len(mailbox.to(founder.email)) == 1
    # the late window is per rule: widen the 1-hour rule's to 2 hours, and the late reminder goes out once
    with db.transaction() as s:
        s.scalar(select(ReminderRule).where(ReminderRule.offset_minutes == -60)).late_minutes = 120
    run_at(app, mailbox, hanoi(2026, 12, 10, 13, 51))
    run_at(app, mailbox, hanoi(2026, 12, 10, 13, 52))
    assert len(mailbox.to(founder.email)) == 2


def test_a_second_run_at_the_same_moment_writes_nothing_again(app, db, booked, mailbox):
    found, _mentor, _founder = booked
    assert run_at(app, mailbox, hanoi(2026, 12, 9, 14)) == {"reminders_planned": 2, "reminders_queued": 2}
    assert run_at(app, mailbox, hanoi(2026, 12, 9, 14)) == {"reminders_planned": 0, "reminders_queued": 0}
    with db.session_factory() as s:
        keys = list(s.scalars(select(Reminder.idempotency_key)))
    assert len(keys) == 2 and len(set(keys)) == 2
    assert all(key.startswith("reminder:") and f":{found.id}:u" in key for key in keys)


def test_startups_with_a_draft_are_reminded_before_the_call_closes(app, db, make_user, mailbox):
    call_id = make_call(db)
    closes = hanoi(2026, 12, 20, 17)
    with db.transaction() as s:
        s.get(Call, call_id).closes_at = closes
    default_rules(db, "call", call_id)
    drafting, [drafter] = make_incubated_startup(db, make_user, name="Nháp", locale="en")
    done, [submitter] = make_incubated_startup(db, make_user, name="Đã nộp")
    with db.transaction() as s:
        s.add(Application(call_id=call_id, organisation_id=drafting, status=ApplicationStatus.DRAFT))
        s.add(Application(call_id=call_id, organisation_id=done, status=ApplicationStatus.SUBMITTED))
    run_at(app, mailbox, closes - timedelta(days=7))
    [mail] = mailbox.to(drafter.email)
    assert mail["Subject"] == "Test incubation closes 12/20/26, 5:00 PM: your application is not submitted yet"
    assert mailbox.to(submitter.email) == []
    run_at(app, mailbox, closes - timedelta(days=1))
    assert len(mailbox.to(drafter.email)) == 2
    with db.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(OrganisationMember)) == 2


def test_reviewers_with_unfinished_reviews_are_reminded_before_reviews_are_due(app, db, make_user, mailbox):
    call_id = make_call(db)
    due = hanoi(2026, 12, 28, 17)
    with db.transaction() as s:
        s.get(Call, call_id).reviews_close_at = due
    default_rules(db, "call", call_id)
    behind, behind_id = reviewer_in_pool(app, db, make_user, call_id, name="Chậm", locale="en")
    done, done_id = reviewer_in_pool(app, db, make_user, call_id, name="Xong")
    organisation, _members = make_incubated_startup(db, make_user)
    with db.transaction() as s:
        application = Application(call_id=call_id, organisation_id=organisation, status=ApplicationStatus.SUBMITTED)
        s.add(application)
        s.flush()
        s.add(Review(application_id=application.id, call_reviewer_id=behind_id))
        s.add(Review(application_id=application.id, call_reviewer_id=done_id, submitted_at=due - timedelta(days=9)))

    def reminders_to(person):
        return [mail["Subject"] for mail in mailbox.to(person.email) if "due" in mail["Subject"]
                or "Hạn chấm" in mail["Subject"]]

    run_at(app, mailbox, due - timedelta(days=3))
    assert reminders_to(behind) == ["Reviews for Test incubation are due 12/28/26, 5:00 PM"]
    assert reminders_to(done) == []
    run_at(app, mailbox, due - timedelta(days=1))
    assert len(reminders_to(behind)) == 2


@pytest.fixture
def cohort(db, make_user):
    """A cohort of the test programme from 1 October to 31 March with one startup (its founder reads English)."""
    call_id = make_call(db)
    organisation, [founder] = make_incubated_startup(db, make_user, name="Rau Sạch", locale="en")
    with db.transaction() as s:
        programme_id = s.get(Call, call_id).programme_id
        formed = Cohort(programme_id=programme_id, call_id=call_id, name="Khoá 1", starts_on=date(2026, 10, 1),
                        ends_on=date(2027, 3, 31))
        formed.members = [CohortMember(organisation_id=organisation)]
        formed.milestones = [Milestone(title_vi="Ra mắt MVP", title_en="MVP launched", due_on=date(2026, 12, 15))]
        s.add(formed)
        s.flush()
        member_id = formed.members[0].id
    default_rules(db, "programme", programme_id)
    return founder, member_id


def test_cohort_startups_are_reminded_of_milestones_and_of_unsent_monthly_reports(app, db, cohort, mailbox):
    founder, member_id = cohort
    with db.transaction() as s:  # November is reported: nothing is owed on 10 December
        s.add(KpiReport(cohort_member_id=member_id, period=date(2026, 11, 1)))
    run_at(app, mailbox, hanoi(2026, 12, 7, 9))  # 3 days before the 10th
    run_at(app, mailbox, hanoi(2026, 12, 8, 8, 59))
    assert mailbox.to(founder.email) == []
    run_at(app, mailbox, hanoi(2026, 12, 8, 9))  # 7 days before 9:00 on the 15th
    assert [m["Subject"] for m in mailbox.to(founder.email)] == ["Milestone due 12/15/26: MVP launched"]
    run_at(app, mailbox, hanoi(2026, 12, 14, 9))
    assert len(mailbox.to(founder.email)) == 2

    run_at(app, mailbox, hanoi(2027, 1, 7, 9))  # December is not reported: due on 10 January
    [*_, report] = mailbox.to(founder.email)
    assert report["Subject"] == "Your figures for 12/2026 are due 1/10/27"
    assert f"/my/reports?member={member_id}" in text_body(report)
