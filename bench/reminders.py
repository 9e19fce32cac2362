"""10,000 reminders falling due at once, delivered by the real scheduler processes (a leader and a standby) on
PostgreSQL to an SMTP sink in a process of its own, with the leader killed (SIGKILL) halfway.

    .venv/bin/python bench/reminders.py [--reminders 10000] [--reference 2000]

A fresh schema on the `test` database (BENCH_DATABASE_URL); `flask scheduler run` twice; the reminders queued in the
outbox in one transaction, all due now. When half have arrived the leader is killed; the standby must take the lock
and send the rest. The sink writes each recipient as it accepts the message, so copies and gaps are counted from
what arrived, not from what the outbox says.

Prints delivered (distinct recipients that got their reminder), duplicates (copies beyond the first), of which
cut_mid_way (a message whose exchange the kill cut after the server accepted it and before the outbox recorded it:
such a message was attempted twice), lost, mails_per_s (delivered over the time from the first arrival to the last,
the kill and takeover included), takeover_s (SIGKILL to the standby logging that it leads), and the same sink's
rate from bare smtplib over one connection as the reference, with the ratio. planner_s is the reminder planner's
time over 100,000 tickets and sessions when `portal.reminders` provides it, else null.

Targets: lost 0, duplicates 0 beyond messages cut mid-way, mails_per_s >= 200, takeover_s < 10.
"""

from __future__ import annotations

import argparse
import json
import os
import smtplib
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the root, where app.py lives

from sqlalchemy import func, insert, select  # noqa: E402

from bench.common import BASE_DATABASE_URL, ROOT, checkpoint, free_port, report, scratch_database  # noqa: E402
from portal.db import make_engine, utcnow  # noqa: E402
from portal.notifications.models import OutboxMessage, OutboxStatus  # noqa: E402
from tests.support.processes import FlaskProcess  # noqa: E402

TAKEOVER_LIMIT_S = 10
MAILS_PER_S_TARGET = 200


def _arrivals(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def _wait(condition, timeout: float, poll: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(poll)
    return False


class Sink:
    """The SMTP sink process; `arrivals()` are the recipients it accepted, in order."""

    def __init__(self, directory: Path, stack: ExitStack) -> None:
        self.port = free_port()
        self.path = directory / "arrivals.txt"
        self.path.touch()
        log = (directory / "sink.log").open("w")
        stack.callback(log.close)
        self.process = subprocess.Popen([sys.executable, "-m", "bench.smtp_sink", str(self.port), str(self.path)],
                                        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        stack.callback(self.stop)
        if not _wait(lambda: "listening" in (directory / "sink.log").read_text(), 30):
            raise RuntimeError("the SMTP sink did not start")

    def arrivals(self) -> list[str]:
        return _arrivals(self.path)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def reference_rate(sink: Sink, count: int) -> float:
    """Bare smtplib over one connection to the same sink: the fastest this machine and sink take mail."""
    message = EmailMessage()
    message["From"], message["Subject"] = "bench@example.vn", "Nhắc lịch"
    message.set_content("Buổi cố vấn của bạn bắt đầu sau 1 giờ.\n" * 20)
    message.add_alternative("<p>Buổi cố vấn của bạn bắt đầu sau 1 giờ.</p>" * 20, subtype="html")
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", sink.port, timeout=20) as smtp:
        for n in range(count):
            del message["To"]
            message["To"] = f"reference{n}@example.vn"
            smtp.send_message(message)
    if not _wait(lambda: sum(1 for a in sink.arrivals() if a.startswith("reference")) >= count, 30):
        print("warning: the sink did not record every reference message", flush=True)
    return count / (time.perf_counter() - started)


def queue_reminders(url: str, count: int) -> set[str]:
    """The reminders as the planner leaves them: rendered, keyed, all due now, in one transaction."""
    engine = make_engine(url)
    now = utcnow()
    body_text = "Buổi cố vấn của bạn bắt đầu sau 1 giờ.\n" * 20
    body_html = "<p>Buổi cố vấn của bạn bắt đầu sau 1 giờ.</p>" * 20
    rows = [{"idempotency_key": f"reminder:session:{n}:1h", "to_address": f"r{n}@example.vn", "locale": "vi",
             "subject": f"Nhắc lịch: buổi cố vấn {n}", "body_text": body_text, "body_html": body_html,
             "attachments": [], "status": OutboxStatus.PENDING, "attempts": 0, "next_attempt_at": now,
             "created_at": now} for n in range(count)]
    with engine.begin() as connection:
        connection.execute(insert(OutboxMessage.__table__), rows)
    engine.dispose()
    return {row["to_address"] for row in rows}


def planner_seconds() -> tuple[float | None, str]:
    """The planner over 100,000 tickets and sessions on PostgreSQL, measured by bench/reminder_planner.py in its
    own process (its own scratch schema)."""
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "reminder_planner.py")], capture_output=True,
                         text=True, env={**os.environ, "DATABASE_URL": BASE_DATABASE_URL}, timeout=1800)
    figures = json.loads(run.stdout.strip().splitlines()[-1]) if run.stdout.strip() else {}
    if "planner_s" not in figures:
        return None, f"the planner's benchmark gave no figure: {run.stderr[-500:]}"
    return figures["planner_s"], f"planner over 100,000 tickets and sessions on PostgreSQL: {figures}"


def measure(count: int, reference_count: int) -> dict:
    with ExitStack() as stack:
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench_reminders_")))
        url = stack.enter_context(scratch_database("reminders"))
        sink = Sink(directory, stack)
        reference = reference_rate(sink, reference_count)
        env = {"DATABASE_URL": url, "SECRET_KEY": "bench", "PORTAL_ENV": "development", "MAIL_TRANSPORT": "smtp",
               "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(sink.port), "RATE_LIMITS": "0"}
        leader = FlaskProcess(["scheduler", "run"], env, directory / "leader.log")
        stack.callback(leader.stop)
        leader.wait_for_log("scheduler leader:", timeout=120)
        standby = FlaskProcess(["scheduler", "run"], env, directory / "standby.log")
        stack.callback(standby.stop)
        standby.wait_for_log("scheduler standby:", timeout=120)

        addresses = queue_reminders(url, count)
        checkpoint()
        reminders = lambda: [a for a in sink.arrivals() if not a.startswith("reference")]  # noqa: E731
        first_seen = _first_arrival(reminders, 120)
        _wait(lambda: len(reminders()) >= count // 2, 600)
        killed_at = time.monotonic()
        leader.kill()
        standby.wait_for_log("scheduler leader:", timeout=60)
        takeover = time.monotonic() - killed_at
        complete = _wait(lambda: addresses <= set(reminders()), 900, poll=0.2)
        last_seen = time.monotonic()
        if not complete:
            print("warning: not every reminder arrived within 15 minutes", flush=True)
        time.sleep(3)  # a second copy would arrive now
        received = Counter(reminders())
        engine = make_engine(url)
        with engine.connect() as connection:
            attempted_twice = set(connection.scalars(select(OutboxMessage.to_address)
                                                     .where(OutboxMessage.attempts > 1)))
            unsent = connection.scalar(select(func.count()).where(OutboxMessage.status != OutboxStatus.SENT))
        engine.dispose()
        duplicates = {address: copies - 1 for address, copies in received.items() if copies > 1}
        cut_mid_way = sum(copies for address, copies in duplicates.items() if address in attempted_twice)
        delivered = len(addresses & set(received))
        mails_per_s = delivered / max(last_seen - first_seen, 1e-9)
        planner, planner_note = planner_seconds()
        return {
            "delivered": delivered,
            "duplicates": sum(duplicates.values()),
            "cut_mid_way": cut_mid_way,
            "lost": len(addresses - set(received)),
            "unsent_in_outbox": unsent,
            "mails_per_s": round(mails_per_s, 1),
            "takeover_s": round(takeover, 2),
            "planner_s": planner,
            "planner_note": planner_note,
            "reference_mails_per_s": round(reference, 1),
            "ratio_to_reference": round(mails_per_s / reference, 3),
            "load_average": os.getloadavg()[0],
        }


def _first_arrival(reminders, timeout: float) -> float:
    if not _wait(lambda: reminders(), timeout):
        raise RuntimeError("no reminder arrived within two minutes of falling due")
    return time.monotonic()


def targets_met(figures: dict) -> bool:
    return (figures["lost"] == 0 and figures["duplicates"] == figures["cut_mid_way"]
            and figures["mails_per_s"] >= MAILS_PER_S_TARGET and figures["takeover_s"] < TAKEOVER_LIMIT_S)


def main() -> int:
    parser = argparse.ArgumentParser(description="Reminders falling due at once, a leader killed halfway.")
    parser.add_argument("--reminders", type=int, default=10_000)
    parser.add_argument("--reference", type=int, default=2_000)
    args = parser.parse_args()
    return report(lambda: measure(args.reminders, args.reference), targets_met)


if __name__ == "__main__":
    sys.exit(main())
