"""Organisers and managers set reminders on a page behind their area's gate: offsets that make no sense and unknown
placeholders are refused with the input kept, the preview fills a real example, changes are audited, and people
choose their reminders on their account page."""

from __future__ import annotations

from sqlalchemy import select

from portal.accounts.models import Role
from portal.audit.models import AuditEntry
from portal.incubation.models import Call
from portal.reminders.kinds import KINDS
from portal.reminders.models import ReminderOptOut, ReminderRule
from tests.support.incubation import make_call
from tests.support.ticketing import add_ticket, create_event
from tests.support.web import path_of

RULE = {"audience": "attendees", "amount": "3", "unit": "hours", "direction": "before", "late_amount": "1",
        "late_unit": "hours", "active": "y", "subject_vi": "Sắp đến {event}", "body_vi": "Chào {name}",
        "subject_en": "Soon: {event}", "body_en": "Hello {name}, see you at {venue}.", "action": "save"}


def text(response) -> str:
    return response.get_data(as_text=True)


def test_an_organiser_sees_the_default_rules_of_a_new_event_and_adds_one(login_as, form, session):
    organiser = login_as(Role.ORGANISER, locale="en")
    created = form(organiser, "/manage/events/new", {
        "name_vi": "TechFest Hà Nội", "name_en": "TechFest Hanoi", "starts_at": "2026-12-10T08:00",
        "ends_at": "2026-12-12T17:00", "status": "draft", "pending_order_minutes": "60",
        "waitlist_offer_hours": "48"})
    event_id = int(path_of(created.location).rsplit("/", 1)[1])
    page = text(organiser.get(f"/manage/events/{event_id}/reminders"))
    assert "7 days before" in page and "1 day before" in page and "18 hours before" in page

    response = form(organiser, f"/manage/events/{event_id}/reminders/new?kind=event_ticket", RULE)
    assert response.status_code == 303
    rule = session.scalar(select(ReminderRule).where(ReminderRule.offset_minutes == -180))
    assert (rule.kind, rule.scope_id, rule.late_minutes, rule.subject_en) == ("event_ticket", event_id, 60,
                                                                               "Soon: {event}")
    assert "3 hours before" in text(organiser.get(f"/manage/events/{event_id}/reminders"))
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "reminder_rule.created"))
    assert entry.object_id == str(rule.id)


def test_offsets_that_make_no_sense_are_refused_and_what_was_typed_stays(login_as, form, db, session):
    organiser = login_as(Role.ORGANISER, locale="en")
    event = create_event(db, team=(organiser.user,))
    url = f"/manage/events/{event.id}/reminders/new?kind=event_ticket"
    for change, message in (
            ({"amount": "0"}, "a whole number above zero"),
            ({"amount": "400", "unit": "days"}, "at most 180 days"),
            ({"direction": "after"}, "Not a valid choice"),
            ({"amount": "1", "late_amount": "2"}, "would arrive after the moment it announces"),
            ({"late_amount": "30", "late_unit": "days"}, "between 1 minute and 7 days")):
        response = form(organiser, url, {**RULE, **change})
        assert response.status_code == 400, change
        assert message in text(response), change
        assert "Hello {name}, see you at {venue}." in text(response)
    assert session.scalar(select(ReminderRule).where(ReminderRule.offset_minutes == -180)) is None


def test_an_unknown_placeholder_is_named_when_saving_and_nothing_is_saved(login_as, form, db, session):
    organiser = login_as(Role.ORGANISER, locale="en")
    event = create_event(db, team=(organiser.user,))
    rules_before = session.scalars(select(ReminderRule)).all()  # the event's default rules, when it has them
    response = form(organiser, f"/manage/events/{event.id}/reminders/new?kind=event_ticket",
                    {**RULE, "body_en": "Hello {nmae}, bring {ticket}"})
    assert response.status_code == 400
    page = text(response)
    assert "Unknown placeholder {nmae}, {ticket}" in page and "{ticket_type}" in page
    assert "Hello {nmae}, bring {ticket}" in page
    stray = form(organiser, f"/manage/events/{event.id}/reminders/new?kind=event_ticket",
                 {**RULE, "subject_vi": "Sắp đến {event"})
    assert stray.status_code == 400 and "is not closed" in text(stray)
    session.expire_all()
    assert session.scalars(select(ReminderRule)).all() == rules_before


def test_the_preview_fills_the_template_from_a_real_ticket_in_the_page_language(login_as, form, db, make_user):
    organiser = login_as(Role.ORGANISER, locale="en")
    event = create_event(db, team=(organiser.user,))
    add_ticket(db, event, make_user(), name="Nguyễn Thị Mai")
    response = form(organiser, f"/manage/events/{event.id}/reminders/new?kind=event_ticket",
                    {**RULE, "action": "preview"})
    assert response.status_code == 200
    page = text(response)
    assert "Hello Nguyễn Thị Mai, see you at" in page and "Soon: TechFest Hanoi 2026" in page


def test_rules_of_an_event_are_only_for_its_team(login_as, form, db, session):
    organiser = login_as(Role.ORGANISER)
    outsider = login_as(Role.ORGANISER)
    event = create_event(db, team=(organiser.user,))
    with db.transaction() as s:
        s.add(ReminderRule(kind="event_ticket", scope_id=event.id, audience="attendees", offset_minutes=-60,
                           late_minutes=30))
    rule_id = session.scalar(select(ReminderRule.id))
    assert outsider.get(f"/manage/events/{event.id}/reminders").status_code == 403
    assert form(outsider, f"/manage/events/{event.id}/reminders/{rule_id}/delete").status_code == 403
    startup = login_as(Role.STARTUP)
    assert startup.get("/mentoring/manage/reminders").status_code == 403
    other = create_event(db, slug="other", team=(organiser.user,))
    assert organiser.get(f"/manage/events/{other.id}/reminders/{rule_id}").status_code == 404
    assert form(organiser, f"/manage/events/{event.id}/reminders/{rule_id}/delete").status_code == 303
    session.rollback()  # a fresh snapshot: SQLite would otherwise keep showing the one the test first read
    assert session.scalars(select(ReminderRule)).all() == []


def test_managers_set_reminders_of_a_call_and_of_mentoring(login_as, form, db, session):
    manager = login_as(Role.INCUBATOR_MANAGER, locale="en")
    call_id = make_call(db)
    response = form(manager, f"/incubator/calls/{call_id}/reminders/new?kind=application_deadline",
                    {**RULE, "audience": "members", "amount": "2", "unit": "days", "late_amount": "6",
                     "body_en": "{startup}: {call} closes {closes_at}", "subject_en": "{call}", "subject_vi": "{call}",
                     "body_vi": "{startup}"})
    assert response.status_code == 303
    assert "2 days before" in text(manager.get(f"/incubator/calls/{call_id}/reminders"))
    with db.session_factory() as s:
        programme_id = s.get(Call, call_id).programme_id
    milestone = form(manager, f"/incubator/programmes/{programme_id}/reminders/new?kind=cohort_milestone",
                     {**RULE, "audience": "members", "amount": "2", "unit": "days", "late_amount": "6",
                      "subject_en": "{milestone}", "subject_vi": "{milestone}", "body_en": "{cohort} {due_on}",
                      "body_vi": "{link}"})
    assert milestone.status_code == 303
    assert "2 days before" in text(manager.get(f"/incubator/programmes/{programme_id}/reminders"))

    feedback = {**RULE, "audience": "startup", "direction": "after", "amount": "1", "unit": "days",
                "subject_en": "{mentor}", "subject_vi": "{mentor}", "body_en": "{link}", "body_vi": "{topic}"}
    assert form(manager, "/mentoring/manage/reminders/new?kind=mentoring_feedback", feedback).status_code == 303
    before = form(manager, "/mentoring/manage/reminders/new?kind=mentoring_feedback",
                  {**feedback, "direction": "before"})
    assert before.status_code == 400
    rule = session.scalar(select(ReminderRule).where(ReminderRule.kind == "mentoring_feedback"))
    assert (rule.scope_id, rule.offset_minutes, rule.audience) == (None, 1440, "startup")
    edit = text(manager.get(f"/mentoring/manage/reminders/{rule.id}"))
    assert 'value="1"' in edit and "{mentor}" in edit


def test_a_person_chooses_their_reminders_on_the_account_page(login_as, form, session):
    person = login_as(Role.STARTUP, locale="en", email="an@example.vn")
    assert 'value="mentoring_session" id="kind-mentoring_session" checked' in text(person.get("/account/reminders"))
    kept = [name for name in KINDS if name != "mentoring_session"]
    response = form(person, "/account/reminders", {"kind": kept})
    assert response.status_code == 302
    assert [(o.email, o.kind) for o in session.scalars(select(ReminderOptOut))] == [("an@example.vn",
                                                                                       "mentoring_session")]
    page = text(person.get("/account/reminders"))
    assert 'id="kind-mentoring_session">' in page and 'id="kind-event_ticket" checked' in page
