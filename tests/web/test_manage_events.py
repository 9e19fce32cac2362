"""Organisers run their events: details and cover, team, programme, ticket types, quotas, questions and orders.
Only the event's team (and admins) may; every change lands in the audit log."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from portal.accounts.models import Role
from portal.audit.models import AuditEntry
from portal.events.models import (
    Event,
    EventOrganiser,
    Order,
    OrderStatus,
    ProgrammeItem,
    Question,
    QuestionKind,
    Quota,
    Ticket,
    TicketType,
    WaitingListEntry,
)
from tests.support.ticketing import add_ticket, create_event
from tests.support.web import count_queries, path_of

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

EVENT_FORM = {
    "name_vi": "TechFest Hà Nội 2026",
    "name_en": "TechFest Hanoi 2026",
    "description_vi": "Ngày hội khởi nghiệp.",
    "description_en": "The startup festival.",
    "venue_vi": "Cung Văn hóa Hữu nghị",
    "venue_en": "Friendship Cultural Palace",
    "starts_at": "2026-12-10T08:00",
    "ends_at": "2026-12-12T17:00",
    "status": "draft",
    "pending_order_minutes": "60",
    "waitlist_offer_hours": "48",
    "attendee_change_deadline": "",
}


def hanoi_input(moment: datetime) -> str:
    """What a datetime-local input in Hanoi sends for `moment`."""
    return moment.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%Y-%m-%dT%H:%M")


def audit_actions(session) -> list[str]:
    """What organisers did, in order (logins left out)."""
    session.rollback()  # a fresh snapshot: SQLite would otherwise keep showing the one the test first read
    return list(session.scalars(select(AuditEntry.action).where(AuditEntry.action.not_like("auth.%"))
                                .order_by(AuditEntry.id)))


def page_text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def organiser(login_as):
    return login_as(Role.ORGANISER, locale="en", name="Trần Minh Châu")


@pytest.fixture
def event(db, organiser) -> Event:
    return create_event(db, team=(organiser.user,))


def create_event_through_the_form(form, client, **changes) -> int:
    response = form(client, "/manage/events/new", {**EVENT_FORM, **changes})
    assert response.status_code == 302, page_text(response)[:3000]
    return int(re.fullmatch(r"/manage/events/(\d+)", path_of(response.location)).group(1))


# --- events ---------------------------------------------------------------------------------

def test_an_organiser_creates_an_event_in_hanoi_time_and_joins_its_team(form, session, organiser):
    event_id = create_event_through_the_form(form, organiser)

    event = session.get(Event, event_id)
    assert event.slug == "techfest-hanoi-2026"
    assert event.starts_at == datetime(2026, 12, 10, 1, 0, tzinfo=UTC)  # 08:00 in Hanoi
    assert event.ends_at == datetime(2026, 12, 12, 10, 0, tzinfo=UTC)
    assert event.pending_order_minutes == 60
    assert [m.user_id for m in event.team] == [organiser.user.id]
    assert audit_actions(session) == ["event.created"]

    listing = page_text(organiser.get("/manage/events/"))
    assert f'href="/manage/events/{event_id}"' in listing
    assert "TechFest Hanoi 2026" in listing
    overview = page_text(organiser.get(f"/manage/events/{event_id}"))
    assert "Trần Minh Châu" in overview


def test_a_second_event_with_the_same_english_name_gets_its_own_address(form, session, organiser):
    first = create_event_through_the_form(form, organiser)
    second = create_event_through_the_form(form, organiser, name_en="TechFest  Hanoi 2026!")
    assert session.get(Event, first).slug == "techfest-hanoi-2026"
    assert session.get(Event, second).slug == "techfest-hanoi-2026-2"


def test_editing_shows_the_times_in_hanoi_and_saves_changes(form, session, organiser):
    event_id = create_event_through_the_form(form, organiser)
    edit_page = page_text(organiser.get(f"/manage/events/{event_id}/edit"))
    assert 'value="2026-12-10T08:00"' in edit_page

    response = form(organiser, f"/manage/events/{event_id}/edit",
                    {**EVENT_FORM, "name_en": "TechFest Hanoi 2026 (renamed)", "status": "published",
                     "attendee_change_deadline": "2026-12-09T23:59"})
    assert response.status_code == 302
    session.expire_all()
    event = session.get(Event, event_id)
    assert event.name_en == "TechFest Hanoi 2026 (renamed)"
    assert event.slug == "techfest-hanoi-2026"  # shared links keep working
    assert event.status.value == "published"
    assert event.attendee_change_deadline == datetime(2026, 12, 9, 16, 59, tzinfo=UTC)
    assert audit_actions(session) == ["event.created", "event.updated"]


@pytest.mark.parametrize(("changes", "message"), [
    ({"ends_at": "2026-12-10T07:00"}, "The end must come after the start."),
    ({"name_en": ""}, "This field is required."),
    ({"starts_at": "10/12/2026 8h"}, "Enter a date and time, like 2026-12-10 08:00."),
    ({"pending_order_minutes": "an hour"}, "Enter a whole number, like 12."),
    ({"waitlist_offer_hours": "0"}, "Enter a number between 1 and 336."),
])
def test_a_bad_event_is_refused_and_keeps_what_was_typed(form, session, organiser, changes, message):
    response = form(organiser, "/manage/events/new", {**EVENT_FORM, **changes})
    assert response.status_code == 400
    page = page_text(response)
    assert message in page
    assert 'value="Cung Văn hóa Hữu nghị"' in page
    assert session.scalar(select(Event.id)) is None


def test_a_cover_image_is_stored_under_a_random_name_and_served(form, session, organiser, app):
    event_id = create_event_through_the_form(
        form, organiser, cover=(BytesIO(PNG), "poster.png"))
    name = session.get(Event, event_id).cover_image
    assert re.fullmatch(r"[0-9a-f]{32}\.png", name)
    assert (Path(app.instance_path) / "uploads" / name).read_bytes() == PNG

    served = organiser.get(f"/manage/events/covers/{name}")
    assert served.status_code == 200
    assert served.mimetype == "image/png"
    assert served.data == PNG
    assert name in page_text(organiser.get(f"/manage/events/{event_id}"))


@pytest.mark.parametrize(("upload", "message"), [
    ((BytesIO(b"just some text, not a picture"), "poster.png"), "The cover image must be a PNG, JPEG or WebP picture."),
    ((BytesIO(PNG + b"\x00" * (2 * 1024 * 1024)), "poster.png"),
     "The cover image is larger than 2 MB. Make it smaller and upload it again."),
])
def test_a_cover_that_is_not_a_small_picture_is_refused(form, session, organiser, upload, message):
    response = form(organiser, "/manage/events/new", {**EVENT_FORM, "cover": upload})
    assert response.status_code == 400
    page = page_text(response)
    assert message in page
    assert 'value="TechFest Hanoi 2026"' in page
    assert session.scalar(select(Event.id)) is None


JPEG = b"\xff\xd8\xff\xe0" + b"\x01" * 64


def uploads(app) -> set[str]:
    return {path.name for path in (Path(app.instance_path) / "uploads").glob("*")}


def cover_of(session, event_id: int) -> str | None:
    session.rollback()  # a fresh snapshot
    return session.get(Event, event_id).cover_image


def test_replacing_the_cover_deletes_the_old_file_and_serves_the_new_one(form, session, organiser, app):
    event_id = create_event_through_the_form(form, organiser, cover=(BytesIO(PNG), "poster.png"))
    old = cover_of(session, event_id)
    before = uploads(app)

    response = form(organiser, f"/manage/events/{event_id}/edit", {**EVENT_FORM, "cover": (BytesIO(JPEG), "new.jpg")})
    assert response.status_code == 302
    new = cover_of(session, event_id)
    assert new.endswith(".jpg")
    assert uploads(app) == before - {old} | {new}
    assert organiser.get(f"/manage/events/covers/{new}").data == JPEG
    assert organiser.get(f"/manage/events/covers/{old}").status_code == 404
    assert new in page_text(organiser.get(f"/manage/events/{event_id}"))


def test_removing_the_cover_deletes_its_file(form, session, organiser, app):
    event_id = create_event_through_the_form(form, organiser, cover=(BytesIO(PNG), "poster.png"))
    old = cover_of(session, event_id)
    assert "Remove the cover image" in page_text(organiser.get(f"/manage/events/{event_id}/edit"))

    response = form(organiser, f"/manage/events/{event_id}/edit", {**EVENT_FORM, "remove_cover": "y"})
    assert response.status_code == 302
    assert cover_of(session, event_id) is None
    assert old not in uploads(app)
    assert organiser.get(f"/manage/events/covers/{old}").status_code == 404
    assert "Remove the cover image" not in page_text(organiser.get(f"/manage/events/{event_id}/edit"))


def test_a_refused_edit_keeps_the_current_cover_and_leaves_no_new_file(form, session, organiser, app):
    event_id = create_event_through_the_form(form, organiser, cover=(BytesIO(PNG), "poster.png"))
    old = cover_of(session, event_id)
    form(organiser, f"/manage/events/{event_id}/programme/new",
         {**PROGRAMME_ITEM, "starts_at": "2026-12-10T09:00", "ends_at": "2026-12-10T10:00"})
    before = uploads(app)

    # The programme's first day no longer fits, so nothing of the edit is saved.
    response = form(organiser, f"/manage/events/{event_id}/edit",
                    {**EVENT_FORM, "starts_at": "2026-12-11T08:00", "cover": (BytesIO(JPEG), "new.jpg")})
    assert response.status_code == 400
    assert cover_of(session, event_id) == old
    assert uploads(app) == before
    assert organiser.get(f"/manage/events/covers/{old}").data == PNG


def test_an_unknown_cover_name_is_not_found(client):
    assert client.get("/manage/events/covers/..%2Fsecret_key").status_code == 404
    assert client.get("/manage/events/covers/" + "a" * 32 + ".png").status_code == 404


# --- team -----------------------------------------------------------------------------------

def test_the_team_adds_another_organiser_who_can_then_manage_the_event(form, session, organiser, event, login_as):
    colleague = login_as(Role.ORGANISER, locale="en", name="Lê Hồng Nhung")
    assert colleague.get(f"/manage/events/{event.id}").status_code == 403

    response = form(organiser, f"/manage/events/{event.id}/team", {"email": colleague.user.email.upper()})
    assert response.status_code == 302
    assert "Lê Hồng Nhung" in page_text(organiser.get(f"/manage/events/{event.id}"))
    assert colleague.get(f"/manage/events/{event.id}").status_code == 200

    response = form(organiser, f"/manage/events/{event.id}/team/{colleague.user.id}/remove")
    assert response.status_code == 302
    assert colleague.get(f"/manage/events/{event.id}").status_code == 403
    assert audit_actions(session) == ["event.team_member_added", "event.team_member_removed"]


def test_only_organisers_can_join_a_team(form, session, organiser, event, make_user):
    startup_founder = make_user(Role.STARTUP)
    for email, message in [(startup_founder.email, "No organiser uses this e-mail address."),
                           ("nobody@example.vn", "No organiser uses this e-mail address."),
                           ("not an address", "Enter a valid e-mail address")]:
        response = form(organiser, f"/manage/events/{event.id}/team", {"email": email})
        assert response.status_code == 400
        assert message in page_text(response)
        assert f'value="{email}"' in page_text(response)
    assert session.scalar(select(EventOrganiser.id).where(EventOrganiser.user_id == startup_founder.id)) is None

    response = form(organiser, f"/manage/events/{event.id}/team", {"email": organiser.user.email})
    assert response.status_code == 409
    assert "Trần Minh Châu is already on the team." in page_text(response)


def test_the_last_organiser_cannot_leave_the_team(form, session, organiser, event):
    response = form(organiser, f"/manage/events/{event.id}/team/{organiser.user.id}/remove")
    assert response.status_code == 302
    page = page_text(organiser.get(path_of(response.location)))
    assert "You are the last organiser of this event." in page
    assert session.scalar(select(EventOrganiser.user_id)) == organiser.user.id


# --- programme, ticket types, quotas, questions ----------------------------------------------

PROGRAMME_ITEM = {"kind": "pitch", "title_vi": "Gọi vốn vòng chung kết", "title_en": "Pitch final",
                  "stage": "Main stage", "speakers": "Nguyễn An, Phạm Bình"}


def test_programme_items_are_created_edited_and_deleted(form, session, organiser, event):
    times = {"starts_at": hanoi_input(event.starts_at + timedelta(minutes=1)),
             "ends_at": hanoi_input(event.starts_at + timedelta(hours=1))}
    base = f"/manage/events/{event.id}/programme"
    response = form(organiser, f"{base}/new", {**PROGRAMME_ITEM, **times})
    assert response.status_code == 302, page_text(response)[:3000]
    listing = page_text(organiser.get(f"{base}/"))
    assert "Pitch final" in listing and "Nguyễn An, Phạm Bình" in listing

    item = session.scalar(select(ProgrammeItem))
    response = form(organiser, f"{base}/{item.id}", {**PROGRAMME_ITEM, **times, "title_en": "Grand pitch final"})
    assert response.status_code == 302
    assert "Grand pitch final" in page_text(organiser.get(f"{base}/"))

    assert form(organiser, f"{base}/{item.id}/delete").status_code == 302
    assert "Grand pitch final" not in page_text(organiser.get(f"{base}/"))
    assert audit_actions(session) == ["event.programme_item_created", "event.programme_item_updated",
                                      "event.programme_item_deleted"]


@pytest.mark.parametrize(("times", "message"), [
    ({"starts_at": "2020-01-01T09:00", "ends_at": "2020-01-01T10:00"}, "must take place during the event"),
    ({"starts_at": "2020-01-01T09:00", "ends_at": "2020-01-01T08:00"}, "The end must come after the start."),
    ({"starts_at": "", "ends_at": "2020-01-01T08:00"}, "This field is required."),
])
def test_a_programme_item_outside_the_event_is_refused(form, session, organiser, event, times, message):
    response = form(organiser, f"/manage/events/{event.id}/programme/new", {**PROGRAMME_ITEM, **times})
    assert response.status_code == 400
    assert message in page_text(response)
    assert 'value="Gọi vốn vòng chung kết"' in page_text(response)
    assert session.scalar(select(ProgrammeItem.id)) is None


def test_new_event_dates_that_leave_programme_items_outside_are_refused_naming_them(form, session, organiser):
    event_id = create_event_through_the_form(form, organiser)
    base = f"/manage/events/{event_id}/programme"
    for title, starts_at, ends_at in [("Opening", "2026-12-10T08:30", "2026-12-10T09:00"),
                                      ("Pitch final", "2026-12-12T15:00", "2026-12-12T16:30"),
                                      ("Workshop", "2026-12-11T09:00", "2026-12-11T11:00")]:
        assert form(organiser, f"{base}/new", {**PROGRAMME_ITEM, "title_en": title, "starts_at": starts_at,
                                               "ends_at": ends_at}).status_code == 302

    response = form(organiser, f"/manage/events/{event_id}/edit",
                    {**EVENT_FORM, "starts_at": "2026-12-10T10:00", "ends_at": "2026-12-12T12:00",
                     "name_en": "TechFest Hanoi 2026 (shorter)"})
    assert response.status_code == 400
    page = page_text(response)
    assert "These programme items would fall outside the new dates:" in page
    assert "Opening" in page and "Pitch final" in page and "Workshop" not in page
    assert 'value="2026-12-10T10:00"' in page and 'value="TechFest Hanoi 2026 (shorter)"' in page
    session.rollback()
    event = session.get(Event, event_id)
    assert (event.starts_at, event.name_en) == (datetime(2026, 12, 10, 1, 0, tzinfo=UTC), "TechFest Hanoi 2026")
    assert "event.updated" not in audit_actions(session)


def test_moving_the_event_can_move_its_programme_along(form, session, organiser):
    event_id = create_event_through_the_form(form, organiser)
    assert "Move every programme item" not in page_text(organiser.get(f"/manage/events/{event_id}/edit"))
    form(organiser, f"/manage/events/{event_id}/programme/new",
         {**PROGRAMME_ITEM, "starts_at": "2026-12-11T09:00", "ends_at": "2026-12-11T10:30"})
    assert "Move every programme item" in page_text(organiser.get(f"/manage/events/{event_id}/edit"))

    postponed = {**EVENT_FORM, "starts_at": "2026-12-17T08:00", "ends_at": "2026-12-19T17:00"}
    assert form(organiser, f"/manage/events/{event_id}/edit", postponed).status_code == 400
    response = form(organiser, f"/manage/events/{event_id}/edit", {**postponed, "move_programme": "y"})
    assert response.status_code == 302
    session.rollback()
    item = session.scalar(select(ProgrammeItem))
    assert (item.starts_at, item.ends_at) == (datetime(2026, 12, 18, 2, 0, tzinfo=UTC),
                                              datetime(2026, 12, 18, 3, 30, tzinfo=UTC))


TICKET_TYPE = {"name_vi": "Vé nhà đầu tư", "name_en": "Investor pass", "description_vi": "", "description_en": "",
               "price": "1500000", "sale_starts_at": "", "sale_ends_at": "", "max_per_order": "2",
               "eligibility": "approval", "position": "3"}


def test_a_ticket_type_is_created_with_its_rules(form, session, organiser, event):
    response = form(organiser, f"/manage/events/{event.id}/ticket-types/new", TICKET_TYPE)
    assert response.status_code == 302
    ticket_type = session.scalar(select(TicketType).where(TicketType.name_en == "Investor pass"))
    assert (ticket_type.price, ticket_type.max_per_order, ticket_type.eligibility.value) == (1_500_000, 2, "approval")
    listing = page_text(organiser.get(f"/manage/events/{event.id}/ticket-types/"))
    assert "₫1,500,000" in listing
    assert "None: not on sale" in listing  # no quota covers it yet


@pytest.mark.parametrize(("changes", "message"), [
    ({"price": "-1"}, "Enter a number between 0 and 1000000000."),
    ({"price": "1.500.000đ"}, "Enter a whole number, like 12."),
    ({"max_per_order": "0"}, "Enter a number between 1 and 100."),
    ({"sale_starts_at": "2026-06-02T00:00", "sale_ends_at": "2026-06-01T00:00"}, "The sale must end after it starts."),
    ({"eligibility": "everyone-and-their-dog"}, "This field is required."),
])
def test_a_bad_ticket_type_is_refused(form, session, organiser, event, changes, message):
    response = form(organiser, f"/manage/events/{event.id}/ticket-types/new", {**TICKET_TYPE, **changes})
    assert response.status_code == 400
    assert message in page_text(response)
    assert 'value="Vé nhà đầu tư"' in page_text(response)
    assert session.scalar(select(TicketType.id).where(TicketType.name_en == "Investor pass")) is None


def test_a_ticket_type_with_orders_cannot_be_deleted(form, db, session, organiser, event, make_user):
    add_ticket(db, event, make_user())
    ticket_type = event.ticket_types[0]
    response = form(organiser, f"/manage/events/{event.id}/ticket-types/{ticket_type.id}/delete")
    assert "Tickets of this type have been ordered" in page_text(organiser.get(path_of(response.location)))
    assert session.get(TicketType, ticket_type.id) is not None


def test_a_quota_covers_the_ticket_types_ticked(form, session, organiser, db):
    event = create_event(db, team=(organiser.user,), quota_names=(),
                         ticket_types=(("Visitor", "Khách", 0), ("Startup", "Khởi nghiệp", 0)))
    visitor, startup = event.ticket_types
    form_page = page_text(organiser.get(f"/manage/events/{event.id}/quotas/new"))
    assert 'type="checkbox"' in form_page and "Khách / Visitor" in form_page

    response = form(organiser, f"/manage/events/{event.id}/quotas/new",
                    {"name": "Main hall", "size": "300", "ticket_types": [str(visitor.id), str(startup.id)]})
    assert response.status_code == 302
    quota = session.scalar(select(Quota))
    assert (quota.name, quota.size, {t.id for t in quota.ticket_types}) == ("Main hall", 300, {visitor.id, startup.id})
    assert "0 / 300" in page_text(organiser.get(f"/manage/events/{event.id}/quotas/"))


@pytest.mark.parametrize(("changes", "message"), [
    ({"size": "-5"}, "Enter a number between 0 and 1000000."),
    ({"size": ""}, "This field is required."),
    ({"ticket_types": ["999999"]}, "Choose ticket types of this event."),
])
def test_a_bad_quota_is_refused(form, session, organiser, event, changes, message):
    response = form(organiser, f"/manage/events/{event.id}/quotas/new", {"name": "Day 2", "size": "10", **changes})
    assert response.status_code == 400
    assert message in page_text(response)
    assert 'value="Day 2"' in page_text(response)
    assert session.scalar(select(Quota.id).where(Quota.name == "Day 2")) is None


def test_a_quota_cannot_shrink_below_the_seats_it_holds(form, db, session, organiser, event, make_user):
    quota = event.quotas[0]
    for _ in range(2):
        add_ticket(db, event, make_user())
    response = form(organiser, f"/manage/events/{event.id}/quotas/{quota.id}",
                    {"name": "Ngày 1 (nhỏ)", "size": "1", "ticket_types": [str(event.ticket_types[0].id)]})
    assert response.status_code == 400
    assert "2 seats of these ticket types are already taken, so the quota cannot be smaller." in page_text(response)
    assert 'value="Ngày 1 (nhỏ)"' in page_text(response)
    assert (session.get(Quota, quota.id).size, session.get(Quota, quota.id).held) == (100, 2)


def test_raising_a_full_quota_offers_the_seat_to_the_waiting_list(form, db, session, organiser, event, make_user,
                                                                   mailbox):
    quota = event.quotas[0]
    with db.transaction() as s:
        s.get(Quota, quota.id).size = 0
        s.add(WaitingListEntry(ticket_type_id=event.ticket_types[0].id, email="cho@example.vn", name="Vũ Chờ"))

    response = form(organiser, f"/manage/events/{event.id}/quotas/{quota.id}",
                    {"name": quota.name, "size": "1", "ticket_types": [str(event.ticket_types[0].id)]})
    assert response.status_code == 302
    mailbox.deliver()
    assert len(mailbox.to("cho@example.vn")) == 1
    assert audit_actions(session)[0] == "event.quota_updated"


QUESTION = {"label_vi": "Bạn là ai?", "label_en": "Who are you?", "kind": "choice",
            "options": "Sinh viên | Student\n\nNhà đầu tư | Investor\n", "position": "1"}


def test_a_choice_question_keeps_its_options_in_both_languages(form, session, organiser, event):
    response = form(organiser, f"/manage/events/{event.id}/questions/new", {**QUESTION, "required": "y"})
    assert response.status_code == 302
    question = session.scalar(select(Question))
    assert question.required is True
    assert [(o["vi"], o["en"]) for o in question.options] == [("Sinh viên", "Student"), ("Nhà đầu tư", "Investor")]
    assert len({o["key"] for o in question.options}) == 2
    edit_page = page_text(organiser.get(f"/manage/events/{event.id}/questions/{question.id}"))
    assert "Sinh viên | Student\nNhà đầu tư | Investor</textarea>" in edit_page


def register_choosing(form, client, event: Event, question_id: int, answer: str, name: str):
    """Registers one free ticket through the registration form, choosing the option labelled `answer`."""
    page = page_text(client.get(f"/events/{event.slug}/register?qty-{event.ticket_types[0].id}=1"))
    select_box = re.search(rf'<select[^>]*name="attendees-0-q{question_id}".*?</select>', page, re.S).group(0)
    key = re.search(rf'<option value="([^"]+)">{answer}</option>', select_box).group(1)
    return form(client, f"/events/{event.slug}/register", {
        "attendees-0-ticket_type_id": str(event.ticket_types[0].id), "attendees-0-name": name,
        "attendees-0-email": "guest@example.vn", f"attendees-0-q{question_id}": key}), key


def exported_answers(form, organiser, event: Event) -> dict[str, str]:
    """Attendee name → the answer to "Who are you?" in the CSV export."""
    response = form(organiser, f"/manage/events/{event.id}/attendees/export.csv")
    rows = csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"), newline=""))
    return {row["Attendee name"]: row["Who are you?"] for row in rows}


def test_editing_the_options_keeps_the_meaning_of_answers_given(form, session, organiser, event, login_as):
    base = f"/manage/events/{event.id}/questions"
    form(organiser, f"{base}/new", {**QUESTION, "options": "Sinh viên | Student\nNhà đầu tư | Investor\n"
                                                           "Báo chí | Press"})
    question_id = session.scalar(select(Question.id))
    investor, press = login_as(locale="en"), login_as(locale="en")
    registered, investor_key = register_choosing(form, investor, event, question_id, "Investor", "Đỗ Đầu Tư")
    assert registered.status_code == 302
    assert register_choosing(form, press, event, question_id, "Press", "Phan Báo Chí")[0].status_code == 302
    assert exported_answers(form, organiser, event) == {"Đỗ Đầu Tư": "Investor", "Phan Báo Chí": "Press"}

    # A new first option shifts every other one down, and "Investor" goes although someone chose it.
    response = form(organiser, f"{base}/{question_id}", {
        **QUESTION, "options": "Khách mời | Guest\nSinh viên | Student\nBáo chí | Press"})
    assert response.status_code == 302

    assert exported_answers(form, organiser, event) == {"Đỗ Đầu Tư": "Investor", "Phan Báo Chí": "Press"}
    listing = page_text(organiser.get(f"{base}/"))
    assert "Guest · Student · Press" in listing
    assert "No longer offered, kept for the answers given: Investor" in listing
    edit_page = page_text(organiser.get(f"{base}/{question_id}"))
    assert "Khách mời | Guest\nSinh viên | Student\nBáo chí | Press</textarea>" in edit_page

    # Someone who opened the form before the edit cannot choose the option that went.
    buyer = login_as(locale="en")
    offered_now = page_text(buyer.get(f"/events/{event.slug}/register?qty-{event.ticket_types[0].id}=1"))
    assert ">Guest</option>" in offered_now and ">Investor</option>" not in offered_now
    late = form(buyer, f"/events/{event.slug}/register", {
        "attendees-0-ticket_type_id": str(event.ticket_types[0].id), "attendees-0-name": "Lê Muộn",
        "attendees-0-email": "muon@example.vn", f"attendees-0-q{question_id}": investor_key})
    assert late.status_code == 400
    assert "Choose one of the offered answers." in page_text(late)
    assert 'value="Lê Muộn"' in page_text(late)


def test_answers_saved_before_options_had_keys_survive_an_edit(form, db, session, organiser, event, make_user):
    """Older answers hold the option's position; keyless options are keyed by it, so nothing needs migrating."""
    with db.transaction() as s:
        question = Question(event_id=event.id, label_vi="Bạn là ai?", label_en="Who are you?", kind=QuestionKind.CHOICE,
                            options=[{"vi": "Sinh viên", "en": "Student"}, {"vi": "Nhà đầu tư", "en": "Investor"}])
        s.add(question)
    ticket = add_ticket(db, event, make_user(), name="Đỗ Đầu Tư")
    with db.transaction() as s:
        s.get(Ticket, ticket.id).answers = {str(question.id): 1}
    assert exported_answers(form, organiser, event) == {"Đỗ Đầu Tư": "Investor"}

    form(organiser, f"/manage/events/{event.id}/questions/{question.id}", {
        **QUESTION, "options": "Khách mời | Guest\nSinh viên | Student\nNhà đầu tư | Investors"})
    assert exported_answers(form, organiser, event) == {"Đỗ Đầu Tư": "Investors"}
    session.rollback()
    assert [o["key"] for o in session.get(Question, question.id).options][1:] == ["0", "1"]


def test_the_kind_of_an_answered_question_cannot_change(form, db, session, organiser, event, make_user):
    with db.transaction() as s:
        question = Question(event_id=event.id, label_vi="Bạn là ai?", label_en="Who are you?", kind=QuestionKind.TEXT)
        s.add(question)
    url = f"/manage/events/{event.id}/questions/{question.id}"
    assert form(organiser, url, {**QUESTION, "kind": "checkbox", "options": ""}).status_code == 302
    ticket = add_ticket(db, event, make_user())
    with db.transaction() as s:
        s.get(Ticket, ticket.id).answers = {str(question.id): False}

    response = form(organiser, url, {**QUESTION, "label_en": "Who are you, really?"})
    assert response.status_code == 400
    assert "People have already answered this question, so its kind of answer cannot change." in page_text(response)
    assert 'value="Who are you, really?"' in page_text(response)
    session.rollback()
    assert session.get(Question, question.id).kind is QuestionKind.CHECKBOX


@pytest.mark.parametrize(("changes", "message"), [
    ({"options": ""}, "A choice question needs at least one option."),
    ({"options": "Sinh viên / Student"}, 'Write each option as "Vietnamese | English" on its own line.'),
    ({"label_en": ""}, "This field is required."),
])
def test_a_bad_question_is_refused(form, session, organiser, event, changes, message):
    response = form(organiser, f"/manage/events/{event.id}/questions/new", {**QUESTION, **changes})
    assert response.status_code == 400
    assert message in page_text(response)
    assert 'value="Bạn là ai?"' in page_text(response)
    assert session.scalar(select(Question.id)) is None


# --- orders ---------------------------------------------------------------------------------

def test_orders_are_listed_newest_first_filtered_and_paged(db, organiser, event, make_user):
    buyer = make_user(name="Hoàng Mua")
    for _ in range(26):
        add_ticket(db, event, buyer)
    pending = add_ticket(db, event, buyer, status=OrderStatus.PENDING).order_id

    first_page = page_text(organiser.get(f"/manage/events/{event.id}/orders"))
    assert "27 orders" in first_page and "Page 1 of 2" in first_page and "Hoàng Mua" in first_page
    with db.session_factory() as s:
        pending_code = s.get(Order, pending).code
    assert pending_code in first_page

    only_pending = page_text(organiser.get(f"/manage/events/{event.id}/orders?status=pending"))
    assert "1 order" in only_pending and "1 orders" not in only_pending and pending_code in only_pending


def test_the_orders_page_costs_the_same_queries_for_few_or_many_orders(db, app, organiser, event, make_user):
    buyer = make_user()

    def queries() -> int:
        with count_queries(db.engine) as counter:
            assert organiser.get(f"/manage/events/{event.id}/orders").status_code == 200
        return len(counter)

    add_ticket(db, event, buyer)
    few = queries()
    for _ in range(12):
        add_ticket(db, event, make_user())
    assert queries() == few


def test_marking_an_order_paid_sends_the_tickets_and_a_double_click_is_harmless(form, db, session, organiser,
                                                                              event, make_user, mailbox):
    buyer = make_user(email="mua@example.vn")
    order_id = add_ticket(db, event, buyer, status=OrderStatus.PENDING).order_id
    url = f"/manage/events/{event.id}/orders/{order_id}/mark-paid"

    code = session.get(Order, order_id).code
    first = form(organiser, url, follow_redirects=True)
    assert f"Order {code} is marked as paid" in page_text(first)
    second = form(organiser, url, follow_redirects=True)
    assert second.status_code == 200
    assert f"Order {code} had already been marked as paid." in page_text(second)
    session.rollback()
    assert session.get(Order, order_id).status is OrderStatus.PAID
    mailbox.deliver()
    assert len(mailbox.to("mua@example.vn")) == 1
    assert audit_actions(session).count("order.marked_paid") == 1


def test_approving_and_cancelling_orders(form, db, session, organiser, event, make_user):
    buyer = make_user()
    waiting = add_ticket(db, event, buyer, status=OrderStatus.AWAITING_APPROVAL).order_id
    paid = add_ticket(db, event, buyer).order_id
    base = f"/manage/events/{event.id}/orders"

    assert form(organiser, f"{base}/{waiting}/approve").status_code == 302
    form(organiser, f"{base}/{paid}/cancel", follow_redirects=True)
    again = form(organiser, f"{base}/{paid}/cancel", {"next": f"{base}?status=cancelled"})
    assert path_of(again.location) == f"{base}?status=cancelled"
    assert "had already been cancelled" in page_text(organiser.get(path_of(again.location)))
    assert audit_actions(session) == ["order.approved", "order.cancelled"]
    assert session.get(Order, waiting).status is OrderStatus.PAID  # a free order is confirmed at once
    order = session.get(Order, paid)
    assert order.status is OrderStatus.CANCELLED and order.tickets[0].cancelled_at is not None


def test_an_order_that_cannot_take_the_step_says_why(form, db, session, organiser, event, make_user):
    order_id = add_ticket(db, event, make_user(), status=OrderStatus.EXPIRED).order_id
    response = form(organiser, f"/manage/events/{event.id}/orders/{order_id}/mark-paid")
    assert "This order cannot change from expired to paid." in page_text(organiser.get(path_of(response.location)))
    assert session.get(Order, order_id).status is OrderStatus.EXPIRED


def test_an_order_of_another_event_is_not_found(form, db, organiser, event, make_user):
    other = create_event(db, slug="techmart-hanoi-2026")
    order_id = add_ticket(db, other, make_user(), status=OrderStatus.PENDING).order_id
    assert form(organiser, f"/manage/events/{event.id}/orders/{order_id}/mark-paid").status_code == 404


# --- who may ------------------------------------------------------------------------------

def event_pages(event: Event) -> list[str]:
    base = f"/manage/events/{event.id}"
    item_pages = [f"{base}/{section}/" for section in ("programme", "ticket-types", "quotas", "questions")]
    item_pages += [f"{base}/{section}/new" for section in ("programme", "ticket-types", "quotas", "questions")]
    return [base, f"{base}/edit", f"{base}/orders", f"{base}/ticket-types/{event.ticket_types[0].id}",
            f"{base}/quotas/{event.quotas[0].id}", *item_pages]


def event_actions(db, event: Event, buyer) -> list[str]:
    base = f"/manage/events/{event.id}"
    order_id = add_ticket(db, event, buyer, status=OrderStatus.PENDING).order_id
    return [f"{base}/edit", f"{base}/team", f"{base}/team/{buyer.id}/remove",
            f"{base}/ticket-types/new", f"{base}/ticket-types/{event.ticket_types[0].id}",
            f"{base}/ticket-types/{event.ticket_types[0].id}/delete", f"{base}/quotas/{event.quotas[0].id}/delete",
            f"{base}/programme/new", f"{base}/questions/new",
            *(f"{base}/orders/{order_id}/{action}" for action in ("mark-paid", "approve", "cancel"))]


def test_an_organiser_not_on_the_team_is_refused_everywhere(form, db, session, event, login_as, make_user):
    outsider = login_as(Role.ORGANISER, locale="en")
    for path in event_pages(event):
        response = outsider.get(path)
        assert response.status_code == 403, path
        assert "You do not have permission to open this page." in page_text(response)
    for path in event_actions(db, event, make_user()):
        assert form(outsider, path, {**EVENT_FORM, "name": "x", "size": "1"}).status_code == 403, path
    assert session.scalar(select(Order.status)) is OrderStatus.PENDING
    assert "TechFest Hanoi 2026" not in page_text(outsider.get("/manage/events/"))


def test_an_admin_manages_every_event(db, event, login_as):
    admin = login_as(Role.ADMIN, locale="en")
    assert "TechFest Hanoi 2026" in page_text(admin.get("/manage/events/"))
    for path in event_pages(event):
        assert admin.get(path).status_code == 200, path


def test_a_startup_user_is_refused(db, form, event, login_as, make_user):
    founder = login_as(Role.STARTUP, locale="en")
    for path in ["/manage/events/", "/manage/events/new", *event_pages(event)]:
        assert founder.get(path).status_code == 403, path
    assert form(founder, "/manage/events/new", EVENT_FORM).status_code == 403


def test_a_visitor_is_sent_to_log_in(client, db, event):
    for path in ["/manage/events/", "/manage/events/new", *event_pages(event)]:
        response = client.get(path)
        assert response.status_code == 302
        assert path_of(response.location).startswith("/login?next="), path


def test_organisers_find_their_events_in_the_menu_and_on_the_dashboard(organiser, login_as):
    menu = page_text(organiser.get("/account"))
    assert re.search(r'<nav id="site-nav".*href="/manage/events/".*</nav>', menu, re.S)
    assert 'href="/manage/events/"' in page_text(organiser.get("/dashboard/organiser"))
    assert 'href="/manage/events/"' not in page_text(login_as(Role.MENTOR).get("/account"))
