"""axe-core finds no serious or critical problem on any page, phones get a working menu without sideways
scrolling, and keyboard users can skip straight to the content."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal.accounts import services
from portal.accounts.models import Organisation, OrganisationKind, Role, User
from portal.demo import load_demo
from tests.browser.steps import translated
from tests.support.a11y import assert_accessible

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 740}


@pytest.fixture(autouse=True)
def demo_content(app):
    """Published events, open calls and people, so pages show lists and cards rather than empty states."""
    load_demo(app)


@pytest.fixture
def colleague(app, db, make_user):
    """Another person on the portal, with a password-reset mail of theirs waiting in the outbox."""
    user = make_user(name="Trần Văn Bình")
    with app.test_request_context(), db.transaction() as s:
        services.request_password_reset(s, user.email, locale="vi")
    return user


def assert_fits_the_phone(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"{page.url} is {width}px wide: it scrolls sideways on a phone"


def assert_accessible_on_desktop_and_phone(page) -> None:
    assert_accessible(page)
    page.set_viewport_size(PHONE)
    assert_fits_the_phone(page)
    assert_accessible(page)


def _invitation(s, owner: User, email: str) -> tuple[int, str]:
    """A startup of `owner` and the token of its invitation to `email`."""
    founder = s.get(User, owner.id)
    org = services.create_organisation(s, founder, name="Lúa Xanh AI", kind=OrganisationKind.STARTUP)
    return org.id, services.invite_member(s, founder, org, email, locale="vi")


def _startup_owned_by(app, db, owner: User, member: User) -> int:
    """A startup with `member`, who accepted its invitation, and another invitation waiting for an answer."""
    with app.test_request_context(), db.transaction() as s:
        org_id, token = _invitation(s, owner, member.email)
        services.accept_invitation(s, s.get(User, member.id), token)
        org = s.get(Organisation, org_id)
        services.invite_member(s, s.get(User, owner.id), org, "khach-moi@example.vn", locale="vi")
        return org_id


VISITOR_PAGES = {
    "home": "/",
    "login": "/login",
    "signup": "/signup",
    "forgot-password": "/password/forgot",
    "privacy": "/privacy",
    "invalid-link": "/verify/not-a-real-token",
    "not-found": "/no-such-page",
}


@pytest.mark.parametrize("path", VISITOR_PAGES.values(), ids=VISITOR_PAGES.keys())
def test_visitor_page_is_accessible(page, path):
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_accessible_on_desktop_and_phone(page)


def test_an_invitation_a_visitor_opens_is_accessible(page, app, db, make_user):
    with app.test_request_context(), db.transaction() as s:
        _org_id, token = _invitation(s, make_user(name="Trần Văn Bình"), "khach-moi@example.vn")
    page.goto(f"/organisations/invitations/{token}")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_accessible_on_desktop_and_phone(page)


def test_signup_showing_its_errors_is_accessible(page, app):
    page.goto("/signup")
    page.get_by_role("button", name=translated(app, "Create account")).click()
    expect(page.get_by_role("alert")).to_have_text(translated(app, "Please correct the fields marked below."))
    expect(page.locator("#email")).to_have_attribute("aria-invalid", "true")
    assert_accessible_on_desktop_and_phone(page)


STARTUP_PAGES = {
    "account": "/account",
    "consents": "/account/consents",
    "organisations": "/organisations/",
    "new-organisation": "/organisations/new",
    "organisation": "/organisations/{org}",
    "edit-organisation": "/organisations/{org}/edit",
    "forbidden": "/admin/users",
}
ADMIN_PAGES = {
    "admin-users": "/admin/users",
    "admin-user-detail": "/admin/users/{colleague}",
    "admin-audit": "/admin/audit",
    "admin-mail": "/admin/mail",
    "admin-bank-accounts": "/admin/bank-accounts",  # the demo's two accounts, the demo organiser named on both
}
SIGNED_IN_PAGES = (
    [pytest.param((Role.STARTUP,), path, id=name) for name, path in STARTUP_PAGES.items()]
    + [pytest.param((Role.ADMIN,), path, id=name) for name, path in ADMIN_PAGES.items()]
    + [pytest.param((role,), f"/dashboard/{role.value}", id=f"dashboard-{role.value}") for role in Role]
)


@pytest.mark.parametrize(("roles", "path"), SIGNED_IN_PAGES)
def test_signed_in_page_is_accessible(page, app, db, signed_in, colleague, roles, path):
    user = signed_in(*roles)
    org_id = _startup_owned_by(app, db, user, colleague)
    page.goto(path.format(org=org_id, colleague=colleague.id))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_accessible_on_desktop_and_phone(page)


@pytest.mark.parametrize("roles", [(), tuple(Role)], ids=["visitor-home", "dashboard-with-every-role"])
def test_on_a_phone_the_menu_button_shows_the_navigation_and_nothing_scrolls_sideways(
    page, app, signed_in, roles
):
    page.set_viewport_size(PHONE)
    if roles:
        signed_in(*roles)
        page.goto("/dashboard")
    else:
        page.goto("/")
    menu = page.get_by_role("button", name=translated(app, "Menu"))
    navigation = page.locator("#site-nav")

    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(navigation).to_be_hidden()
    assert_fits_the_phone(page)
    assert_accessible(page)

    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(navigation.get_by_role("link", name="English")).to_be_visible()
    assert_fits_the_phone(page)
    assert_accessible(page)

    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(navigation).to_be_hidden()


def test_the_first_tab_reaches_the_skip_link_which_moves_focus_to_the_content(page, app):
    page.goto("/")
    page.keyboard.press("Tab")
    skip_link = page.get_by_role("link", name=translated(app, "Skip to content"))
    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_in_viewport()

    page.keyboard.press("Enter")
    content = page.get_by_role("main")
    expect(content).to_be_focused()
    page.keyboard.press("Tab")
    expect(content.get_by_role("link", name=translated(app, "Create an account"))).to_be_focused()


def test_on_a_phone_without_javascript_the_navigation_stays_open(new_context, app):
    phone = new_context(viewport=PHONE, java_script_enabled=False).new_page()
    phone.goto("/")
    expect(phone.get_by_role("button", name=translated(app, "Menu"))).to_be_hidden()
    expect(phone.locator("#site-nav").get_by_role("link", name=translated(app, "Log in"))).to_be_visible()
    assert_fits_the_phone(phone)
