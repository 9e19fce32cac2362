"""What a person does in the browser, shared by the browser tests."""

from __future__ import annotations

import re

from flask_babel import force_locale, gettext
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD

LOGIN_PAGE = re.compile(r"/login(\?.*)?$")


def translated(app, message: str, locale: str = "vi") -> str:
    """The text a visitor reading `locale` sees for the English source `message`."""
    with app.test_request_context(), force_locale(locale):
        return gettext(message)


def log_in(page: Page, email: str, password: str = PASSWORD) -> None:
    """Through the login form, as a person would; waits until the portal has let them in."""
    page.goto("/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("#password").press("Enter")
    expect(page).not_to_have_url(LOGIN_PAGE)
    page.wait_for_load_state()


def switch_language(page: Page, code: str) -> None:
    page.locator(f"header a[hreflang={code}]").click()
    expect(page.locator("html")).to_have_attribute("lang", code)
