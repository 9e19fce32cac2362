"""The security baseline every page shares: headers, cookies, a size limit and CSRF on every POST route."""

from __future__ import annotations

import hashlib
import http.client
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import func, select

from portal.accounts.models import AuthSession, OrganisationMember, Role
from portal.booths import services
from portal.config import load_settings
from portal.db import utcnow
from portal.events.models import WaitingListEntry, WaitingListStatus
from tests.conftest import PASSWORD, login
from tests.support.booths import as_exhibitor, create_hall
from tests.support.ticketing import add_ticket, create_event
from tests.support.web import csrf_token, path_of


def csp_directives(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in policy.split(";") if part.strip())}


def set_cookie_header(response, name: str) -> str:
    (header,) = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]
    return header


@pytest.mark.parametrize("path", ["/", "/login", "/page-that-does-not-exist"])
def test_pages_send_the_security_headers(client, path):
    response = client.get(path)
    csp = csp_directives(response)

    assert "'unsafe-inline'" not in csp["script-src"]
    assert "'unsafe-eval'" not in csp["script-src"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    private_enough = {"strict-origin-when-cross-origin", "same-origin", "no-referrer"}
    assert response.headers["Referrer-Policy"] in private_enough


def test_pages_need_no_inline_script_or_style(app, client, login_as):
    admin = login_as(Role.ADMIN)
    pages = [client.get(p) for p in ("/", "/signup", "/login", "/password/forgot")]
    pages += [admin.get(p) for p in ("/dashboard/admin", "/account", "/account/consents", "/admin/users")]
    for page in pages:
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), page.request.path
        assert not re.search(r"\son[a-z]+\s*=", html), page.request.path
        assert " style=" not in html, page.request.path


def test_session_and_remember_cookies_are_http_only_and_same_site_lax(app, client, make_user):
    response = login(client, app, make_user(), remember=True)
    for name in ("session", "remember_token"):
        header = set_cookie_header(response, name)
        assert "HttpOnly" in header
        assert "SameSite=Lax" in header


def test_cookies_are_secure_in_production(tmp_path):
    settings = load_settings(Path(tmp_path), {"PORTAL_ENV": "production", "SECRET_KEY": "s" * 40,
                                              "DATABASE_URL": "postgresql+psycopg://portal@db/portal"})
    config = settings.flask_config()
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["REMEMBER_COOKIE_SECURE"] is True


def test_an_oversized_request_gets_the_413_page(app, client):
    client.get("/language/en")
    too_big = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post("/signup", data=too_big, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert "What you sent is too large." in response.get_data(as_text=True)


def post_in_chunks(live_server: str, path: str, body: bytes, cookies: dict) -> tuple[int, str]:
    """POSTs `body` with Transfer-Encoding: chunked and no Content-Length, over a real connection (the test client
    hands the app a body of known length)."""
    address = urlsplit(live_server)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
    chunks = (body[start:start + 256 * 1024] for start in range(0, len(body), 256 * 1024))
    connection.request("POST", path, body=chunks, encode_chunked=True, headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items()),
    })
    response = connection.getresponse()
    answer = response.status, response.read().decode()
    connection.close()
    return answer


def chunked_login(app, live_server, user, padding: int) -> tuple[int, str]:
    """A valid login form for `user` followed by `padding` bytes of an extra field, sent in chunks."""
    browser = app.test_client()
    token = csrf_token(browser, app)
    form = urlencode({"csrf_token": token, "email": user.email, "password": PASSWORD}).encode()
    body = form + b"&padding=" + b"x" * padding
    return post_in_chunks(live_server, "/login", body, {"session": browser.get_cookie("session").value, "lang": "en"})


def test_a_chunked_request_over_the_limit_gets_the_413_page_and_is_not_processed(app, db, live_server, make_user):
    user = make_user()
    status, page = chunked_login(app, live_server, user, padding=app.config["MAX_CONTENT_LENGTH"])
    assert status == 413
    assert "What you sent is too large." in page
    with db.session_factory() as s:
        assert s.scalar(select(func.count(AuthSession.id)).where(AuthSession.user_id == user.id)) == 0


def test_a_chunked_request_within_the_limit_is_read_whole(app, live_server, make_user):
    # larger than what is kept in memory, so it is read back from a temporary file
    status, _page = chunked_login(app, live_server, make_user(), padding=3 * 1024 * 1024)
    assert status == 302


#: a body each form would accept with a valid token, so only the missing token can explain a refusal
PLAUSIBLE_FORM = {
    "full_name": "Lê Văn Tám", "name": "Tám Labs", "email": "tam@example.vn",
    "password": "a-long-new-passphrase", "confirm": "a-long-new-passphrase", "current_password": PASSWORD,
    "locale": "en", "consent_account": "y", "kind": "company", "stage": "idea", "role": "mentor",
    "action": "grant", "purpose": "newsletter", "granted": "1",
}


def test_every_post_route_refuses_a_request_without_a_csrf_token(app, db, form, login_as, make_user):
    admin = login_as(Role.ADMIN, Role.REVIEWER, locale="en")  # every area: the reviewers' pages need their role
    created = form(admin, "/organisations/new", {"name": "Admin's Lab", "kind": "startup"})
    org_id = int(re.search(r"/organisations/(\d+)/", created.location).group(1))
    member = make_user(email="member@example.vn")
    with db.transaction() as s:
        s.add(OrganisationMember(organisation_id=org_id, user_id=member.id))
    # Real objects behind the URL, so a refusal cannot be a plain "not found".
    ids = {"org_id": org_id, "user_id": member.id}
    event = create_event(db, team=(admin.user,))
    ticket = add_ticket(db, event, admin.user)
    with db.transaction() as s:
        entry = WaitingListEntry(ticket_type_id=event.ticket_types[0].id, email="wait@example.vn", name="Chờ",
                                 status=WaitingListStatus.OFFERED, offer_expires_at=utcnow() + timedelta(hours=1),
                                 offer_token_hash=hashlib.sha256(b"offer-token").hexdigest())
        s.add(entry)
    ids.update(token="offer-token", event_id=event.id, slug=event.slug, ticket_type_id=event.ticket_types[0].id,
               ticket_id=ticket.id, order_id=ticket.order_id, entry_id=entry.id, file_format="csv", action="mark-paid")
    hall = create_hall(db, make_user, event=event)
    held = as_exhibitor(app, db, services.hold_booth, admin.user, hall.booths["A-01"])
    ids.update(booking_id=held.id, booth_id=hall.booths["A-01"])

    post_rules = [rule for rule in app.url_map.iter_rules() if "POST" in rule.methods]
    assert len(post_rules) >= 10
    adapter = app.url_map.bind("localhost")
    for rule in post_rules:
        url = adapter.build(rule.endpoint, {arg: ids.get(arg, 1) for arg in rule.arguments})
        response = admin.post(url, data=PLAUSIBLE_FORM)
        assert response.status_code == 400, f"{rule.rule} answered {response.status_code} without a token"

    # Nothing happened: still logged in, the member still there, no role granted.
    assert admin.get("/account").status_code == 200
    page = admin.get(f"/organisations/{org_id}").get_data(as_text=True)
    assert "member@example.vn" in page
    assert "Admin&#39;s Lab" in page
    member_page = admin.get(f"/admin/users/{member.id}").get_data(as_text=True)
    assert '<span class="badge">Mentor</span>' not in member_page


def test_a_visitor_posting_without_a_token_is_refused_too(client):
    response = client.post("/logout")
    assert response.status_code == 400
    forged = client.post("/password/forgot", data={"email": "x@example.vn", "csrf_token": "forged"})
    assert forged.status_code == 400


def test_next_links_only_lead_within_the_site(app, form, make_user):
    user = make_user()
    for target, expected in (("https://evil.example/steal", "/dashboard"), ("//evil.example", "/dashboard"),
                             ("/account", "/account")):
        credentials = {"email": user.email, "password": PASSWORD}
        response = form(app.test_client(), f"/login?next={target}", credentials)
        assert path_of(response.location) == expected
