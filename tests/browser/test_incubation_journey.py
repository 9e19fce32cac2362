"""The incubation cycle in Chromium: a startup starts an application, leaves, comes back to its draft (saved while
typing), uploads a deck and submits; the manager runs the assignment; the reviewer scores; the manager decides and
sends the letters; the startup reads the result. axe checks every page on the way, and the section page at 375 px."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.accounts.models import Role
from portal.incubation.models import Answer, FormField
from tests.browser.steps import log_in
from tests.support.a11y import assert_accessible
from tests.support.incubation import PDF, make_call, make_startup, reviewer_in_pool

pytestmark = pytest.mark.browser

SLUG = "uom-tao-browser"


def test_from_a_draft_to_the_decision_letter(page, app, db, make_user, new_context, mailbox, tmp_path):
    call_id = make_call(db, slug=SLUG, k=1)
    organisation_id, (founder,) = make_startup(db, make_user, "Nông Sạch Tech", locale="en")
    reviewer, _pooled = reviewer_in_pool(app, db, make_user, call_id, {"agritech": 4}, name="Ms Review",
                                   locale="en")
    manager = make_user(Role.INCUBATOR_MANAGER, locale="en", name="Mr Manager")

    # the startup starts, types, and leaves without pressing any button
    log_in(page, founder.email)
    page.goto(f"/calls/{SLUG}")
    assert_accessible(page)
    page.get_by_role("button", name="Start an application").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Application of Nông Sạch Tech")
    assert_accessible(page)
    page.get_by_role("link", name="Edit The company").click()
    page.get_by_label("Company or project name").fill("Nông Sạch Tech")
    page.get_by_label("Date founded").fill("2024-03-15")
    expect(page.locator(".save-state")).to_contain_text("Saved at", timeout=30_000)  # a busy machine may be slow
    assert_accessible(page)
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/")  # gone, without saving by hand

    # back: the draft is there; the rest of the form, step by step
    page.goto("/my/applications")
    page.get_by_role("link", name="Test incubation").click()
    page.get_by_role("link", name="Edit The company").click()
    expect(page.get_by_label("Company or project name")).to_have_value("Nông Sạch Tech")
    page.get_by_label("Hanoi").check()
    page.get_by_label("Agritech").check()
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_label("Name, founder 1").fill("Nguyễn Văn An")
    page.get_by_label("Role, founder 1").fill("CEO")
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_label("The problem you solve").fill("Nông dân thiếu dữ liệu thời tiết.")
    page.get_by_label("Your solution and what is new in it").fill("Cảm biến giá rẻ.")
    page.get_by_role("button", name="Save and continue").click()
    deck = tmp_path / "deck.pdf"
    deck.write_bytes(PDF)
    page.get_by_label(re.compile("Add a file")).set_input_files(str(deck))
    page.get_by_role("button", name="Upload").click()
    expect(page.locator(".flashes")).to_contain_text("deck.pdf is attached.")
    assert_accessible(page)
    page.get_by_role("link", name="Review and submit").click()
    page.get_by_role("button", name="Submit my application").click()
    expect(page.locator(".flashes")).to_contain_text("Your application is submitted.")
    assert_accessible(page)
    mailbox.deliver()
    assert mailbox.wait_for(founder.email)

    # the manager moves it to dossier review and assigns reviewers
    manager_page = new_context().new_page()
    log_in(manager_page, manager.email)
    manager_page.goto(f"/incubator/calls/{call_id}/applications")
    assert_accessible(manager_page)
    manager_page.get_by_label("Select Nông Sạch Tech").check()
    manager_page.get_by_label("Move the selected applications to").select_option("dossier")
    manager_page.get_by_role("button", name="Move").click()
    expect(manager_page.locator(".flashes")).to_contain_text("1 application moved to Dossier review.")
    manager_page.goto(f"/incubator/calls/{call_id}/reviewers")
    assert_accessible(manager_page)
    manager_page.get_by_role("button", name="Assign reviewers").click()
    expect(manager_page.locator(".flashes")).to_contain_text("Reviews assigned: 1. Reviewers: 1.")

    # the reviewer scores
    reviewer_page = new_context().new_page()
    log_in(reviewer_page, reviewer.email)
    reviewer_page.goto("/reviewing/")
    assert_accessible(reviewer_page)
    reviewer_page.get_by_role("link", name="Nông Sạch Tech").click()
    for label, value in (("Team", "8"), ("Innovation and IP", "7"), ("Market", "7"), ("Business model", "6"),
                         ("Traction", "5"), ("Impact and fit with Hanoi", "9")):
        reviewer_page.get_by_label(re.compile(f"^{label} \\(weight")).fill(value)
    reviewer_page.get_by_label("Comment for the startup").fill("Promising team.")
    assert_accessible(reviewer_page)
    reviewer_page.get_by_role("button", name="Submit the review").click()
    expect(reviewer_page.locator(".flashes")).to_contain_text("Your review is submitted.")

    # the manager ranks, decides and sends the letter
    manager_page.goto(f"/incubator/calls/{call_id}/ranking")
    expect(manager_page.locator("#ranking")).to_contain_text("71.0")
    assert_accessible(manager_page)
    manager_page.get_by_role("link", name="Nông Sạch Tech").click()
    manager_page.get_by_role("combobox", name="Decision").select_option("accept")
    manager_page.get_by_label("Feedback for the startup").fill("Welcome to the cohort.")
    manager_page.get_by_role("button", name="Record the decision").click()
    expect(manager_page.locator(".flashes")).to_contain_text("The decision is recorded.")
    assert_accessible(manager_page)
    manager_page.goto(f"/incubator/calls/{call_id}/letters?lang=en")
    expect(manager_page.locator(".letter-preview")).to_contain_text("Welcome to the cohort.")
    assert_accessible(manager_page)
    manager_page.get_by_role("button", name="Send this letter").click()
    expect(manager_page.locator(".flashes")).to_contain_text("1 decision letter is on its way.")

    # the startup reads it
    page.goto("/my/applications")
    expect(page.locator("table")).to_contain_text("Accepted")
    page.get_by_role("link", name="Test incubation").click()
    expect(page.locator("#decision-heading")).to_have_text("Decision: Accepted")
    expect(page.get_by_text("Welcome to the cohort.")).to_be_visible()
    assert_accessible(page)
    with db.session_factory() as s:
        company = s.scalar(select(Answer.value).join(FormField).where(FormField.key == "company_name"))
    assert company == "Nông Sạch Tech"


def test_what_is_typed_before_the_autosave_script_runs_is_saved_too(page, app, db, make_user):
    """On a slow phone the page can be typed into before its script has run: the script saves that on arrival."""
    make_call(db, slug=SLUG, k=1)
    _organisation_id, (founder,) = make_startup(db, make_user, "Nông Sạch Tech", locale="en")
    log_in(page, founder.email)
    page.goto(f"/calls/{SLUG}")
    page.get_by_role("button", name="Start an application").click()
    page.route("**/autosave.js", lambda route: route.abort())  # the script has not arrived yet
    page.get_by_role("link", name="Edit The company").click()
    page.get_by_label("Company or project name").fill("Nông Sạch Tech")
    page.unroute("**/autosave.js")
    page.add_script_tag(url="/static/js/autosave.js")  # ... and now it has
    expect(page.locator(".save-state")).to_contain_text("Saved at", timeout=30_000)
    with db.session_factory() as s:
        company = s.scalar(select(Answer.value).join(FormField).where(FormField.key == "company_name"))
    assert company == "Nông Sạch Tech"
