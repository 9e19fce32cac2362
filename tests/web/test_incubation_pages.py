"""The incubation pages over HTTP: the whole cycle as its people click it, who may open what, bad input that keeps
what was typed, and bounded queries on the ranking and the dashboard."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.accounts.models import OrganisationMember, Role
from portal.demo import load_demo
from portal.incubation.forms import STAGE_LABELS
from portal.incubation.models import Application, CallReviewer, Review
from portal.notifications.models import OutboxMessage
from tests.conftest import login
from tests.support.incubation import (
    GOOD_ANSWERS,
    PDF,
    make_call,
    make_startup,
    reviewer_in_pool,
    submitted_application,
)
from tests.support.web import count_queries, post_form

SLUG = "uom-tao-test"


def uploads(app) -> Path:
    return Path(app.instance_path) / "uploads"


def text_of(response) -> str:
    return response.get_data(as_text=True)


def client_for(app, user):
    client = app.test_client()
    login(client, app, user)
    return client


def section_ids(html: str) -> list[int]:
    return [int(i) for i in dict.fromkeys(re.findall(r"/sections/(\d+)", html))]


def answers_form(section_html: str, values: dict) -> dict:
    version = re.search(r'name="base_version" type="hidden" value="(\d*)"', section_html)
    return {"base_version": version.group(1) if version else "0", **values}


@pytest.fixture
def call_id(db):
    return make_call(db, slug=SLUG, k=1)


def test_a_startup_applies_section_by_section_and_submits(app, db, make_user, call_id, mailbox):
    organisation_id, (founder,) = make_startup(db, make_user, locale="en")
    client = client_for(app, founder)
    page = client.get(f"/calls/{SLUG}")
    assert page.status_code == 200 and "Start an application" in text_of(page)
    started = post_form(client, app, f"/calls/{SLUG}/apply", {"organisation_id": organisation_id})
    assert started.status_code == 302
    overview_url = started.headers["Location"]
    overview = client.get(overview_url)
    first_section = section_ids(text_of(overview))[0]
    section_url = f"{overview_url}/sections/{first_section}"
    form_page = client.get(section_url)
    saved = post_form(client, app, section_url, answers_form(text_of(form_page), {
        "q_company_name": "Nông Sạch Tech", "q_founded_on": "2024-03-15", "q_province": "ha-noi",
        "q_sector": "agritech", "q_website": "https://nongsach.example.vn", "next": "continue"}))
    assert saved.status_code == 303
    assert saved.headers["Location"].endswith(f"/sections/{section_ids(text_of(overview))[1]}")
    # the script's save: JSON in, the new version out
    team_url = saved.headers["Location"]
    team_page = client.get(team_url)
    autosaved = post_form(client, app, team_url, answers_form(text_of(team_page), {
        "q_team-0-name": "Nguyễn Văn An", "q_team-0-role": "CEO", "q_team-0-email": "an@example.vn",
        "q_team-1-name": "Trần Thị Bình", "q_team-1-role": "CTO", "q_team-1-email": ""}),
        headers={"Accept": "application/json"})
    assert autosaved.status_code == 200 and autosaved.get_json()["version"] == 1
    # the same page saved again from the version it was loaded at: someone else's save is not overwritten
    stale = post_form(client, app, team_url, answers_form(text_of(team_page), {"q_team-0-name": "Other"}),
                      headers={"Accept": "application/json"})
    assert stale.status_code == 409 and "after you opened it" in stale.get_json()["error"]
    product_url = f"{overview_url}/sections/{section_ids(text_of(overview))[2]}"
    post_form(client, app, product_url, answers_form(text_of(client.get(product_url)), {
        "q_problem": GOOD_ANSWERS["problem"], "q_solution": GOOD_ANSWERS["solution"],
        "q_revenue_last_year": "1.500.000.000"}))
    field_id = re.search(r"/files/(\d+)\"", text_of(client.get(overview_url))).group(1)
    refused = post_form(client, app, f"{overview_url}/files/{field_id}",
                        {"file": (io.BytesIO(b"GIF89a not a deck"), "deck.pdf")},
                        content_type="multipart/form-data")
    assert "Please upload a PDF, PNG or JPEG file." in text_of(client.get(refused.headers["Location"]))
    post_form(client, app, f"{overview_url}/files/{field_id}", {"file": (io.BytesIO(PDF), "Pitch deck.pdf")},
              content_type="multipart/form-data")
    submitted = post_form(client, app, f"{overview_url}/submit")
    assert submitted.status_code == 303
    assert "Your application is submitted." in text_of(client.get(overview_url))
    mailbox.deliver()
    assert "Your application to Test incubation is submitted" in mailbox.wait_for(founder.email)[0]["Subject"]
    assert client.get(f"{overview_url}.pdf").headers["Content-Type"] == "application/pdf"


def test_submitting_an_incomplete_application_lists_what_to_fix_and_keeps_everything(
        app, db, make_user, call_id):
    organisation_id, (founder,) = make_startup(db, make_user, locale="en")
    client = client_for(app, founder)
    overview_url = post_form(client, app, f"/calls/{SLUG}/apply", {"organisation_id": organisation_id}
                             ).headers["Location"]
    section_url = f"{overview_url}/sections/{section_ids(text_of(client.get(overview_url)))[0]}"
    post_form(client, app, section_url, answers_form(text_of(client.get(section_url)), {
        "q_company_name": "<script>alert(1)</script>", "q_website": "not a site"}))
    refused = post_form(client, app, f"{overview_url}/submit")
    assert refused.status_code == 400
    html = text_of(refused)
    assert "Please enter a web address starting with https://." in html
    assert "Please upload this file." in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert "not a site" in text_of(client.get(section_url))


def test_who_may_open_an_application_and_its_files(app, db, make_user, call_id):
    application_id, organisation_id, (founder,) = submitted_application(app, db, make_user, call_id, "Alpha",
                                                                        uploads(app))
    with db.session_factory() as s:
        file_id = s.get(Application, application_id).files[0].id
    download = f"/applications/{application_id}/files/{file_id}"
    _other_org, (stranger,) = make_startup(db, make_user, "Beta")
    reviewer, reviewer_pool_id = reviewer_in_pool(app, db, make_user, call_id)
    manager = make_user(Role.INCUBATOR_MANAGER)
    assert client_for(app, founder).get(download).status_code == 200
    assert client_for(app, manager).get(download).status_code == 200
    for outsider in (stranger, reviewer):  # a reviewer not assigned is an outsider
        assert client_for(app, outsider).get(f"/applications/{application_id}").status_code == 404
        assert client_for(app, outsider).get(download).status_code == 404
    with db.transaction() as s:
        s.add(Review(application_id=application_id, call_reviewer_id=reviewer_pool_id))
    assert client_for(app, reviewer).get(download).status_code == 200
    with db.transaction() as s:  # the reviewer turns out to have joined the startup
        s.add(OrganisationMember(organisation_id=organisation_id, user_id=reviewer.id))
        review_id = s.scalar(select(Review.id))
    with db.transaction() as s:
        s.query(OrganisationMember).filter_by(user_id=reviewer.id).delete()
        from portal.incubation.models import ConflictReason, ReviewerConflict
        s.add(ReviewerConflict(call_reviewer_id=reviewer_pool_id, organisation_id=organisation_id,
                               reason=ConflictReason.KNOWS_FOUNDER))
    reviewer_client = client_for(app, reviewer)
    assert reviewer_client.get(f"/reviewing/reviews/{review_id}").status_code == 403
    assert reviewer_client.get(download).status_code == 404


MANAGER_PAGES = ("/incubator/", "/incubator/calls/new", "/incubator/dashboard", "/incubator/calls/{call}",
                 "/incubator/calls/{call}/applications", "/incubator/calls/{call}/reviewers",
                 "/incubator/calls/{call}/ranking", "/incubator/calls/{call}/letters",
                 "/incubator/calls/{call}/cohort", "/incubator/calls/{call}/form",
                 "/incubator/calls/{call}/form/preview", "/incubator/calls/{call}/rubric",
                 "/incubator/calls/{call}/edit")


def test_manager_pages_open_for_managers_and_admins_only(app, db, login_as, call_id, client):
    refused = [login_as(role) for role in (Role.STARTUP, Role.REVIEWER, Role.ORGANISER, Role.MENTOR)]
    allowed = [login_as(role, locale="en") for role in (Role.INCUBATOR_MANAGER, Role.ADMIN)]
    for path in (p.format(call=call_id) for p in MANAGER_PAGES):
        assert client.get(path).status_code == 302, path
        for other in refused:
            assert other.get(path).status_code == 403, (path, other.user.email)
        for manager in allowed:
            assert manager.get(path).status_code == 200, (path, manager.user.email)
    assert allowed[0].get("/incubator/calls/99999").status_code == 404


def test_a_forged_manager_post_is_refused_before_any_lookup(app, login_as, call_id):
    manager = login_as(Role.INCUBATOR_MANAGER)
    assert manager.post(f"/incubator/calls/{call_id}/assign").status_code == 400
    assert manager.post("/incubator/calls/99999/assign").status_code == 400


def test_the_cycle_from_reviewers_to_the_letter_the_startup_reads(app, db, make_user, login_as, call_id, mailbox):
    application_id, _org, (founder,) = submitted_application(app, db, make_user, call_id, "Alpha", uploads(app))
    manager = login_as(Role.INCUBATOR_MANAGER, locale="en")
    reviewer = make_user(Role.REVIEWER, locale="en", name="Ms Review")
    invited = post_form(manager, app, f"/incubator/calls/{call_id}/reviewers",
                        {"email": reviewer.email, "expertise": "agritech 4", "cap": "5"})
    assert invited.status_code == 303
    refused = post_form(manager, app, f"/incubator/calls/{call_id}/reviewers",
                        {"email": reviewer.email, "expertise": "space 9"})
    assert refused.status_code == 400 and "space 9" in text_of(refused)
    reviewer_client = client_for(app, reviewer)
    with db.session_factory() as s:
        invitation_id = s.scalar(select(CallReviewer.id))
    post_form(reviewer_client, app, f"/reviewing/invitations/{invitation_id}/accept")
    assigned = post_form(manager, app, f"/incubator/calls/{call_id}/assign")
    assert "Reviews assigned: 1. Reviewers: 1. Reviews kept: 0." in text_of(manager.get(assigned.headers["Location"]))
    with db.session_factory() as s:
        review_id = s.scalar(select(Review.id))
    scores = {"team": "8", "innovation": "7", "market": "11", "business_model": "6", "traction": "5",
              "impact": "9", "comment_for_startup": "Promising.", "comment_for_committee": "Ask about churn.",
              "action": "submit"}
    out_of_scale = post_form(reviewer_client, app, f"/reviewing/reviews/{review_id}", scores)
    assert out_of_scale.status_code == 400 and "A score is a whole number from 1 to 10." in text_of(out_of_scale)
    assert "Ask about churn." in text_of(out_of_scale)
    done = post_form(reviewer_client, app, f"/reviewing/reviews/{review_id}", {**scores, "market": "7"})
    assert done.status_code == 303
    ranking = text_of(manager.get(f"/incubator/calls/{call_id}/ranking"))
    assert "Alpha" in ranking and "71.0" in ranking
    post_form(manager, app, f"/incubator/calls/{call_id}/applications/{application_id}",
              {"decision": "accept", "feedback": "Welcome aboard."})
    preview = text_of(manager.get(f"/incubator/calls/{call_id}/letters?lang=en"))
    assert "Welcome aboard." in preview and "is accepted" in preview
    startup = client_for(app, founder)
    assert "Welcome aboard." not in text_of(startup.get(f"/applications/{application_id}"))  # not before the letter
    post_form(manager, app, f"/incubator/calls/{call_id}/letters")
    post_form(manager, app, f"/incubator/calls/{call_id}/letters")  # a second click
    with db.session_factory() as s:
        letters = s.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key.like("decision-letter:%"))).all()
    assert len(letters) == 1
    assert "Welcome aboard." in text_of(startup.get(f"/applications/{application_id}"))


def test_the_ranking_and_the_dashboard_run_the_same_queries_for_2_or_8_applications(
        app, db, make_user, login_as, call_id):
    manager = login_as(Role.INCUBATOR_MANAGER)
    reviewer_in_pool(app, db, make_user, call_id, {"agritech": 3})
    counts, made = {}, 0
    for total in (2, 8):
        while made < total:
            submitted_application(app, db, make_user, call_id, f"Startup {made}", uploads(app))
            made += 1
        with db.transaction() as s:
            for application_id in s.scalars(select(Application.id)).all():
                if s.scalar(select(Review.id).where(Review.application_id == application_id)) is None:
                    s.add(Review(application_id=application_id, call_reviewer_id=s.scalar(select(CallReviewer.id))))
        for path in (f"/incubator/calls/{call_id}/ranking", "/incubator/dashboard",
                     f"/incubator/calls/{call_id}/applications"):
            with count_queries(db.engine) as queries:
                assert manager.get(path).status_code == 200
            counts[(path, total)] = len(queries)
    for path in ("/incubator/dashboard", f"/incubator/calls/{call_id}/ranking",
                 f"/incubator/calls/{call_id}/applications"):
        assert counts[(path, 2)] == counts[(path, 8)], path


def test_the_ranking_and_the_figures_download_formula_safe_and_audited(app, db, make_user, login_as, call_id):
    from io import BytesIO

    from openpyxl import load_workbook

    from portal.audit.models import AuditEntry

    submitted_application(app, db, make_user, call_id, "=HYPERLINK(\"http://x\")", uploads(app))
    manager = login_as(Role.INCUBATOR_MANAGER, locale="en")
    csv = post_form(manager, app, f"/incubator/calls/{call_id}/ranking.csv")
    assert csv.status_code == 200 and csv.headers["Content-Type"] == "text/csv; charset=utf-8"
    text = csv.get_data().decode("utf-8-sig")
    assert text.splitlines()[0].startswith("Rank,Startup,Stage")
    assert "'=HYPERLINK" in text
    xlsx = post_form(manager, app, "/incubator/dashboard.xlsx")
    sheet = load_workbook(BytesIO(xlsx.get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("Call", "Programme", "Submitted") and rows[1][0] == "Test incubation"
    assert manager.post("/incubator/dashboard.csv").status_code == 400  # no token: refused before anything
    with db.session_factory() as s:
        assert s.scalars(select(AuditEntry.details).where(AuditEntry.action == "incubation.exported")).all() == [
            {"what": f"ranking:{call_id}", "format": "csv"}, {"what": "figures", "format": "xlsx"}]


def test_the_pipeline_search_finds_a_startup_without_its_accents_or_case(app, db, make_user, login_as, call_id):
    submitted_application(app, db, make_user, call_id, "Nông Sạch Tech", uploads(app))
    submitted_application(app, db, make_user, call_id, "Đất Xanh AI", uploads(app))
    manager = login_as(Role.INCUBATOR_MANAGER, locale="en")

    def found(term: str) -> list[str]:
        page = text_of(manager.get(f"/incubator/calls/{call_id}/applications?q={term}"))
        return [name for name in ("Nông Sạch Tech", "Đất Xanh AI") if name in page]

    assert found("nong sach") == ["Nông Sạch Tech"]
    assert found("DAT XANH") == ["Đất Xanh AI"]
    assert found("Sạch") == ["Nông Sạch Tech"]


def test_the_demo_dashboard_figures_agree(app, login_as):
    """Cards, the calls' rows and both charts count the same submitted applications."""
    load_demo(app)
    page = login_as(Role.INCUBATOR_MANAGER, locale="en").get("/incubator/dashboard").get_data(as_text=True)

    submitted = int(re.search(r'id="stat-submitted">(\d+)<', page).group(1))
    calls = re.search(r'<table id="call-figures">.*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    per_stage = [sum(int(n) for n in re.findall(r"<td>(\d+)</td>", row)[:len(STAGE_LABELS)])
                 for row in re.findall(r"<tr>(.*?)</tr>", calls, re.S)]
    all_calls = re.search(r'<tr id="all-calls">(.*?)</tr>', page, re.S).group(1)
    chart_total = {chart: sum(int(n) for n in re.findall(r"<td[^>]*>(\d+)</td>", re.search(
        rf'id="{chart}-table".*?<tbody>(.*?)</tbody>', page, re.S).group(1))) for chart in ("per-call", "sectors")}
    assert submitted > 0
    assert sum(per_stage) == sum(int(n) for n in re.findall(r"<td>(\d+)</td>", all_calls)[:len(STAGE_LABELS)])
    assert sum(per_stage) == chart_total["per-call"] == chart_total["sectors"] == submitted
