"""Real `flask scheduler run` and `flask mail send --loop` processes on one database: one leader, one standby that
takes over when the leader is killed, and mail sent once whatever dies or runs twice."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from sqlalchemy import func, select, text

from portal.notifications.models import OutboxMessage, OutboxStatus, SchedulerLeader
from portal.notifications.services import CONNECTIONS_PER_SENDER, queue_mail
from tests.support.processes import FlaskProcess, portal_env


class _Person:
    full_name = "Lê Thị Hoa"


def _queue_many(app, db, count: int) -> set[str]:
    addresses = {f"reminder{n}@example.vn" for n in range(count)}
    with app.test_request_context(), db.transaction() as s:
        for address in sorted(addresses):
            queue_mail(s, key=f"bulk:{address}", to=address, locale="vi", template="verify_email",
                       subject="Nhắc lịch", user=_Person(), link="http://127.0.0.1/x")
    return addresses


def _received(sink) -> Counter:
    with sink.lock:
        return Counter(m["To"] for m in sink.messages)


def _wait_until(condition, timeout: float, what: str, logs=lambda: "") -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {timeout} s\n{logs()}")


@pytest.fixture
def processes(tmp_path):
    started: list[FlaskProcess] = []

    def start(name: str, *args: str, env: dict[str, str]) -> FlaskProcess:
        process = FlaskProcess(list(args), env, tmp_path / f"{name}.log")
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


def test_the_standby_takes_over_from_a_killed_leader_and_every_mail_arrives_once(app, db, smtp_sink, processes):
    env = portal_env(app)
    first = processes("first", "scheduler", "run", env=env)
    first.wait_for_log("scheduler leader:")
    second = processes("second", "scheduler", "run", env=env)
    second.wait_for_log(f"scheduler standby: {_leader_host(db)} pid {first.pid}")

    smtp_sink.delay = 0.01  # a batch lasts a few seconds, so the kill lands in its middle
    try:
        addresses = _queue_many(app, db, 300)
        _wait_until(lambda: sum(_received(smtp_sink).values()) >= 60, 30, "the leader sending")
        first.kill()
        killed_at = time.monotonic()
        second.wait_for_log("scheduler leader:", timeout=10)
        takeover = time.monotonic() - killed_at
        _wait_until(lambda: set(_received(smtp_sink)) == addresses, 120, "every message arriving",
                    logs=lambda: [first.log()[-2000:], second.log()[-2000:]])
    finally:
        smtp_sink.delay = 0.0
    assert takeover < 10
    assert "took over from" in second.log()
    received = _received(smtp_sink)
    twice = {address for address, copies in received.items() if copies > 1}
    # Outcomes are recorded one message at a time on each of the sender's connections, so only a message whose
    # exchange the kill cut (accepted by the server, not yet recorded) may arrive twice: one per connection at most,
    # each counted here and sent twice by name in the outbox.
    assert len(twice) <= CONNECTIONS_PER_SENDER, twice
    assert max(received.values()) <= 2
    with db.session_factory() as s:
        assert s.scalar(select(func.count()).where(OutboxMessage.status != OutboxStatus.SENT)) == 0
        assert s.get(SchedulerLeader, "scheduler").pid == second.pid
        assert set(s.scalars(select(OutboxMessage.attempts).where(OutboxMessage.to_address.in_(twice)))) <= {2}


def _leader_host(db) -> str:
    with db.session_factory() as s:
        return s.get(SchedulerLeader, "scheduler").host


def test_two_delivery_workers_on_one_database_send_each_message_once(app, db, smtp_sink, processes):
    env = portal_env(app)
    workers = [processes(f"worker{n}", "mail", "send", "--loop", env=env) for n in range(2)]
    for worker in workers:
        worker.wait_for_log("mail sender running")
    smtp_sink.delay = 0.005  # the first worker's batches last long enough for the second to find mail too
    try:
        addresses = _queue_many(app, db, 1000)
        _wait_until(lambda: set(_received(smtp_sink)) == addresses, 180, "every message arriving",
                    logs=lambda: [worker.log()[-2000:] for worker in workers])
    finally:
        smtp_sink.delay = 0.0
    time.sleep(1.5)  # a second copy would come now
    assert max(_received(smtp_sink).values()) == 1
    with db.session_factory() as s:
        assert s.scalar(select(func.count()).where(OutboxMessage.status == OutboxStatus.SENT)) == 1000
    # both took part: each logged what it sent
    assert all("mail sent:" in worker.log() for worker in workers)


def test_a_leader_whose_lock_connection_dies_steps_down_and_leads_again(app, db, processes):
    if db.is_sqlite:
        pytest.skip("the lock of SQLite is a file descriptor, which cannot die apart from its process")
    leader = processes("leader", "scheduler", "run", env=portal_env(app))
    leader.wait_for_log("scheduler leader:")
    with db.engine.begin() as conn:
        killed = conn.scalar(text("SELECT count(pg_terminate_backend(pid)) FROM pg_locks "
                                  "WHERE locktype = 'advisory' AND classid = 180518 AND objid = "
                                  "hashtext(current_schema())::oid"))
    assert killed == 1
    leader.wait_for_log("stepping down", timeout=10)
    _wait_until(lambda: leader.log().count("scheduler leader:") == 2, 10, "leading again")
