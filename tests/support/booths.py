"""A hall of booths for TechFest, written straight to the database, and short ways to call the booth services as
an exhibitor or an organiser in a transaction of their own (as one request would)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import force_locale

from portal.accounts.models import Organisation, OrganisationKind, OrganisationMember, Role, User
from portal.booths.models import Booth, BoothSaleSettings
from portal.db import utcnow
from portal.events.models import Event
from tests.support.ticketing import create_event

#: number, zone, x, y, w, h, size m², price (đồng), corner
BOOTHS = (
    ("A-01", "A", 0, 0, 3, 3, 9.0, 20_000_000, True),
    ("A-02", "A", 3, 0, 3, 3, 9.0, 20_000_000, False),
    ("B-01", "B", 0, 5, 6, 3, 18.0, 36_000_000, False),
    ("C-01", "C", 0, 10, 6, 6, 36.0, 70_000_000, True),
)


@dataclass(frozen=True)
class Hall:
    event_id: int
    organiser: User
    #: booth number → id
    booths: dict[str, int]


def create_hall(db, make_user, *, booths=BOOTHS, approval_required: bool = False, deposit_percent: int = 100,
                payment_days: int = 7, hold_minutes: int = 15, opens_at: datetime | None = None,
                closes_at: datetime | None = None, event: Event | None = None,
                balance_days_before_event: int | None = None) -> Hall:
    """TechFest (or `event`) a month ahead with these booths, selection open to everyone since yesterday unless
    told."""
    organiser = make_user(Role.ORGANISER)
    event = event or create_event(db, team=(organiser,))
    with db.transaction() as s:
        s.add(BoothSaleSettings(event_id=event.id, hold_minutes=hold_minutes, approval_required=approval_required,
                                deposit_percent=deposit_percent, payment_days=payment_days,
                                balance_days_before_event=balance_days_before_event,
                                selection_opens_at=opens_at or utcnow() - timedelta(days=1),
                                selection_closes_at=closes_at))
    hall = Hall(event.id, organiser, {})
    add_booths(db, hall, booths)
    return hall


def add_booths(db, hall: Hall, booths) -> None:
    """More booths (same tuples as BOOTHS) in the hall."""
    with db.transaction() as s:
        rows = [Booth(event_id=hall.event_id, number=number, zone=zone, x=x, y=y, w=w, h=h, size_m2=size,
                      price=price, corner=corner)
                for number, zone, x, y, w, h, size, price, corner in booths]
        s.add_all(rows)
        s.flush()
        hall.booths.update({b.number: b.id for b in rows})


def join_organisation(db, user: User, name: str, kind: OrganisationKind = OrganisationKind.COMPANY, *,
                      tax_code: str = "") -> int:
    with db.transaction() as s:
        organisation = Organisation(name=name, kind=kind, tax_code=tax_code)
        organisation.members.append(OrganisationMember(user_id=user.id, is_owner=True))
        s.add(organisation)
        s.flush()
        return organisation.id


def as_exhibitor(app, db, service, exhibitor: User, *args, **kwargs):
    """Runs `service(session, exhibitor, *args, **kwargs)` in a write transaction of its own, in the exhibitor's
    language, as their request would."""
    with app.test_request_context(), force_locale(exhibitor.locale), db.transaction() as s:
        return service(s, s.get(User, exhibitor.id), *args, **kwargs)


def as_organiser(app, db, service, hall: Hall, *args, **kwargs):
    """Runs `service(session, organiser, event, *args, **kwargs)` in a write transaction of its own."""
    with app.test_request_context(), force_locale(hall.organiser.locale), db.transaction() as s:
        return service(s, s.get(User, hall.organiser.id), s.get(Event, hall.event_id), *args, **kwargs)
