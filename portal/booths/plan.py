"""What the plan, the booking pages and the organisers' reports read. Every function here sends a fixed number of
SQL statements, however many booths and bookings the event has, and treats a hold past its expiry as free."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm import Session, contains_eager, joinedload, selectinload

from portal.accounts.models import User
from portal.audit.services import record
from portal.booths.labels import BOOKING_STATUS_LABELS
from portal.booths.models import (
    ACTIVE_STATUSES,
    BookingStatus,
    Booth,
    BoothBooking,
    BoothSaleSettings,
    BoothState,
    FloorPlan,
    with_defaults,
)
from portal.booths.services import (
    SelectionStatus,
    booth_state,
    next_instalment,
    priority_windows,
    selection_status,
)
from portal.db import utcnow
from portal.errors import NotFound
from portal.events.models import Event, Order
from portal.events.permissions import can_manage_event
from portal.exports import ExportFile, Table, check_format, export_file, spreadsheet_time

#: the least a booth on a drawing measures across on screen (WCAG 2.2 target size)
TAP_TARGET_PX = 24
#: what the smallest booth is taken to be in a hall without booths yet, in grid units
TYPICAL_BOOTH_UNITS = 3


def floor_plan_of(session: Session, event: Event) -> FloorPlan:
    """The event's floor plan; an empty 60 × 40 hall (unsaved) before the organisers draw one."""
    return session.get(FloorPlan, event.id) or with_defaults(FloorPlan, event_id=event.id)


def _floor_plan_and_settings(session: Session, event: Event) -> tuple[FloorPlan, BoothSaleSettings]:
    """floor_plan_of and services.settings_for in one statement, for the plan that needs both."""
    floor_plan, settings = session.execute(
        select(FloorPlan, BoothSaleSettings).select_from(Event)
        .outerjoin(FloorPlan, FloorPlan.event_id == Event.id)
        .outerjoin(BoothSaleSettings, BoothSaleSettings.event_id == Event.id)
        .where(Event.id == event.id)).one()
    return (floor_plan or with_defaults(FloorPlan, event_id=event.id),
            settings or with_defaults(BoothSaleSettings, event_id=event.id))


#: the event's booths as rows of their columns, read like a Booth but not ORM objects: building 200 of those
#: (identity map, state tracking) took a tenth of the plan page's time, and nothing here changes a booth
_EVENT_BOOTHS = (select(*Booth.__table__.columns).where(Booth.event_id == bindparam("event_id"))
                 .order_by(Booth.zone, Booth.number))


def _booths_with_occupants(session: Session, event: Event, *options) -> list[tuple[Row, BoothBooking | None]]:
    """Every booth of the event (a read-only row) with its active booking (as stored), in two statements;
    `options` may join what the bookings should bring along. Not one outer join: its rows would carry every
    booking column, empty for most booths, and converting those for 200 booths cost more than the second round
    trip."""
    booths = session.execute(_EVENT_BOOTHS, {"event_id": event.id}).all()
    occupants = {booking.booth_id: booking for booking in session.scalars(
        select(BoothBooking).where(BoothBooking.event_id == event.id, BoothBooking.status.in_(ACTIVE_STATUSES))
        .options(*options))}
    return [(booth, occupants.get(booth.id)) for booth in booths]


# --- the plan ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class PlanBooth:
    #: its columns: a row of them on the plan (see _EVENT_BOOTHS), the ORM object where one booth is read
    booth: Booth | Row
    #: its state now: a hold past its expiry shows as available
    state: BoothState
    #: its booking, when the viewer may see it: their own, or any for the event's organisers
    booking: BoothBooking | None
    is_own: bool

    @property
    def shown(self) -> str:
        """The legend's colour: available, held, reserved, sold or blocked."""
        return self.state.shown


@dataclass(frozen=True)
class Plan:
    event: Event
    floor_plan: FloorPlan
    settings: BoothSaleSettings
    booths: list[PlanBooth]
    #: whether the viewer may choose a booth now, and if not, when
    selection: SelectionStatus
    #: whether the viewer organises the event (and so sees every booking)
    manages: bool
    now: datetime

    @property
    def own_bookings(self) -> list[BoothBooking]:
        return [b.booking for b in self.booths if b.is_own]

    @property
    def zones(self) -> list[str]:
        return sorted({b.booth.zone for b in self.booths})

    @property
    def drawn_size(self) -> tuple[int, int]:
        """The smallest the drawing may be shown, in screen pixels (width, height): its smallest booth is then
        TAP_TARGET_PX across. A wider frame stretches it (booths.css, booth_manage.css); a narrower one scrolls."""
        smallest = min((min(b.booth.w, b.booth.h) for b in self.booths), default=TYPICAL_BOOTH_UNITS)
        unit = TAP_TARGET_PX / smallest
        return math.ceil(self.floor_plan.width * unit), math.ceil(self.floor_plan.height * unit)


def booth_plan(session: Session, event: Event, viewer: User | None, *, now: datetime | None = None) -> Plan:
    """Every booth of the event with its state at `now` and, for the viewer, their own booking; organisers see
    every booking with its exhibitor. A constant number of statements, whatever the number of booths."""
    now = now or utcnow()
    manages = viewer is not None and can_manage_event(session, viewer, event)
    floor_plan, settings = _floor_plan_and_settings(session, event)
    windows = priority_windows(session, event)
    # the viewer's organisations matter only to priority windows: not asked for when there are none
    organisation_ids = {m.organisation_id for m in viewer.memberships} if viewer is not None and windows else set()
    booths = []
    who = (joinedload(BoothBooking.exhibitor), joinedload(BoothBooking.organisation)) if manages else ()
    for booth, booking in _booths_with_occupants(session, event, *who):
        state = booth_state(booth, booking, now)
        live = booking if state not in (BoothState.AVAILABLE, BoothState.BLOCKED) else None
        is_own = live is not None and viewer is not None and live.exhibitor_id == viewer.id
        booths.append(PlanBooth(booth, state, live if (is_own or manages) else None, is_own))
    return Plan(event=event, floor_plan=floor_plan, settings=settings, booths=booths,
                selection=selection_status(event, settings, windows, organisation_ids, now),
                manages=manages, now=now)


@dataclass(frozen=True)
class BoothFilter:
    """What the exhibitor narrowed the plan to; empty fields do not filter."""

    zone: str = ""
    min_m2: float | None = None
    max_m2: float | None = None
    max_price: int | None = None
    features: frozenset[str] = field(default_factory=frozenset)
    only_available: bool = False

    def matches(self, item: PlanBooth) -> bool:
        booth = item.booth
        return ((not self.zone or booth.zone == self.zone)
                and (self.min_m2 is None or booth.size_m2 >= self.min_m2)
                and (self.max_m2 is None or booth.size_m2 <= self.max_m2)
                and (self.max_price is None or booth.price <= self.max_price)
                and all(getattr(booth, feature) for feature in self.features & FEATURES)
                and (not self.only_available or item.state is BoothState.AVAILABLE))

    def apply(self, booths: list[PlanBooth]) -> list[PlanBooth]:
        return [item for item in booths if self.matches(item)]


FEATURES = frozenset({"corner", "power", "water"})


# --- one exhibitor's bookings -----------------------------------------------------------------

def _booking_details():
    return (selectinload(BoothBooking.booth), selectinload(BoothBooking.event),
            selectinload(BoothBooking.badge_order).selectinload(Order.tickets))


def bookings_of(session: Session, exhibitor: User, event: Event | None = None) -> list[BoothBooking]:
    """The exhibitor's bookings, newest first, active and ended, with their booths, events and badges."""
    query = select(BoothBooking).where(BoothBooking.exhibitor_id == exhibitor.id)
    if event is not None:
        query = query.where(BoothBooking.event_id == event.id)
    return list(session.scalars(query.options(*_booking_details())
                                .order_by(BoothBooking.held_at.desc(), BoothBooking.id.desc())))


def booking_of(session: Session, exhibitor: User, booking_id: int) -> BoothBooking:
    """One of the exhibitor's bookings; another exhibitor's is not found (404), so ids cannot be probed."""
    booking = session.scalar(select(BoothBooking).where(BoothBooking.id == booking_id)
                             .options(*_booking_details()))
    if booking is None or booking.exhibitor_id != exhibitor.id:
        raise NotFound()
    return booking


# --- the organisers' lists and figures --------------------------------------------------------

def event_bookings(session: Session, event: Event, *, statuses: tuple[BookingStatus, ...] = ACTIVE_STATUSES,
                   ) -> list[BoothBooking]:
    """The event's bookings in these statuses with booth, exhibitor and organisation: the approval queue passes
    (AWAITING_APPROVAL,), the payments list (AWAITING_PAYMENT,). Oldest application first."""
    return list(session.scalars(
        select(BoothBooking).join(BoothBooking.booth)
        .where(BoothBooking.event_id == event.id, BoothBooking.status.in_(statuses))
        .options(contains_eager(BoothBooking.booth), selectinload(BoothBooking.exhibitor),
                 selectinload(BoothBooking.organisation))
        .order_by(BoothBooking.submitted_at, BoothBooking.held_at, BoothBooking.id)
    ))


def event_booking(session: Session, event: Event, booking_id: int) -> BoothBooking:
    """A booking of this event for its organisers; another event's is not found."""
    booking = session.scalar(select(BoothBooking).where(BoothBooking.id == booking_id)
                             .options(*_booking_details(), selectinload(BoothBooking.exhibitor)))
    if booking is None or booking.event_id != event.id:
        raise NotFound()
    return booking


@dataclass
class ZoneFigures:
    zone: str
    #: booths in each state: available, held, reserved, sold, blocked (BoothState.shown)
    booths: Counter = field(default_factory=Counter)
    area_m2: float = 0.0
    #: the area of reserved and sold booths
    taken_m2: float = 0.0
    #: what reserved and sold booths will bring, in đồng
    booked: int = 0
    paid: int = 0

    @property
    def total(self) -> int:
        return sum(self.booths.values())

    @property
    def occupancy(self) -> float:
        """Reserved and sold booths among those for sale (blocked ones are not)."""
        for_sale = self.total - self.booths["blocked"]
        return (self.booths["reserved"] + self.booths["sold"]) / for_sale if for_sale else 0.0

    def add(self, booth: Booth, state: BoothState, booking: BoothBooking | None) -> None:
        self.booths[state.shown] += 1
        self.area_m2 += booth.size_m2
        if state.shown in ("reserved", "sold"):
            self.taken_m2 += booth.size_m2
            self.booked += booking.amount_due
            self.paid += booking.amount_paid


@dataclass(frozen=True)
class ZoneReport:
    zones: list[ZoneFigures]
    total: ZoneFigures


def zone_report(session: Session, event: Event, *, now: datetime | None = None) -> ZoneReport:
    """Occupancy and revenue by zone, in one statement."""
    now = now or utcnow()
    zones: dict[str, ZoneFigures] = {}
    total = ZoneFigures(_("All zones"))
    for booth, booking in _booths_with_occupants(session, event):
        state = booth_state(booth, booking, now)
        zones.setdefault(booth.zone, ZoneFigures(booth.zone)).add(booth, state, booking)
        total.add(booth, state, booking)
    return ZoneReport([zones[zone] for zone in sorted(zones)], total)


# --- the exhibitor list as a file -------------------------------------------------------------

EXPORTED = (BookingStatus.AWAITING_APPROVAL, BookingStatus.AWAITING_PAYMENT, BookingStatus.SOLD)


def exhibitor_table(bookings: list[BoothBooking]) -> Table:
    headers = [
        _("Booth"), _("Zone"), _("Size (m²)"), _("Status"), _("Company"), _("Tax code"), _("Products"),
        _("Contact"), _("E-mail"), _("Phone"), _("Account"), _("Price (VND)"), _("Paid (VND)"),
        _("Next payment (VND)"), _("Payment due (Hanoi time)"), _("Applied at (Hanoi time)"),
    ]
    rows = [
        [
            b.booth.number, b.booth.zone, f"{b.booth.size_m2:g}", str(BOOKING_STATUS_LABELS[b.status]),
            b.company_name, b.tax_code, b.products, b.contact_name, b.contact_email, b.contact_phone,
            b.exhibitor.email, b.amount_due, b.amount_paid,
            next_instalment(b) if b.status is BookingStatus.AWAITING_PAYMENT else 0,
            spreadsheet_time(b.payment_due_at), spreadsheet_time(b.submitted_at),
        ]
        for b in bookings
    ]
    return Table(headers, rows)


def export_exhibitors(session: Session, actor: User, event: Event, file_format: str, *,
                      ip_address: str | None = None, now: datetime | None = None) -> ExportFile:
    """Exhibitors with a reservation or a sale, as CSV or XLSX (safe from formulas), audited."""
    check_format(file_format)
    bookings = sorted(event_bookings(session, event, statuses=EXPORTED), key=lambda b: b.booth.number)
    record(session, "booth.exhibitors_exported", actor_id=actor.id, object_type="event", object_id=event.id,
           ip_address=ip_address, format=file_format, rows=len(bookings))
    return export_file(exhibitor_table(bookings), file_format, name=f"{event.slug}-exhibitors",
                       sheet_title=_("Exhibitors"), now=now or utcnow())
