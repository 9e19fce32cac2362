from sqlalchemy import select

from portal.notifications.models import OutboxMessage, OutboxStatus
from portal.notifications.scheduler import build_scheduler, run_job
from portal.notifications.services import queue_mail


def test_the_scheduler_runs_the_mail_sender_with_safe_job_settings(app):
    scheduler = build_scheduler(app)
    scheduler.start(paused=True)
    try:
        job = scheduler.get_job("deliver_outbox")
        assert job is not None
        assert job.coalesce is True
        assert job.max_instances == 1
        assert job.misfire_grace_time == 60
        assert job.trigger.interval.total_seconds() == 5
    finally:
        scheduler.shutdown(wait=False)


def test_a_scheduled_run_delivers_queued_mail_once(app, db, mailbox):
    with app.test_request_context(), db.transaction() as s:
        queue_mail(s, key="sched", to="s@example.vn", locale="en", template="verify_email", subject="Hi",
                   user=type("U", (), {"full_name": "S"})(), link="http://x/verify/1")
    build_scheduler(app)
    run_job("deliver_outbox")
    run_job("deliver_outbox")  # a second wake-up finds nothing to send
    assert len(mailbox.wait_for("s@example.vn")) == 1
    with db.session_factory() as s:
        assert s.scalar(select(OutboxMessage.status)) is OutboxStatus.SENT


def test_the_cli_has_the_scheduler_and_mail_commands(app):
    runner = app.test_cli_runner()
    assert "run" in runner.invoke(args=["scheduler", "--help"]).output
    result = runner.invoke(args=["mail", "send"])
    assert result.exit_code == 0 and "sent" in result.output
