"""Who may open which page: each role's dashboard and the admin area refuse everyone else."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from portal.accounts.models import Role
from tests.support.web import path_of

DASHBOARD_HEADINGS = {
    Role.STARTUP: "Startup dashboard",
    Role.MENTOR: "Mentor dashboard",
    Role.ORGANISER: "Organiser dashboard",
    Role.INCUBATOR_MANAGER: "Incubator dashboard",
    Role.REVIEWER: "Reviewer dashboard",
    Role.ADMIN: "Administration",
}
ADMIN_PAGES = {"/admin/users": "Users", "/admin/audit": "Audit log", "/admin/mail": "Mail",
               "/admin/scheduler": "Scheduler", "/admin/bank-accounts": "Bank accounts"}


def protected_pages() -> dict[str, tuple[Role, str]]:
    """Every role-only page: its path, the role it needs and the heading its holder sees."""
    pages = {f"/dashboard/{role.value}": (role, heading) for role, heading in DASHBOARD_HEADINGS.items()}
    pages.update({path: (Role.ADMIN, heading) for path, heading in ADMIN_PAGES.items()})
    return pages


def navigation_links(response) -> list[str]:
    nav = re.search(r'<nav id="site-nav".*?</nav>', response.get_data(as_text=True), re.S).group(0)
    return re.findall(r'<a href="(/[^"]*)"', nav)


def section_menu_links(response) -> list[str]:
    menu = re.search(r'<nav class="section-menu".*?</nav>', response.get_data(as_text=True), re.S)
    return re.findall(r'<a href="(/[^"]*)"', menu.group(0)) if menu else []


@pytest.fixture
def clients_by_role(login_as):
    """A logged-in English-speaking client for every role, and one (None) for a user without any."""
    return {role: login_as(*([role] if role else []), locale="en") for role in [*Role, None]}


def test_each_role_page_opens_for_its_holder_and_refuses_everyone_else(clients_by_role):
    someone = clients_by_role[None].user
    pages = {**protected_pages(), f"/admin/users/{someone.id}": (Role.ADMIN, someone.full_name)}
    for path, (needed, heading) in pages.items():
        for role, client in clients_by_role.items():
            response = client.get(path)
            if role is needed:
                assert response.status_code == 200, path
                assert f"<h1>{heading}</h1>" in response.get_data(as_text=True), path
            else:
                assert response.status_code == 403, f"{path} opened for {role}"
                assert "You do not have permission to open this page." in response.get_data(as_text=True)


@pytest.mark.parametrize("path", list(protected_pages()))
def test_a_visitor_is_sent_to_log_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    target = urlsplit(response.location)
    assert target.path == "/login"
    assert urlsplit(parse_qs(target.query)["next"][0]).path == path  # and comes back after logging in


def test_each_role_sees_its_own_navigation(clients_by_role):
    for role, client in clients_by_role.items():
        links = navigation_links(client.get("/account"))
        dashboards = {link for link in links if link.startswith("/dashboard")}
        assert dashboards == ({f"/dashboard/{role.value}"} if role else {"/dashboard"}), role
        admin_links = {link for link in links if link.startswith("/admin")}
        assert admin_links == ({"/admin/users"} if role is Role.ADMIN else set()), role


def test_every_admin_page_has_the_administration_tabs(clients_by_role):
    admin = clients_by_role[Role.ADMIN]
    for path in [*ADMIN_PAGES, "/styleguide"]:
        response = admin.get(path)
        assert section_menu_links(response) == [*ADMIN_PAGES, "/styleguide"], path
        assert f'<a href="{path}" aria-current="page">' in response.get_data(as_text=True), path


def test_a_person_with_several_roles_sees_each_dashboard(login_as):
    client = login_as(Role.MENTOR, Role.REVIEWER, locale="en")
    links = navigation_links(client.get("/account"))
    assert [link for link in links if link.startswith("/dashboard")] == ["/dashboard/reviewer"]
    assert section_menu_links(client.get("/dashboard/mentor")) == ["/dashboard/reviewer", "/dashboard/mentor"]
    assert client.get("/dashboard/mentor").status_code == 200
    assert client.get("/dashboard/reviewer").status_code == 200
    assert client.get("/dashboard/organiser").status_code == 403
    assert path_of(client.get("/dashboard").location) == "/dashboard/reviewer"


def test_a_user_without_a_role_gets_the_general_dashboard(login_as):
    response = login_as(locale="en").get("/dashboard")
    assert response.status_code == 200
    assert "<h1>My dashboard</h1>" in response.get_data(as_text=True)


def test_an_unknown_role_dashboard_is_not_found(login_as):
    assert login_as(Role.ADMIN).get("/dashboard/emperor").status_code == 404
