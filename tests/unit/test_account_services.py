"""The account rules in portal.accounts.services, below the web layer."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from portal.accounts import services
from portal.accounts.models import AuthSession, OrganisationKind, OrganisationMember, Role, TokenPurpose, User
from portal.audit.models import AuditEntry
from portal.db import utcnow
from portal.errors import DomainError
from portal.notifications.models import OutboxMessage
from tests.conftest import PASSWORD


@pytest.fixture
def request_context(app):
    """Services render mail and translate messages, as they do inside a request (in English here)."""
    with app.test_request_context(), force_locale("en"):
        yield


@pytest.fixture
def s(db, request_context):
    with db.session_factory() as session:
        yield session


def load(s, user) -> User:
    """The user in the test's session; create every user first, as the session reads a snapshot."""
    return s.get(User, user.id)


@pytest.mark.parametrize(("password", "problem"), [
    ("short-one", "at least 10 characters"),
    ("password123", "too common"),
    ("PassWord123", "too common"),
    ("lan@example.vn", "must not be your e-mail address"),
    ("LAN@Example.VN", "must not be your e-mail address"),
])
def test_weak_passwords_are_refused_with_the_reason(request_context, password, problem):
    assert problem in services.password_problem(password, email="lan@example.vn")


def test_a_long_uncommon_password_is_accepted(request_context):
    assert services.password_problem("mưa phùn tháng hai", email="lan@example.vn") is None


def test_email_addresses_are_compared_without_case_or_spaces():
    assert services.normalise_email("  Lan@Example.VN ") == "lan@example.vn"


def test_a_link_is_used_once(s, make_user):
    user = load(s, make_user())
    raw = services.issue_token(s, user, TokenPurpose.VERIFY_EMAIL)
    s.commit()

    assert services.consume_token(s, raw, TokenPurpose.VERIFY_EMAIL).user_id == user.id
    s.commit()
    with pytest.raises(services.InvalidLink):
        services.consume_token(s, raw, TokenPurpose.VERIFY_EMAIL)


def test_a_link_is_only_good_for_its_purpose_and_its_lifetime(s, make_user):
    user = load(s, make_user())
    raw = services.issue_token(s, user, TokenPurpose.RESET_PASSWORD)
    with pytest.raises(services.InvalidLink):
        services.consume_token(s, raw, TokenPurpose.VERIFY_EMAIL)

    token = services.peek_token(s, raw, TokenPurpose.RESET_PASSWORD)
    assert token.expires_at - utcnow() <= timedelta(hours=1)
    token.expires_at = utcnow() - timedelta(seconds=1)
    with pytest.raises(services.InvalidLink):
        services.peek_token(s, raw, TokenPurpose.RESET_PASSWORD)


def test_a_weak_reset_password_leaves_the_link_unused(s, make_user):
    user = load(s, make_user())
    raw = services.issue_token(s, user, TokenPurpose.RESET_PASSWORD)
    with pytest.raises(services.WeakPassword):
        services.reset_password(s, raw, "password123")
    assert services.peek_token(s, raw, TokenPurpose.RESET_PASSWORD).used_at is None


def test_signing_up_with_a_taken_address_creates_nothing_and_tells_the_owner(s, make_user):
    owner = make_user(email="taken@example.vn")
    result = services.register(s, email="Taken@example.vn", full_name="Impostor",
                               password="a-long-passphrase", locale="vi", consents={"account": True})
    s.commit()

    assert result is None
    assert s.scalar(select(func.count(User.id))) == 1
    assert s.scalars(select(OutboxMessage.to_address)).all() == [owner.email]


def test_a_failed_login_is_audited_even_for_an_unknown_address(s, make_user):
    with pytest.raises(services.InvalidCredentials):
        services.authenticate(s, "ghost@example.vn", PASSWORD, ip_address="198.51.100.7")
    entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "auth.login_failed"))
    assert entry.actor_id is None
    assert (entry.ip_address, entry.details["email"]) == ("198.51.100.7", "ghost@example.vn")


def test_a_deactivated_account_cannot_log_in(s, make_user):
    user = load(s, make_user())
    user.is_active = False
    with pytest.raises(services.InvalidCredentials):
        services.authenticate(s, user.email, PASSWORD)


def test_ending_all_sessions_can_keep_the_current_one(s, make_user):
    user = load(s, make_user())
    current = services.start_session(s, user, remember=False)
    other = services.start_session(s, user, remember=True)
    s.commit()

    assert services.end_all_sessions(s, user, keep_token=current) == 1
    s.commit()
    assert services.load_session_user(s, current) is not None
    assert services.load_session_user(s, other) is None


def test_an_expired_session_no_longer_logs_in(s, make_user):
    user = load(s, make_user())
    raw = services.start_session(s, user, remember=False)
    s.flush()
    s.scalar(select(AuthSession)).expires_at = utcnow() - timedelta(seconds=1)
    s.commit()
    assert services.load_session_user(s, raw) is None


def test_an_admin_cannot_revoke_their_own_admin_role(s, make_user):
    admin, other = (load(s, user) for user in (make_user(Role.ADMIN), make_user(Role.ADMIN)))
    with pytest.raises(DomainError):
        services.revoke_role(s, admin, admin, Role.ADMIN)
    assert services.revoke_role(s, admin, other, Role.ADMIN) is True
    assert not other.has_role(Role.ADMIN)


def joined(s, founder, org, member) -> None:
    """`member` accepts `founder`'s invitation to `org`."""
    raw = services.invite_member(s, founder, org, member.email, locale="en")
    services.accept_invitation(s, member, raw)


def test_leaving_one_startup_keeps_the_role_while_another_remains(s, make_user):
    founder, member = (load(s, user) for user in (make_user(), make_user(email="member@example.vn")))
    first = services.create_organisation(s, founder, name="Một", kind=OrganisationKind.STARTUP)
    second = services.create_organisation(s, founder, name="Hai", kind=OrganisationKind.STARTUP)
    joined(s, founder, first, member)
    joined(s, founder, second, member)
    assert member.has_role(Role.STARTUP)

    services.remove_member(s, founder, first, member.id)
    assert member.has_role(Role.STARTUP)
    services.remove_member(s, founder, second, member.id)
    assert not member.has_role(Role.STARTUP)


def test_an_invitation_grants_nothing_until_it_is_accepted(s, make_user):
    founder, member = (load(s, user) for user in (make_user(), make_user(email="member@example.vn")))
    org = services.create_organisation(s, founder, name="Bốn", kind=OrganisationKind.STARTUP)
    raw = services.invite_member(s, founder, org, "Member@Example.vn ", locale="en")

    assert [m.user_id for m in org.members] == [founder.id]
    assert not member.has_role(Role.STARTUP)
    assert [i.email for i in services.pending_invitations(s, org)] == ["member@example.vn"]
    services.accept_invitation(s, member, raw)
    assert member.has_role(Role.STARTUP)
    assert services.pending_invitations(s, org) == []
    with pytest.raises(services.InvitationGone):
        services.accept_invitation(s, member, raw)


def test_an_unconfirmed_account_cannot_accept_an_invitation(s, make_user):
    unconfirmed = make_user(email="unconfirmed@example.vn", verified=False)
    founder = load(s, make_user())
    org = services.create_organisation(s, founder, name="Ba", kind=OrganisationKind.COMPANY)
    raw = services.invite_member(s, founder, org, unconfirmed.email, locale="en")
    with pytest.raises(services.NotTheInvitee):
        services.accept_invitation(s, load(s, unconfirmed), raw)
    assert [m.user_id for m in org.members] == [founder.id]


@pytest.mark.parametrize("purpose", list(TokenPurpose))
def test_a_new_password_set_any_way_ends_the_links_issued_before(s, make_user, purpose):
    user = load(s, make_user())
    raw = services.issue_token(s, user, purpose, payload="new@example.vn")
    user.password_hash = services.hash_password("set-by-some-other-path")
    with pytest.raises(services.InvalidLink):
        services.peek_token(s, raw, purpose)
    assert services.peek_token(s, services.issue_token(s, user, purpose), purpose).user_id == user.id


def test_a_double_click_on_invite_or_accept_sends_one_invitation_and_joins_once(app, db, make_user):
    """Real threads: two invitations to one address at once make one invitation and one mail; two acceptances at
    once make one member, and the other is told the invitation is answered."""
    founder, member = make_user(), make_user(email="member@example.vn")
    with app.test_request_context(), db.transaction() as s:
        org_id = services.create_organisation(s, s.get(User, founder.id), name="Năm",
                                              kind=OrganisationKind.STARTUP).id

    def at_once(action) -> tuple[list, list[Exception]]:
        barrier, results, errors = threading.Barrier(2), [], []

        def run() -> None:
            barrier.wait()
            try:
                with app.test_request_context(), force_locale("en"), db.transaction() as s:
                    results.append(action(s))
            except Exception as exc:  # noqa: BLE001 - collected and checked below
                errors.append(exc)

        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        return results, errors

    def invite(s):
        org = services.get_organisation_for(s, s.get(User, founder.id), org_id, manage=True)
        return services.invite_member(s, s.get(User, founder.id), org, member.email, locale="en")

    tokens, errors = at_once(invite)
    assert errors == []
    (raw,) = [token for token in tokens if token is not None]
    with db.session_factory() as s:
        assert s.scalar(select(func.count(OutboxMessage.id))) == 1

    joined_orgs, refusals = at_once(lambda s: services.accept_invitation(s, s.get(User, member.id), raw).id)
    assert joined_orgs == [org_id]
    assert [type(refusal) for refusal in refusals] == [services.InvitationGone]
    with db.session_factory() as s:
        assert s.scalar(select(func.count(OrganisationMember.id)).where(OrganisationMember.user_id == member.id)) == 1
