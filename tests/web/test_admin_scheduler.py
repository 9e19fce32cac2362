"""The admins' scheduler page: who leads, each job's runs, the mail queue with its failures, resend and cancel, and
mail sent per day; SMTP failures retried with backoff in controlled time."""

from __future__ import annotations

import re
import socket
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from portal.accounts.models import Role
from portal.audit.models import AuditEntry
from portal.db import utcnow
from portal.notifications import leader
from portal.notifications.models import OutboxMessage, OutboxStatus
from portal.notifications.scheduler import build_scheduler, run_job
from portal.notifications.services import SmtpTransport, deliver_due, queue_mail
from tests.conftest import free_port
from tests.support.web import post_form


class _Person:
    full_name = "Phạm Minh"


@pytest.fixture
def admin(login_as):
    return login_as(Role.ADMIN, locale="en", email="ops@example.vn")


def _queue(app, db, to: str) -> int:
    with app.test_request_context(), db.transaction() as s:
        queue_mail(s, key=f"k:{to}", to=to, locale="en", template="verify_email", subject=f"Hello {to}",
                   user=_Person(), link="http://127.0.0.1/v")
        return s.scalar(select(OutboxMessage.id).where(OutboxMessage.to_address == to))


def _row(db, message_id: int) -> OutboxMessage:
    with db.session_factory() as s:
        return s.get(OutboxMessage, message_id)


def _page(admin) -> str:
    response = admin.get("/admin/scheduler")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_refusing_smtp_server_is_retried_with_backoff_shown_on_the_page_and_then_sent_once(app, db, admin,
                                                                                             mailbox):
    message_id = _queue(app, db, "late@example.vn")
    refusing = SmtpTransport("127.0.0.1", free_port(), timeout=2)
    with time_machine.travel(datetime(2026, 12, 8, 1, 0, tzinfo=UTC)) as clock:
        assert deliver_due(db, refusing, "portal@example.vn")["retry"] == 1
        page = _page(admin)
        assert "late@example.vn" in page and "ConnectionRefusedError" in page
        clock.shift(timedelta(seconds=50))  # the first retry comes a minute after the failure
        assert deliver_due(db, refusing, "portal@example.vn") == {"sent": 0, "retry": 0, "failed": 0}
        clock.shift(timedelta(seconds=15))
        assert deliver_due(db, refusing, "portal@example.vn")["retry"] == 1
        row = _row(db, message_id)
        assert row.attempts == 2
        # then two minutes
        assert timedelta(seconds=115) < row.next_attempt_at - utcnow() <= timedelta(minutes=2)
        clock.shift(timedelta(minutes=2, seconds=1))
        assert mailbox.deliver()["sent"] == 1
        assert len(mailbox.wait_for("late@example.vn")) == 1
        assert _row(db, message_id).status is OutboxStatus.SENT
        assert "late@example.vn" not in _page(admin)  # sent mail leaves the queue


def test_a_server_that_stops_answering_ends_the_batch_and_loses_nothing(app, db, mailbox):
    ids = [_queue(app, db, f"slow{n}@example.vn") for n in range(3)]
    with socket.socket() as silent:  # accepts connections (the backlog) and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        counts = deliver_due(db, SmtpTransport("127.0.0.1", silent.getsockname()[1], timeout=1),
                             "portal@example.vn")
    assert counts == {"sent": 0, "retry": 1, "failed": 0}
    rows = [_row(db, i) for i in ids]
    assert [r.status for r in rows] == [OutboxStatus.PENDING] * 3
    assert "timed out" in rows[0].last_error
    assert [r.attempts for r in rows] == [1, 0, 0]  # the others were not tried: their attempts are not counted
    with db.transaction() as s:
        for row in s.scalars(select(OutboxMessage)):
            row.next_attempt_at = utcnow()
    assert mailbox.deliver()["sent"] == 3


def test_resend_and_cancel_change_only_what_they_say_once_and_are_audited(app, db, admin, mailbox):
    failed_id, pending_id = _queue(app, db, "failed@example.vn"), _queue(app, db, "pending@example.vn")
    with db.transaction() as s:
        failed = s.get(OutboxMessage, failed_id)
        failed.status, failed.attempts, failed.last_error = OutboxStatus.FAILED, 8, "SMTPDataError: 554 no"
    page = _page(admin)
    assert "SMTPDataError: 554 no" in page
    assert "Resend the mail to failed@example.vn" in page and "Cancel the mail to pending@example.vn" in page

    response = post_form(admin, app, f"/admin/mail/{failed_id}/resend", follow_redirects=True)
    assert "queued again" in response.get_data(as_text=True)
    again = post_form(admin, app, f"/admin/mail/{failed_id}/resend", follow_redirects=True)
    assert "Nothing changed" in again.get_data(as_text=True)
    row = _row(db, failed_id)
    assert row.status is OutboxStatus.PENDING and row.attempts == 0

    response = post_form(admin, app, f"/admin/mail/{pending_id}/cancel", follow_redirects=True)
    assert "cancelled" in response.get_data(as_text=True)
    assert _row(db, pending_id).status is OutboxStatus.CANCELLED
    assert post_form(admin, app, "/admin/mail/999999/cancel").status_code == 404

    assert mailbox.deliver()["sent"] == 1
    assert len(mailbox.wait_for("failed@example.vn")) == 1
    assert mailbox.to("pending@example.vn") == []
    with db.session_factory() as s:
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.action.startswith("mail."))
                            .order_by(AuditEntry.id)).all()
    assert actions == ["mail.resent", "mail.cancelled"]


def test_the_page_shows_the_leader_each_jobs_runs_and_mail_sent_per_day(app, db, admin, mailbox):
    assert "No scheduler is running" in _page(admin)
    leader.record_leadership(db)
    _queue(app, db, "today@example.vn")
    build_scheduler(app)
    run_job("deliver_outbox")
    page = _page(admin)
    assert "No scheduler is running" not in page
    assert f"process {leader.os.getpid()}" in page
    assert "<code>deliver_outbox</code>" in page and "done" in page
    # the chart's table: today has one message
    assert 'id="mail-per-day-table"' in page
    assert re.search(r"<td[^>]*>1</td>", page)


def test_a_failing_job_is_recorded_with_its_error(app, db, admin, monkeypatch):
    from portal.notifications import scheduler

    def broken(_app):
        raise RuntimeError("the bank's API is down")

    monkeypatch.setitem(scheduler.JOBS, "broken_job", (broken, 60))
    build_scheduler(app)
    run_job("broken_job")
    page = _page(admin)
    assert "RuntimeError: the bank&#39;s API is down" in page


def test_only_admins_see_the_scheduler(login_as):
    organiser = login_as(Role.ORGANISER)
    assert organiser.get("/admin/scheduler").status_code == 403
