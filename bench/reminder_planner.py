"""The reminder planner over 100,000 tickets and mentoring sessions.

    .venv/bin/python bench/reminder_planner.py [--tickets 50000] [--sessions 50000]
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test .venv/bin/python bench/reminder_planner.py

A fresh database (a temporary SQLite file, or with DATABASE_URL=postgresql… a scratch schema there) gets one event
starting a day from the moment measured, with `--tickets` paid tickets (ten per order), and `--sessions` confirmed
mentoring sessions of 1,000 mentors with 1,000 startups, one an hour per mentor from that moment on, with the default
reminder rules (76,000 reminders at the default size). `planner_s` is one run of the planner
(portal.reminders.planner.plan_due_reminders) and its commit at that moment: every ticket falls due for its 1-day
reminder and the sessions starting 12 to 24 hours later, or within the hour, for theirs (both sides). `again_s` is a
second run, which must write nothing. `queued_per_s` is the pace at which planned reminders are then written to the
outbox (5,000 of them, subjects rendered, bodies left to the sender).

Prints the figures and ends with one JSON line. Target: planner_s < 2."""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select  # noqa: E402

from app import create_app  # noqa: E402
from bench.common import report  # noqa: E402
from portal.accounts.models import Organisation, OrganisationKind, OrganisationMember, User  # noqa: E402
from portal.db import utcnow  # noqa: E402
from portal.events.models import Event, EventStatus, Order, OrderStatus, Ticket, TicketType  # noqa: E402
from portal.mentoring.models import MentoringSession, MentorProfile, MentorStatus, SessionStatus  # noqa: E402
from portal.migrate import upgrade  # noqa: E402
from portal.reminders.models import Reminder  # noqa: E402
from portal.reminders.planner import plan_due_reminders, queue_planned_reminders  # noqa: E402
from portal.reminders.rules import create_default_rules  # noqa: E402
from tests.support.scratch_schema import drop_postgres_schema, fresh_postgres_schema  # noqa: E402

MENTORS = 1000
TICKETS_PER_ORDER = 10
CHUNK = 10_000
#: batches of planned reminders written to the outbox to measure its pace (500 each)
QUEUE_BATCHES = 10


@contextmanager
def scratch_database():
    """DATABASE_URL's PostgreSQL in a schema of its own, or a temporary SQLite file; migrated, dropped after."""
    base = os.environ.get("DATABASE_URL", "")
    if base.startswith("postgresql"):
        schema = f"bench_reminders_{os.getpid()}"
        url = fresh_postgres_schema(base, schema)
        try:
            upgrade(url)
            yield url
        finally:
            drop_postgres_schema(base, schema)
        return
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.sqlite3"
        upgrade(url)
        yield url


def _insert(session, model, rows: list[dict]) -> None:
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(model), rows[start:start + CHUNK])


def load(db, now, tickets: int, sessions: int) -> None:
    with db.transaction() as s:
        people = [{"email": f"person{i}@bench.vn", "full_name": f"Người {i}", "password_hash": "x",
                   "locale": "vi" if i % 3 else "en", "is_active": True, "created_at": now}
                  for i in range(2 * MENTORS + 1)]
        _insert(s, User, people)
        user_ids = list(s.scalars(select(User.id).order_by(User.id)))
        buyer, mentor_users, founders = user_ids[0], user_ids[1:MENTORS + 1], user_ids[MENTORS + 1:]
        _insert(s, Organisation, [{"name": f"Startup {i}", "kind": OrganisationKind.STARTUP, "created_at": now}
                                  for i in range(MENTORS)])
        organisations = list(s.scalars(select(Organisation.id).order_by(Organisation.id)))
        _insert(s, OrganisationMember, [{"organisation_id": o, "user_id": u, "is_owner": True, "joined_at": now}
                                        for o, u in zip(organisations, founders, strict=True)])
        _insert(s, MentorProfile, [{"user_id": u, "status": MentorStatus.APPROVED, "created_at": now}
                                   for u in mentor_users])
        mentors = list(s.scalars(select(MentorProfile.id).order_by(MentorProfile.id)))

        event = Event(slug="bench", name_vi="Sự kiện", name_en="Event", status=EventStatus.PUBLISHED,
                      starts_at=now + timedelta(days=1), ends_at=now + timedelta(days=2))
        event.ticket_types = [TicketType(name_vi="Vé", name_en="Ticket", price=0)]
        s.add(event)
        s.flush()
        create_default_rules(s, "event", event.id)  # mentoring's came with the migration
        orders = tickets // TICKETS_PER_ORDER
        _insert(s, Order, [{"code": f"B{i:09d}", "event_id": event.id, "buyer_id": buyer, "status": OrderStatus.PAID,
                            "total": 0, "provider": "free", "locale": "vi", "created_at": now, "paid_at": now}
                           for i in range(orders)])
        order_ids = list(s.scalars(select(Order.id).order_by(Order.id)))
        ticket_type = event.ticket_types[0].id
        _insert(s, Ticket, [{"order_id": order_ids[i // TICKETS_PER_ORDER], "ticket_type_id": ticket_type,
                             "price": 0, "code": secrets.token_urlsafe(24), "attendee_name": f"Khách {i}",
                             "attendee_email": f"guest{i}@bench.vn", "answers": {}}
                            for i in range(orders * TICKETS_PER_ORDER)])
        booked = []
        for i in range(sessions):
            mentor = i % MENTORS
            starts = now + timedelta(minutes=30) + timedelta(hours=i // MENTORS)
            booked.append({"mentor_id": mentors[mentor], "organisation_id": organisations[mentor],
                           "starts_at": starts, "ends_at": starts + timedelta(hours=1),
                           "blocked_until": starts + timedelta(hours=1), "status": SessionStatus.CONFIRMED,
                           "topic": "", "link_version": 0, "created_at": now})
        _insert(s, MentoringSession, booked)


def measure(tickets: int, sessions: int) -> dict:
    with scratch_database() as url, tempfile.TemporaryDirectory() as instance:
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "RATE_LIMITS": False, "DEMO_CARD": False},
                         instance_path=instance)
        db = app.extensions["portal.db"]
        try:
            now = utcnow()
            started = time.perf_counter()
            load(db, now, tickets, sessions)
            load_s = time.perf_counter() - started
            with app.app_context():
                started = time.perf_counter()
                with db.transaction() as s:
                    planned = plan_due_reminders(s, now)
                planner_s = time.perf_counter() - started
                started = time.perf_counter()
                with db.transaction() as s:
                    again = plan_due_reminders(s, now)
                again_s = time.perf_counter() - started
                started = time.perf_counter()
                queued = 0
                for _ in range(QUEUE_BATCHES):
                    with db.transaction() as s:
                        queued += queue_planned_reminders(s, now)
                queue_s = time.perf_counter() - started
            with db.session_factory() as s:
                rows = s.scalar(select(func.count()).select_from(Reminder))
            return {"database": db.engine.dialect.name, "tickets": tickets, "sessions": sessions,
                    "load_s": round(load_s, 1), "reminders_planned": planned, "reminder_rows": rows,
                    "planned_again": again, "planner_s": round(planner_s, 3), "again_s": round(again_s, 3),
                    "queued_per_s": round(queued / queue_s)}
        finally:
            db.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=50_000)
    parser.add_argument("--sessions", type=int, default=50_000)
    args = parser.parse_args()
    return report(lambda: measure(args.tickets, args.sessions),
                  lambda figures: figures["planner_s"] < 2 and figures["planned_again"] == 0
                  and figures["reminder_rows"] == figures["reminders_planned"])


if __name__ == "__main__":
    sys.exit(main())
