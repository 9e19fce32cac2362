"""From rules to reminders. `plan_due_reminders` writes, per active rule, one INSERT … SELECT … ON CONFLICT DO
NOTHING of every reminder that has fallen due and is not yet written: a second run, a second scheduler or a run after
a crash adds nothing, and no row is read into Python. `queue_planned_reminders` then writes their mails to the outbox
under the same keys, each in its recipient's language."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from flask import Flask
from flask_babel import force_locale
from sqlalchemy import String, cast, exists, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from portal.db import UTCDateTime, utcnow
from portal.notifications.services import ComposedAtSend, absolute_url, queue_mail, register_context_builder
from portal.reminders.kinds import KINDS
from portal.reminders.models import Reminder, ReminderOptOut, ReminderRule
from portal.reminders.optout import opt_out_link
from portal.reminders.templates import fill, rule_texts

#: reminders written to the outbox per transaction
QUEUE_BATCH = 500


def _insert(session: Session):
    return (postgresql if session.get_bind().dialect.name == "postgresql" else sqlite).insert(Reminder)


def plan_rule(session: Session, rule: ReminderRule, now: datetime) -> int:
    """Writes the reminders of `rule` due by `now` and at most its late window ago; returns how many are new."""
    offset, late = timedelta(minutes=rule.offset_minutes), timedelta(minutes=rule.late_minutes)
    found = KINDS[rule.kind].candidates(rule, now - late - offset, now - offset).subquery()
    key = (literal(f"reminder:{rule.id}:") + cast(found.c.target_id, String) + ":" + found.c.recipient_ref + ":"
           + cast(found.c.occurs_at, String))
    opted_out = exists().where(ReminderOptOut.email == func.lower(found.c.email), ReminderOptOut.kind == rule.kind)
    rows = select(key, literal(rule.id), found.c.target_id, found.c.recipient_ref, found.c.email, found.c.locale,
                  found.c.occurs_at, literal(now, UTCDateTime())).where(~opted_out)
    statement = _insert(session).from_select(
        ["idempotency_key", "rule_id", "target_id", "recipient_ref", "email", "locale", "occurs_at", "planned_at"],
        rows).on_conflict_do_nothing(index_elements=["idempotency_key"])
    # without the option SQLAlchemy gives -1 for an INSERT … SELECT on PostgreSQL
    return session.execute(statement, execution_options={"preserve_rowcount": True}).rowcount


def plan_due_reminders(session: Session, now: datetime) -> int:
    """Every active rule's reminders due by `now` (and not too late to matter); returns how many were written."""
    rules = session.scalars(select(ReminderRule).where(ReminderRule.active, ReminderRule.kind.in_(list(KINDS)))
                            .order_by(ReminderRule.id)).all()
    return sum(plan_rule(session, rule, now) for rule in rules)


def queue_planned_reminders(session: Session, now: datetime, limit: int = QUEUE_BATCH) -> int:
    """Writes up to `limit` planned reminders to the outbox; returns how many it took. Grouped by rule and language:
    switching the language reloads the catalogue, which would otherwise cost more than the rest."""
    planned = session.scalars(select(Reminder).where(Reminder.queued_at.is_(None)).order_by(Reminder.id)
                              .limit(limit)).all()
    groups: dict[tuple[int, str], list[Reminder]] = defaultdict(list)
    for reminder in planned:
        reminder.queued_at = now
        groups[reminder.rule_id, reminder.locale].append(reminder)
    for (rule_id, locale), reminders in groups.items():
        rule = session.get(ReminderRule, rule_id)
        kind = KINDS[rule.kind]
        targets = kind.load(session, sorted({reminder.target_id for reminder in reminders}))
        with force_locale(locale):
            subject, _body = rule_texts(rule, kind, locale)
            for reminder in reminders:
                target = targets.get(reminder.target_id)
                if target is None:  # deleted since it fell due
                    continue
                queue_mail(session, key=reminder.idempotency_key, to=reminder.email, locale=locale,
                           template="reminder", subject=fill(subject, kind.values(target, reminder.recipient_ref)),
                           composed_at_send=ComposedAtSend("reminder", {"reminder_id": reminder.id}),
                           attachments=kind.attachments(target, reminder.recipient_ref, locale))
    return len(planned)


def _mail_context(session: Session, reminder_id: int) -> dict:
    reminder = session.get(Reminder, reminder_id)
    rule = session.get(ReminderRule, reminder.rule_id)
    kind = KINDS[rule.kind]
    target = kind.load(session, [reminder.target_id]).get(reminder.target_id)
    with force_locale(reminder.locale):
        _subject, body = rule_texts(rule, kind, reminder.locale)
        # a target deleted since the reminder was queued (an event's test order) leaves its placeholders unfilled
        values = kind.values(target, reminder.recipient_ref) if target else {"link": absolute_url("core.home")}
    return {"body": fill(body, values), "link": values["link"], "opt_out": opt_out_link(reminder.email, rule.kind)}


register_context_builder("reminder", _mail_context)


def send_reminders(app: Flask) -> dict[str, int]:
    """The scheduler's job: plan what fell due, then write it to the outbox in short transactions."""
    database = app.extensions["portal.db"]
    now = utcnow()
    with database.transaction() as session:
        planned = plan_due_reminders(session, now)
    queued = taken = 0
    while True:
        with database.transaction() as session:
            taken = queue_planned_reminders(session, now)
        queued += taken
        if taken < QUEUE_BATCH:
            return {"reminders_planned": planned, "reminders_queued": queued}
