"""The webhook storm: 5,000 signed `checkout.session.completed` events for 4,000 card orders (20% repeats, shuffled)
from 16 concurrent clients, over HTTP.

    .venv/bin/python bench/webhooks.py [--orders 4000] [--events 5000] [--clients 16]

gunicorn (4 workers) serves the portal in production mode on a fresh PostgreSQL schema holding the orders, each
waiting for its Stripe payment. Every event is signed as Stripe signs it (HMAC-SHA256 of "{timestamp}.{body}")
before the storm begins, as Stripe does on its own machines (well within the five minutes a signature is accepted);
a repeat is a second delivery of the same event id, as Stripe retries.

It prints the orders fulfilled exactly once (must be all), double fulfilled (must be 0; counted from the audit
log's "order.paid" entries, which the fulfilment writes), events per second and p50/p95/p99 latency, and ends with
one JSON line. Target on a 2-core machine: >= 300 events/s, every order fulfilled once, none twice.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import random
import secrets
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from http.client import HTTPConnection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the root, where app.py lives

from sqlalchemy import func, select  # noqa: E402

from app import create_app  # noqa: E402
from bench.common import (  # noqa: E402
    BASE_DATABASE_URL,
    HOST,
    StartLine,
    WorkQueue,
    cpu_calibration_ms,
    gunicorn,
    scratch_database,
)
from bench.load import percentile  # noqa: E402
from portal.accounts.models import User  # noqa: E402
from portal.audit.models import AuditEntry  # noqa: E402
from portal.db import Database, utcnow  # noqa: E402
from portal.events.models import Event, EventStatus, Order, OrderStatus, Quota, Ticket, TicketType  # noqa: E402
from portal.events.orders import new_order_code, new_ticket_code  # noqa: E402
from portal.payments.models import Payment, PaymentStatus  # noqa: E402

GUNICORN_OPTIONS = ("--workers", "4", "--worker-class", "sync")
WEBHOOK_SECRET = "whsec_bench_" + secrets.token_hex(8)
PRICE = 250_000
TARGET_EVENTS_PER_S = 300


@contextmanager
def database(database_url: str) -> Iterator[Database]:
    with tempfile.TemporaryDirectory() as instance:
        app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": secrets.token_urlsafe(32)},
                         instance_path=instance)
        db = app.extensions["portal.db"]
        try:
            yield db
        finally:
            db.dispose()


def prepare(database_url: str, orders: int) -> list[int]:
    """An event with one paid pass and `orders` orders of one ticket, each with its pending Stripe payment;
    returns the payment ids."""
    with database(database_url) as db, db.transaction() as s:
        now = utcnow()
        event = Event(slug="webhook-storm", name_vi="Thử tải webhook", name_en="Webhook storm",
                      status=EventStatus.PUBLISHED, starts_at=now + timedelta(days=30),
                      ends_at=now + timedelta(days=31))
        ticket_type = TicketType(name_vi="Vé hội nghị", name_en="Conference pass", price=PRICE, max_per_order=1)
        event.ticket_types.append(ticket_type)
        event.quotas.append(Quota(name="Hall", size=orders, ticket_types=[ticket_type]))
        buyer = User(email="buyer@storm.example.vn", full_name="Người mua", password_hash="-",  # noqa: S106 - never logs in
                     email_verified_at=now)
        s.add_all([event, buyer])
        s.flush()
        payments = []
        for n in range(orders):
            order = Order(code=new_order_code(), event_id=event.id, buyer_id=buyer.id,
                          status=OrderStatus.PENDING, total=PRICE, provider="stripe", locale="vi",
                          created_at=now, expires_at=now + timedelta(hours=2))
            order.tickets.append(Ticket(ticket_type_id=ticket_type.id, price=PRICE, code=new_ticket_code(),
                                        attendee_name=f"Khách {n}", attendee_email=f"guest{n}@storm.example.vn"))
            payment = Payment(order=order, amount=PRICE, currency="VND", provider="stripe",
                              status=PaymentStatus.PENDING, created_at=now, updated_at=now,
                              provider_reference=f"cs_bench_{n}")
            s.add(payment)
            payments.append(payment)
        s.flush()
        return [payment.id for payment in payments]


def completed_event(payment_id: int, number: int) -> bytes:
    return json.dumps({
        "id": f"evt_bench_{number}", "object": "event", "type": "checkout.session.completed",
        "created": int(time.time()),
        "data": {"object": {
            "id": f"cs_bench_{number}", "object": "checkout.session", "amount_total": PRICE, "currency": "vnd",
            "payment_status": "paid", "payment_intent": f"pi_bench_{number}",
            "client_reference_id": str(payment_id), "metadata": {"payment_id": str(payment_id)},
        }},
    }).encode()


def signature(body: bytes) -> str:
    timestamp = int(time.time())
    digest = hmac.new(WEBHOOK_SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def deliveries(payment_ids: list[int], events: int) -> list[tuple[bytes, str]]:
    """One event per order, and repeats of randomly chosen ones up to `events`, shuffled, each with its signature."""
    bodies = [completed_event(payment_id, number) for number, payment_id in enumerate(payment_ids)]
    repeats = random.choices(bodies, k=events - len(bodies))
    queue = bodies + repeats
    random.shuffle(queue)
    return [(body, signature(body)) for body in queue]


def client(port: int, storm: WorkQueue, start: StartLine) -> None:
    connection = HTTPConnection(HOST, port, timeout=30)
    start.wait()
    while (delivery := storm.take()) is not None:
        body, signed = delivery
        started = time.monotonic()
        try:
            connection.request("POST", "/payments/stripe/webhook", body=body, headers={
                "Content-Type": "application/json", "Stripe-Signature": signed})
            response = connection.getresponse()
            answer = response.read()
            outcome = json.loads(answer).get("outcome", "?") if response.status == 200 else f"HTTP {response.status}"
        except (OSError, ValueError) as error:
            connection.close()
            connection = HTTPConnection(HOST, port, timeout=30)
            outcome = f"error {error!r}"
        storm.record(outcome, started, time.monotonic())
    connection.close()


def count_fulfilments(database_url: str) -> tuple[int, int, int]:
    """Orders paid, orders confirmed exactly once and more than once, from the audit log."""
    with database(database_url) as db, db.session_factory() as s:
        paid = s.scalar(select(func.count(Order.id)).where(Order.status == OrderStatus.PAID))
        per_order = select(func.count(AuditEntry.id).label("times")).where(
            AuditEntry.action == "order.paid").group_by(AuditEntry.object_id).subquery()
        once = s.scalar(select(func.count()).select_from(per_order).where(per_order.c.times == 1))
        twice = s.scalar(select(func.count()).select_from(per_order).where(per_order.c.times > 1))
        return paid, once, twice


def run(orders: int, events: int, clients: int) -> dict:
    background_load, calibration = os.getloadavg()[0], cpu_calibration_ms()
    with ExitStack() as stack:
        print(f"preparing a fresh PostgreSQL schema on {BASE_DATABASE_URL} with {orders} orders ...", flush=True)
        database_url = stack.enter_context(scratch_database("webhooks"))
        queue = deliveries(prepare(database_url, orders), events)
        log_dir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        port = stack.enter_context(gunicorn(database_url, log_dir, GUNICORN_OPTIONS, RATE_LIMITS="false",
                                            STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET))
        print(f"gunicorn {' '.join(GUNICORN_OPTIONS)} on {HOST}:{port}; {events} events from {clients} clients ...",
              flush=True)
        storm = WorkQueue(queue)
        start = StartLine(clients, timeout=60)
        threads = [threading.Thread(target=client, args=(port, storm, start), daemon=True) for _ in range(clients)]
        for thread in threads:
            thread.start()
        start.wait()
        began = time.monotonic()
        for thread in threads:
            thread.join(timeout=900)
        seconds = time.monotonic() - began
        paid, once, twice = count_fulfilments(database_url)
    latencies = sorted(storm.latencies_ms)
    errors = sum(count for outcome, count in storm.outcomes.items() if outcome.startswith(("HTTP", "error")))
    summary = {
        "fulfilled_once": once, "double_fulfilled": twice, "events_per_s": round(events / seconds, 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "orders": orders, "events": events, "clients": clients, "gunicorn": " ".join(GUNICORN_OPTIONS),
        "cpus": os.cpu_count(), "background_load_1min": round(background_load, 2),
        "cpu_calibration_ms": calibration, "outcomes": storm.outcomes, "errors": errors, "orders_paid": paid,
        "warnings": start.warnings,
        "seconds": round(seconds, 2), "p50_ms": round(percentile(latencies, 0.50), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
    }
    summary["target_met"] = (once == orders and twice == 0 and errors == 0
                             and summary["events_per_s"] >= TARGET_EVENTS_PER_S)
    return summary


def _exit_on_sigterm(_signum, _frame):
    raise SystemExit(143)  # unwinds the ExitStack, so gunicorn and the schema go too


def main() -> None:
    parser = argparse.ArgumentParser(description="Signed Stripe webhooks, repeated and concurrent, over HTTP.")
    parser.add_argument("--orders", type=int, default=4000)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    if args.events < args.orders:
        parser.error("--events must be at least --orders: every order gets its event once")
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    summary = run(args.orders, args.events, args.clients)
    print()
    for key in ("orders_paid", "fulfilled_once", "double_fulfilled", "errors", "outcomes", "events_per_s", "seconds",
                "p50_ms", "p95_ms", "p99_ms", "background_load_1min", "cpu_calibration_ms"):
        print(f"{key:>20}: {summary[key]}")
    print(f"targets: every order fulfilled once, none twice, >= {TARGET_EVENTS_PER_S} events/s")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
