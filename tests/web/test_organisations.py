"""Organisations: owners create and manage them and invite members, who join by accepting; members see them,
everyone else is refused."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from portal.accounts.models import OrganisationInvitation
from portal.audit.models import AuditEntry
from portal.db import utcnow
from tests.support.mail import first_link, text_body
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


def invite(form, owner, org_id: int, email: str):
    return form(owner, f"/organisations/{org_id}/invitations", {"email": email})


def invitation_link(mailbox, email: str) -> str:
    mailbox.deliver()
    return path_of(first_link(mailbox.wait_for(email)[-1], "/organisations/invitations/"))


def join(form, owner, member, org_id: int, mailbox) -> None:
    """`member` is invited by `owner` and accepts."""
    assert invite(form, owner, org_id, member.user.email).status_code == 302
    assert form(member, invitation_link(mailbox, member.user.email) + "/accept").status_code == 302


def actions(db) -> list[str]:
    with db.session_factory() as s:
        return s.scalars(select(AuditEntry.action).where(AuditEntry.action.like("organisation.invitation%"))
                         .order_by(AuditEntry.id)).all()


def test_an_invited_person_joins_only_by_accepting(db, form, owner, startup_id, login_as, mailbox):
    colleague = login_as(locale="en", email="colleague@example.vn", name="Vũ Minh")

    invited = invite(form, owner, startup_id, "Colleague@Example.vn")
    assert invited.status_code == 302
    page = owner.get(f"/organisations/{startup_id}").get_data(as_text=True)
    assert "If colleague@example.vn can receive mail, we have sent an invitation to it." in page
    assert "Pending invitations" in page
    assert "Vũ Minh" not in page  # not a member before accepting
    assert colleague.get(f"/organisations/{startup_id}").status_code == 403
    assert colleague.get("/dashboard/startup").status_code == 403  # no role granted on the spot

    link = invitation_link(mailbox, "colleague@example.vn")
    offer = colleague.get(link).get_data(as_text=True)
    assert "Đỗ Thu Hà invites you to join Sen Vàng AI" in offer
    assert "Accept and join" in offer
    accepted = form(colleague, link + "/accept", follow_redirects=True)
    assert accepted.status_code == 200
    assert "Welcome to Sen Vàng AI: you are now a member." in accepted.get_data(as_text=True)

    page = owner.get(f"/organisations/{startup_id}").get_data(as_text=True)
    assert "Vũ Minh" in page
    assert "No invitation is waiting for an answer." in page
    assert colleague.get(f"/organisations/{startup_id}").status_code == 200
    assert colleague.get("/dashboard/startup").status_code == 200  # joining a startup grants the role
    assert colleague.get(link).status_code == 400  # answered: the link is spent
    assert actions(db) == ["organisation.invitation_sent", "organisation.invitation_accepted"]

    removed = form(owner, f"/organisations/{startup_id}/members/{colleague.user.id}/remove")
    assert removed.status_code == 302
    assert "Vũ Minh" not in owner.get(f"/organisations/{startup_id}").get_data(as_text=True)
    assert colleague.get(f"/organisations/{startup_id}").status_code == 403
    assert colleague.get("/dashboard/startup").status_code == 403


def test_inviting_answers_the_same_whether_or_not_the_address_has_an_account(app, form, owner, startup_id,
                                                                             make_user, mailbox):
    make_user(email="known@example.vn", locale="vi")
    known, unknown = (invite(form, owner, startup_id, address) for address in ("known@example.vn",
                                                                                "unknown@example.vn"))
    assert (known.status_code, known.location) == (unknown.status_code, unknown.location)

    page = owner.get(f"/organisations/{startup_id}").get_data(as_text=True)
    for address in ("known@example.vn", "unknown@example.vn"):
        assert f"If {address} can receive mail, we have sent an invitation to it." in page
        assert f"Withdraw the invitation to {address}" in page

    mailbox.deliver()
    (to_known,), (to_unknown,) = mailbox.wait_for("known@example.vn"), mailbox.wait_for("unknown@example.vn")
    with app.test_request_context(), force_locale("vi"):
        assert to_known["Subject"] == gettext("An invitation to join %(organisation)s", organisation="Sen Vàng AI")
    assert to_unknown["Subject"] == "An invitation to join Sen Vàng AI"  # no account: the inviter's language
    assert "/organisations/invitations/" in text_body(to_unknown)


def test_a_new_person_signs_up_from_the_invitation_and_then_joins(app, form, owner, startup_id, mailbox):
    invite(form, owner, startup_id, "newcomer@example.vn")
    link = invitation_link(mailbox, "newcomer@example.vn")
    visitor = app.test_client()
    visitor.get("/language/en")

    offer = visitor.get(link).get_data(as_text=True)
    assert "To answer it, log in with this address, or create an account with it" in offer
    signup_page = re.search(r'href="(/signup\?next=[^"]+)"', offer).group(1).replace("&amp;", "&")
    assert "Log in" in visitor.get(signup_page).get_data(as_text=True)
    signed_up = form(visitor, signup_page, {
        "full_name": "Lê Văn Mới", "email": "newcomer@example.vn", "password": "a-brand-new-passphrase",
        "confirm": "a-brand-new-passphrase", "locale": "en", "consent_account": "y"})
    assert signed_up.status_code == 302

    mailbox.deliver()
    confirmed = visitor.get(path_of(first_link(mailbox.wait_for("newcomer@example.vn", 2)[-1], "/verify/")))
    assert urlsplit(confirmed.location).path == "/login"
    assert parse_qs(urlsplit(confirmed.location).query) == {"next": [link]}
    logged_in = form(visitor, path_of(confirmed.location), {"email": "newcomer@example.vn",
                                                            "password": "a-brand-new-passphrase"})
    assert path_of(logged_in.location) == link
    assert form(visitor, link + "/accept").status_code == 302
    assert "Lê Văn Mới" in owner.get(f"/organisations/{startup_id}").get_data(as_text=True)


def test_the_invited_person_may_decline(db, form, owner, startup_id, login_as, mailbox):
    colleague = login_as(locale="en", email="colleague@example.vn", name="Vũ Minh")
    invite(form, owner, startup_id, "colleague@example.vn")
    link = invitation_link(mailbox, "colleague@example.vn")

    declined = form(colleague, link + "/decline", follow_redirects=True)
    assert "You have declined the invitation to join Sen Vàng AI." in declined.get_data(as_text=True)
    assert form(colleague, link + "/accept").status_code == 302
    assert colleague.get(f"/organisations/{startup_id}").status_code == 403
    assert colleague.get("/dashboard/startup").status_code == 403
    assert "No invitation is waiting for an answer." in owner.get(f"/organisations/{startup_id}").get_data(
        as_text=True)
    assert actions(db) == ["organisation.invitation_sent", "organisation.invitation_declined"]


def test_the_owner_withdraws_an_invitation_and_its_link_stops_working(db, form, owner, startup_id, login_as,
                                                                      mailbox):
    colleague = login_as(locale="en", email="colleague@example.vn")
    invite(form, owner, startup_id, "colleague@example.vn")
    link = invitation_link(mailbox, "colleague@example.vn")
    with db.session_factory() as s:
        invitation_id = s.scalar(select(OrganisationInvitation.id))

    revoked = form(owner, f"/organisations/{startup_id}/invitations/{invitation_id}/revoke", follow_redirects=True)
    page = revoked.get_data(as_text=True)
    assert "The invitation to colleague@example.vn has been withdrawn." in page
    assert "No invitation is waiting for an answer." in page

    gone = colleague.get(link)
    assert gone.status_code == 400
    assert "This invitation is no longer valid" in gone.get_data(as_text=True)
    form(colleague, link + "/accept")
    assert colleague.get(f"/organisations/{startup_id}").status_code == 403
    assert actions(db) == ["organisation.invitation_sent", "organisation.invitation_revoked"]


def test_an_invitation_expires_after_seven_days(db, form, owner, startup_id, login_as, mailbox):
    colleague = login_as(locale="en", email="colleague@example.vn")
    invite(form, owner, startup_id, "colleague@example.vn")
    link = invitation_link(mailbox, "colleague@example.vn")
    with db.transaction() as s:
        invitation = s.scalar(select(OrganisationInvitation))
        assert invitation.expires_at - invitation.created_at == timedelta(days=7)
        invitation.expires_at = utcnow() - timedelta(seconds=1)

    assert colleague.get(link).status_code == 400
    form(colleague, link + "/accept")
    assert colleague.get(f"/organisations/{startup_id}").status_code == 403
    assert "No invitation is waiting for an answer." in owner.get(f"/organisations/{startup_id}").get_data(
        as_text=True)
    assert invite(form, owner, startup_id, "colleague@example.vn").status_code == 302  # invited anew
    assert len(mailbox.to("colleague@example.vn")) == 1
    mailbox.deliver()
    mailbox.wait_for("colleague@example.vn", 2)


def test_a_forwarded_invitation_joins_nobody_else(form, owner, startup_id, login_as, mailbox):
    invite(form, owner, startup_id, "colleague@example.vn")
    link = invitation_link(mailbox, "colleague@example.vn")
    someone_else = login_as(locale="en", email="someone@example.vn")

    page = someone_else.get(link).get_data(as_text=True)
    assert "This invitation was sent to another e-mail address." in page
    assert "Accept and join" not in page
    assert form(someone_else, link + "/accept").status_code == 403
    assert someone_else.get(f"/organisations/{startup_id}").status_code == 403


def test_inviting_twice_sends_one_invitation(db, form, owner, startup_id, mailbox):
    for _click in range(2):
        assert invite(form, owner, startup_id, "twice@example.vn").status_code == 302
    with db.session_factory() as s:
        assert s.scalar(select(func.count(OrganisationInvitation.id))) == 1
    mailbox.deliver()
    assert len(mailbox.wait_for("twice@example.vn")) == 1


def test_inviting_a_member_again_is_refused(form, owner, startup_id, login_as, mailbox):
    member = login_as(locale="en", email="member@example.vn")
    join(form, owner, member, startup_id, mailbox)
    again = invite(form, owner, startup_id, "Member@example.vn")
    assert again.status_code == 409
    page = again.get_data(as_text=True)
    assert "This person is already a member." in page
    assert 'value="Member@example.vn"' in page


def test_a_malformed_address_is_refused_keeping_what_was_typed(form, owner, startup_id):
    response = invite(form, owner, startup_id, "stranger@")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Enter a valid e-mail address, like name@example.com." in page
    assert 'value="stranger@"' in page


def test_inviting_is_rate_limited(form, owner, startup_id, mailbox):
    for n in range(20):
        assert invite(form, owner, startup_id, f"guest{n}@example.vn").status_code == 302
    throttled = invite(form, owner, startup_id, "one-more@example.vn")
    assert throttled.status_code == 429
    assert "Too many attempts." in throttled.get_data(as_text=True)
    mailbox.deliver()
    assert mailbox.to("one-more@example.vn") == []


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


def test_a_plain_member_sees_but_cannot_manage(db, form, owner, startup_id, login_as, make_user, mailbox):
    member = login_as(locale="en", email="member@example.vn")
    join(form, owner, member, startup_id, mailbox)
    other = make_user(email="other@example.vn")
    invite(form, owner, startup_id, "guest@example.vn")
    with db.session_factory() as s:
        pending_id = s.scalar(select(OrganisationInvitation.id))

    page = member.get(f"/organisations/{startup_id}").get_data(as_text=True)
    assert "Sen Vàng AI" in page
    assert f'href="/organisations/{startup_id}/edit"' not in page
    assert member.get(f"/organisations/{startup_id}/edit").status_code == 403
    assert form(member, f"/organisations/{startup_id}/edit", PROFILE).status_code == 403
    assert "guest@example.vn" not in page  # pending invitations are for those who manage
    assert invite(form, member, startup_id, other.email).status_code == 403
    assert form(member, f"/organisations/{startup_id}/invitations/{pending_id}/revoke").status_code == 403
    assert form(member, f"/organisations/{startup_id}/members/{owner.user.id}/remove").status_code == 403


def test_a_missing_organisation_is_not_found(owner):
    assert owner.get("/organisations/987654").status_code == 404
