"""Each role's dashboard starts with the person's own current things and what to do next, in a fixed number of
statements however many things there are."""

from __future__ import annotations

import re

import pytest

from portal.accounts.models import OrganisationMember, Role
from portal.booths import services as booth_services
from portal.events.models import OrderStatus
from tests.support.booths import as_exhibitor, create_hall, join_organisation
from tests.support.incubation import make_call, make_startup
from tests.support.ticketing import add_ticket, create_event
from tests.support.web import count_queries


def page_text(response) -> str:
    assert response.status_code == 200
    return response.get_data(as_text=True)


def dashboard(client):
    return client.get("/dashboard", follow_redirects=True)


def give_things(app, db, make_user, person, *, events: int):
    """`events` events to come, each with a ticket of the person's, an order of theirs to pay and (the first) a
    booth they hold."""
    hall = create_hall(db, make_user)
    as_exhibitor(app, db, booth_services.hold_booth, person, hall.booths["A-01"])
    found = [create_event(db, slug=f"event-{n}", name_en=f"Expo {n}", name_vi=f"Triển lãm {n}",
                          ticket_types=(("Investor pass", "Vé nhà đầu tư", 250_000),)) for n in range(events)]
    for event in found:
        add_ticket(db, event, person, name="Trần Thị Thu")
        add_ticket(db, event, person, status=OrderStatus.PENDING)
    return found


def test_an_exhibitor_with_an_organisation_sees_their_tickets_orders_and_booth_not_an_invitation_to_create_one(
        app, db, make_user, login_as):
    exhibitor = login_as(locale="en", email="exhibitor@example.vn")
    join_organisation(db, exhibitor.user, "Công ty Sen Vàng")
    give_things(app, db, make_user, exhibitor.user, events=1)

    page = page_text(dashboard(exhibitor))
    assert "Expo 0" in page and "Trần Thị Thu" in page and 'href="/tickets"' in page
    assert re.search(r'href="/orders/[0-9A-F]+">Pay ₫250,000 before ', page)
    assert "Booth A-01" in page and "Finish the application before" in page
    assert "Công ty Sen Vàng" in page
    assert "Create an organisation" not in page


def test_a_newcomer_is_told_what_to_do_next_with_the_links(login_as):
    newcomer = login_as(locale="en")
    page = page_text(dashboard(newcomer))
    assert "You have no ticket for an event to come." in page
    assert "You have no booth at an event to come." in page
    assert 'href="/organisations/new">Create an organisation</a>' in page
    assert "Orders to finish" not in page


def test_the_menu_leads_to_my_tickets(login_as):
    person = login_as(locale="en")
    assert '<a href="/tickets"' in page_text(dashboard(person))


@pytest.mark.parametrize("role", [None, Role.STARTUP, Role.ORGANISER, Role.INCUBATOR_MANAGER, Role.REVIEWER,
                                  Role.MENTOR, Role.ADMIN])
def test_every_dashboard_shows_the_persons_tickets_in_the_same_number_of_statements(app, db, make_user, login_as,
                                                                                    role):
    person = login_as(*([role] if role else []), locale="en")
    give_things(app, db, make_user, person.user, events=1)
    page = page_text(dashboard(person))
    assert "Expo 0" in page and "Booth A-01" in page

    with count_queries(db.engine) as few:
        page_text(dashboard(person))
    for n in range(1, 4):
        event = create_event(db, slug=f"more-{n}", name_en=f"More {n}", name_vi=f"Thêm {n}")
        add_ticket(db, event, person.user)
        add_ticket(db, event, person.user, status=OrderStatus.PENDING)
    with count_queries(db.engine) as many:
        assert "More 3" in page_text(dashboard(person))
    assert len(many) == len(few)


def test_an_organiser_sees_the_events_they_run_and_what_waits_for_their_decision(db, make_user, login_as):
    organiser = login_as(Role.ORGANISER, locale="en")
    buyer = make_user()
    event = create_event(db, team=(organiser.user,))
    create_event(db, slug="someone-elses", name_en="Someone else's fair", name_vi="Hội chợ khác")
    add_ticket(db, event, buyer, status=OrderStatus.AWAITING_APPROVAL)

    page = page_text(dashboard(organiser))
    assert "TechFest Hanoi 2026" in page and "Someone else's fair" not in page
    assert f'href="/manage/events/{event.id}/orders?status=awaiting_approval">1 order waits for your approval' in page

    with count_queries(db.engine) as few:
        page_text(dashboard(organiser))
    for n in range(3):
        more = create_event(db, slug=f"run-{n}", name_en=f"Run {n}", name_vi=f"Chạy {n}", team=(organiser.user,))
        add_ticket(db, more, buyer, status=OrderStatus.AWAITING_APPROVAL)
    with count_queries(db.engine) as many:
        assert "Run 2" in page_text(dashboard(organiser))
    assert len(many) == len(few)


def test_a_startup_sees_its_draft_application_with_what_to_do(db, make_user, form, login_as):
    organisation_id, (founder_user,) = make_startup(db, make_user, locale="en")
    founder = login_as(Role.STARTUP, locale="en", email="second@example.vn")
    with db.transaction() as s:
        s.add(OrganisationMember(organisation_id=organisation_id, user_id=founder.user.id, is_owner=False))
    make_call(db)
    started = form(founder, "/calls/uom-tao-test/apply", {"organisation_id": str(organisation_id)})
    assert started.status_code == 302

    page = page_text(dashboard(founder))
    assert "Startup dashboard" in page
    assert re.search(r'Test incubation</a></h3>\s*<p class="meta">Nông Sạch Tech', page)
    assert "Continue the application" in page
    assert "No mentoring session is booked." in page and 'href="/mentors"' in page
