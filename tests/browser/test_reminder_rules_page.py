"""The reminder rules of an event in Chromium, checked with axe: the defaults listed, a rule refused with its input
kept, previewed with a real ticket, saved; and the opt-out page a reminder's link opens without logging in."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal.accounts.models import Role
from portal.reminders.optout import opt_out_token
from tests.support.a11y import assert_accessible
from tests.support.reminders import default_rules
from tests.support.ticketing import add_ticket, create_event

pytestmark = pytest.mark.browser


def test_an_organiser_sets_a_reminder_on_the_rules_page(page, app, db, make_user, signed_in):
    organiser = signed_in(Role.ORGANISER, locale="en")
    event = create_event(db, team=(organiser,))
    default_rules(db, "event", event.id)
    add_ticket(db, event, make_user(), name="Đỗ Thu Trang")

    page.goto(f"/manage/events/{event.id}/reminders")
    expect(page.get_by_role("region", name="Reminder rules")).to_contain_text("7 days before")
    assert_accessible(page)

    page.get_by_role("link", name="The event starts", exact=True).click()
    page.get_by_label("How long").fill("2")
    page.get_by_label("Unit", exact=True).select_option("hours")
    page.get_by_label("Message (English)").fill("Hello {name}, doors open at {starts}.")
    page.get_by_label("If the portal was down when it fell due, still send it up to").fill("30")
    page.get_by_label("Unit of the late window").select_option("minutes")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_label("Message (English)")).to_have_value("Hello {name}, doors open at {starts}.")
    expect(page.locator(".field-error")).to_contain_text("Unknown placeholder {starts}")
    assert_accessible(page)

    page.get_by_label("Message (English)").fill("Hello {name}, doors open at {starts_at}.")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_test_id("preview-body")).to_contain_text("Hello Đỗ Thu Trang, doors open at")
    assert_accessible(page)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("region", name="Reminder rules")).to_contain_text("2 hours before")


def test_the_opt_out_page_needs_no_login(page, app):
    with app.test_request_context():
        token = opt_out_token("mai@example.vn", "event_ticket")
    page.goto(f"/reminders/stop/{token}")
    page.get_by_role("button", name="Dừng các lời nhắc này").click()
    expect(page.get_by_role("status")).to_contain_text("mai@example.vn")
    assert_accessible(page)
