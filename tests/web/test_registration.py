"""The public side of registration: the event page, choosing tickets, attendee details, the order page,
"my tickets" with attendee changes and cancellations, and the confirmation mail."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import func, select, update

from portal.accounts.models import Organisation, OrganisationKind, OrganisationMember
from portal.db import utcnow
from portal.demo import load_demo
from portal.events import orders
from portal.events.models import (
    Eligibility,
    Event,
    EventOrganiser,
    EventStatus,
    Order,
    OrderStatus,
    ProgrammeItem,
    ProgrammeKind,
    Question,
    QuestionKind,
    Quota,
    Ticket,
    TicketType,
)
from portal.i18n import HANOI
from tests.browser.steps import translated
from tests.support.mail import text_body
from tests.support.ticketing import add_ticket
from tests.support.web import count_queries, path_of

SLUG = "techfest-hanoi-2026"
REGISTER = f"/events/{SLUG}/register"
TYPE_KEYS = ("visitor", "investor", "vip", "startup", "early")


@dataclass(frozen=True)
class TechFest:
    event_id: int
    type_ids: dict[str, int]
    question_ids: dict[str, int]

    def quantities(self, **counts: int) -> str:
        return REGISTER + "?" + "&".join(f"qty-{self.type_ids[key]}={n}" for key, n in counts.items())


def create_techfest(db, *, seats: int = 100, status: EventStatus = EventStatus.PUBLISHED) -> TechFest:
    """TechFest a month ahead: a free visitor pass (at most 3 per order), a paid investor pass, a VIP pass that needs
    approval, a startup pass, and an early-bird pass whose sale has ended; every type counts against the day quota
    and the hall quota (`seats` each). Three questions: a required text, an optional choice, an optional checkbox."""
    now = utcnow()
    # 9:00 in Hanoi a month ahead, so the programme's two days are two days whatever the hour the tests run
    start = datetime.combine((now + timedelta(days=30)).astimezone(HANOI).date(), time(9), HANOI).astimezone(UTC)
    with db.transaction() as s:
        day, hall = Quota(name="Ngày 1", size=seats), Quota(name="Hội trường", size=seats)
        specs = {
            "visitor": ("Vé tham quan", "Visitor pass", 0, Eligibility.ANYONE, {"max_per_order": 3}),
            "investor": ("Vé nhà đầu tư", "Investor pass", 250_000, Eligibility.ANYONE, {}),
            "vip": ("Vé khách mời", "VIP pass", 1_500_000, Eligibility.APPROVAL, {}),
            "startup": ("Vé startup", "Startup pass", 0, Eligibility.STARTUP, {}),
            "early": ("Vé sớm", "Early-bird pass", 0, Eligibility.ANYONE, {"sale_ends_at": now - timedelta(days=1)}),
        }
        types = {key: TicketType(name_vi=vi, name_en=en, price=price, eligibility=eligibility, position=i,
                                 quotas=[day, hall], **extra)
                 for i, (key, (vi, en, price, eligibility, extra)) in enumerate(specs.items())}
        questions = {
            "field": Question(label_vi="Lĩnh vực quan tâm", label_en="Field of interest", kind=QuestionKind.TEXT,
                              required=True, position=0),
            "source": Question(label_vi="Bạn biết qua đâu?", label_en="How did you hear of it?",
                               kind=QuestionKind.CHOICE, position=1,
                               options=[{"vi": "Báo chí", "en": "Press"}, {"vi": "Bạn bè", "en": "Friends"}]),
            "interpreter": Question(label_vi="Cần phiên dịch", label_en="I need an interpreter",
                                    kind=QuestionKind.CHECKBOX, position=2),
        }
        event = Event(
            slug=SLUG, name_vi="TechFest Hà Nội 2026", name_en="TechFest Hanoi 2026", status=status,
            venue_vi="Cung Văn hóa Hữu nghị", venue_en="Friendship Cultural Palace",
            description_vi="Ngày hội khởi nghiệp", description_en="The startup festival",
            starts_at=start, ends_at=start + timedelta(days=2), quotas=[day, hall],
            ticket_types=list(types.values()), questions=list(questions.values()),
            programme=[
                ProgrammeItem(kind=ProgrammeKind.PITCH, title_vi="Gọi vốn vòng 1", title_en="Pitch round 1",
                              stage="Sân khấu B", speakers="GreenLeaf AI, Lúa Xanh",
                              starts_at=start + timedelta(hours=2), ends_at=start + timedelta(hours=4)),
                ProgrammeItem(kind=ProgrammeKind.THREE_PARTY, title_vi="Gặp gỡ ba nhà", title_en="Three-party talks",
                              stage="Phòng 201", speakers="Viện Y sinh, MedTech Việt",
                              starts_at=start + timedelta(days=1, hours=1), ends_at=start + timedelta(days=1, hours=3)),
            ],
        )
        s.add(event)
        s.flush()
        return TechFest(event.id, {k: t.id for k, t in types.items()}, {k: q.id for k, q in questions.items()})


@pytest.fixture
def techfest(db) -> TechFest:
    return create_techfest(db)


@pytest.fixture
def buyer(login_as):
    return login_as(locale="en", name="Phạm Thu Hà", email="ha@example.vn")


def attendee(techfest: TechFest, type_key: str = "visitor", n: int = 0, **fields) -> dict:
    """Form data for the n-th ticket block: a valid attendee unless `fields` says otherwise."""
    values = {"ticket_type_id": techfest.type_ids[type_key], "name": f"Nguyễn Văn An {n}",
              "email": f"an{n}@example.vn", "organisation": "Sen Vàng AI",
              f"q{techfest.question_ids['field']}": "Agritech", **fields}
    return {f"attendees-{n}-{key}": value for key, value in values.items()}


def register(form, client, *blocks: dict, **extra):
    """Posts the registration as a buyer fills it in: the attendees, and (asked when a ticket is paid) "pay the
    organiser" unless `extra` chooses another way or none."""
    return form(client, REGISTER, {"provider": "manual"} | {k: v for block in blocks for k, v in block.items()} | extra)


def order_count(db) -> int:
    with db.session_factory() as s:
        return s.scalar(select(func.count(Order.id)))


def seats_left(db, techfest: TechFest, type_key: str = "visitor") -> int:
    with db.session_factory() as s:
        return orders.availability(s, s.get(Event, techfest.event_id))[techfest.type_ids[type_key]]


def only_order(db) -> Order:
    with db.session_factory() as s:
        return s.scalars(select(Order)).one()


# --- the event page ---------------------------------------------------------------------------

def test_the_event_page_shows_the_programme_by_day_and_the_tickets_in_vietnamese(app, client, techfest):
    page = client.get(f"/events/{SLUG}").get_data(as_text=True)
    for shown in ("TechFest Hà Nội 2026", "Cung Văn hóa Hữu nghị", "Ngày hội khởi nghiệp", "Gọi vốn vòng 1",
                  "Sân khấu B", "GreenLeaf AI, Lúa Xanh", "Gặp gỡ ba nhà", "Phòng 201", "Vé nhà đầu tư",
                  "250.000"):
        assert shown in page
    assert translated(app, "Free") in page  # "Miễn phí"
    assert page.count("<h3>") == 2  # the programme's two days


def test_the_event_page_in_english_names_kinds_prices_sold_out_types_and_eligibility(client, db, techfest):
    with db.transaction() as s:
        s.execute(update(Quota).where(Quota.name == "Ngày 1").values(size=0))
    client.get("/language/en")
    page = client.get(f"/events/{SLUG}").get_data(as_text=True)
    for shown in ("TechFest Hanoi 2026", "Pitch session", "Three-party meeting", "₫250,000", "Free", "Sold out",
                  "Sale ended", "The organisers approve each order before it is confirmed.",
                  "For members of a startup"):
        assert shown in page


def test_the_event_page_shows_the_seats_left(client, db, techfest, make_user):
    add_ticket(db, _event(db, techfest), make_user())
    page = client.get(f"/events/{SLUG}").get_data(as_text=True)
    assert "<td>99</td>" in page


def _event(db, techfest: TechFest) -> Event:
    with db.session_factory() as s:
        event = s.get(Event, techfest.event_id)
        _ = event.ticket_types
        return event


def test_drafts_and_unknown_events_are_not_found(client, db, login_as):
    create_techfest(db, status=EventStatus.DRAFT)
    assert client.get(f"/events/{SLUG}").status_code == 404
    assert client.get("/events/no-such-event").status_code == 404
    assert login_as().get("/events/no-such-event/register?qty-1=1").status_code == 404


def test_the_home_page_links_to_the_event_page(client, techfest):
    assert f'href="/events/{SLUG}"' in client.get("/").get_data(as_text=True)


def test_the_event_page_runs_the_same_number_of_queries_whatever_the_programme(client, db, techfest):
    with count_queries(db.engine) as few:
        client.get(f"/events/{SLUG}")
    with db.transaction() as s:
        event = s.get(Event, techfest.event_id)
        start = event.starts_at
        for n in range(10):
            event.programme.append(ProgrammeItem(kind=ProgrammeKind.TALK, title_vi=f"Bài {n}", title_en=f"Talk {n}",
                                                 starts_at=start + timedelta(hours=n), ends_at=start))
            event.ticket_types.append(TicketType(name_vi=f"Vé {n}", name_en=f"Pass {n}", position=10 + n,
                                                 quotas=list(event.quotas)))
    with count_queries(db.engine) as many:
        page = client.get(f"/events/{SLUG}").get_data(as_text=True)
    assert "Bài 9" in page and "Vé 9" in page
    assert len(few) == len(many) <= 8


# --- choosing tickets -------------------------------------------------------------------------

def test_registering_needs_an_account_and_comes_back_to_the_chosen_tickets(client, techfest):
    wanted = techfest.quantities(visitor=2)
    response = client.get(wanted)
    assert response.status_code == 302
    assert path_of(response.location).startswith("/login?next=")
    assert f"qty-{techfest.type_ids['visitor']}" in response.location


def test_choosing_tickets_asks_for_one_attendee_per_ticket_starting_with_the_buyer(buyer, techfest):
    page = buyer.get(techfest.quantities(visitor=2, investor=1)).get_data(as_text=True)
    assert page.count("<fieldset>") == 4  # three attendees and the payment choice
    assert 'value="Phạm Thu Hà"' in page and 'value="ha@example.vn"' in page
    assert "₫250,000" in page and "Pay the organiser" in page
    assert "Field of interest" in page and "Friends" in page


@pytest.mark.parametrize(("query", "status", "message"), [
    ("qty-{visitor}=4", 400, "You can buy at most 3 of Visitor pass in one order."),
    ("qty-{early}=1", 400, "The sale of Early-bird pass has ended."),
    ("qty-{startup}=1", 400, "Startup pass is for members of a startup."),
    ("qty-{visitor}=0", 400, "Choose at least one ticket."),
    ("qty-{visitor}=two", 400, "Choose how many tickets you want as a whole number."),
    ("qty-{visitor}=-1", 400, "Choose how many tickets you want as a whole number."),
    ("qty-999999=1", 400, "This ticket type does not exist for this event."),
])
def test_a_refused_choice_of_tickets_says_why_on_the_event_page(buyer, techfest, query, status, message):
    response = buyer.get(f"{REGISTER}?{query.format(**techfest.type_ids)}")
    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert message in page
    assert "Programme" in page


@pytest.mark.parametrize(("seats", "message"), [
    (2, "Only 2 seats are left for Investor pass."),
    (1, "Only 1 seat is left for Investor pass."),
    (0, "Sorry, Investor pass is sold out."),
])
def test_choosing_more_tickets_than_seats_left_is_refused(db, buyer, seats, message):
    techfest = create_techfest(db, seats=seats)
    response = buyer.get(techfest.quantities(investor=3))
    assert response.status_code == 409
    assert message in response.get_data(as_text=True)


def test_a_closed_event_takes_no_registrations(db, buyer):
    techfest = create_techfest(db, status=EventStatus.CLOSED)
    response = buyer.get(techfest.quantities(visitor=1))
    assert response.status_code == 400
    assert "Registration for this event is closed." in response.get_data(as_text=True)


# --- placing the order ------------------------------------------------------------------------

def test_a_free_registration_is_confirmed_at_once_and_the_tickets_arrive_by_mail(db, form, buyer, techfest, mailbox):
    answers = {f"q{techfest.question_ids['source']}": "1", f"q{techfest.question_ids['interpreter']}": "y"}
    response = register(form, buyer, attendee(techfest, n=0, **answers), attendee(techfest, n=1))
    assert response.status_code == 302
    order = only_order(db)
    assert path_of(response.location) == f"/orders/{order.code}"
    assert order.status is OrderStatus.PAID and order.total == 0

    page = buyer.get(f"/orders/{order.code}").get_data(as_text=True)
    assert "Confirmed" in page and "Nguyễn Văn An 1" in page
    assert page.count("<svg") == 2

    mailbox.deliver()
    [message] = mailbox.wait_for("ha@example.vn")
    body = text_body(message)
    assert "Nguyễn Văn An 0" in body and "Nguyễn Văn An 1" in body and "Visitor pass" in body
    assert f"/orders/{order.code}" in body
    kinds = sorted(part.get_content_type() for part in message.iter_attachments())
    assert kinds == ["image/png", "image/png", "text/calendar", "text/calendar"]
    with db.session_factory() as s:
        saved = s.scalars(select(Ticket).order_by(Ticket.id)).first()
        assert saved.answers[str(techfest.question_ids["source"])] == "1"  # the key of "Bạn bè | Friends"
        assert saved.answers[str(techfest.question_ids["interpreter"])] is True


def test_a_paid_registration_waits_for_payment_until_it_expires(db, form, buyer, techfest, mailbox):
    # the price field is not ours to take: the server prices the ticket
    response = register(form, buyer, attendee(techfest, "investor", price="0", total="0"), provider="manual")
    assert response.status_code == 302
    order = only_order(db)
    assert order.status is OrderStatus.PENDING and order.total == 250_000
    assert order.expires_at > utcnow() + timedelta(minutes=60)

    page = buyer.get(f"/orders/{order.code}").get_data(as_text=True)
    for shown in ("Waiting for payment", "₫250,000", "Pay before", "Pay as agreed with the organisers", order.code):
        assert shown in page
    assert "<svg" not in page
    assert mailbox.deliver()["sent"] == 0


def test_an_unpaid_order_past_its_time_shows_as_expired(db, form, buyer, techfest):
    register(form, buyer, attendee(techfest, "investor"))
    with db.transaction() as s:
        s.execute(update(Order).values(expires_at=utcnow() - timedelta(minutes=1)))
    page = buyer.get(f"/orders/{only_order(db).code}").get_data(as_text=True)
    assert "Expired: it was not paid in time" in page and "Pay as agreed" not in page


def test_an_approval_ticket_waits_for_the_organisers(db, form, buyer, techfest):
    register(form, buyer, attendee(techfest, "vip"))
    order = only_order(db)
    assert order.status is OrderStatus.AWAITING_APPROVAL
    assert "Waiting for the organisers' approval" in buyer.get(f"/orders/{order.code}").get_data(as_text=True)


def test_a_startup_member_may_take_the_startup_pass(db, form, buyer, techfest):
    with db.transaction() as s:
        s.add(Organisation(name="Sen Vàng AI", kind=OrganisationKind.STARTUP,
                           members=[OrganisationMember(user_id=buyer.user.id, is_owner=True)]))
    assert register(form, buyer, attendee(techfest, "startup")).status_code == 302
    assert only_order(db).status is OrderStatus.PAID


@pytest.mark.parametrize(("change", "status", "message"), [
    ({"attendees-0-email": "an at example"}, 400, "Enter a valid e-mail address"),
    ({"attendees-0-q{field}": ""}, 400, "This field is required."),
    ({"attendees-0-q{source}": "7"}, 400, "Choose one of the offered answers."),
    ({"attendees-0-ticket_type_id": "999999"}, 400, "This ticket type does not exist for this event."),
    ({"attendees-0-ticket_type_id": "{early}"}, 400, "The sale of Early-bird pass has ended."),
    ({"attendees-0-ticket_type_id": "{startup}"}, 400, "Startup pass is for members of a startup."),
    ({"provider": "free"}, 400, "Choose one of the offered answers."),
    ({"provider": ""}, 400, "Choose how you will pay."),
])
def test_bad_attendee_details_are_refused_keeping_what_was_typed(db, form, buyer, techfest, change, status,
                                                                  message):
    data = attendee(techfest, "investor") | {key.format(**techfest.question_ids): value.format(**techfest.type_ids)
                                            for key, value in change.items()}
    response = register(form, buyer, data | {"attendees-0-name": "Trần Thị Bích"})
    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert message in page
    assert 'value="Trần Thị Bích"' in page
    assert order_count(db) == 0


def test_too_many_tickets_in_one_order_are_refused(db, form, buyer, techfest):
    response = register(form, buyer, *(attendee(techfest, n=n) for n in range(4)))
    assert response.status_code == 400
    assert "You can buy at most 3 of Visitor pass in one order." in response.get_data(as_text=True)
    assert order_count(db) == 0


def test_a_sold_out_type_is_refused_with_409_and_the_form_kept(db, form, buyer, make_user):
    techfest = create_techfest(db, seats=1)
    add_ticket(db, _event(db, techfest), make_user())
    response = register(form, buyer, attendee(techfest, "investor", name="Lê Văn Cường"))
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Sorry, Investor pass is sold out." in page and 'value="Lê Văn Cường"' in page
    assert order_count(db) == 1


def test_a_sold_out_answer_does_not_load_the_event_again(db, form, buyer, make_user):
    techfest = create_techfest(db, seats=1)
    add_ticket(db, _event(db, techfest), make_user())
    with count_queries(db.engine) as queries:
        response = register(form, buyer, attendee(techfest, "investor"))
    assert response.status_code == 409
    assert sum(re.search(r"\bFROM events\b", statement) is not None for statement in queries.statements) == 1


def test_an_order_takes_the_same_statements_however_many_seats_are_sold(db, form, buyer, make_user):
    """The visitor's session, the event, the bank accounts (the form asks how to pay for the paid types), the seats
    run out, the order, its ticket, its mail and one counter per quota (two here). Before the counters it took nine
    too, but two of them counted every live ticket of the quotas, so their cost grew with every seat sold."""
    techfest = create_techfest(db, seats=100)

    def statements_of_one_order() -> int:
        with count_queries(db.engine) as queries:
            assert register(form, buyer, attendee(techfest)).status_code == 302
        return len(queries)

    assert statements_of_one_order() == 9
    for _ in range(20):
        add_ticket(db, _event(db, techfest), make_user())
    assert statements_of_one_order() == 9


# --- the buyer's orders and tickets -----------------------------------------------------------

def test_only_the_buyer_sees_an_order_and_its_qr_codes(db, form, buyer, login_as, client, techfest):
    register(form, buyer, attendee(techfest))
    order = only_order(db)
    with db.session_factory() as s:
        ticket_id = s.scalar(select(Ticket.id))
    qr = buyer.get(f"/tickets/{ticket_id}/qr.png")
    assert qr.status_code == 200 and qr.mimetype == "image/png" and qr.data.startswith(b"\x89PNG")

    stranger = login_as()
    assert stranger.get(f"/orders/{order.code}").status_code == 404
    assert stranger.get(f"/tickets/{ticket_id}/qr.png").status_code == 404
    assert stranger.get(f"/tickets/{ticket_id}/attendee").status_code == 404
    assert stranger.get("/orders/NOSUCHCODE").status_code == 404
    assert path_of(client.get(f"/orders/{order.code}").location).startswith("/login")


def test_my_tickets_lists_tickets_of_every_order_in_a_bounded_number_of_queries(db, buyer, techfest, make_user):
    event = _event(db, techfest)
    add_ticket(db, event, buyer.user, name="Khách thứ nhất")
    with count_queries(db.engine) as few:
        buyer.get("/tickets")
    for n in range(6):
        add_ticket(db, event, buyer.user, name=f"Khách số {n}", type_index=n % 2)
    add_ticket(db, event, make_user(), name="Khách của người khác")
    with count_queries(db.engine) as many:
        page = buyer.get("/tickets").get_data(as_text=True)
    assert "Khách số 5" in page and "Khách thứ nhất" in page and "Khách của người khác" not in page
    assert len(few) == len(many) <= 5


def test_cancelling_a_free_ticket_gives_its_seat_back(db, form, buyer, techfest):
    register(form, buyer, attendee(techfest))
    assert seats_left(db, techfest) == 99
    with db.session_factory() as s:
        ticket_id = s.scalar(select(Ticket.id))
    confirm = buyer.get(f"/tickets/{ticket_id}/cancel").get_data(as_text=True)
    assert "Yes, cancel this ticket" in confirm

    response = form(buyer, f"/tickets/{ticket_id}/cancel")
    assert response.status_code == 302
    listing = buyer.get("/tickets").get_data(as_text=True)
    assert "Your ticket has been cancelled" in listing and "Cancelled" in listing
    assert seats_left(db, techfest) == 100
    assert form(buyer, f"/tickets/{ticket_id}/cancel").status_code == 409


def test_a_paid_ticket_cannot_be_cancelled_by_its_holder(db, form, buyer, techfest):
    register(form, buyer, attendee(techfest, "investor"))
    with db.session_factory() as s:
        ticket_id = s.scalar(select(Ticket.id))
    response = form(buyer, f"/tickets/{ticket_id}/cancel")
    assert response.status_code == 409
    assert "Paid tickets are cancelled by the organisers" in response.get_data(as_text=True)
    assert seats_left(db, techfest, "investor") == 99


def test_the_holder_changes_the_attendee_until_the_deadline(db, form, buyer, techfest):
    register(form, buyer, attendee(techfest))
    with db.session_factory() as s:
        ticket_id = s.scalar(select(Ticket.id))
    url = f"/tickets/{ticket_id}/attendee"
    bad = form(buyer, url, {"name": "Hoàng Yến", "email": "yen@", "organisation": ""})
    assert bad.status_code == 400 and 'value="Hoàng Yến"' in bad.get_data(as_text=True)

    response = form(buyer, url, {"name": "Hoàng Yến", "email": "Yen@Example.vn", "organisation": "MedTech"})
    assert response.status_code == 302
    assert "Hoàng Yến" in buyer.get("/tickets").get_data(as_text=True)

    with db.transaction() as s:
        s.get(Event, techfest.event_id).attendee_change_deadline = utcnow() - timedelta(minutes=1)
    late = form(buyer, url, {"name": "Người Khác", "email": "khac@example.vn", "organisation": ""})
    assert late.status_code == 409
    assert "Attendee details can no longer be changed for this event." in late.get_data(as_text=True)
    with db.session_factory() as s:
        ticket = s.get(Ticket, ticket_id)
        assert (ticket.attendee_name, ticket.attendee_email) == ("Hoàng Yến", "yen@example.vn")
    assert "Change the attendee" not in buyer.get("/tickets").get_data(as_text=True)


# --- demo data --------------------------------------------------------------------------------

def test_the_demo_events_load_once_with_tickets_programme_team_and_a_nearly_sold_out_type(app, db, client):
    load_demo(app)

    def counts():
        with db.session_factory() as s:
            return [s.scalar(select(func.count()).select_from(model))
                    for model in (Event, TicketType, Quota, Question, ProgrammeItem, Order, Ticket, EventOrganiser)]

    first = counts()
    load_demo(app)
    assert counts() == first
    assert first[-1] == 2  # the demo organiser on both teams
    with db.session_factory() as s:
        techfest = s.scalar(select(Event).where(Event.slug == SLUG))
        seats = orders.availability(s, techfest)
        by_name = {t.name_en: seats[t.id] for t in techfest.ticket_types}
    assert by_name["Three-party meeting, day 2"] == 3
    client.get("/language/en")
    page = client.get(f"/events/{SLUG}").get_data(as_text=True)
    assert "Investor pass" in page and "₫1,500,000" in page and "Three-party meeting" in page
    assert client.get("/events/techmart-hanoi-2026").status_code == 200


def test_the_demo_startup_founder_sees_their_tickets(app):
    from portal.accounts.demo import DEMO_PASSWORD
    from tests.conftest import login

    load_demo(app)
    founder = app.test_client()
    login(founder, app, "startup@demo.dmst-hanoi.vn", DEMO_PASSWORD)
    page = founder.get("/tickets").get_data(as_text=True)
    assert "Đặng Thị Mai" in page and re.search(r"/orders/[0-9A-F]{12}", page)
