"""One gate per kind of page: every page of an event's management checks the role, then a POST's CSRF token, then
the event, before its view runs; admin, bank accounts, reconciliation and the incubator pages check role and token
first too. A refused request learns nothing about which objects exist, and reads nothing but who is asking."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from portal.accounts.models import Role
from portal.booths.models import Booth
from portal.events.models import CheckIn
from tests.support.booths import create_hall
from tests.support.ticketing import add_ticket, create_event
from tests.support.web import count_queries, csrf_token

#: the blueprints behind the event management gate (events.gate)
EVENT_GATED = {"manage", "booth_manage", "event_dashboard", "finance", "checkin", "waitlist_manage"}
#: every management blueprint: the event gate's, and those behind web.staff_only
MANAGEMENT = EVENT_GATED | {"admin", "bank_accounts", "reconciliation", "incubator", "reviewing"}
#: what a gate may read before refusing: who is asking (their login session, account and roles) and, for an event's
#: pages, whether they are on its team
WHO_IS_ASKING = {"auth_sessions", "users", "user_roles"}
MISSING = 999_999
URL_VALUES = {"file_format": "csv", "action": "mark-paid", "name": "0" * 32 + ".png"}


def tables_in(statements: list[str]) -> set[str]:
    return {name.lower() for statement in statements
            for name in re.findall(r'\b(?:FROM|JOIN|INTO|UPDATE)\s+"?(\w+)', statement, re.I)}


def blueprint_of(endpoint: str) -> str:
    return endpoint.split(".")[0]


def management_rules(app, blueprints: set[str]):
    return [rule for rule in app.url_map.iter_rules() if blueprint_of(rule.endpoint) in blueprints]


def url_for_rule(app, rule, **values) -> str:
    return app.url_map.bind("localhost").build(
        rule.endpoint, {arg: values.get(arg, URL_VALUES.get(arg, MISSING))
                        for arg in rule.arguments - set(rule.defaults or {})})


def is_json(rule) -> bool:
    return rule.endpoint in {"checkin.scan", "checkin.live_counts", "booth_manage.editor_save",
                             "booth_manage.editor_delete"}


def test_every_page_of_an_events_management_is_behind_the_event_gate(app):
    """A page added under /manage/events/<event_id> without the gate would not be checked by the test below."""
    event_pages = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/manage/events/<int:event_id>")]
    assert len(event_pages) > 40
    assert {blueprint_of(rule.endpoint) for rule in event_pages} == EVENT_GATED


def test_another_events_organiser_gets_403_before_any_lookup_and_cannot_tell_a_missing_event(
        app, db, login_as):
    stranger = login_as(Role.ORGANISER, locale="en")
    create_event(db, slug="techmart-2026", team=(stranger.user,))  # organises another event
    target = create_event(db)  # nobody's: no team
    token = csrf_token(stranger, app)
    rules = [rule for rule in management_rules(app, EVENT_GATED) if "event_id" in rule.arguments]
    checked = 0
    for rule in rules:
        for method in sorted(rule.methods & {"GET", "POST"}):
            answers = []
            for event_id in (target.id, MISSING):
                url = url_for_rule(app, rule, event_id=event_id)
                with count_queries(db.engine) as sent:
                    if method == "GET":
                        response = stranger.get(url)
                    elif is_json(rule):
                        response = stranger.post(url, json={"code": "x"}, headers={"X-CSRFToken": token})
                    else:
                        response = stranger.post(url, data={"csrf_token": token})
                assert response.status_code == 403, (method, url, response.status_code)
                assert tables_in(sent.statements) <= WHO_IS_ASKING | {"event_organisers"}, (url, sent.statements)
                answers.append(response.json if is_json(rule) else
                               "You do not have permission to open this page." in response.get_data(as_text=True))
                checked += 1
            assert answers[0] == answers[1], (method, rule.rule)  # a missing event looks like a forbidden one
            assert answers[0], (method, rule.rule)
    assert checked > 100


def test_a_forged_post_is_refused_with_400_before_any_lookup_on_every_management_blueprint(app, db, login_as):
    # every role these blueprints want, so that only the missing token refuses the request
    staff = login_as(Role.ADMIN, Role.ORGANISER, Role.INCUBATOR_MANAGER, Role.REVIEWER, locale="en")
    staff.get("/account")  # a session with a CSRF secret, whose token the forged requests do not send
    rules = [rule for rule in management_rules(app, MANAGEMENT) if "POST" in rule.methods]
    assert {blueprint_of(rule.endpoint) for rule in rules} == MANAGEMENT
    for rule in rules:
        url = url_for_rule(app, rule)
        with count_queries(db.engine) as sent:
            response = (staff.post(url, json={"code": "x"}) if is_json(rule)
                        else staff.post(url, data={"csrf_token": "forged", "name": "x"}))
        assert response.status_code == 400, (url, response.status_code)
        assert tables_in(sent.statements) <= WHO_IS_ASKING, (url, sent.statements)


def test_a_form_may_send_its_token_with_a_prefix_as_flask_wtf_names_it(app, db, form, login_as):
    admin = login_as(Role.ADMIN, locale="en")
    named = login_as(Role.ORGANISER, locale="en")
    form(admin, "/admin/bank-accounts", {"bank_bin": "970436", "bank_name": "Vietcombank",
                                        "account_number": "0011004455667", "holder_name": "TRUNG TAM DMST",
                                        "activate": "y"})
    page = admin.get("/admin/bank-accounts").get_data(as_text=True)
    account_id = int(re.search(r"/admin/bank-accounts/(\d+)/reconcilers", page).group(1))
    prefix = f"reconciler-{account_id}"
    response = admin.post(f"/admin/bank-accounts/{account_id}/reconcilers",
                          data={f"{prefix}-csrf_token": csrf_token(admin, app), f"{prefix}-email": named.user.email})
    assert response.status_code == 302
    assert named.user.full_name in admin.get("/admin/bank-accounts").get_data(as_text=True)


# --- the pages' scripts: JSON with the X-CSRFToken header -----------------------------------------------

#: every refusal of a page's script, by whom: (client, its token header or None for a valid one, status, message)
def script_refusals(app, client, login_as, outsider, expired: str) -> dict:
    client.get("/language/en")
    return {
        "visitor": (client, {"X-CSRFToken": csrf_token(client, app)}, 401,
                    "Your login has ended. Reload the page and log in again."),
        "no role": (login_as(Role.STARTUP, locale="en"), None, 403, "You do not have permission to do this."),
        "another team": (outsider, None, 403, "You do not have permission to do this."),
        "no token": (login_as(Role.ADMIN, locale="en"), {}, 400, expired),
    }


def post_script(app, who, url: str, body: dict, headers: dict | None):
    return who.post(url, json=body, headers={"X-CSRFToken": csrf_token(who, app)} if headers is None else headers)


def test_the_check_in_scanner_works_with_the_header_and_every_refusal_is_json(app, db, client, login_as):
    staff = login_as(Role.ORGANISER, locale="en")
    event = create_event(db, team=(staff.user,), starts_in=-timedelta(hours=1))
    ticket = add_ticket(db, event, login_as().user)
    url = f"/manage/events/{event.id}/checkin/scan"
    outsider = login_as(Role.ORGANISER, locale="en")
    for case, (who, headers, status, message) in script_refusals(
            app, client, login_as, outsider, "This page has expired. Reload it and scan again.").items():
        response = post_script(app, who, url, {"code": ticket.code}, headers)
        assert (response.status_code, response.json) == (status, {"error": message}), case
    assert check_ins(db) == 0

    scanned = post_script(app, staff, url, {"code": ticket.code}, None)
    assert scanned.status_code == 200
    assert scanned.json["answer"]["title"] == "Valid: let them in"
    assert check_ins(db) == 1  # committed as the request ended


def test_the_booth_editor_works_with_the_header_and_every_refusal_is_json(app, db, client, login_as, make_user):
    organiser = login_as(Role.ORGANISER, locale="en")
    hall = create_hall(db, make_user, event=create_event(db, team=(organiser.user,)))
    url = f"/manage/events/{hall.event_id}/booths/editor"
    booth = {"id": None, "number": "Z-01", "zone": "Z", "x": 40, "y": 30, "w": 3, "h": 3, "price": 1_000_000}
    outsider = login_as(Role.ORGANISER, locale="en")
    create_event(db, slug="techmart-2026", team=(outsider.user,))
    for case, (who, headers, status, message) in script_refusals(
            app, client, login_as, outsider, "This page has expired. Reload it and try again.").items():
        response = post_script(app, who, url, booth, headers)
        assert (response.status_code, response.json) == (status, {"error": message}), case
    assert saved_booth(db, "Z-01") is None

    saved = post_script(app, organiser, url, booth, None)
    assert saved.status_code == 200
    assert saved.json["message"] == "Booth Z-01 is saved."
    assert saved_booth(db, "Z-01") is not None  # committed as the request ended


def check_ins(db) -> int:
    with db.session_factory() as s:
        return s.scalar(select(func.count(CheckIn.id)))


def saved_booth(db, number: str) -> int | None:
    with db.session_factory() as s:
        return s.scalar(select(Booth.id).where(Booth.number == number))
