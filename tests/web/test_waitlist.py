"""The waiting list from the browser's side: joining a sold-out ticket type, the personal offer link, and the
organisers' list. tests/unit/test_waitlist.py reuses the helpers at the top."""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Role
from portal.audit.models import AuditEntry
from portal.db import utcnow
from portal.events import orders, waitlist
from portal.events.models import (
    Event,
    EventOrganiser,
    EventStatus,
    Order,
    Quota,
    Ticket,
    TicketType,
    WaitingListEntry,
    WaitingListStatus,
)
from portal.notifications.scheduler import build_scheduler, run_job
from portal.payments.providers import PROVIDERS, PaymentProvider
from tests.conftest import login
from tests.support.mail import first_link, text_body
from tests.support.payments import add_bank_account
from tests.support.web import count_queries, path_of

SLUG = "techfest-hanoi-2026"


@dataclass(frozen=True)
class Sale:
    event_id: int
    ticket_type_id: int
    quota_id: int

    @property
    def join_url(self) -> str:
        return f"/events/{SLUG}/waitlist/{self.ticket_type_id}"


def create_sale(db, *, seats: int = 1, price: int = 0, offer_hours: int = 48) -> Sale:
    """TechFest with one ticket type ("Visitor pass") on one quota of `seats`."""
    now = utcnow()
    with db.transaction() as s:
        ticket_type = TicketType(name_vi="Vé tham quan", name_en="Visitor pass", price=price)
        quota = Quota(name="Hội trường chính", size=seats, ticket_types=[ticket_type])
        event = Event(slug=SLUG, name_vi="TechFest Hà Nội 2026", name_en="TechFest Hanoi 2026",
                      starts_at=now + timedelta(days=30), ends_at=now + timedelta(days=32),
                      status=EventStatus.PUBLISHED, waitlist_offer_hours=offer_hours,
                      ticket_types=[ticket_type], quotas=[quota])
        s.add(event)
        s.flush()
        return Sale(event.id, ticket_type.id, quota.id)


def take_seat(app, db, sale: Sale, buyer) -> Order:
    """`buyer` books one ticket, as the registration page does."""
    with app.test_request_context(), db.transaction() as s:
        event = s.get(Event, sale.event_id)
        return orders.place_order(s, event=event, buyer=buyer, attendees=[orders.AttendeeInput(
            ticket_type_id=sale.ticket_type_id, name=buyer.full_name, email=buyer.email)])


def join_directly(db, sale: Sale, user) -> int:
    with db.transaction() as s:
        return join_directly_in(s, sale, user)


def join_directly_in(s, sale: Sale, user) -> int:
    event, ticket_type = s.get(Event, sale.event_id), s.get(TicketType, sale.ticket_type_id)
    return waitlist.join(s, event=event, ticket_type=ticket_type, user=user, name=user.full_name,
                         email=user.email).id


def offer_seats(app, db, sale: Sale) -> list[int]:
    """What the waiting list does when it hears that seats were freed."""
    with app.app_context(), db.transaction() as s:
        return [e.id for e in waitlist.offer_freed_seats(s, s.get(Event, sale.event_id))]


def run_registration_job(app) -> None:
    """One wake-up of the scheduler's registration job."""
    build_scheduler(app)
    run_job("release_and_offer_seats")


def entry_status(db, entry_id: int) -> WaitingListStatus:
    with db.session_factory() as s:
        return s.get(WaitingListEntry, entry_id).status


def offer_link(mailbox, address: str, count: int = 1) -> str:
    mailbox.deliver()
    return path_of(first_link(mailbox.wait_for(address, count)[-1], "/waitlist/offer/"))


def seats_left(db, sale: Sale) -> int:
    with db.session_factory() as s:
        return orders.availability(s, s.get(Event, sale.event_id))[sale.ticket_type_id]


def attendee(name: str, email: str, sale: Sale) -> dict:
    """The offer's form as the person fills it in; a paid ticket's "how will you pay" answered "pay the organiser"."""
    return {"attendee-name": name, "attendee-email": email, "attendee-ticket_type_id": str(sale.ticket_type_id),
            "provider": "manual"}


@pytest.fixture
def sale(db) -> Sale:
    return create_sale(db)


# --- end to end -----------------------------------------------------------------------------

def test_a_cancelled_ticket_goes_to_the_next_person_on_the_waiting_list(app, db, form, login_as, mailbox, sale):
    holder = login_as(locale="vi", name="Nguyễn Văn An")
    ticket_id = take_seat(app, db, sale, holder.user).tickets[0].id
    waiting = login_as(locale="en", name="Trần Thị Bình", email="binh@example.vn")

    join_page = waiting.get(sale.join_url).get_data(as_text=True)
    assert "This ticket type is sold out." in join_page
    assert 'value="Trần Thị Bình"' in join_page and 'value="binh@example.vn"' in join_page
    assert form(waiting, sale.join_url, {"name": "Trần Thị Bình", "email": "binh@example.vn"}).status_code == 302
    assert "You are on the waiting list since" in waiting.get(sale.join_url).get_data(as_text=True)

    assert form(holder, f"/tickets/{ticket_id}/cancel").status_code == 302

    mailbox.deliver()
    offer_mail = mailbox.wait_for("binh@example.vn")[0]
    assert offer_mail["Subject"] == "A seat is waiting for you at TechFest Hanoi 2026"
    assert "Visitor pass" in text_body(offer_mail)
    link = path_of(first_link(offer_mail, "/waitlist/offer/"))
    token = link.rsplit("/", 1)[1]
    with db.session_factory() as s:
        stored = s.scalar(select(WaitingListEntry.offer_token_hash))
    assert stored == hashlib.sha256(token.encode()).hexdigest()

    offer_page = waiting.get(link).get_data(as_text=True)
    assert "A seat is reserved for you" in offer_page and "Visitor pass" in offer_page
    assert 'value="binh@example.vn"' in offer_page

    booked = form(waiting, link, attendee("Trần Thị Bình", "binh@example.vn", sale))
    assert booked.status_code == 302
    assert re.fullmatch(r"/orders/\w+", path_of(booked.location))
    assert "Your tickets are confirmed." in waiting.get(booked.location).get_data(as_text=True)
    mailbox.deliver()
    assert mailbox.wait_for("binh@example.vn", 2)[1]["Subject"] == "Your tickets for TechFest Hanoi 2026"
    with db.session_factory() as s:
        live = s.execute(select(Ticket.attendee_name, Order.buyer_id).join(Order)
                         .where(Ticket.cancelled_at.is_(None))).all()
    assert [tuple(row) for row in live] == [("Trần Thị Bình", waiting.user.id)]
    assert seats_left(db, sale) == 0
    assert entry_status(db, 1) is WaitingListStatus.CONVERTED

    again = waiting.get(link)
    assert again.status_code == 410
    assert "This waiting-list link can no longer be used" in again.get_data(as_text=True)
    assert form(waiting, link, attendee("Someone Else", "else@example.vn", sale)).status_code == 410
    with db.session_factory() as s:
        assert s.scalar(select(func.count(Order.id))) == 2


# --- joining --------------------------------------------------------------------------------

def test_joining_twice_is_refused_with_a_clear_message(app, db, form, login_as, make_user, sale):
    take_seat(app, db, sale, make_user())
    visitor = login_as(locale="en")
    details = {"name": "Lê Minh", "email": "minh@example.vn"}
    assert form(visitor, sale.join_url, details).status_code == 302

    twice = form(visitor, sale.join_url, details)
    assert twice.status_code == 409
    assert "You are already on the waiting list for this ticket type." in twice.get_data(as_text=True)
    with db.session_factory() as s:
        assert s.scalar(select(func.count(WaitingListEntry.id))) == 1


def test_joining_while_seats_are_left_tells_the_visitor_to_register(db, form, login_as, sale):
    visitor = login_as(locale="en")
    page = visitor.get(sale.join_url).get_data(as_text=True)
    assert "register for it instead" in page
    assert f'href="/events/{SLUG}/register"' in page

    refused = form(visitor, sale.join_url, {"name": "Lê Minh", "email": "minh@example.vn"})
    assert refused.status_code == 409
    assert "register for it instead of joining the waiting list" in refused.get_data(as_text=True)
    with db.session_factory() as s:
        assert s.scalar(select(func.count(WaitingListEntry.id))) == 0


def test_a_malformed_email_is_refused_and_what_was_typed_is_kept(app, db, form, login_as, make_user, sale):
    take_seat(app, db, sale, make_user())
    visitor = login_as(locale="en")
    refused = form(visitor, sale.join_url, {"name": "Lê Minh", "email": "minh at example"})
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "Enter a valid e-mail address" in page and 'value="Lê Minh"' in page
    with db.session_factory() as s:
        assert s.scalar(select(func.count(WaitingListEntry.id))) == 0


def test_visitors_log_in_before_joining_and_unknown_ticket_types_are_not_found(client, login_as, sale):
    assert "/login" in client.get(sale.join_url).location
    assert login_as().get(f"/events/{SLUG}/waitlist/999").status_code == 404


# --- the offer link -------------------------------------------------------------------------

@pytest.fixture
def offered(app, db, make_user, sale):
    """The quota is full; Bình waits and is offered the seat a cancellation freed. Returns the link's path."""
    holder = make_user()
    order = take_seat(app, db, sale, holder)
    waiting = make_user(locale="en", name="Trần Thị Bình", email="binh@example.vn")
    join_directly(db, sale, waiting)
    with app.test_request_context(), db.transaction() as s:
        orders.cancel_order(s, holder, s.get(Order, order.id))
    return waiting


def test_an_unknown_link_is_refused(login_as):
    response = login_as(locale="en").get("/waitlist/offer/not-a-real-token")
    assert response.status_code == 410
    assert "This waiting-list link can no longer be used" in response.get_data(as_text=True)


def test_an_offer_past_its_time_is_refused_even_before_the_job_runs(db, login_as, mailbox, offered):
    link = offer_link(mailbox, offered.email)
    with db.transaction() as s:
        s.get(WaitingListEntry, 1).offer_expires_at = utcnow() - timedelta(minutes=1)
    response = login_as(locale="en").get(link)
    assert response.status_code == 410
    assert "This offer ran out unused." in response.get_data(as_text=True)


def test_the_link_asks_for_a_login_and_then_works_from_any_account(client, db, form, login_as, mailbox, offered,
                                                                     sale):
    link = offer_link(mailbox, offered.email)
    assert "/login" in client.get(link).location

    colleague = login_as(locale="en", email="assistant@example.vn")
    page = colleague.get(link).get_data(as_text=True)
    assert "Trần Thị Bình (binh@example.vn)" in page
    assert "You are logged in as assistant@example.vn: the ticket will be in this account." in page
    assert form(colleague, link, attendee("Trần Thị Bình", "binh@example.vn", sale)).status_code == 302
    with db.session_factory() as s:
        assert s.scalar(select(Order.buyer_id).where(Order.status == "paid")) == colleague.user.id


def test_missing_attendee_details_keep_what_was_typed_and_keep_the_offer(db, form, login_as, mailbox, offered,
                                                                        sale):
    link = offer_link(mailbox, offered.email)
    client = login_as(locale="en")
    refused = form(client, link, attendee("", "kept@example.vn", sale))
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "This field is required." in page and 'value="kept@example.vn"' in page
    assert entry_status(db, 1) is WaitingListStatus.OFFERED
    assert seats_left(db, sale) == 0


@pytest.fixture
def bank_transfer(monkeypatch) -> PaymentProvider:
    """One more provider buyers may choose, as the payments issue adds them."""
    provider = PaymentProvider("bank", "Bank transfer", "Transfer the amount with the order code in the memo.")
    monkeypatch.setitem(PROVIDERS, provider.key, provider)
    return provider


def payment_choices(page: str) -> list[str]:
    return [re.search(r'value="([^"]*)"', tag).group(1)
            for tag in re.findall(r'<input[^>]*\bname="provider"[^>]*>', page)]


def test_a_paid_offer_asks_how_to_pay_as_the_registration_does(app, db, form, login_as, make_user, mailbox,
                                                               bank_transfer):
    sale = create_sale(db, price=250_000)
    waiting = login_as(locale="en", name="Trần Thị Bình", email="binh@example.vn")
    registration = waiting.get(f"/events/{SLUG}/register?qty-{sale.ticket_type_id}=1").get_data(as_text=True)
    assert payment_choices(registration) == ["manual", "bank"]

    holder = make_user()
    order = take_seat(app, db, sale, holder)
    join_directly(db, sale, waiting.user)
    with app.test_request_context(), db.transaction() as s:
        orders.cancel_order(s, holder, s.get(Order, order.id))
    link = offer_link(mailbox, "binh@example.vn")

    offer_page = waiting.get(link).get_data(as_text=True)
    assert payment_choices(offer_page) == payment_choices(registration)
    assert "How will you pay?" in offer_page and "Transfer the amount with the order code in the memo." in offer_page

    tampered = form(waiting, link, attendee("Trần Thị Bình", "binh@example.vn", sale) | {"provider": "free"})
    assert tampered.status_code == 400
    assert "Choose one of the offered answers." in tampered.get_data(as_text=True)
    assert 'value="binh@example.vn"' in tampered.get_data(as_text=True)
    assert entry_status(db, 1) is WaitingListStatus.OFFERED

    booked = form(waiting, link, attendee("Trần Thị Bình", "binh@example.vn", sale) | {"provider": "bank"})
    assert booked.status_code == 302
    assert "Transfer the amount with the order code in the memo." in waiting.get(booked.location).get_data(
        as_text=True)
    with db.session_factory() as s:
        placed = s.scalar(select(Order).where(Order.buyer_id == waiting.user.id))
    assert (placed.provider, placed.status.value, placed.total) == ("bank", "pending", 250_000)


def test_an_offer_does_not_offer_a_way_to_pay_that_cannot_take_its_price(app, db, form, login_as, make_user,
                                                                          mailbox):
    add_bank_account(db)
    sale = create_sale(db, price=600_000_000)
    waiting = login_as(locale="en", name="Trần Thị Bình", email="binh@example.vn")
    holder = make_user()
    order = take_seat(app, db, sale, holder)
    join_directly(db, sale, waiting.user)
    with app.test_request_context(), db.transaction() as s:
        orders.cancel_order(s, holder, s.get(Order, order.id))
    link = offer_link(mailbox, "binh@example.vn")
    assert payment_choices(waiting.get(link).get_data(as_text=True)) == ["manual"]

    refused = form(waiting, link, attendee("Trần Thị Bình", "binh@example.vn", sale) | {"provider": "vietqr"})
    assert refused.status_code == 400
    page = html.unescape(refused.get_data(as_text=True))
    assert "Bank transfer (VietQR) takes at most ₫499,999,999 in one payment" in page
    assert 'value="binh@example.vn"' in page
    assert entry_status(db, 1) is WaitingListStatus.OFFERED
    with db.session_factory() as s:
        assert s.scalar(select(Order).where(Order.buyer_id == waiting.user.id)) is None


def test_a_free_offer_does_not_ask_how_to_pay(login_as, mailbox, offered):
    page = login_as(locale="en").get(offer_link(mailbox, offered.email)).get_data(as_text=True)
    assert "A seat is reserved for you" in page and "How will you pay?" not in page


# --- organisers -----------------------------------------------------------------------------

@pytest.fixture
def organiser(db, login_as, sale):
    client = login_as(Role.ORGANISER, locale="en")
    with db.transaction() as s:
        s.add(EventOrganiser(event_id=sale.event_id, user_id=client.user.id))
    return client


def fill_and_queue(app, db, make_user, sale: Sale, waiting: int) -> list[int]:
    take_seat(app, db, sale, make_user())
    return [join_directly(db, sale, make_user(name=f"Người chờ {n}", email=f"cho{n}@example.vn"))
            for n in range(1, waiting + 1)]


def test_organisers_see_the_queue_with_positions(app, db, make_user, organiser, sale):
    fill_and_queue(app, db, make_user, sale, waiting=2)
    page = organiser.get(f"/manage/events/{sale.event_id}/waitlist").get_data(as_text=True)
    rows = re.findall(r"<tr>.*?</tr>", page, re.S)[1:]
    assert ["cho1@example.vn" in rows[0], "cho2@example.vn" in rows[1]] == [True, True]
    assert "<td>1</td>" in rows[0] and "<td>2</td>" in rows[1]
    assert "Waiting" in rows[0]


def test_an_organiser_offers_a_seat_out_of_turn_and_it_is_audited(app, db, form, make_user, mailbox, organiser,
                                                                   sale):
    first, second = fill_and_queue(app, db, make_user, sale, waiting=2)
    with db.transaction() as s:
        s.get(Quota, sale.quota_id).size = 2
    response = form(organiser, f"/manage/events/{sale.event_id}/waitlist/{second}/offer")
    assert response.status_code == 302
    page = organiser.get(response.location).get_data(as_text=True)
    assert "A seat has been offered to Người chờ 2" in page and "Seat offered" in page
    assert [entry_status(db, first), entry_status(db, second)] == [WaitingListStatus.WAITING,
                                                                   WaitingListStatus.OFFERED]
    assert offer_link(mailbox, "cho2@example.vn")
    with db.session_factory() as s:
        audit = s.scalar(select(AuditEntry).where(AuditEntry.action == "waitlist.offered_by_hand"))
    assert (audit.actor_id, audit.object_id) == (organiser.user.id, str(second))


def test_an_organiser_cannot_offer_a_seat_that_does_not_exist(app, db, form, make_user, organiser, sale):
    (entry_id,) = fill_and_queue(app, db, make_user, sale, waiting=1)
    response = form(organiser, f"/manage/events/{sale.event_id}/waitlist/{entry_id}/offer")
    assert "No seat is free for this ticket type." in organiser.get(response.location).get_data(as_text=True)
    assert entry_status(db, entry_id) is WaitingListStatus.WAITING


def test_removing_someone_who_was_offered_a_seat_passes_it_on(app, db, form, make_user, mailbox, organiser, sale):
    first, second = fill_and_queue(app, db, make_user, sale, waiting=2)
    with db.transaction() as s:
        s.get(Quota, sale.quota_id).size = 2
    offer_seats(app, db, sale)
    response = form(organiser, f"/manage/events/{sale.event_id}/waitlist/{first}/remove")
    assert "Người chờ 1 has been taken off the waiting list." in organiser.get(response.location).get_data(
        as_text=True)
    assert [entry_status(db, first), entry_status(db, second)] == [WaitingListStatus.REMOVED,
                                                                   WaitingListStatus.OFFERED]
    with db.session_factory() as s:
        assert s.scalar(select(AuditEntry.object_id).where(AuditEntry.action == "waitlist.removed")) == str(first)


def test_organiser_actions_need_the_form_token(app, db, make_user, organiser, sale):
    (entry_id,) = fill_and_queue(app, db, make_user, sale, waiting=1)
    assert organiser.post(f"/manage/events/{sale.event_id}/waitlist/{entry_id}/remove").status_code == 400
    assert entry_status(db, entry_id) is WaitingListStatus.WAITING


def test_another_events_organiser_is_refused(app, db, form, login_as, make_user, sale):
    (entry_id,) = fill_and_queue(app, db, make_user, sale, waiting=1)
    stranger = login_as(Role.ORGANISER)
    assert stranger.get(f"/manage/events/{sale.event_id}/waitlist").status_code == 403
    assert form(stranger, f"/manage/events/{sale.event_id}/waitlist/{entry_id}/remove").status_code == 403
    assert entry_status(db, entry_id) is WaitingListStatus.WAITING


def test_the_organisers_list_takes_the_same_queries_however_long_it_is(app, db, make_user, organiser, sale):
    fill_and_queue(app, db, make_user, sale, waiting=2)
    url = f"/manage/events/{sale.event_id}/waitlist"
    with count_queries(db.engine) as few:
        assert organiser.get(url).status_code == 200
    for n in range(3, 23):
        join_directly(db, sale, make_user(email=f"more{n}@example.vn"))
    with count_queries(db.engine) as many:
        assert organiser.get(url).status_code == 200
    assert len(many) == len(few)


def test_an_organiser_cancelling_an_order_offers_each_freed_seat_once(app, db, form, make_user, mailbox, monkeypatch,
                                                                       organiser, sale):
    """Two seats freed at once go to the first two people waiting, one offer and one mail each; the waiting list is
    told once."""
    with db.transaction() as s:
        s.get(Quota, sale.quota_id).size = 2
    holder = make_user()
    with app.test_request_context(), db.transaction() as s:
        order_id = orders.place_order(s, event=s.get(Event, sale.event_id), buyer=holder, attendees=[
            orders.AttendeeInput(ticket_type_id=sale.ticket_type_id, name=f"Khách {n}", email=f"k{n}@example.vn")
            for n in (1, 2)]).id
    queued = [join_directly(db, sale, make_user(name=f"Người chờ {n}", email=f"cho{n}@example.vn"))
              for n in (1, 2, 3)]
    runs = []
    offer = waitlist.offer_freed_seats
    monkeypatch.setattr(waitlist, "offer_freed_seats", lambda *args: runs.append(args) or offer(*args))

    response = form(organiser, f"/manage/events/{sale.event_id}/orders/{order_id}/cancel")

    assert response.status_code == 302
    assert len(runs) == 1
    assert [entry_status(db, entry) for entry in queued] == [WaitingListStatus.OFFERED, WaitingListStatus.OFFERED,
                                                              WaitingListStatus.WAITING]
    offer_link(mailbox, "cho1@example.vn")
    offer_link(mailbox, "cho2@example.vn")
    assert (len(mailbox.to("cho1@example.vn")), len(mailbox.to("cho2@example.vn")), mailbox.to("cho3@example.vn")) == (
        1, 1, [])
    with db.session_factory() as s:
        assert s.scalar(select(func.count(Order.id)).where(Order.status == "cancelled")) == 1


# --- one's own place, and leaving -----------------------------------------------------------------

def words(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def test_a_person_sees_their_place_in_line_on_the_join_page_and_my_tickets(app, db, login_as, make_user, sale):
    ahead = fill_and_queue(app, db, make_user, sale, waiting=2)
    person = login_as(locale="en", name="Trần Thị Bình", email="binh@example.vn")
    join_directly(db, sale, person.user)
    join_directly(db, sale, make_user(email="after@example.vn"))

    assert "You are number 3 of 4 waiting for Visitor pass." in words(person.get(sale.join_url))
    assert "You are number 3 of 4 waiting for Visitor pass." in words(person.get("/tickets"))
    with db.transaction() as s:
        s.get(WaitingListEntry, ahead[0]).status = WaitingListStatus.REMOVED
    assert "You are number 2 of 3 waiting for Visitor pass." in words(person.get("/tickets"))


def test_my_tickets_reads_a_place_in_line_in_the_same_queries_however_long_the_line(app, db, login_as, make_user,
                                                                                    sale):
    person = login_as(locale="en", email="binh@example.vn")
    take_seat(app, db, sale, make_user())
    join_directly(db, sale, person.user)

    def queries() -> int:
        with count_queries(db.engine) as counter:
            assert person.get("/tickets").status_code == 200
        return len(counter)

    short_line = queries()
    for n in range(10):
        join_directly(db, sale, make_user(email=f"q{n}@example.vn"))
    assert queries() == short_line
    assert "You are number 1 of 11 waiting for Visitor pass." in words(person.get("/tickets"))


def test_leaving_asks_first_then_takes_the_person_off_and_a_second_time_changes_nothing(app, db, form, login_as,
                                                                                       make_user, organiser, sale):
    person = login_as(locale="en", name="Trần Thị Bình", email="binh@example.vn")
    take_seat(app, db, sale, make_user())
    entry_id = join_directly(db, sale, person.user)
    after_user = make_user(email="after@example.vn", locale="en")
    join_directly(db, sale, after_user)
    leave_url = f"/waitlist/{entry_id}/leave"
    assert leave_url in person.get(sale.join_url).get_data(as_text=True)

    asked = words(person.get(leave_url))
    assert "Leave the waiting list for Visitor pass?" in asked
    assert "You lose your place in line." in asked
    assert entry_status(db, entry_id) is WaitingListStatus.WAITING
    assert person.post(leave_url).status_code == 400  # no form token
    assert entry_status(db, entry_id) is WaitingListStatus.WAITING

    left = form(person, leave_url)
    assert left.status_code == 303
    assert "You have left the waiting list for Visitor pass." in words(person.get(left.location))
    assert entry_status(db, entry_id) is WaitingListStatus.LEFT
    again = form(person, leave_url)
    assert "You are no longer on the waiting list for Visitor pass." in words(person.get(again.location))
    assert "Waiting lists" not in words(person.get("/tickets"))
    with db.session_factory() as s:
        assert s.scalar(select(func.count()).where(AuditEntry.action == "waitlist.left")) == 1
    assert "You are number 1 of 1" in words(logged_in(app, after_user).get(sale.join_url))
    assert "Left the list" in words(organiser.get(f"/manage/events/{sale.event_id}/waitlist"))


def logged_in(app, user):
    client = app.test_client()
    login(client, app, user)
    return client


def test_leaving_with_a_seat_offered_passes_the_seat_on(app, db, form, login_as, make_user, mailbox, sale):
    person = login_as(locale="en", email="binh@example.vn")
    take_seat(app, db, sale, make_user())
    entry_id = join_directly(db, sale, person.user)
    next_in_line = join_directly(db, sale, make_user(email="next@example.vn"))
    with db.transaction() as s:
        s.get(Quota, sale.quota_id).size = 2
    offer_seats(app, db, sale)
    assert entry_status(db, entry_id) is WaitingListStatus.OFFERED
    assert "The seat reserved for you goes to the next person in line." in words(
        person.get(f"/waitlist/{entry_id}/leave"))

    form(person, f"/waitlist/{entry_id}/leave")
    assert [entry_status(db, entry_id), entry_status(db, next_in_line)] == [WaitingListStatus.LEFT,
                                                                            WaitingListStatus.OFFERED]
    assert offer_link(mailbox, "next@example.vn")


def test_nobody_may_leave_for_someone_else_and_a_booked_place_cannot_be_left(app, db, form, login_as, make_user,
                                                                             sale):
    owner = make_user(email="owner@example.vn", locale="en")
    take_seat(app, db, sale, make_user())
    entry_id = join_directly(db, sale, owner)
    stranger = login_as(locale="en")
    assert stranger.get(f"/waitlist/{entry_id}/leave").status_code == 404
    assert form(stranger, f"/waitlist/{entry_id}/leave").status_code == 404
    assert entry_status(db, entry_id) is WaitingListStatus.WAITING

    with db.transaction() as s:
        s.get(WaitingListEntry, entry_id).status = WaitingListStatus.CONVERTED
    refused = form(logged_in(app, owner), f"/waitlist/{entry_id}/leave")
    assert refused.status_code == 409
    assert "You booked a ticket through this waiting list: cancel the ticket instead." in words(refused)
    assert entry_status(db, entry_id) is WaitingListStatus.CONVERTED


def test_a_person_who_left_may_join_again_at_the_end(app, db, form, login_as, make_user, sale):
    person = login_as(locale="en", email="binh@example.vn")
    take_seat(app, db, sale, make_user())
    entry_id = join_directly(db, sale, person.user)
    join_directly(db, sale, make_user(email="other@example.vn"))
    form(person, f"/waitlist/{entry_id}/leave")
    form(person, sale.join_url, {"name": "Bình", "email": "binh@example.vn"})
    assert "You are number 2 of 2 waiting for Visitor pass." in words(person.get(sale.join_url))


def test_the_organisers_waiting_list_has_the_events_tabs(app, db, organiser, sale):
    page = organiser.get(f"/manage/events/{sale.event_id}/waitlist").get_data(as_text=True)
    nav = re.search(r'<nav class="section-menu" aria-label="Event management">.*?</nav>', page, re.S).group(0)
    assert f'href="/manage/events/{sale.event_id}/waitlist" aria-current="page"' in nav
    assert f'href="/manage/events/{sale.event_id}/orders"' in nav
