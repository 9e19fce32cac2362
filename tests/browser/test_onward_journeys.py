"""Issue 15's journeys 4 and 5 in Chromium. A newcomer on a ticket page logs in, has no account, signs up, confirms
the address from the mail on their phone and lands on the ticket form they were going to. An exhibitor and a
founder find their things on their dashboard and follow each to its page. axe checks every page on the way."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from portal.booths import services as booth_services
from portal.events.models import OrderStatus
from tests.browser.steps import LOGIN_PAGE, log_in, translated
from tests.conftest import PASSWORD, login
from tests.support.a11y import assert_accessible
from tests.support.booths import as_exhibitor, create_hall, join_organisation
from tests.support.incubation import make_call, make_startup
from tests.support.mail import first_link
from tests.support.ticketing import add_ticket, create_event

pytestmark = pytest.mark.browser

NEWCOMER = "minh.tran@example.vn"


def test_a_newcomer_on_a_ticket_page_signs_up_confirms_on_the_phone_and_lands_on_the_ticket_form(
        page, app, db, mailbox, new_context):
    def vi(message: str) -> str:
        return translated(app, message, "vi")

    event = create_event(db)
    page.goto(f"/events/{event.slug}")
    assert_accessible(page)
    page.get_by_role("combobox").first.select_option("2")
    page.get_by_role("button", name=vi("Register")).click()
    expect(page).to_have_url(LOGIN_PAGE)
    assert_accessible(page)

    page.get_by_role("main").get_by_role("link", name=vi("Create an account")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(vi("Create an account"))
    assert_accessible(page)
    page.locator("#full_name").fill("Trần Văn Minh")
    page.locator("#email").fill(NEWCOMER)
    page.locator("#password").fill(PASSWORD)
    page.locator("#confirm").fill(PASSWORD)
    page.locator("#consent_account").check()
    page.get_by_role("button", name=vi("Create account")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(vi("Check your inbox"))

    mailbox.deliver()
    phone = new_context(viewport={"width": 375, "height": 800}).new_page()  # the mail is read on the phone
    phone.goto(first_link(mailbox.wait_for(NEWCOMER)[0], "/verify/"))
    expect(phone).to_have_url(LOGIN_PAGE)
    expect(phone.get_by_role("status")).to_have_text(vi("Your e-mail address is confirmed. You can log in now."))
    assert_accessible(phone)
    phone.locator("#email").fill(NEWCOMER)
    phone.locator("#password").fill(PASSWORD)
    phone.locator("#password").press("Enter")

    expect(phone.get_by_role("heading", level=1)).to_have_text(
        translated(app, "Register for %(event)s", "vi") % {"event": event.name_vi})
    expect(phone).to_have_url(re.compile(rf"/events/{event.slug}/register\?.*=2"))  # the two tickets chosen
    assert_accessible(phone)


def test_an_exhibitor_goes_from_the_dashboard_to_their_booth_and_their_ticket(page, app, db, make_user):
    def vi(message: str, **values) -> str:
        return translated(app, message, "vi") % values if values else translated(app, message, "vi")

    exhibitor = make_user(email="thu.ha@songhong.vn", name="Lê Thu Hà")
    join_organisation(db, exhibitor, "Công ty Sông Hồng")
    hall = create_hall(db, make_user)
    as_exhibitor(app, db, booth_services.hold_booth, exhibitor, hall.booths["A-02"])
    expo = create_event(db, slug="expo", name_vi="Triển lãm Hà Nội", name_en="Hanoi Expo")
    add_ticket(db, expo, exhibitor, name="Lê Thu Hà")

    log_in(page, exhibitor.email)
    main = page.get_by_role("main")
    expect(main).to_contain_text("Công ty Sông Hồng")
    expect(main).not_to_contain_text(vi("Create an organisation"))
    assert_accessible(page)

    main.get_by_role("link", name=vi("Booth %(number)s", number="A-02")).click()
    expect(page).to_have_url(re.compile(r"/booths/bookings/\d+$"))
    expect(page.get_by_role("main")).to_contain_text("A-02")
    assert_accessible(page)

    page.go_back()
    page.get_by_role("region", name=vi("My tickets")).get_by_role("link", name="Triển lãm Hà Nội").click()
    expect(page).to_have_url(re.compile(r"/events/expo$"))

    page.get_by_role("navigation").get_by_role("link", name=vi("My tickets")).first.click()
    expect(page.get_by_role("main")).to_contain_text("Lê Thu Hà")
    assert_accessible(page)


def test_a_founder_goes_from_the_dashboard_to_the_draft_application_and_the_order_to_pay(page, app, db, make_user,
                                                                                      form):
    def vi(message: str) -> str:
        return translated(app, message, "vi")

    organisation_id, (founder,) = make_startup(db, make_user)
    make_call(db)
    founder_client = app.test_client()  # the application was started earlier, on another device
    login(founder_client, app, founder)
    form(founder_client, "/calls/uom-tao-test/apply", {"organisation_id": str(organisation_id)})
    event = create_event(db, ticket_types=(("Investor pass", "Vé nhà đầu tư", 250_000),))
    add_ticket(db, event, founder, status=OrderStatus.PENDING)

    log_in(page, founder.email)
    expect(page.get_by_role("heading", level=1)).to_have_text(vi("Startup dashboard"))
    assert_accessible(page)
    page.get_by_role("main").get_by_role("link", name=vi("Continue the application")).click()
    expect(page).to_have_url(re.compile(r"/applications/\d+$"))
    assert_accessible(page)

    page.go_back()
    page.get_by_role("main").get_by_role("link", name=re.compile("^" + re.escape(vi("Pay %(amount)s before %(time)s")
                                                                             .split("%(amount)s")[0]))).click()
    expect(page).to_have_url(re.compile(r"/orders/[0-9A-F]+$"))
    assert_accessible(page)
