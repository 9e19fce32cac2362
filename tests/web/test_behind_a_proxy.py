"""Behind the TLS proxy the README recommends: with PROXY_COUNT set, rate limits, sessions and the audit log count
each person by the address the proxy saw; without it, a forwarded header changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app import create_app
from portal.accounts.models import AuthSession
from portal.audit.models import AuditEntry
from tests.conftest import PASSWORD, login
from tests.support.web import post_form

#: each address-limited form and its limit per client
LIMITED_POSTS = [("/login", 30), ("/signup", 20), ("/password/forgot", 10), ("/verify/resend", 5)]


@pytest.fixture
def proxied(app, tmp_path):
    """The portal as it runs behind one proxy (PROXY_COUNT=1), on the same database as `app`."""
    behind = create_app({key: app.config[key] for key in (
        "TESTING", "DATABASE_URL", "SECRET_KEY", "MAIL_TRANSPORT", "SMTP_HOST", "SMTP_PORT", "BASE_URL", "DEMO_CARD",
    )} | {"PROXY_COUNT": 1}, instance_path=tmp_path)
    yield behind
    behind.extensions["portal.db"].dispose()


def visitor(app, forwarded_for: str):
    """A browser whose requests reach the portal through the proxy (REMOTE_ADDR is the proxy's, 127.0.0.1)."""
    client = app.test_client()
    client.environ_base["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client


def use_up(client, url: str, limit: int) -> None:
    # Refused posts (no CSRF token) are cheap and count against the address's limit like any other.
    for n in range(limit):
        assert client.post(url, data={"email": f"guess{n}@example.vn"}).status_code == 400
    assert client.post(url, data={"email": "one-more@example.vn"}).status_code == 429


def audited_addresses(db, action: str) -> list[str | None]:
    with db.session_factory() as s:
        return list(s.scalars(select(AuditEntry.ip_address).where(AuditEntry.action == action)))


def test_one_persons_failed_logins_do_not_lock_out_another(proxied, make_user):
    someone, bystander = make_user(), make_user()
    guesser = visitor(proxied, "203.0.113.7")
    use_up(guesser, "/login", 30)
    assert post_form(guesser, proxied, "/login", {"email": someone.email, "password": PASSWORD}).status_code == 429

    login(visitor(proxied, "198.51.100.20"), proxied, bystander)


@pytest.mark.parametrize(("url", "limit"), LIMITED_POSTS)
def test_each_address_limit_counts_one_person_behind_the_proxy(proxied, url, limit):
    use_up(visitor(proxied, "203.0.113.7"), url, limit)
    # another person through the same proxy is answered (400: no token), not refused
    assert visitor(proxied, "198.51.100.20").post(url, data={"email": "me@example.vn"}).status_code == 400


@pytest.mark.parametrize(("url", "limit"), LIMITED_POSTS)
def test_without_the_setting_a_forged_header_does_not_escape_a_limit(app, url, limit):
    for n in range(limit):
        forged = visitor(app, f"198.51.100.{n}")
        assert forged.post(url, data={"email": f"guess{n}@example.vn"}).status_code == 400
    assert visitor(app, "192.0.2.1").post(url, data={"email": "me@example.vn"}).status_code == 429


def test_the_audit_log_and_the_session_record_the_address_the_proxy_saw(proxied, db, make_user):
    user = make_user()
    # a client may put anything before the proxy's own entry; only the last one, the proxy's, is trusted
    client = visitor(proxied, "10.9.9.9, 203.0.113.7")
    refused = post_form(client, proxied, "/login", {"email": user.email, "password": "not-the-password"})
    assert refused.status_code == 401
    login(client, proxied, user)

    assert audited_addresses(db, "auth.login_failed") == ["203.0.113.7"]
    assert audited_addresses(db, "auth.login") == ["203.0.113.7"]
    with db.session_factory() as s:
        assert s.scalar(select(AuthSession.ip_address).where(AuthSession.user_id == user.id)) == "203.0.113.7"


def test_without_the_setting_the_audit_log_records_the_connecting_address(app, db, make_user):
    user = make_user()
    refused = post_form(visitor(app, "203.0.113.7"), app, "/login", {"email": user.email, "password": "wrong-one"})
    assert refused.status_code == 401
    assert audited_addresses(db, "auth.login_failed") == ["127.0.0.1"]
