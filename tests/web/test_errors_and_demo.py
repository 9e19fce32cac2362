import pytest
from flask import abort
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app import create_app
from portal.accounts.demo import DEMO_PASSWORD, DEMO_USERS
from portal.accounts.models import User
from portal.booths import demo as booths_demo
from portal.db import db_session
from portal.demo import load_demo
from portal.events import demo as events_demo
from portal.events.models import Event
from portal.incubation import demo as incubation_demo
from portal.mentoring import demo as mentoring_demo
from tests.conftest import login
from tests.support.web import post_form


def test_a_crash_shows_a_bilingual_500_page_without_details(app, database_url, tmp_path):
    crashing = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "x" * 40}, instance_path=tmp_path)

    @crashing.route("/boom")
    def boom():
        raise RuntimeError("secret internals")

    client = crashing.test_client()
    response = client.get("/boom")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "secret internals" not in page and "Traceback" not in page
    assert 'lang="vi"' in page
    client.get("/language/en")
    page = client.get("/boom").get_data(as_text=True)
    assert "Something went wrong on our side" in page
    crashing.extensions["portal.db"].dispose()


@pytest.mark.parametrize(("answer", "title"), [(500, "Server error"), (404, "Page not found")])
def test_an_error_page_after_a_failed_write_is_still_the_portals_page(database_url, make_user, tmp_path, answer,
                                                                      title):
    crashing = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "x" * 40}, instance_path=tmp_path)

    @crashing.route("/taken-address", methods=["POST"])
    def take_an_address():
        # the write fails when flushed, leaving the request's transaction refusing every query (the menu's too)
        current_user.email = "taken@example.vn"
        try:
            db_session().flush()
        except IntegrityError:
            if answer != 500:
                abort(answer)
            raise

    make_user(email="taken@example.vn")
    person = make_user(locale="en")
    client = crashing.test_client()
    login(client, crashing, person)
    response = post_form(client, crashing, "/taken-address")

    assert response.status_code == answer
    page = response.get_data(as_text=True)
    assert f"<h1>{title}</h1>" in page and 'lang="en"' in page  # the portal's own page, in the person's language
    assert "Log out" in page
    crashing.extensions["portal.db"].dispose()


def test_404_page_is_translated(client):
    response = client.get("/khong-co-trang-nay")
    assert response.status_code == 404
    assert "Page not found" not in response.get_data(as_text=True)
    client.get("/language/en")
    assert "Page not found" in client.get("/khong-co-trang-nay").get_data(as_text=True)


def test_demo_data_loads_once_and_every_demo_login_works(app, db):
    first = load_demo(app)
    second = load_demo(app)
    assert first["accounts"] == len(DEMO_USERS) and first["events"] == 2
    assert set(second.values()) == {0}
    with db.session_factory() as s:
        # the events demo adds its visitors; the incubation demo two reviewers and one founder per demo startup;
        # the mentoring demo its mentors but the demo mentor, who is one of the accounts above
        incubation_users = 2 + len(incubation_demo.DEMO_STARTUPS) + len(incubation_demo.COHORT_STARTUPS)
        mentoring_users = len(mentoring_demo.MENTORS) - 1
        assert s.scalar(select(func.count(User.id))) == (len(DEMO_USERS) + len(events_demo.VISITORS)
                                                         + len(booths_demo.EXHIBITORS) + incubation_users
                                                         + mentoring_users)
        assert s.scalar(select(func.count(Event.id))) == 2
    for email, *_ in DEMO_USERS:
        client = app.test_client()
        login(client, app, email, DEMO_PASSWORD)
        assert client.get("/dashboard", follow_redirects=True).status_code == 200
