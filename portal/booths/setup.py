"""The organisers' side before the sale: the floor plan, its booths, the sale's rules and the priority windows.

The caller has checked that the actor manages the event (portal.events.permissions.managed_event); every object
passed by id is looked up within that event, and every change is audited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import Organisation, User
from portal.audit.services import record
from portal.booths.models import Booth, BoothBooking, BoothSaleSettings, FloorPlan, PlanImageKind, PriorityWindow
from portal.booths.plan import floor_plan_of
from portal.booths.services import settings_for
from portal.errors import Conflict, Invalid, InvalidFields, NotFound
from portal.events.models import Event

BOOTH_NUMBER = re.compile(r"[A-Z0-9]+(-[A-Z0-9]+)*")
MAX_PLAN_UNITS = 500
#: what Booth.zone holds
ZONE_MAX_CHARS = 40


def booths_of(session: Session, event: Event) -> list[Booth]:
    return list(session.scalars(select(Booth).where(Booth.event_id == event.id).order_by(Booth.zone, Booth.number)))


# --- the floor plan ---------------------------------------------------------------------------

def save_floor_plan(session: Session, actor: User, event: Event, *, width: int, height: int, grid_size: int,
                    metres_per_unit: float, background: tuple[str, PlanImageKind] | None = None) -> FloorPlan:
    """The hall's size and drawing; `background` comes from uploads.store_plan_background. The hall may not
    shrink past a booth."""
    if not (1 <= width <= MAX_PLAN_UNITS and 1 <= height <= MAX_PLAN_UNITS):
        raise Invalid(_l("The hall must be between 1 and %(max)d grid units wide and deep.", max=MAX_PLAN_UNITS),
                      "width")
    if not 4 <= grid_size <= 100:
        raise Invalid(_l("A grid unit must be drawn between 4 and 100 pixels wide."), "grid_size")
    if not 0.1 <= metres_per_unit <= 100:
        raise Invalid(_l("A grid unit must stand for between 0.1 and 100 metres."), "metres_per_unit")
    outside = next((b for b in booths_of(session, event) if b.x + b.w > width or b.y + b.h > height), None)
    if outside is not None:
        raise Invalid(_l("Booth %(number)s would be outside the hall. Move it first, or keep the hall larger.",
                         number=outside.number), "width")
    plan = session.get(FloorPlan, event.id) or FloorPlan(event_id=event.id)
    plan.width, plan.height, plan.grid_size, plan.metres_per_unit = width, height, grid_size, metres_per_unit
    if background is not None:
        plan.background, plan.background_kind = background
    session.add(plan)
    record(session, "booth.floor_plan_saved", actor_id=actor.id, object_type="event", object_id=event.id,
           width=width, height=height, background=background is not None)
    return plan


# --- booths -----------------------------------------------------------------------------------

@dataclass
class BoothInput:
    number: str
    zone: str
    #: position and size in grid units
    x: int
    y: int
    w: int
    h: int
    #: integer đồng
    price: int
    #: None: the area the booth covers on the plan
    size_m2: float | None = None
    corner: bool = False
    power: bool = False
    water: bool = False


def _overlap(a: Booth | BoothInput, b: Booth) -> bool:
    return a.x < b.x + b.w and b.x < a.x + a.w and a.y < b.y + b.h and b.y < a.y + a.h


def save_booth(session: Session, actor: User, event: Event, data: BoothInput, booth_id: int | None = None) -> Booth:
    """Adds a booth to the plan (booth_id None) or changes one: its number is unique in the event, it lies inside
    the hall and overlaps no other booth. A booking keeps the price it was made at. Every rule broken is named at
    once (InvalidFields), each at its field."""
    number = data.number.strip().upper()
    zone = data.zone.strip()
    plan = floor_plan_of(session, event)
    problems = {}
    if not BOOTH_NUMBER.fullmatch(number) or len(number) > 12:
        problems["number"] = _l("A booth number has letters and digits, groups joined by hyphens, at most 12 "
                                "characters (like A-01).")
    if len(zone) > ZONE_MAX_CHARS:  # the editor's JSON is not held to the form's length
        problems["zone"] = _l("A zone name has at most %(count)d characters.", count=ZONE_MAX_CHARS)
    if data.w < 1 or data.h < 1:
        problems["w"] = _l("A booth is at least one grid unit wide and deep.")
    elif data.x < 0 or data.y < 0 or data.x + data.w > plan.width or data.y + data.h > plan.height:
        problems["x"] = _l("The booth must lie inside the hall (%(width)d × %(height)d grid units).",
                           width=plan.width, height=plan.height)
    if data.price < 0:
        problems["price"] = _l("The price cannot be negative.")
    size_m2 = data.size_m2 if data.size_m2 is not None else data.w * data.h * plan.metres_per_unit ** 2
    if size_m2 <= 0 and (data.size_m2 is not None or "w" not in problems):  # not a bad width said twice
        problems["size_m2"] = _l("The size must be more than 0 m².")
    others = [b for b in booths_of(session, event) if b.id != booth_id]
    if "number" not in problems and any(b.number == number for b in others):
        problems["number"] = _l("There is already a booth %(number)s.", number=number)
    overlapped = next((b for b in others if _overlap(data, b)), None)
    if overlapped is not None and not problems.keys() & {"w", "x"}:
        problems["x"] = _l("Booth %(number)s would overlap booth %(other)s. Move or resize one of them.",
                           number=number, other=overlapped.number)
    if problems:
        raise InvalidFields(problems)
    booth = Booth(event_id=event.id) if booth_id is None else _booth_of(session, event, booth_id)
    booth.number, booth.zone, booth.size_m2 = number, zone, size_m2
    booth.x, booth.y, booth.w, booth.h, booth.price = data.x, data.y, data.w, data.h, data.price
    booth.corner, booth.power, booth.water = data.corner, data.power, data.water
    session.add(booth)
    session.flush()
    record(session, "booth.created" if booth_id is None else "booth.updated", actor_id=actor.id,
           object_type="booth", object_id=booth.id, event_id=event.id, booth=number)
    return booth


def _booth_of(session: Session, event: Event, booth_id: int) -> Booth:
    booth = session.get(Booth, booth_id)
    if booth is None or booth.event_id != event.id:
        raise NotFound()
    return booth


def delete_booth(session: Session, actor: User, event: Event, booth_id: int) -> None:
    """Only a booth nobody has ever booked: one with a history is blocked instead, so the history stays."""
    booth = _booth_of(session, event, booth_id)
    if session.scalar(select(BoothBooking.id).where(BoothBooking.booth_id == booth.id).limit(1)) is not None:
        raise Conflict(_l("Booth %(number)s has bookings, so it cannot be deleted. Block it instead.",
                          number=booth.number))
    session.delete(booth)
    record(session, "booth.deleted", actor_id=actor.id, object_type="booth", object_id=booth_id, event_id=event.id,
           booth=booth.number)


# --- the sale's rules -------------------------------------------------------------------------

def _badge_rules(rules: list[tuple[float | None, int]]) -> list[dict]:
    """[(up to m², badges), …, (None, badges)] checked: bounds rising, the last one open, counts 0–100."""
    if not rules or rules[-1][0] is not None or any(bound is None for bound, _ in rules[:-1]):
        raise Invalid(_l("List the badge rules from the smallest booth up, the last one for any larger booth."),
                      "badge_rules")
    bounds = [bound for bound, _ in rules[:-1]]
    if any(bound <= 0 for bound in bounds) or bounds != sorted(set(bounds)):
        raise Invalid(_l("Each size bound must be larger than the one before."), "badge_rules")
    if any(not 0 <= badges <= 100 for _, badges in rules):
        raise Invalid(_l("A booth comes with between 0 and 100 badges."), "badge_rules")
    return [{"up_to_m2": bound, "badges": badges} for bound, badges in rules]


def save_sale_settings(session: Session, actor: User, event: Event, *, hold_minutes: int, approval_required: bool,
                       deposit_percent: int, payment_days: int, selection_opens_at: datetime | None,
                       balance_days_before_event: int | None = None,
                       selection_closes_at: datetime | None,
                       badge_rules: list[tuple[float | None, int]]) -> BoothSaleSettings:
    if not 1 <= hold_minutes <= 120:
        raise Invalid(_l("A hold lasts between 1 and 120 minutes."), "hold_minutes")
    if not 0 <= deposit_percent <= 100:
        raise Invalid(_l("The deposit is between 0 and 100 percent of the price."), "deposit_percent")
    if not 1 <= payment_days <= 90:
        raise Invalid(_l("Exhibitors have between 1 and 90 days to pay."), "payment_days")
    if balance_days_before_event is not None and not 0 <= balance_days_before_event <= 365:
        raise Invalid(_l("The balance is due between 0 and 365 days before the event."), "balance_days_before_event")
    if selection_opens_at and selection_closes_at and selection_closes_at <= selection_opens_at:
        raise Invalid(_l("The selection deadline must come after the opening."), "selection_closes_at")
    settings = settings_for(session, event)
    settings.hold_minutes, settings.approval_required = hold_minutes, approval_required
    settings.deposit_percent, settings.payment_days = deposit_percent, payment_days
    settings.balance_days_before_event = balance_days_before_event
    settings.selection_opens_at, settings.selection_closes_at = selection_opens_at, selection_closes_at
    settings.badge_rules = _badge_rules(badge_rules)
    session.add(settings)
    record(session, "booth.sale_settings_saved", actor_id=actor.id, object_type="event", object_id=event.id)
    return settings


def save_priority_window(session: Session, actor: User, event: Event, *, name_vi: str, name_en: str,
                         opens_at: datetime, organisation_ids: list[int],
                         window_id: int | None = None) -> PriorityWindow:
    """Lets these organisations (sponsors, partners) choose from `opens_at`, before everyone else."""
    if not (name_vi.strip() or name_en.strip()):
        raise Invalid(_l("Name who the window is for, like “sponsors”."), "name_vi")
    organisations = list(session.scalars(select(Organisation).where(Organisation.id.in_(organisation_ids))))
    if not organisations or len(organisations) != len(set(organisation_ids)):
        raise Invalid(_l("Choose the organisations this window is for."), "organisation_ids")
    window = PriorityWindow(event_id=event.id) if window_id is None else _window_of(session, event, window_id)
    window.name_vi, window.name_en, window.opens_at = name_vi.strip(), name_en.strip(), opens_at
    window.organisations = organisations
    session.add(window)
    session.flush()
    record(session, "booth.priority_window_saved", actor_id=actor.id, object_type="event", object_id=event.id,
           window_id=window.id, organisations=sorted(o.id for o in organisations))
    return window


def _window_of(session: Session, event: Event, window_id: int) -> PriorityWindow:
    window = session.get(PriorityWindow, window_id)
    if window is None or window.event_id != event.id:
        raise NotFound()
    return window


def delete_priority_window(session: Session, actor: User, event: Event, window_id: int) -> None:
    window = _window_of(session, event, window_id)
    session.delete(window)
    record(session, "booth.priority_window_deleted", actor_id=actor.id, object_type="event", object_id=event.id,
           window_id=window_id)
