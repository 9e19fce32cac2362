"""Exhibitor badges: the allotment by booth size, naming staff up to it, renaming and removing before the event, and
badges that check in at the door but can never be bought on the registration form."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import Role, User
from portal.booths import badges, services
from portal.booths.models import BookingStatus, BoothBooking, default_badge_rules
from portal.errors import Conflict, Invalid, NotFound
from portal.events.checkin import Outcome, check_in
from portal.events.models import Event, OrderStatus, Ticket, TicketKind, TicketType
from portal.events.orders import AttendeeInput, OrderRefused, availability, load_event_for_sale, place_order
from portal.notifications.models import OutboxMessage
from tests.support.booths import as_exhibitor, as_organiser, create_hall
from tests.unit.test_booths_lifecycle import reserve


@pytest.mark.parametrize(("size_m2", "allotted"), [(4, 2), (9, 2), (9.5, 4), (18, 4), (18.01, 8), (36, 8), (200, 8)])
def test_the_default_allotment_is_2_up_to_9_m2_4_up_to_18_and_8_beyond(size_m2, allotted):
    assert badges.badge_allotment(default_badge_rules(), size_m2) == allotted


def sold_booth(app, db, make_user, number: str = "A-01", **hall_options):
    hall = create_hall(db, make_user, **hall_options)
    exhibitor = make_user(locale="en", email=f"owner-{number.lower()}@example.vn")
    reserved = reserve(app, db, exhibitor, hall.booths[number])
    as_organiser(app, db, services.record_payment, hall, reserved.id)
    return hall, exhibitor, reserved.id


def live_badges(db, booking_id: int) -> list[Ticket]:
    with db.session_factory() as s:
        return badges.live_badges(s.get(BoothBooking, booking_id))


def test_an_exhibitor_names_staff_up_to_the_allotment_and_no_more(app, db, make_user):
    hall, exhibitor, booking_id = sold_booth(app, db, make_user)  # 9 m², two badges
    for name, email in (("Lê Thu Hà", "ha@example.vn"), ("Trần Minh", "minh@example.vn")):
        as_exhibitor(app, db, badges.add_badge, exhibitor, booking_id, name=name, email=email)
    with pytest.raises(badges.TooManyBadges) as refused:
        as_exhibitor(app, db, badges.add_badge, exhibitor, booking_id, name="Phạm Lan", email="lan@example.vn")
    with app.test_request_context(), force_locale("en"):
        assert str(refused.value.message) == ("Booth A-01 comes with 2 badges and all of them are named. Rename or "
                                              "remove one to name someone else.")
    named = live_badges(db, booking_id)
    assert [(t.attendee_name, t.attendee_email, t.price) for t in named] == [
        ("Lê Thu Hà", "ha@example.vn", 0), ("Trần Minh", "minh@example.vn", 0)]
    with db.session_factory() as s:
        order = s.get(BoothBooking, booking_id).badge_order
        assert (order.buyer_id, order.status, order.total, order.provider) == (exhibitor.id, OrderStatus.PAID, 0,
                                                                               "free")
        assert {t.ticket_type.kind for t in order.tickets} == {TicketKind.EXHIBITOR_BADGE}
        # each person named gets their QR code
        badge_mail = s.scalar(select(OutboxMessage).where(OutboxMessage.to_address == "ha@example.vn"))
    assert badge_mail.subject == "Your exhibitor badge for TechFest Hanoi 2026"
    assert [a["builder"] for a in badge_mail.attachments] == ["ticket_qr"]


def test_a_larger_booth_gets_more_badges(app, db, make_user):
    hall, exhibitor, booking_id = sold_booth(app, db, make_user, "B-01")  # 18 m²
    for n in range(4):
        as_exhibitor(app, db, badges.add_badge, exhibitor, booking_id, name=f"Staff {n}", email=f"s{n}@example.vn")
    with pytest.raises(badges.TooManyBadges):
        as_exhibitor(app, db, badges.add_badge, exhibitor, booking_id, name="One more", email="more@example.vn")


def test_badges_wait_until_the_booth_is_paid(app, db, make_user):
    hall = create_hall(db, make_user)
    exhibitor = make_user(locale="en")
    reserved = reserve(app, db, exhibitor, hall.booths["A-01"])
    with pytest.raises(Conflict):
        as_exhibitor(app, db, badges.add_badge, exhibitor, reserved.id, name="Early", email="early@example.vn")


def test_renaming_to_another_person_makes_a_new_code_and_removing_frees_a_place(app, db, make_user):
    hall, exhibitor, booking_id = sold_booth(app, db, make_user)
    first = as_exhibitor(app, db, badges.add_badge, exhibitor, booking_id, name="Lê Hà", email="ha@example.vn")
    as_exhibitor(app, db, badges.add_badge, exhibitor, booking_id, name="Trần Minh", email="minh@example.vn")
    fixed = as_exhibitor(app, db, badges.rename_badge, exhibitor, booking_id, first.id, name="Lê Thu Hà",
                         email="ha@example.vn")
    assert (fixed.attendee_name, fixed.code) == ("Lê Thu Hà", first.code)  # a spelling fix keeps the QR code
    handed_on = as_exhibitor(app, db, badges.rename_badge, exhibitor, booking_id, first.id, name="Vũ Nam",
                             email="nam@example.vn")
    assert handed_on.code != first.code
    with pytest.raises(Invalid):
        as_exhibitor(app, db, badges.rename_badge, exhibitor, booking_id, first.id, name="Vũ Nam",
                     email="minh@example.vn")
    as_exhibitor(app, db, badges.remove_badge, exhibitor, booking_id, first.id)
    as_exhibitor(app, db, badges.add_badge, exhibitor, booking_id, name="Phạm Lan", email="lan@example.vn")
    assert [t.attendee_name for t in live_badges(db, booking_id)] == ["Trần Minh", "Phạm Lan"]


def test_another_exhibitor_cannot_touch_the_badges(app, db, make_user):
    hall, exhibitor, booking_id = sold_booth(app, db, make_user)
    badge = as_exhibitor(app, db, badges.add_badge, exhibitor, booking_id, name="Lê Hà", email="ha@example.vn")
    stranger = make_user()
    with pytest.raises(NotFound):
        as_exhibitor(app, db, badges.add_badge, stranger, booking_id, name="Intruder", email="x@example.vn")
    with pytest.raises(NotFound):
        as_exhibitor(app, db, badges.remove_badge, stranger, booking_id, badge.id)


def test_badges_are_fixed_once_the_event_starts(app, db, make_user):
    hall, exhibitor, booking_id = sold_booth(app, db, make_user)
    badge = as_exhibitor(app, db, badges.add_badge, exhibitor, booking_id, name="Lê Hà", email="ha@example.vn")
    with db.session_factory() as s:
        starts_at = s.get(Event, hall.event_id).starts_at
    with pytest.raises(Conflict):
        as_exhibitor(app, db, badges.rename_badge, exhibitor, booking_id, badge.id, name="Other",
                     email="other@example.vn", now=starts_at)
    with pytest.raises(Conflict):
        as_exhibitor(app, db, badges.remove_badge, exhibitor, booking_id, badge.id, now=starts_at)


def test_a_badge_checks_in_at_the_door_and_stops_when_the_booking_is_cancelled(app, db, make_user):
    hall, exhibitor, booking_id = sold_booth(app, db, make_user)
    badge = as_exhibitor(app, db, badges.add_badge, exhibitor, booking_id, name="Lê Hà", email="ha@example.vn")
    staff = make_user(Role.ORGANISER)
    with db.session_factory() as s:
        first_day = s.get(Event, hall.event_id).starts_at + timedelta(hours=1)

    def scan() -> Outcome:
        with app.test_request_context(), db.transaction() as s:
            return check_in(s, s.get(User, staff.id), s.get(Event, hall.event_id), badge.code, now=first_day).outcome

    assert scan() is Outcome.VALID
    as_organiser(app, db, services.cancel_booking, hall, booking_id)
    with db.session_factory() as s:
        assert s.get(BoothBooking, booking_id).status is BookingStatus.CANCELLED
    first_day += timedelta(days=1)
    assert scan() is Outcome.CANCELLED


def test_a_free_booth_withdrawn_by_its_exhibitor_cancels_its_badges(app, db, make_user):
    """A booth that costs nothing is sold at once with nothing paid: its exhibitor may still withdraw."""
    hall = create_hall(db, make_user, booths=[("F-01", "F", 0, 0, 3, 3, 9.0, 0, False)])
    exhibitor = make_user(locale="en")
    booking_id = reserve(app, db, exhibitor, hall.booths["F-01"]).id
    as_exhibitor(app, db, badges.add_badge, exhibitor, booking_id, name="Lê Hà", email="ha@example.vn")
    assert len(live_badges(db, booking_id)) == 1

    as_exhibitor(app, db, services.withdraw_booking, exhibitor, booking_id)

    assert live_badges(db, booking_id) == []
    with db.session_factory() as s:
        assert s.get(BoothBooking, booking_id).status is BookingStatus.WITHDRAWN


def test_the_badge_type_is_never_on_sale(app, db, make_user, client, login_as):
    hall, exhibitor, booking_id = sold_booth(app, db, make_user)
    badge = as_exhibitor(app, db, badges.add_badge, exhibitor, booking_id, name="Lê Hà", email="ha@example.vn")
    with db.session_factory() as s:
        badge_type_id = s.get(Ticket, badge.id).ticket_type_id
    page = client.get("/events/techfest-hanoi-2026", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Visitor pass" in page or "Vé khách tham quan" in page
    assert "Exhibitor badge" not in page and "Thẻ đơn vị trưng bày" not in page
    assert f"qty-{badge_type_id}" not in page
    buyer = login_as(locale="en")
    refused = buyer.get("/events/techfest-hanoi-2026/register", query_string={f"qty-{badge_type_id}": "1"})
    assert refused.status_code == 400
    assert "This ticket type does not exist for this event." in refused.get_data(as_text=True)
    with app.test_request_context(), db.transaction() as s:
        event = load_event_for_sale(s, "techfest-hanoi-2026")
        assert badge_type_id not in availability(s, event)
        with pytest.raises(OrderRefused):
            place_order(s, event=event, buyer=s.get(User, exhibitor.id),
                        attendees=[AttendeeInput(badge_type_id, "Buyer", "buyer@example.vn")])


def test_an_event_has_one_badge_type_however_many_exhibitors_name_badges_at_once(app, db, make_user):
    """The type is made on first use; a unique index turns a second, concurrent first use into a look-up."""
    hall, exhibitor, booking_id = sold_booth(app, db, make_user)
    as_exhibitor(app, db, badges.add_badge, exhibitor, booking_id, name="Lê Hà", email="ha@example.vn")
    with pytest.raises(IntegrityError), db.transaction() as s:
        s.add(TicketType(event_id=hall.event_id, kind=TicketKind.EXHIBITOR_BADGE, name_vi="Thẻ", name_en="Badge"))
    with db.transaction() as s:  # public types are not limited
        s.add(TicketType(event_id=hall.event_id, name_vi="Vé 2", name_en="Pass 2"))
