"""The outbox: one message per idempotency key, delivered over real SMTP, retried with backoff."""

import threading
from contextlib import contextmanager
from datetime import timedelta

import pytest
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal.db import utcnow
from portal.notifications.models import OutboxMessage, OutboxStatus
from portal.notifications.services import (
    MAX_ATTEMPTS,
    ComposedAtSend,
    SmtpTransport,
    deliver_due,
    deliver_outbox,
    queue_mail,
    register_context_builder,
)
from tests.support.mail import html_body, text_body


class _User:
    full_name = "Nguyễn Văn <b>A</b> & Co"


RESET_SUBJECT = _l("Reset your password")


def _queue(app, db, key="k1", to="a@example.vn", locale="vi", subject=RESET_SUBJECT):
    with app.test_request_context(), db.transaction() as s:
        queue_mail(s, key=key, to=to, locale=locale, template="reset_password", subject=subject,
                   user=_User(), link="http://127.0.0.1/reset/abc")


def _count(db) -> int:
    with db.session_factory() as s:
        return s.scalar(select(func.count(OutboxMessage.id)))


def test_the_same_key_queues_and_sends_once(app, db, mailbox):
    _queue(app, db)
    _queue(app, db)
    assert _count(db) == 1
    assert mailbox.deliver() == {"sent": 1, "retry": 0, "failed": 0}
    assert mailbox.deliver() == {"sent": 0, "retry": 0, "failed": 0}
    [message] = mailbox.wait_for("a@example.vn")
    assert "http://127.0.0.1/reset/abc" in text_body(message)
    # the user's name is escaped in HTML and left as typed in text
    assert "Nguyễn Văn &lt;b&gt;A&lt;/b&gt; &amp; Co" in html_body(message)
    assert "Nguyễn Văn <b>A</b> & Co" in text_body(message)


def test_mail_is_written_in_the_recipients_language(app, db, mailbox):
    _queue(app, db, key="en", to="en@example.vn", locale="en")
    _queue(app, db, key="vi", to="vi@example.vn", locale="vi")
    mailbox.deliver()
    [english] = mailbox.wait_for("en@example.vn")
    [vietnamese] = mailbox.wait_for("vi@example.vn")
    assert english["Subject"] == "Reset your password"
    assert vietnamese["Subject"] != english["Subject"]
    assert english["Content-Language"] == "en" and vietnamese["Content-Language"] == "vi"


def test_a_subject_cannot_inject_headers(app, db, mailbox):
    _queue(app, db, subject="Hello\r\nBcc: victim@example.vn")
    mailbox.deliver()
    [message] = mailbox.wait_for("a@example.vn")
    assert message["Bcc"] is None
    assert message["Subject"] == "Hello Bcc: victim@example.vn"


def _reset_context(session, name: str) -> dict:
    class Named:
        full_name = name
    return {"user": Named(), "link": "http://127.0.0.1/reset/later"}


register_context_builder("test_reset", _reset_context)


def test_a_body_composed_at_send_is_rendered_by_the_sender_and_kept_for_the_admins(app, db, mailbox):
    with app.test_request_context(), db.transaction() as s:
        queue_mail(s, key="later", to="later@example.vn", locale="en", template="reset_password",
                   subject=RESET_SUBJECT, composed_at_send=ComposedAtSend("test_reset", {"name": "Trần Thị Bình"}))
    with db.session_factory() as s:
        assert s.scalar(select(OutboxMessage.body_text)) == ""
    mailbox.deliver()
    [message] = mailbox.wait_for("later@example.vn")
    assert "Trần Thị Bình" in text_body(message) and "http://127.0.0.1/reset/later" in html_body(message)
    with db.session_factory() as s:
        assert "Trần Thị Bình" in s.scalar(select(OutboxMessage.body_text))


class _Failing:
    @contextmanager
    def connection(self):
        yield self

    def send_message(self, message):
        raise ConnectionRefusedError("smtp down")


def test_failures_are_retried_with_backoff_then_given_up(app, db):
    _queue(app, db)
    assert deliver_due(db, _Failing(), "portal@example.vn") == {"sent": 0, "retry": 1, "failed": 0}
    with db.session_factory() as s:
        row = s.scalar(select(OutboxMessage))
        assert row.status is OutboxStatus.PENDING and row.attempts == 1 and "smtp down" in row.last_error
        assert timedelta(seconds=50) < row.next_attempt_at - utcnow() <= timedelta(minutes=1)
    # not due yet: nothing is attempted
    assert deliver_due(db, _Failing(), "portal@example.vn") == {"sent": 0, "retry": 0, "failed": 0}
    for _ in range(MAX_ATTEMPTS - 1):
        with db.transaction() as s:
            s.scalar(select(OutboxMessage)).next_attempt_at = utcnow()
        deliver_due(db, _Failing(), "portal@example.vn")
    with db.session_factory() as s:
        row = s.scalar(select(OutboxMessage))
        assert row.status is OutboxStatus.FAILED and row.attempts == MAX_ATTEMPTS


def test_a_message_left_mid_send_by_a_dead_sender_is_sent_after_its_lease(app, db, mailbox):
    _queue(app, db)
    with db.transaction() as s:
        row = s.scalar(select(OutboxMessage))
        row.status, row.attempts, row.next_attempt_at = OutboxStatus.SENDING, 1, utcnow() + timedelta(minutes=5)
    assert mailbox.deliver()["sent"] == 0  # still leased
    with db.transaction() as s:
        s.scalar(select(OutboxMessage)).next_attempt_at = utcnow() - timedelta(seconds=1)
    assert mailbox.deliver()["sent"] == 1
    assert len(mailbox.wait_for("a@example.vn")) == 1


def test_concurrent_queueing_of_one_key_keeps_one_message(app, db):
    barrier = threading.Barrier(8)
    errors = []

    def worker():
        try:
            barrier.wait()
            _queue(app, db, key="same")
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert _count(db) == 1


def test_smtp_transport_reports_an_unreachable_server(app, db):
    _queue(app, db)
    from tests.conftest import free_port

    counts = deliver_due(db, SmtpTransport("127.0.0.1", free_port(), timeout=2), "portal@example.vn")
    assert counts == {"sent": 0, "retry": 1, "failed": 0}


@pytest.mark.parametrize("transport", ["sink"])
def test_the_development_sink_marks_mail_sent_without_a_server(app, db, transport, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_TRANSPORT", transport)
    _queue(app, db)
    assert deliver_outbox(app)["sent"] == 1
