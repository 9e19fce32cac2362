from datetime import timedelta

from portal.db import utcnow
from portal.events.models import Event, EventStatus
from portal.incubation.models import Call, CallStatus, Programme
from tests.support.web import count_queries


def _add_event(db, slug: str, status=EventStatus.PUBLISHED, days=10):
    with db.transaction() as s:
        s.add(Event(slug=slug, name_vi=f"Sự kiện {slug}", name_en=f"Event {slug}", status=status,
                    starts_at=utcnow() + timedelta(days=days), ends_at=utcnow() + timedelta(days=days + 1)))


def _add_call(db, slug: str, status=CallStatus.OPEN):
    with db.transaction() as s:
        programme = Programme(slug=f"p-{slug}", name_vi="Vườn ươm", name_en="Incubator")
        s.add(Call(programme=programme, slug=slug, title_vi=f"Đợt {slug}", title_en=f"Call {slug}", status=status,
                   opens_at=utcnow() - timedelta(days=1), closes_at=utcnow() + timedelta(days=30)))


def test_home_lists_published_events_and_open_calls_in_vietnamese(client, db):
    _add_event(db, "techfest")
    _add_event(db, "secret", status=EventStatus.DRAFT)
    _add_call(db, "open-call")
    _add_call(db, "closed-call", status=CallStatus.CLOSED)
    page = client.get("/").get_data(as_text=True)
    assert 'lang="vi"' in page
    assert "Sự kiện techfest" in page
    assert "Sự kiện secret" not in page
    assert "Đợt open-call" in page
    assert "Đợt closed-call" not in page


def test_home_page_runs_the_same_number_of_queries_whatever_the_data(client, db):
    _add_event(db, "a")
    _add_call(db, "a")
    with count_queries(db.engine) as few:
        client.get("/")
    for n in range(5):
        _add_event(db, f"more{n}")
        _add_call(db, f"more{n}")
    with count_queries(db.engine) as many:
        client.get("/")
    assert len(few) == len(many) <= 3


def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}
