"""The organisers' and managers' daily digest (Hanoi days, once, in each person's language, nothing on a quiet day)
and the retention clean-up, in controlled time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import func, select

from portal.accounts.models import AuthSession, AuthToken, Role, TokenPurpose
from portal.admin.retention import REMOVED, clean_up
from portal.admin.tasks import send_daily_digests
from portal.audit.models import AuditEntry
from portal.db import utcnow
from portal.i18n import HANOI
from portal.notifications.models import JobOutcome, JobRun, OutboxMessage, OutboxStatus
from portal.notifications.services import queue_mail
from tests.support.incubation import make_call, submitted_application
from tests.support.mail import text_body
from tests.support.ticketing import add_ticket, create_event


def _hanoi(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=HANOI)


def test_each_organiser_and_manager_gets_one_digest_of_yesterday_in_their_language(app, db, make_user, mailbox,
                                                                                    tmp_path):
    organiser = make_user(Role.ORGANISER, email="bto@example.vn", locale="en")
    quiet_organiser = make_user(Role.ORGANISER, email="quiet@example.vn", locale="en")
    make_user(Role.INCUBATOR_MANAGER, email="ql@example.vn", locale="vi")
    buyer = make_user()
    with time_machine.travel(_hanoi(7, 23, 50), tick=False) as clock:  # the day before: not in the digest
        event = create_event(db, team=(organiser,))
        create_event(db, slug="quiet-expo", team=(quiet_organiser,))
        add_ticket(db, event, buyer)
        clock.move_to(_hanoi(8, 0, 5))  # just after midnight in Hanoi, still the 7th in UTC
        add_ticket(db, event, buyer)
        add_ticket(db, event, buyer)
        call_id = make_call(db)
        submitted_application(app, db, make_user, call_id, "Nông Sạch", tmp_path)
        mailbox.deliver()  # the startup's confirmation
        mailbox.sink.clear()
        clock.move_to(_hanoi(9, 6, 59))
        send_daily_digests(app)
        assert mailbox.deliver()["sent"] == 0  # before the sending hour
        clock.move_to(_hanoi(9, 7, 0))
        send_daily_digests(app)
        send_daily_digests(app)  # an hour later, or a second scheduler: nothing more
        assert mailbox.deliver()["sent"] == 2
    [english] = mailbox.wait_for("bto@example.vn")
    assert english["Subject"] == "The portal yesterday, 08/12/2026"
    assert "New ticket orders: 2" in text_body(english)
    assert "Applications submitted" not in text_body(english)
    [vietnamese] = mailbox.wait_for("ql@example.vn")
    assert vietnamese["Subject"] != "The portal yesterday, 08/12/2026" and "08/12/2026" in vietnamese["Subject"]
    assert "Hồ sơ nộp vào các đợt tuyển: 1" in text_body(vietnamese)
    assert "Đơn đặt vé mới" not in text_body(vietnamese)  # a manager runs no event
    assert mailbox.to("quiet@example.vn") == []  # nothing happened in their event


def test_a_failed_job_is_in_every_digest_and_a_quiet_day_sends_none(app, db, make_user, mailbox):
    make_user(Role.ORGANISER, email="o@example.vn", locale="en")
    with time_machine.travel(_hanoi(10, 9), tick=False):
        send_daily_digests(app)
        assert mailbox.deliver()["sent"] == 0
        with db.transaction() as s:
            s.add(JobRun(job_id="sweep_booths", runner="h:1", started_at=utcnow() + timedelta(hours=1),
                         outcome=JobOutcome.FAILED, error="boom"))
        with time_machine.travel(_hanoi(11, 8), tick=False):
            send_daily_digests(app)
            mailbox.deliver()
    [digest] = mailbox.wait_for("o@example.vn")
    assert "Scheduled jobs that failed: 1" in text_body(digest)


def test_retention_removes_what_is_past_its_time_and_keeps_the_rest_and_the_keys(app, db, make_user):
    user = make_user()
    now = datetime(2026, 12, 7, 5, 0, tzinfo=UTC)
    old, recent = now - timedelta(days=100), now - timedelta(days=10)
    with app.test_request_context(), db.transaction() as s:
        for key, sent_at in (("old", old), ("recent", recent)):
            queue_mail(s, key=key, to=f"{key}@example.vn", locale="en", template="verify_email", subject="Hi",
                       user=user, link="http://x")
            row = s.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))
            row.status, row.sent_at = OutboxStatus.SENT, sent_at
        queue_mail(s, key="waiting", to="w@example.vn", locale="en", template="verify_email", subject="Hi",
                   user=user, link="http://x")
        s.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == "waiting")).created_at = old
        for n, expires in enumerate((now - timedelta(minutes=1), now + timedelta(hours=1))):
            s.add(AuthToken(user_id=user.id, purpose=TokenPurpose.VERIFY_EMAIL, token_hash=f"t{n}",
                            credentials="c", expires_at=expires))
        for n, expires in enumerate((old, recent)):
            s.add(AuthSession(user_id=user.id, token_hash=f"s{n}", expires_at=expires))
        s.add(JobRun(job_id="retention", runner="h:1", started_at=old, outcome=JobOutcome.OK))
    with db.transaction() as s:
        counts = clean_up(s, now, retention_days=90)
    assert counts == {"tokens": 1, "sessions": 1, "mail": 1, "job_runs": 0 + 1}
    with db.session_factory() as s:
        mail = dict(s.execute(select(OutboxMessage.idempotency_key, OutboxMessage.body_text)).all())
        assert mail["old"] == REMOVED and "http://x" in mail["recent"] and "http://x" in mail["waiting"]
        assert s.scalar(select(func.count(AuthToken.id))) == 1 and s.scalar(select(func.count(AuthSession.id))) == 1
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "retention.cleaned"))
        assert entry.details == {"retention_days": 90, **counts}
    with app.test_request_context(), db.transaction() as s:  # the emptied message still holds its key
        assert not queue_mail(s, key="old", to="old@example.vn", locale="en", template="verify_email",
                              subject="Hi", user=user, link="http://x")
    with db.transaction() as s:
        assert clean_up(s, now, retention_days=90) == {"tokens": 0, "sessions": 0, "mail": 0, "job_runs": 0}
