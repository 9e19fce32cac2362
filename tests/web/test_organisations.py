"""Organisations: owners create and manage them, members see them, everyone else is refused."""

from __future__ import annotations

import re

import pytest

from tests.support.web import path_of

PROFILE = {
    "name": "Sen Vàng AI",
    "website": "https://senvang.example.vn",
    "tax_code": "0101234567-001",
    "sector": "Agritech",
    "stage": "mvp",
    "founded_on": "2023-04-15",
    "team_size": "12",
    "description_vi": "Trí tuệ nhân tạo cho nông nghiệp.",
    "description_en": "Artificial intelligence for farming.",
}


def create_organisation(form, client, name: str = "Sen Vàng AI", kind: str = "startup") -> int:
    response = form(client, "/organisations/new", {"name": name, "kind": kind})
    assert response.status_code == 302
    return int(re.fullmatch(r"/organisations/(\d+)/edit", path_of(response.location)).group(1))


@pytest.fixture
def owner(login_as):
    return login_as(locale="en", name="Đỗ Thu Hà")


@pytest.fixture
def startup_id(form, owner) -> int:
    return create_organisation(form, owner)


def test_creating_a_startup_lists_it_and_makes_its_founder_a_startup_member(owner, startup_id):
    listing = owner.get("/organisations/").get_data(as_text=True)
    assert f'href="/organisations/{startup_id}"' in listing
    assert "Sen Vàng AI" in listing

    dashboard = owner.get("/dashboard/startup")
    assert dashboard.status_code == 200
    assert "Sen Vàng AI" in dashboard.get_data(as_text=True)


def test_creating_a_company_does_not_grant_the_startup_role(form, owner):
    create_organisation(form, owner, name="Viettel Lab", kind="company")
    assert owner.get("/dashboard/startup").status_code == 403


def test_an_organisation_without_a_name_is_refused(db, form, owner):
    response = form(owner, "/organisations/new", {"name": "", "kind": "company", "website": "https://x.example"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "This field is required." in page
    assert 'value="https://x.example"' in page
    listing = owner.get("/organisations/").get_data(as_text=True)
    assert "You are not a member of any organisation yet." in listing


def test_the_owner_edits_the_startup_profile(form, owner, startup_id):
    response = form(owner, f"/organisations/{startup_id}/edit", PROFILE)
    assert response.status_code == 302

    page = owner.get(f"/organisations/{startup_id}").get_data(as_text=True)
    for shown in ("Agritech", "Minimum viable product", "12", "Artificial intelligence for farming.",
                  "https://senvang.example.vn", "0101234567-001"):
        assert shown in page
    assert "Apr 15, 2023" in page


@pytest.mark.parametrize(("changes", "message"), [
    ({"website": "senvang dot vn"}, "Enter a full web address, like https://example.vn."),
    ({"tax_code": "0101234567-1"},
     "A tax code has 10 digits, or 10 digits, a hyphen and 3 more for a branch (0101234567-001)."),
    ({"team_size": "a dozen"}, "Enter a whole number, like 12."),
    ({"team_size": "0"}, "Enter a number between 1 and 100000."),
    ({"founded_on": "15/04/2023x"}, "Enter a date, like 2025-03-31."),
    ({"name": ""}, "This field is required."),
])
def test_a_bad_startup_profile_is_refused_keeping_what_was_typed(form, owner, startup_id, changes, message):
    typed = {**PROFILE, **changes}
    response = form(owner, f"/organisations/{startup_id}/edit", typed)

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    for field in ("website", "tax_code", "sector", "team_size", "founded_on"):
        assert f'value="{typed[field]}"' in page
    assert typed["description_en"] in page
    assert "Agritech" not in owner.get(f"/organisations/{startup_id}").get_data(as_text=True)


def test_the_owner_adds_and_removes_a_member(form, owner, startup_id, login_as):
    colleague = login_as(locale="en", email="colleague@example.vn", name="Vũ Minh")
    assert colleague.get("/dashboard/startup").status_code == 403

    added = form(owner, f"/organisations/{startup_id}/members", {"email": "Colleague@Example.vn"})
    assert added.status_code == 302
    assert "Vũ Minh" in owner.get(f"/organisations/{startup_id}").get_data(as_text=True)
    assert colleague.get(f"/organisations/{startup_id}").status_code == 200
    assert colleague.get("/dashboard/startup").status_code == 200  # joining a startup grants the role

    removed = form(owner, f"/organisations/{startup_id}/members/{colleague.user.id}/remove")
    assert removed.status_code == 302
    assert "Vũ Minh" not in owner.get(f"/organisations/{startup_id}").get_data(as_text=True)
    assert colleague.get(f"/organisations/{startup_id}").status_code == 403
    assert colleague.get("/dashboard/startup").status_code == 403


def test_adding_an_unknown_address_says_so(form, owner, startup_id):
    response = form(owner, f"/organisations/{startup_id}/members", {"email": "stranger@example.vn"})
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "No confirmed account uses this e-mail address." in page
    assert 'value="stranger@example.vn"' in page


def test_adding_someone_twice_is_refused(form, owner, startup_id, make_user):
    make_user(email="twice@example.vn")
    form(owner, f"/organisations/{startup_id}/members", {"email": "twice@example.vn"})
    again = form(owner, f"/organisations/{startup_id}/members", {"email": "twice@example.vn"})
    assert again.status_code == 409
    assert "This person is already a member." in again.get_data(as_text=True)


def test_the_owner_cannot_be_removed(form, owner, startup_id):
    path = f"/organisations/{startup_id}/members/{owner.user.id}/remove"
    response = form(owner, path, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "The owner cannot be removed." in page
    assert "Đỗ Thu Hà" in page


def test_a_stranger_cannot_open_another_organisation(form, owner, startup_id, login_as):
    stranger = login_as(locale="en")
    own_id = create_organisation(form, stranger, name="Stranger Things")
    assert stranger.get(f"/organisations/{own_id}").status_code == 200

    for path in (f"/organisations/{startup_id}", f"/organisations/{startup_id}/edit"):
        response = stranger.get(path)
        assert response.status_code == 403
        assert "Sen Vàng AI" not in response.get_data(as_text=True)
    changed = form(stranger, f"/organisations/{startup_id}/edit", {**PROFILE, "name": "Hijacked"})
    assert changed.status_code == 403
    assert "Hijacked" not in owner.get(f"/organisations/{startup_id}").get_data(as_text=True)


def test_a_plain_member_sees_but_cannot_manage(form, owner, startup_id, login_as, make_user):
    member = login_as(locale="en", email="member@example.vn")
    form(owner, f"/organisations/{startup_id}/members", {"email": "member@example.vn"})
    other = make_user(email="other@example.vn")

    page = member.get(f"/organisations/{startup_id}").get_data(as_text=True)
    assert "Sen Vàng AI" in page
    assert f'href="/organisations/{startup_id}/edit"' not in page
    assert member.get(f"/organisations/{startup_id}/edit").status_code == 403
    assert form(member, f"/organisations/{startup_id}/edit", PROFILE).status_code == 403
    assert form(member, f"/organisations/{startup_id}/members", {"email": other.email}).status_code == 403
    assert form(member, f"/organisations/{startup_id}/members/{owner.user.id}/remove").status_code == 403


def test_a_missing_organisation_is_not_found(owner):
    assert owner.get("/organisations/987654").status_code == 404
