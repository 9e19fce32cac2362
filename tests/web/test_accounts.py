"""Accounts as visitors meet them: sign-up, login, sessions, passwords, e-mail, profile and consents."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask_babel import force_locale, gettext
from markupsafe import escape
from sqlalchemy import func, select, update

from portal.accounts.models import AuthToken, ConsentRecord, TokenPurpose, User
from portal.audit.models import AuditEntry
from portal.db import utcnow
from tests.conftest import PASSWORD, login
from tests.support.mail import first_link, text_body
from tests.support.web import count_queries, csrf_token, path_of

NEW_PASSWORD = "a-brand-new-passphrase"
SIGNUP = {
    "full_name": "Nguyễn Thị Lan",
    "email": "lan@example.vn",
    "password": NEW_PASSWORD,
    "confirm": NEW_PASSWORD,
    "startup_name": "Sen Vàng AI",
    "locale": "vi",
    "consent_account": "y",
}


def signup_data(**changes) -> dict:
    """The sign-up form's fields; a change to None leaves that field out, as an unticked box is."""
    return {key: value for key, value in {**SIGNUP, **changes}.items() if value is not None}


def signup(client, form, **changes):
    return form(client, "/signup", signup_data(**changes))


def shown_as(app, message: str, locale: str, **params) -> str:
    """`message` as a page in `locale` shows it (translated when a translation exists, HTML-escaped)."""
    with app.test_request_context(), force_locale(locale):
        return str(escape(gettext(message, **params)))


def assert_shows_message(response, app, message: str, locale: str, **params) -> None:
    page = response.get_data(as_text=True)
    expected = shown_as(app, message, locale, **params)
    assert expected in page
    english = shown_as(app, message, "en", **params)
    if expected != english:
        assert english not in page


def without_csrf_tokens(response) -> str:
    """The page as two visitors compare it: each session has its own CSRF token."""
    return re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', "", response.get_data(as_text=True))


def use_language(client, locale: str) -> None:
    assert client.get(f"/language/{locale}").status_code == 302


def count(db, column, *conditions) -> int:
    with db.session_factory() as s:
        return s.scalar(select(func.count(column)).where(*conditions))


def assert_sent_to_login(client) -> None:
    response = client.get("/dashboard")
    assert response.status_code == 302
    assert path_of(response.location).startswith("/login")


def assert_logged_in(client) -> None:
    assert client.get("/account").status_code == 200


def confirm_link(mailbox, address: str, fragment: str) -> str:
    mailbox.deliver()
    return path_of(first_link(mailbox.wait_for(address)[-1], fragment))


# --- sign-up --------------------------------------------------------------------------------

def test_signup_mails_a_link_that_confirms_the_address_then_login_works(app, client, form, mailbox):
    response = signup(client, form)
    assert response.status_code == 302
    assert path_of(response.location) == "/signup/check-inbox"
    assert shown_as(app, "Check your inbox", "vi") in client.get(response.location).get_data(as_text=True)

    confirmed = client.get(confirm_link(mailbox, SIGNUP["email"], "/verify/"))
    assert confirmed.status_code == 302
    assert path_of(confirmed.location) == "/login"

    login(client, app, SIGNUP["email"], NEW_PASSWORD)
    dashboard = client.get("/dashboard", follow_redirects=True)
    assert dashboard.request.path == "/dashboard/startup"
    assert SIGNUP["startup_name"] in dashboard.get_data(as_text=True)


def test_login_is_refused_until_the_address_is_confirmed(app, client, form, mailbox):
    signup(client, form)
    use_language(client, "en")
    refused = form(client, "/login", {"email": SIGNUP["email"], "password": NEW_PASSWORD})
    assert refused.status_code == 403
    assert "Please confirm your e-mail address first" in refused.get_data(as_text=True)
    assert "Send the confirmation link again" in refused.get_data(as_text=True)
    assert_sent_to_login(client)

    client.get(confirm_link(mailbox, SIGNUP["email"], "/verify/"))
    login(client, app, SIGNUP["email"], NEW_PASSWORD)


@pytest.mark.parametrize("locale", ["en", "vi"])
def test_asking_again_for_the_confirmation_link_without_the_forms_token_says_what_is_wrong(app, client, locale):
    use_language(client, locale)
    response = client.post("/verify/resend", data={"email": "lan@example.vn"})

    assert response.status_code == 400
    assert_shows_message(response, app, FORM_EXPIRED, locale)
    assert_shows_message(response, app, "Nothing was sent. Enter your e-mail address to get a new confirmation "
                                         "link:", locale)
    assert shown_as(app, "If the address can be used, we have sent a message to it.", locale).split(".")[0] \
        not in response.get_data(as_text=True)
    assert 'value="lan@example.vn"' in response.get_data(as_text=True)


def test_a_confirmation_link_works_once(client, form, mailbox):
    signup(client, form)
    link = confirm_link(mailbox, SIGNUP["email"], "/verify/")
    assert client.get(link).status_code == 302
    again = client.get(link)
    assert again.status_code == 400
    assert shown_as(client.application, "Link not valid", "vi") in again.get_data(as_text=True)


# --- the page a newcomer was going to ---------------------------------------------------------

ONWARD = "/events/techfest/register?ticket_type=3"


def signed_up_from(client, form, next_page: str):
    """Follows a page's "log in" link as a visitor does, then the login page's "Create an account" link, and signs
    up there."""
    login_page = client.get("/login", query_string={"next": next_page}).get_data(as_text=True)
    signup_links = {link.replace("&amp;", "&") for link in re.findall(r'href="(/signup[^"]*)"', login_page)}
    assert len(signup_links) == 1  # the menu's "Sign up" and the page's "Create an account" both keep it
    (signup_link,) = signup_links
    return form(client, signup_link, signup_data())


def test_the_page_a_newcomer_was_going_to_survives_sign_up_and_confirming_on_another_device(app, form, mailbox):
    laptop, phone = app.test_client(), app.test_client()
    assert signed_up_from(laptop, form, ONWARD).status_code == 302

    confirmed = phone.get(confirm_link(mailbox, SIGNUP["email"], "/verify/"))  # the mail opened on the phone
    assert urlsplit(confirmed.location).path == "/login"
    assert parse_qs(urlsplit(confirmed.location).query) == {"next": [ONWARD]}
    logged_in = form(phone, path_of(confirmed.location), {"email": SIGNUP["email"], "password": NEW_PASSWORD})
    assert path_of(logged_in.location) == ONWARD


def test_a_new_confirmation_link_leads_to_the_same_page(app, client, form, mailbox):
    signed_up_from(client, form, ONWARD)
    mailbox.deliver()
    mailbox.wait_for(SIGNUP["email"])
    form(client, "/verify/resend", {"email": SIGNUP["email"]})

    confirmed = app.test_client().get(confirm_link(mailbox, SIGNUP["email"], "/verify/"))
    assert parse_qs(urlsplit(confirmed.location).query) == {"next": [ONWARD]}


OFF_SITE = ["//evil.example/x", "https://evil.example/x", "http:/evil.example", "/\\evil.example",
            "\\\\evil.example", "/\t/evil.example", "/\n/evil.example", "javascript:alert(1)", "evil.example"]


@pytest.mark.parametrize("target", OFF_SITE)
def test_sign_up_and_login_never_lead_off_the_site(app, form, mailbox, make_user, target):
    visitor = app.test_client()
    signed_up_from(visitor, form, target)
    confirmed = visitor.get(confirm_link(mailbox, SIGNUP["email"], "/verify/"))
    assert path_of(confirmed.location) == "/login"

    make_user(email="known@example.vn")
    returning = app.test_client()
    logged_in = form(returning, "/login?" + urlencode({"next": target}),
                     {"email": "known@example.vn", "password": PASSWORD})
    assert path_of(logged_in.location) == "/dashboard"
    assert urlsplit(logged_in.location).netloc in ("", "localhost")
    assert path_of(returning.get("/signup?" + urlencode({"next": target})).location) == "/dashboard"


FORM_EXPIRED = "This form has expired. Check what you entered and send it again."
BAD_SIGNUPS = {
    "malformed e-mail": ({"email": "lan@"}, "Enter a valid e-mail address, like name@example.com.", {}),
    "short password": ({"password": "Short-1", "confirm": "Short-1"},
                       "The password must be at least %(n)d characters long.", {"n": 10}),
    "common password": ({"password": "password123", "confirm": "password123"},
                        "This password is too common; choose another.", {}),
    "mismatched confirmation": ({"confirm": "another-long-phrase"}, "The two passwords do not match.", {}),
    "required consent missing": ({"consent_account": None}, "This field is required.", {}),
    "CSRF token missing": ({"csrf_token": None}, FORM_EXPIRED, {}),
    "CSRF token wrong": ({"csrf_token": "forged"}, FORM_EXPIRED, {}),
}


@pytest.mark.parametrize("locale", ["en", "vi"])
@pytest.mark.parametrize("case", BAD_SIGNUPS)
def test_bad_signup_is_refused_in_the_page_language_keeping_what_was_typed(app, client, db, locale, case):
    changes, message, params = BAD_SIGNUPS[case]
    use_language(client, locale)
    data = signup_data(**changes)
    if "csrf_token" not in changes:
        data["csrf_token"] = csrf_token(client, app)
    response = client.post("/signup", data=data)

    assert response.status_code == 400
    assert_shows_message(response, app, message, locale, **params)
    page = response.get_data(as_text=True)
    assert f'value="{SIGNUP["full_name"]}"' in page
    assert f'value="{data["email"]}"' in page
    assert f'value="{SIGNUP["startup_name"]}"' in page
    assert data["password"] not in page
    assert data["confirm"] not in page
    assert count(db, User.id) == 0


def test_a_taken_email_gets_the_same_answer_and_its_owner_is_told(app, db, form, make_user, mailbox):
    owner = make_user(email="taken@example.vn", name="Trần Minh")
    new_visitor, impostor = app.test_client(), app.test_client()

    fresh = signup(new_visitor, form, email="fresh@example.vn")
    taken = signup(impostor, form, email="TAKEN@example.vn ")

    assert (taken.status_code, taken.location) == (fresh.status_code, fresh.location)
    shown_to_impostor, shown_to_visitor = impostor.get(taken.location), new_visitor.get(fresh.location)
    assert without_csrf_tokens(shown_to_impostor) == without_csrf_tokens(shown_to_visitor)
    assert count(db, User.id) == 2  # the owner and the fresh visitor: no second account for the taken address

    mailbox.deliver()
    (notice,) = mailbox.wait_for(owner.email)
    body = text_body(notice)
    assert "Trần Minh" in body
    assert "/login" in body
    assert "/password/forgot" in body
    assert "/verify/" not in body


def test_consents_are_asked_unticked_and_recorded_per_purpose_with_their_version(app, client, db, form,
                                                                                 mailbox):
    page = client.get("/signup").get_data(as_text=True)
    for purpose in ("account", "newsletter", "analytics"):
        (checkbox,) = re.findall(rf'<input[^>]*name="consent_{purpose}"[^>]*>', page)
        assert "checked" not in checkbox

    signup(client, form, consent_newsletter="y")

    with db.session_factory() as s:
        decisions = {(r.purpose, r.granted, r.wording_version) for r in s.scalars(select(ConsentRecord))}
    assert decisions == {("account", True, "2026-01"), ("newsletter", True, "2026-01"),
                         ("analytics", False, "2026-01")}

    client.get(confirm_link(mailbox, SIGNUP["email"], "/verify/"))
    login(client, app, SIGNUP["email"], NEW_PASSWORD)
    use_language(client, "en")
    consents = client.get("/account/consents").get_data(as_text=True)
    assert consents.count("(wording version 2026-01)") == 2
    assert "Not given (decided on" in consents


# --- login, sessions, logout ----------------------------------------------------------------

def test_a_wrong_password_is_refused_and_recorded(app, db, client, form, make_user):
    user = make_user(locale="en")
    use_language(client, "en")
    response = form(client, "/login", {"email": user.email, "password": "not-the-password"})

    assert response.status_code == 401
    page = response.get_data(as_text=True)
    assert "The e-mail or password is not correct." in page
    assert f'value="{user.email}"' in page
    assert "not-the-password" not in page
    failed = (AuditEntry.action == "auth.login_failed", AuditEntry.actor_id == user.id)
    assert count(db, AuditEntry.id, *failed) == 1
    assert_sent_to_login(client)


def test_login_renews_the_session(app, client, make_user):
    user = make_user()
    client.get("/login")
    csrf_token(client, app)
    before = client.get_cookie("session").value

    login(client, app, user)

    assert client.get_cookie("session").value != before
    planted = app.test_client()
    planted.set_cookie("session", before)
    assert_sent_to_login(planted)


def test_logout_ends_the_session_even_for_a_copied_cookie(app, client, form, make_user):
    login(client, app, make_user())
    copied = client.get_cookie("session").value
    assert_logged_in(client)

    response = form(client, "/logout")
    assert response.status_code == 302

    assert_sent_to_login(client)
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert_sent_to_login(thief)


def test_remember_me_survives_losing_the_session_cookie(app, client, make_user):
    login(client, app, make_user(), remember=True)
    assert client.get_cookie("remember_token") is not None
    client.delete_cookie("session")

    assert_logged_in(client)


def test_without_remember_me_losing_the_session_cookie_logs_out(app, client, make_user):
    login(client, app, make_user())
    assert client.get_cookie("remember_token") is None
    client.delete_cookie("session")

    assert_sent_to_login(client)


def test_log_out_everywhere_ends_every_device(app, form, make_user):
    user = make_user()
    laptop, phone, tablet = app.test_client(), app.test_client(), app.test_client()
    login(laptop, app, user)
    login(phone, app, user, remember=True)
    login(tablet, app, user)

    response = form(laptop, "/logout/everywhere")
    assert response.status_code == 302

    for device in (laptop, phone, tablet):
        assert_sent_to_login(device)
    phone.delete_cookie("session")  # the remember cookie alone does not bring the session back
    assert_sent_to_login(phone)


def test_login_is_throttled_per_account(app, client, form, make_user):
    target, bystander = make_user(), make_user()
    use_language(client, "en")
    for _attempt in range(5):
        wrong = form(client, "/login", {"email": target.email, "password": "guess-guess-guess"})
        assert wrong.status_code == 401

    throttled = form(client, "/login", {"email": target.email, "password": PASSWORD})
    assert throttled.status_code == 429
    assert "Too many attempts. Wait a minute, then try again." in throttled.get_data(as_text=True)
    login(client, app, bystander)  # the same address may still use another account


def test_login_is_throttled_per_address(app, client, make_user):
    user = make_user()
    # The address limit counts every attempt, so cheap refused posts (no CSRF token) reach it quickly.
    for n in range(30):
        refused = client.post("/login", data={"email": f"guess{n}@example.vn", "password": "x"})
        assert refused.status_code == 400

    throttled = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert throttled.status_code == 429
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    login(elsewhere, app, user)


def guess_current_password(form, client, url: str, guess: str):
    data = {"current_password": guess, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "email": "new@example.vn"}
    return form(client, url, data)


@pytest.mark.parametrize("url", ["/account/password", "/account/email"])
def test_guessing_the_current_password_is_throttled_like_the_login(app, form, login_as, url):
    client = login_as(locale="en")
    for _attempt in range(5):
        assert guess_current_password(form, client, url, "guess-guess-guess").status_code == 400

    throttled = guess_current_password(form, client, url, PASSWORD)
    assert throttled.status_code == 429
    assert "Too many attempts. Wait a minute, then try again." in throttled.get_data(as_text=True)
    # both forms ask for the same password, so they share one budget of guesses
    for other in ("/account/password", "/account/email"):
        assert guess_current_password(form, client, other, PASSWORD).status_code == 429
    assert_logged_in(client)
    login(app.test_client(), app, client.user)  # the password did not change


def test_guessing_current_passwords_is_throttled_per_address(form, login_as):
    accounts = [login_as() for _ in range(7)]
    for account in accounts[:6]:  # 30 guesses from one address, each account at its own limit
        for _attempt in range(5):
            assert guess_current_password(form, account, "/account/password", "guess-guess-guess").status_code == 400
    assert guess_current_password(form, accounts[6], "/account/password", PASSWORD).status_code == 429


def test_a_successful_password_change_is_not_counted_as_a_guess(form, login_as):
    client = login_as()
    for _attempt in range(4):
        assert guess_current_password(form, client, "/account/password", "guess-guess-guess").status_code == 400
    assert guess_current_password(form, client, "/account/password", PASSWORD).status_code == 302
    assert guess_current_password(form, client, "/account/password", "guess-guess-guess").status_code == 400


# --- password reset -------------------------------------------------------------------------

def request_reset(client, form, email: str):
    response = form(client, "/password/forgot", {"email": email})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def reset_link(client, form, mailbox, email: str) -> str:
    request_reset(client, form, email)
    return confirm_link(mailbox, email, "/password/reset/")


def test_password_reset_answers_the_same_whether_or_not_the_account_exists(app, form, make_user, mailbox):
    user = make_user()
    known = request_reset(app.test_client(), form, user.email)
    unknown = request_reset(app.test_client(), form, "nobody@example.vn")

    assert known.replace(user.email, "EMAIL") == unknown.replace("nobody@example.vn", "EMAIL")
    assert mailbox.deliver()["sent"] == 2
    assert "/password/reset/" in text_body(mailbox.wait_for(user.email)[0])
    (note,) = mailbox.wait_for("nobody@example.vn")
    assert "/password/reset/" not in text_body(note)
    assert "/signup" in text_body(note)


def statements_of(db, action) -> list[str]:
    """The SQL statements `action` sends, each cut to its verb and table (INSERT INTO users, SELECT … FROM users)."""
    with count_queries(db.engine) as counter:
        action()
    return [re.sub(r"\s+", " ", re.match(r"\s*(\w+\s+(?:INTO\s+)?\w+)", statement).group(1))
            if not statement.lstrip().upper().startswith("SELECT")
            else "SELECT FROM " + re.search(r"\bFROM\s+(\w+)", statement).group(1)
            for statement in counter.statements]


def test_asking_to_reset_takes_the_same_work_whether_or_not_the_account_exists(app, db, form, make_user,
                                                                               mailbox):
    """Measured in work rather than seconds: an answer three times slower for a real account told who has one.
    Both answers render and queue a mail and write an audit entry; only the link's own row is extra."""
    user = make_user()

    def ask(email):
        return lambda: request_reset(app.test_client(), form, email)

    for _round in range(3):  # the first round also warms up template and statement caches
        known, unknown = statements_of(db, ask(user.email)), statements_of(db, ask("nobody@example.vn"))
    assert sorted(known) == sorted([*unknown, "INSERT INTO auth_tokens"])
    assert unknown.count("INSERT INTO outbox_messages") == 1
    assert unknown.count("INSERT INTO audit_log") == 1
    mailbox.deliver()
    assert len(mailbox.to(user.email)) == 3
    assert len(mailbox.to("nobody@example.vn")) == 1  # one note an hour, however often it is asked for


def test_a_reset_link_works_once(app, client, form, make_user, mailbox):
    user = make_user()
    link = reset_link(client, form, mailbox, user.email)
    assert client.get(link).status_code == 200

    assert form(client, link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302

    use_language(client, "en")
    reused = form(client, link, {"password": "yet-another-passphrase", "confirm": "yet-another-passphrase"})
    assert reused.status_code == 400
    assert "This link is invalid, has expired or has already been used." in reused.get_data(as_text=True)
    assert client.get(link).status_code == 400
    login(app.test_client(), app, user, NEW_PASSWORD)


def test_an_expired_reset_link_is_refused(app, db, client, form, make_user, mailbox):
    user = make_user()
    link = reset_link(client, form, mailbox, user.email)
    with db.transaction() as s:
        s.execute(update(AuthToken).where(AuthToken.purpose == TokenPurpose.RESET_PASSWORD)
                  .values(expires_at=utcnow() - timedelta(minutes=1)))

    use_language(client, "en")
    expired = client.get(link)
    assert expired.status_code == 400
    assert "Request a new reset link" in expired.get_data(as_text=True)
    assert form(client, link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 400
    login(app.test_client(), app, user)


def test_a_weak_new_password_is_refused_and_the_link_stays_valid(app, client, form, make_user, mailbox):
    user = make_user()
    link = reset_link(client, form, mailbox, user.email)
    use_language(client, "en")

    weak = form(client, link, {"password": "password123", "confirm": "password123"})
    assert weak.status_code == 400
    assert "This password is too common; choose another." in weak.get_data(as_text=True)

    assert client.get(link).status_code == 200
    assert form(client, link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302


def test_after_a_reset_only_the_new_password_works_and_other_sessions_end(app, client, form, make_user,
                                                                          mailbox):
    user = make_user()
    elsewhere = app.test_client()
    login(elsewhere, app, user)

    link = reset_link(client, form, mailbox, user.email)
    form(client, link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})

    assert_sent_to_login(elsewhere)
    assert form(app.test_client(), "/login", {"email": user.email, "password": PASSWORD}).status_code == 401
    login(app.test_client(), app, user, NEW_PASSWORD)


def test_a_reset_or_a_password_change_ends_every_older_reset_link(app, client, form, make_user, mailbox):
    user = make_user()
    use_language(client, "en")
    older = reset_link(client, form, mailbox, user.email)
    newer = reset_link(client, form, mailbox, user.email)
    assert form(client, newer, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302

    refused = form(client, older, {"password": "the-thief-chooses-this", "confirm": "the-thief-chooses-this"})
    assert refused.status_code == 400
    assert "This link is invalid, has expired or has already been used." in refused.get_data(as_text=True)

    left_in_the_mailbox = reset_link(client, form, mailbox, user.email)
    owner = app.test_client()
    login(owner, app, user, NEW_PASSWORD)
    changed = form(owner, "/account/password", {"current_password": NEW_PASSWORD, "password": "third-passphrase-2026",
                                                "confirm": "third-passphrase-2026"})
    assert changed.status_code == 302
    assert client.get(left_in_the_mailbox).status_code == 400
    assert form(client, left_in_the_mailbox, {"password": "the-thief-chooses-this",
                                              "confirm": "the-thief-chooses-this"}).status_code == 400
    assert_logged_in(owner)
    login(app.test_client(), app, user, "third-passphrase-2026")


def test_a_password_reset_ends_an_email_change_someone_else_asked_for(app, client, form, login_as, mailbox):
    """Whoever knew the password asked to move the account to their address; the owner's reset ends that link."""
    intruder = login_as(email="owner@example.vn", locale="en")
    form(intruder, "/account/email", {"email": "intruder@example.vn", "current_password": PASSWORD})
    takeover = confirm_link(mailbox, "intruder@example.vn", "/account/email/confirm/")

    link = reset_link(client, form, mailbox, "owner@example.vn")
    assert form(client, link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302

    assert intruder.get(takeover).status_code == 400
    login(app.test_client(), app, "owner@example.vn", NEW_PASSWORD)


def test_a_new_email_address_ends_the_reset_links_sent_to_the_old_one(app, client, form, login_as, mailbox):
    owner = login_as(email="old@example.vn", locale="en")
    left_in_the_old_mailbox = reset_link(client, form, mailbox, "old@example.vn")
    form(owner, "/account/email", {"email": "new@example.vn", "current_password": PASSWORD})
    assert owner.get(confirm_link(mailbox, "new@example.vn", "/account/email/confirm/")).status_code == 302

    refused = form(client, left_in_the_old_mailbox, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert refused.status_code == 400
    login(app.test_client(), app, "new@example.vn")


# --- the account page -----------------------------------------------------------------------

def test_changing_the_password_needs_the_current_one(app, form, login_as):
    client = login_as(locale="en")
    response = form(client, "/account/password", {"current_password": "not-my-password",
                                                  "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 400
    assert "The current password is not correct." in response.get_data(as_text=True)
    login(app.test_client(), app, client.user)


def test_changing_the_password_keeps_this_device_and_ends_the_others(app, form, login_as):
    client = login_as()
    other_device = app.test_client()
    login(other_device, app, client.user)

    response = form(client, "/account/password",
                    {"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302

    assert_logged_in(client)
    assert_sent_to_login(other_device)
    login(app.test_client(), app, client.user, NEW_PASSWORD)


def test_changing_the_password_also_ends_remembered_devices(app, form, login_as):
    client = login_as()
    remembered = app.test_client()
    login(remembered, app, client.user, remember=True)
    remembered.delete_cookie("session")
    assert_logged_in(remembered)  # the remember-me cookie alone logs in

    form(client, "/account/password", {"current_password": PASSWORD, "password": NEW_PASSWORD,
                                       "confirm": NEW_PASSWORD})
    assert_sent_to_login(remembered)
    assert_logged_in(client)


def test_changing_the_email_is_confirmed_from_the_new_address(app, db, form, login_as, mailbox):
    client = login_as(email="old@example.vn", locale="en")
    response = form(client, "/account/email", {"email": "New@Example.vn", "current_password": PASSWORD})
    assert response.status_code == 302
    assert "We sent a confirmation link to new@example.vn" in client.get("/account").get_data(as_text=True)

    link = confirm_link(mailbox, "new@example.vn", "/account/email/confirm/")
    assert mailbox.to("old@example.vn") == []  # nothing changes until the new address is proved
    assert client.get(link).status_code == 302

    assert "new@example.vn" in client.get("/account").get_data(as_text=True)
    mailbox.deliver()
    (notice,) = mailbox.wait_for("old@example.vn")
    assert "new@example.vn" in text_body(notice)
    login(app.test_client(), app, "new@example.vn")


def test_changing_the_email_to_a_taken_address_is_refused(app, db, form, login_as, make_user, mailbox):
    make_user(email="someone@example.vn")
    client = login_as(email="me@example.vn", locale="en")
    form(client, "/account/email", {"email": "someone@example.vn", "current_password": PASSWORD})

    refused = client.get(confirm_link(mailbox, "someone@example.vn", "/account/email/confirm/"))
    assert refused.status_code == 409
    assert "This e-mail address is already used by another account." in refused.get_data(as_text=True)
    assert "me@example.vn" in client.get("/account").get_data(as_text=True)
    login(app.test_client(), app, "me@example.vn")


def test_the_profile_language_drives_the_interface(form, login_as):
    client = login_as(locale="vi", name="Phạm Hùng")
    assert 'lang="vi"' in client.get("/account").get_data(as_text=True)

    response = form(client, "/account/profile", {"full_name": "Phạm Văn Hùng", "phone": "0912 345 678",
                                                 "locale": "en"})
    assert response.status_code == 302

    page = client.get("/account").get_data(as_text=True)
    assert 'lang="en"' in page
    assert "My account" in page
    assert 'value="Phạm Văn Hùng"' in page
    assert 'value="0912 345 678"' in page


def test_the_language_switch_is_remembered_for_the_account(app, login_as):
    client = login_as(locale="vi")
    use_language(client, "en")
    on_another_device = app.test_client()
    login(on_another_device, app, client.user)
    assert 'lang="en"' in on_another_device.get("/account").get_data(as_text=True)


def test_many_people_switching_language_at_once_all_get_their_page(app, db, login_as):
    people = [login_as(locale="vi") for _ in range(5)]
    answers: list[int | str] = []

    def switch_back_and_forth(client) -> None:
        for n in range(20):
            try:
                answers.append(client.get(f"/language/{'en' if n % 2 == 0 else 'vi'}").status_code)
            except Exception as error:  # noqa: BLE001 - the test app raises a server error instead of answering 500
                answers.append(f"500: {error!r}")

    threads = [threading.Thread(target=switch_back_and_forth, args=(client,)) for client in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert answers == [302] * 100
    with db.session_factory() as s:  # each ended on Vietnamese, the 20th switch
        assert set(s.scalars(select(User.locale).where(User.id.in_([c.user.id for c in people])))) == {"vi"}


def test_a_profile_without_a_name_is_refused(form, login_as):
    client = login_as(locale="en", name="Phạm Hùng")
    response = form(client, "/account/profile", {"full_name": "", "phone": "0912", "locale": "en"})
    assert response.status_code == 400
    assert "This field is required." in response.get_data(as_text=True)
    assert "Phạm Hùng" in client.get("/account").get_data(as_text=True)


# --- consents -------------------------------------------------------------------------------

def test_optional_consents_are_withdrawn_and_given_again_keeping_the_history(db, form, login_as):
    client = login_as(locale="en")
    user = client.user

    assert form(client, "/account/consents", {"purpose": "newsletter", "granted": "1"}).status_code == 302
    assert "Withdraw consent" in client.get("/account/consents").get_data(as_text=True)
    assert form(client, "/account/consents", {"purpose": "newsletter", "granted": "0"}).status_code == 302
    page = client.get("/account/consents").get_data(as_text=True)
    assert "Not given (decided on" in page
    assert "Withdraw consent" not in page
    assert form(client, "/account/consents", {"purpose": "newsletter", "granted": "1"}).status_code == 302

    with db.session_factory() as s:
        history = s.scalars(select(ConsentRecord.granted).where(ConsentRecord.user_id == user.id,
                                                                ConsentRecord.purpose == "newsletter")
                            .order_by(ConsentRecord.id)).all()
    assert history == [True, False, True]


def test_the_required_consent_cannot_be_withdrawn_here(db, form, login_as):
    client = login_as(locale="en")
    response = form(client, "/account/consents", {"purpose": "account", "granted": "0"})
    assert response.status_code == 400
    assert count(db, ConsentRecord.id) == 0
    page = client.get("/account/consents").get_data(as_text=True)
    assert "ask the administrators to close your account" in page

