"""`flask demo load`: every domain's demo data, in dependency order, safe to run again."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts import demo as accounts_demo
from portal.booths import demo as booths_demo
from portal.events import demo as events_demo
from portal.events.models import Event
from portal.events.orders import repair_quotas
from portal.finance import demo as payments_demo
from portal.incubation import demo as incubation_demo
from portal.incubation.models import Call, Programme
from portal.mentoring import demo as mentoring_demo
from portal.reminders.rules import create_default_rules, rules_of


def load_demo(app: Flask) -> dict[str, int]:
    loaders = (("accounts", accounts_demo.load), ("events", events_demo.load), ("booths", booths_demo.load),
               ("incubation", incubation_demo.load), ("mentoring", mentoring_demo.load),
               ("payments", payments_demo.load))
    counts = {}
    with app.app_context(), app.extensions["portal.db"].transaction() as session:
        for name, loader in loaders:
            counts[name] = loader(session)
            session.flush()
        repair_quotas(session)  # the demo writes its orders and tickets as they stand, not through the till
        counts["reminder_rules"] = _default_reminder_rules(session)
    return counts


def _default_reminder_rules(session: Session) -> int:
    """The default reminder rules of every event, call and programme, and of mentoring, that has none (the demo
    writes its events and calls as rows, not through the pages that add them)."""
    scopes = [("event", event_id) for event_id in session.scalars(select(Event.id))]
    scopes += [("call", call_id) for call_id in session.scalars(select(Call.id))] + [("mentoring", None)]
    scopes += [("programme", programme_id) for programme_id in session.scalars(select(Programme.id))]
    added = 0
    for scope, scope_id in scopes:
        if not rules_of(session, scope, scope_id):
            create_default_rules(session, scope, scope_id)
            added += 1
    return added
