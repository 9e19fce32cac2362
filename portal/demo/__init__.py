"""`flask demo load`: every domain's demo data, in dependency order, safe to run again."""

from __future__ import annotations

from flask import Flask

from portal.accounts import demo as accounts_demo
from portal.booths import demo as booths_demo
from portal.events import demo as events_demo
from portal.events.orders import repair_quotas
from portal.finance import demo as payments_demo
from portal.incubation import demo as incubation_demo
from portal.mentoring import demo as mentoring_demo


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
    return counts
