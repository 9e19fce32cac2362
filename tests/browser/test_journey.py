"""The Foundation journey in Chromium: sign up, confirm by mail, log in, switch language, log out for good."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.steps import LOGIN_PAGE, log_in, switch_language, translated
from tests.conftest import PASSWORD
from tests.support.a11y import assert_accessible
from tests.support.mail import first_link

pytestmark = pytest.mark.browser

EMAIL = "lan.nguyen@example.vn"


def test_a_founder_signs_up_confirms_logs_in_switches_language_and_logs_out_for_good(
    page, app, mailbox, new_context
):
    def vi(message: str) -> str:
        return translated(app, message, "vi")

    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.get_by_role("heading", level=1)).to_have_text(vi("Hanoi Innovation Portal"))
    assert_accessible(page)

    page.locator("header").get_by_role("link", name=vi("Sign up")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(vi("Create an account"))
    assert_accessible(page)
    page.locator("#full_name").fill("Nguyễn Thị Lan")
    page.locator("#email").fill(EMAIL)
    page.locator("#password").fill(PASSWORD)
    page.locator("#confirm").fill(PASSWORD)
    page.locator("#startup_name").fill("Lúa Xanh AI")
    page.locator("#consent_account").check()
    page.get_by_role("button", name=vi("Create account")).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(vi("Check your inbox"))
    assert_accessible(page)

    mailbox.deliver()
    page.goto(first_link(mailbox.wait_for(EMAIL)[0], "/verify/"))
    expect(page).to_have_url(LOGIN_PAGE)
    confirmed = vi("Your e-mail address is confirmed. You can log in now.")
    expect(page.get_by_role("status")).to_have_text(confirmed)
    assert_accessible(page)

    log_in(page, EMAIL)
    dashboard_heading = page.get_by_role("heading", level=1)
    expect(dashboard_heading).to_have_text(vi("Startup dashboard"))
    expect(page.get_by_role("main")).to_contain_text("Lúa Xanh AI")
    assert_accessible(page)

    switch_language(page, "en")
    expect(dashboard_heading).to_have_text("Startup dashboard")
    expect(page.locator("header")).to_contain_text("Log out")
    assert_accessible(page)

    switch_language(page, "vi")
    expect(dashboard_heading).to_have_text(vi("Startup dashboard"))

    session_cookies = page.context.cookies()
    other_device = new_context().new_page()
    other_device.context.add_cookies(session_cookies)
    other_device.goto("/dashboard")
    expect(other_device.get_by_role("heading", level=1)).to_have_text(vi("Startup dashboard"))

    page.locator("header").get_by_role("button", name=vi("Log out")).click()
    expect(page.get_by_role("status")).to_have_text(vi("You have logged out."))

    copied_cookie = new_context().new_page()
    copied_cookie.context.add_cookies(session_cookies)
    copied_cookie.goto("/dashboard")
    expect(copied_cookie).to_have_url(LOGIN_PAGE)
