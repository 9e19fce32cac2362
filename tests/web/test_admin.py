"""The admin area: roles granted and revoked with an audit trail, the user search and the mail sink."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.accounts.models import Role
from portal.audit.models import AuditEntry
from portal.audit.services import record
from tests.support.web import count_queries


@pytest.fixture
def admin(login_as):
    return login_as(Role.ADMIN, locale="en", email="boss@example.vn")


def change_role(form, admin, user_id: int, role: Role, action: str):
    return form(admin, f"/admin/users/{user_id}", {"role": role.value, "action": action})


def role_badges(response) -> list[str]:
    return re.findall(r'<span class="badge">([^<]+)</span>', response.get_data(as_text=True))


def test_an_admin_grants_and_revokes_a_role_and_the_audit_log_shows_it(form, admin, login_as):
    person = login_as(locale="en", email="mentor-to-be@example.vn")
    assert person.get("/dashboard/mentor").status_code == 403

    granted = change_role(form, admin, person.user.id, Role.MENTOR, "grant")
    assert granted.status_code == 302
    assert role_badges(admin.get(granted.location)) == ["Mentor"]
    assert person.get("/dashboard/mentor").status_code == 200

    revoked = change_role(form, admin, person.user.id, Role.MENTOR, "revoke")
    assert revoked.status_code == 302
    assert role_badges(admin.get(revoked.location)) == []
    assert person.get("/dashboard/mentor").status_code == 403

    audit = admin.get("/admin/audit?action=role.").get_data(as_text=True)
    assert "2 entries" in audit
    rows = re.findall(r"<tr>.*?</tr>", audit, re.S)
    assert "Role removed" in rows[1] and "role=mentor" in rows[1] and "boss@example.vn" in rows[1]
    assert "Role granted" in rows[2] and "role=mentor" in rows[2]
    assert "role.granted" not in audit  # the code is for searching, not for reading


def test_granting_a_role_already_held_changes_nothing(db, form, admin, make_user):
    person = make_user(Role.REVIEWER)
    response = change_role(form, admin, person.id, Role.REVIEWER, "grant")
    assert "Nothing changed: the role was already so." in admin.get(response.location).get_data(as_text=True)
    with db.session_factory() as s:
        assert s.scalars(select(AuditEntry).where(AuditEntry.action.startswith("role."))).all() == []


def test_an_admin_cannot_remove_their_own_admin_role(form, admin):
    response = change_role(form, admin, admin.user.id, Role.ADMIN, "revoke")
    assert response.status_code == 400
    assert "You cannot remove your own admin role." in response.get_data(as_text=True)
    assert admin.get("/admin/users").status_code == 200


def test_an_admin_can_remove_another_admins_role(form, admin, login_as):
    other = login_as(Role.ADMIN)
    assert change_role(form, admin, other.user.id, Role.ADMIN, "revoke").status_code == 302
    assert other.get("/admin/users").status_code == 403


def test_only_admins_change_roles(form, login_as, make_user):
    organiser = login_as(Role.ORGANISER)
    response = change_role(form, organiser, organiser.user.id, Role.ADMIN, "grant")
    assert response.status_code == 403
    assert organiser.get("/admin/users").status_code == 403


def test_a_tampered_role_is_refused(form, admin, make_user):
    person = make_user()
    response = form(admin, f"/admin/users/{person.id}", {"role": "emperor", "action": "grant"})
    assert response.status_code == 400
    assert role_badges(admin.get(f"/admin/users/{person.id}")) == []


def test_an_unknown_user_is_not_found(admin):
    assert admin.get("/admin/users/987654").status_code == 404


def test_the_user_search_finds_by_name_or_email(admin, make_user):
    make_user(name="Hoàng Lan", email="lan@example.vn")
    make_user(name="Bùi Nam", email="nam_bui@example.vn")
    make_user(name="Trịnh Mai", email="mai@company.example")

    def names(query: str) -> set[str]:
        page = admin.get("/admin/users", query_string={"q": query}).get_data(as_text=True)
        return set(re.findall(r'<a href="/admin/users/\d+">([^<]+)</a>', page))

    assert names("LAN") == {"Hoàng Lan"}
    assert names("company") == {"Trịnh Mai"}
    assert names("_") == {"Bùi Nam"}  # typed characters, not wildcards
    assert names("%") == set()
    assert names("") >= {"Hoàng Lan", "Bùi Nam", "Trịnh Mai"}


def test_the_mail_sink_lists_queued_mail_and_shows_its_text(app, form, admin, make_user):
    person = make_user(email="forgetful@example.vn", locale="en")
    form(app.test_client(), "/password/forgot", {"email": person.email})

    listing = admin.get("/admin/mail").get_data(as_text=True)
    assert "forgetful@example.vn" in listing
    (detail_path,) = re.findall(r'<a href="(/admin/mail/\d+)">Reset your password</a>', listing)

    detail = admin.get(detail_path).get_data(as_text=True)
    assert "<h1>Reset your password</h1>" in detail
    assert "/password/reset/" in detail
    assert "<dd>Waiting</dd>" in detail
    assert "pending" not in detail


def test_a_missing_message_is_not_found(admin):
    assert admin.get("/admin/mail/987654").status_code == 404


def _statements_for(admin, db, path: str) -> int:
    with count_queries(db.engine) as queries:
        assert admin.get(path).status_code == 200
    return len(queries)


@pytest.mark.parametrize("path", ["/admin/users", "/admin/audit"])
def test_admin_lists_run_the_same_number_of_statements_whatever_their_length(db, admin, make_user, path):
    def add_people(n: int) -> None:
        """n users, each with roles and an audit entry of their own."""
        people = [make_user(Role.MENTOR, Role.REVIEWER) for _ in range(n)]
        with db.transaction() as s:
            for person in people:
                record(s, "auth.login", actor_id=person.id, object_type="user", object_id=person.id)

    add_people(3)
    few = _statements_for(admin, db, path)
    add_people(27)
    many = _statements_for(admin, db, path)
    assert few == many
