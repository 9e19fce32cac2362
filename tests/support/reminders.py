"""Controlled time for reminder tests: the scheduler's reminder job and the outbox sender run at a Hanoi moment."""

from __future__ import annotations

from datetime import datetime

import time_machine

from portal.i18n import HANOI
from portal.reminders.planner import send_reminders
from portal.reminders.rules import create_default_rules, rules_of


def hanoi(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=HANOI)


def run_at(app, mailbox, moment: datetime) -> dict:
    """What the scheduler does at `moment`: the reminders job, then the outbox sender."""
    with time_machine.travel(moment, tick=False), app.app_context():
        planned = send_reminders(app)
        mailbox.deliver()
    return planned


def default_rules(db, scope: str, scope_id: int | None) -> None:
    """The scope's default rules, unless it has rules (the migration gave mentoring its own)."""
    with db.transaction() as s:
        if not rules_of(s, scope, scope_id):
            create_default_rules(s, scope, scope_id)
