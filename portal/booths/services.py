"""Booth sales: one state machine for every change of a booth, from the hold to the sale, each change audited.

No double booking: booth_bookings has a partial unique index on booth_id over the active statuses, so of two
exhibitors claiming one booth at once exactly one insert succeeds; the other's runs in a savepoint and becomes
BoothTaken ("just taken"). A hold past its expiry is free on every read; the service that claims the booth
expires it first, under a row lock, in the same transaction. Blocking takes the booth row exclusively and claims
take it shared (PostgreSQL; SQLite's write transaction serialises everything), so a booth is never blocked and
claimed at once.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import LazyString, force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from portal.accounts.models import User
from portal.audit.services import record
from portal.booths.labels import BOOKING_STATUS_LABELS, BOOTH_STATE_LABELS
from portal.booths.models import (
    ACTIVE_STATUSES,
    BookingStatus,
    Booth,
    BoothBooking,
    BoothSaleSettings,
    BoothState,
    PriorityWindow,
    with_defaults,
)
from portal.db import utcnow
from portal.errors import Conflict, Invalid, NotFound
from portal.events.models import Event, EventStatus
from portal.i18n import format_local_datetime, format_vnd, localized
from portal.notifications.services import absolute_url, queue_mail
from portal.payments.models import Payment
from portal.payments.providers import FREE, MANUAL, PROVIDERS
from portal.phones import PHONE_RULE, is_phone_number
from portal.tax_codes import TAX_CODE, TAX_CODE_RULE
from portal.uploads import STORED_NAME

#: how long before a payment deadline the exhibitor is reminded


class BoothTaken(Conflict):
    default_message = _l("This booth has just been taken by another exhibitor. Please choose another one.")


class BoothNotForSale(Conflict):
    default_message = _l("This booth is not for sale.")


class HoldExpired(Conflict):
    default_message = _l("Your hold on this booth has run out. If the booth is still available, choose it again: "
                         "what you typed is kept.")


class PaidAlready(Conflict):
    default_message = _l("Money has already been paid for this booth, so it cannot be withdrawn here. Please contact "
                         "the organisers: they will settle what you have paid.")


class BoothGone(Conflict):
    default_message = _l("The booth of this reservation was taken or blocked after the reservation lapsed, so it "
                         "cannot be reinstated. Refund the transfer to the payer instead.")


class SelectionClosed(Conflict):
    """Booth selection is not open to this exhibitor now (not yet, or no longer)."""


# --- the state machine ------------------------------------------------------------------------

class Action(enum.StrEnum):
    HOLD = "hold"
    RELEASE = "release"
    EXPIRE_HOLD = "expire_hold"
    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"
    RECORD_PAYMENT = "record_payment"
    LAPSE = "lapse"
    CANCEL = "cancel"
    #: the exhibitor takes back their application or reservation, nothing paid yet
    WITHDRAW = "withdraw"
    #: a booking leaves this booth for another (organisers move exhibitors) …
    MOVE_OUT = "move_out"
    #: … and arrives here, keeping its status
    MOVE_IN = "move_in"
    #: money that arrived after the deadline, accepted by an organiser, brings a lapsed reservation back
    REINSTATE = "reinstate"
    BLOCK = "block"
    UNBLOCK = "unblock"


S = BoothState  # short, so the table below reads as one
_RESERVED_OR_SOLD = {S.AWAITING_APPROVAL: {S.AVAILABLE}, S.AWAITING_PAYMENT: {S.AVAILABLE}, S.SOLD: {S.AVAILABLE}}

#: action → the booth state it may start from → the states it may lead to. Nothing else can happen to a booth.
TRANSITIONS: dict[Action, dict[BoothState, set[BoothState]]] = {
    Action.HOLD: {S.AVAILABLE: {S.HELD}},
    Action.RELEASE: {S.HELD: {S.AVAILABLE}},
    Action.EXPIRE_HOLD: {S.HELD: {S.AVAILABLE}},
    # straight to awaiting payment without approval, straight to sold when there is nothing to pay either
    Action.SUBMIT: {S.HELD: {S.AWAITING_APPROVAL, S.AWAITING_PAYMENT, S.SOLD}},
    Action.APPROVE: {S.AWAITING_APPROVAL: {S.AWAITING_PAYMENT, S.SOLD}},
    Action.REJECT: {S.AWAITING_APPROVAL: {S.AVAILABLE}},
    # a deposit keeps it awaiting payment; the last instalment sells it
    Action.RECORD_PAYMENT: {S.AWAITING_PAYMENT: {S.AWAITING_PAYMENT, S.SOLD}},
    Action.LAPSE: {S.AWAITING_PAYMENT: {S.AVAILABLE}},
    Action.CANCEL: {S.HELD: {S.AVAILABLE}, **_RESERVED_OR_SOLD},
    # sold only when there was nothing to pay (a free booth): the service refuses once money was paid
    Action.WITHDRAW: _RESERVED_OR_SOLD,
    Action.MOVE_OUT: _RESERVED_OR_SOLD,
    Action.MOVE_IN: {S.AVAILABLE: {S.AWAITING_APPROVAL, S.AWAITING_PAYMENT, S.SOLD}},
    Action.REINSTATE: {S.AVAILABLE: {S.AWAITING_PAYMENT}},
    Action.BLOCK: {S.AVAILABLE: {S.BLOCKED}},
    Action.UNBLOCK: {S.BLOCKED: {S.AVAILABLE}},
}
#: actions that end the booking they act on, and the status it ends with
ENDINGS = {
    Action.RELEASE: BookingStatus.RELEASED,
    Action.EXPIRE_HOLD: BookingStatus.EXPIRED,
    Action.REJECT: BookingStatus.REJECTED,
    Action.LAPSE: BookingStatus.LAPSED,
    Action.CANCEL: BookingStatus.CANCELLED,
    Action.WITHDRAW: BookingStatus.WITHDRAWN,
}
#: actions that put a booking on a booth: the unique index may refuse them
CLAIMS = (Action.HOLD, Action.MOVE_IN, Action.REINSTATE)


def stored_state(booth: Booth, occupant: BoothBooking | None) -> BoothState:
    """The booth's state as written in the database; `occupant` is its active booking, if any."""
    if booth.blocked:
        return BoothState.BLOCKED
    if occupant is None or not occupant.is_active:
        return BoothState.AVAILABLE
    return BoothState(occupant.status.value)


def booth_state(booth: Booth, occupant: BoothBooking | None, now: datetime) -> BoothState:
    """What the booth is at `now`: a hold past its expiry is available, whether or not the sweep has run."""
    if occupant is not None and occupant.hold_ran_out(now):
        occupant = None
    return stored_state(booth, occupant)


def _refusal(action: Action, booth: Booth, source: BoothState) -> Conflict:
    if source is BoothState.BLOCKED:
        return BoothNotForSale(_l("Booth %(number)s is not for sale.", number=booth.number))
    if action in CLAIMS:
        return BoothTaken(_l("Booth %(number)s has just been taken by another exhibitor. Please choose another "
                             "one.", number=booth.number))
    return Conflict(_l("This cannot be done now: booth %(number)s is %(state)s.", number=booth.number,
                       state=BOOTH_STATE_LABELS[source]))


def step(session: Session, action: Action, booth: Booth, occupant: BoothBooking | None, target: BoothState, *,
         actor_id: int | None, now: datetime, booking: BoothBooking | None = None, **details) -> None:
    """The one way a booth changes: checks the move against TRANSITIONS, applies it, writes the audit entry.

    `occupant` is the booth's active booking as stored (None when free); `booking` the booking acted on when it
    is not the occupant (a new hold, a booking moving in)."""
    booking = booking or occupant
    if booking is not None and booking is occupant and not booking.is_active:
        raise Conflict(_l("This booking has ended (%(status)s).", status=BOOKING_STATUS_LABELS[booking.status]))
    source = stored_state(booth, occupant)
    if target not in TRANSITIONS[action].get(source, ()):
        raise _refusal(action, booth, source)
    if action in CLAIMS:
        # written in a savepoint of its own (begin_nested flushes what came before), so the unique index refusing
        # it leaves the transaction usable
        try:
            with session.begin_nested():
                _apply(action, booth, booking, source, target, now)
                booking.booth = booth
                session.add(booking)
        except IntegrityError:
            # Another exhibitor's claim on this booth committed between our read and our write.
            raise _refusal(action, booth, BoothState.HELD) from None
    else:
        _apply(action, booth, booking, source, target, now)
    record(session, f"booth.{action.value}", actor_id=actor_id, object_type="booth", object_id=booth.id,
           event_id=booth.event_id, booth=booth.number, booking_id=booking.id if booking else None,
           source=source.value, target=target.value, **details)


def _apply(action: Action, booth: Booth, booking: BoothBooking | None, source: BoothState, target: BoothState,
           now: datetime) -> None:
    if target is BoothState.BLOCKED:
        booth.blocked = True
    elif source is BoothState.BLOCKED:
        booth.blocked = False
    elif action in ENDINGS:
        booking.status, booking.ended_at = ENDINGS[action], now
    elif target is not BoothState.AVAILABLE:
        booking.status = BookingStatus(target.value)


# --- loading under locks ----------------------------------------------------------------------

def _locked_booth(session: Session, booth_id: int, *, exclusive: bool, event: Event | None = None) -> Booth:
    """The booth row, locked shared by claims and exclusively by blocking (PostgreSQL; SQLite ignores it)."""
    booth = session.scalar(
        select(Booth).where(Booth.id == booth_id).with_for_update(read=not exclusive)
        .execution_options(populate_existing=True)
    )
    if booth is None or (event is not None and booth.event_id != event.id):
        raise NotFound()
    return booth


def _occupant(session: Session, booth: Booth, now: datetime) -> BoothBooking | None:
    """The booth's active booking, locked; a hold past its expiry is expired here and counts as none."""
    occupant = session.scalar(
        select(BoothBooking).where(BoothBooking.booth_id == booth.id, BoothBooking.status.in_(ACTIVE_STATUSES))
        .with_for_update().execution_options(populate_existing=True)
    )
    if occupant is not None and occupant.hold_ran_out(now):
        step(session, Action.EXPIRE_HOLD, booth, occupant, BoothState.AVAILABLE, actor_id=None, now=now)
        return None
    return occupant


def locked_booking(session: Session, booking_id: int, *, event: Event | None = None,
                   exhibitor: User | None = None) -> BoothBooking:
    """A booking, locked so that two clicks or a click and the sweep run one after the other. Another event's
    booking, or another exhibitor's, is not found."""
    booking = session.scalar(
        select(BoothBooking).where(BoothBooking.id == booking_id).with_for_update()
        .execution_options(populate_existing=True)
    )
    if (booking is None or (event is not None and booking.event_id != event.id)
            or (exhibitor is not None and booking.exhibitor_id != exhibitor.id)):
        raise NotFound()
    return booking


# --- the event's rules ------------------------------------------------------------------------

def settings_for(session: Session, event: Event) -> BoothSaleSettings:
    """The event's booth-sale settings; the defaults (unsaved) when the organisers have not set any."""
    return session.get(BoothSaleSettings, event.id) or with_defaults(BoothSaleSettings, event_id=event.id)


def priority_windows(session: Session, event: Event) -> list[PriorityWindow]:
    return list(session.scalars(
        select(PriorityWindow).where(PriorityWindow.event_id == event.id)
        .options(selectinload(PriorityWindow.organisations)).order_by(PriorityWindow.opens_at, PriorityWindow.id)
    ))


@dataclass(frozen=True)
class SelectionStatus:
    is_open: bool
    #: why it is not open, with the times it opens ("opens for sponsors at …, for everyone at …")
    message: LazyString | None = None
    #: the window that lets this exhibitor in early, if any
    window: PriorityWindow | None = None


def _when(moment: datetime) -> str:
    return format_local_datetime(moment, "short")


def selection_status(event: Event, settings: BoothSaleSettings, windows: list[PriorityWindow],
                     organisation_ids: set[int], now: datetime) -> SelectionStatus:
    """Whether someone from these organisations may choose a booth at `now`, and if not, when they may."""
    closes_at = settings.selection_closes_at or event.starts_at
    if event.status is not EventStatus.PUBLISHED:
        return SelectionStatus(False, _l("Booth selection for this event is not open."))
    if now >= closes_at:
        return SelectionStatus(False, _l("Booth selection closed on %(time)s.", time=_when(closes_at)))
    general = settings.selection_opens_at
    mine = [w for w in windows if organisation_ids & {o.id for o in w.organisations}]
    opened = next((w for w in mine if w.opens_at <= now), None)
    if opened is not None or (general is not None and now >= general):
        return SelectionStatus(True, window=opened)
    first = (mine or windows or [None])[0]
    if first is None:
        return SelectionStatus(False, _l("Booth selection opens at %(general)s.", general=_when(general))
                               if general else _l("Booth selection has not opened yet."))
    who = localized(first, "name")
    if first.opens_at <= now:  # someone else's window is open, this exhibitor's turn has not come
        message = (_l("Booth selection is open to %(who)s now; for everyone it opens at %(general)s.", who=who,
                      general=_when(general)) if general else
                   _l("Booth selection is open to %(who)s now; for everyone it has not been announced yet.", who=who))
    else:
        message = (_l("Booth selection opens for %(who)s at %(time)s, for everyone at %(general)s.", who=who,
                      time=_when(first.opens_at), general=_when(general)) if general else
                   _l("Booth selection opens for %(who)s at %(time)s; for everyone it has not been announced yet.",
                      who=who, time=_when(first.opens_at)))
    return SelectionStatus(False, message)


def _organisation_ids(user: User) -> list[int]:
    return [membership.organisation_id for membership in user.memberships]


def _payment_deadline(settings: BoothSaleSettings, event: Event, now: datetime) -> datetime:
    """Each instalment is due `payment_days` after the step that asks for it, and never after the event starts."""
    return min(now + timedelta(days=settings.payment_days), event.starts_at)


def fixed_balance_deadline(settings: BoothSaleSettings, event: Event) -> datetime | None:
    """When the organisers want every balance in, if they set a number of days before the event."""
    if settings.balance_days_before_event is None:
        return None
    return event.starts_at - timedelta(days=settings.balance_days_before_event)


def _balance_deadline(settings: BoothSaleSettings, event: Event, now: datetime) -> datetime:
    """The balance's own deadline once the deposit is in: the organisers' date before the event, or, when they set
    none or a deposit came in after it, the usual days to pay from now."""
    fixed = fixed_balance_deadline(settings, event)
    return fixed if fixed is not None and fixed > now else _payment_deadline(settings, event, now)


def first_instalment(price: int, deposit_percent: int) -> int:
    """The deposit in whole đồng, rounded up; 0 % and 100 % both ask for the full price at once."""
    if deposit_percent in (0, 100):
        return price
    return -(-price * deposit_percent // 100)


def largest_instalment(session: Session, booth: Booth) -> int:
    """The most one payment for `booth` asks under the sale's settings: its deposit or its balance. A way to pay
    that cannot take it is not offered."""
    deposit = first_instalment(booth.price, settings_for(session, booth.event).deposit_percent)
    return max(deposit, booth.price - deposit)


# --- the exhibitor's way ----------------------------------------------------------------------

def hold_booth(session: Session, exhibitor: User, booth_id: int, *, now: datetime | None = None) -> BoothBooking:
    """Keeps the booth for the exhibitor for the event's hold time, while they fill in the application.

    Choosing the booth they already hold again is harmless (a double click): the same hold comes back."""
    now = now or utcnow()
    booth = _locked_booth(session, booth_id, exclusive=False)
    event = booth.event
    settings = settings_for(session, event)
    organisation_ids = _organisation_ids(exhibitor)
    status = selection_status(event, settings, priority_windows(session, event), set(organisation_ids), now)
    if not status.is_open:
        raise SelectionClosed(status.message)
    occupant = _occupant(session, booth, now)
    if occupant is not None and occupant.exhibitor_id == exhibitor.id:
        if occupant.status is BookingStatus.HELD:
            return occupant
        raise Conflict(_l("You have already booked booth %(number)s.", number=booth.number))
    other_hold = session.scalar(
        select(BoothBooking).where(BoothBooking.event_id == event.id, BoothBooking.exhibitor_id == exhibitor.id,
                                   BoothBooking.status == BookingStatus.HELD, BoothBooking.hold_expires_at > now)
    )
    if other_hold is not None and occupant is None:
        raise Conflict(_l("You are holding booth %(number)s. Submit its application or let it go before choosing "
                          "another booth.", number=other_hold.booth.number))
    # who the booth is for: the organisation that let them in early, else their first one
    early = {o.id for o in status.window.organisations} if status.window else set()
    booking = BoothBooking(
        event_id=event.id, exhibitor_id=exhibitor.id, held_at=now,
        organisation_id=next((i for i in organisation_ids if i in early), next(iter(organisation_ids), None)),
        hold_expires_at=now + timedelta(minutes=settings.hold_minutes),
    )
    step(session, Action.HOLD, booth, occupant, BoothState.HELD, actor_id=exhibitor.id, now=now, booking=booking)
    return booking


def release_hold(session: Session, exhibitor: User, booking_id: int, *, now: datetime | None = None) -> None:
    """Lets the booth go; a second click finds it let go already and changes nothing."""
    now = now or utcnow()
    booking = locked_booking(session, booking_id, exhibitor=exhibitor)
    if booking.status is not BookingStatus.RELEASED:
        step(session, Action.RELEASE, booking.booth, booking, BoothState.AVAILABLE, actor_id=exhibitor.id, now=now)


def may_withdraw(booking: BoothBooking) -> bool:
    """Whether the exhibitor may take back this application or reservation themselves: once submitted, while
    nothing has been paid (a hold is let go instead; paid money is for the organisers to settle)."""
    return booking.is_active and booking.status is not BookingStatus.HELD and booking.amount_paid == 0


def withdraw_booking(session: Session, exhibitor: User, booking_id: int, *,
                     now: datetime | None = None) -> BoothBooking:
    """The exhibitor takes back their application or reservation: the booth is offered to others again, any badges
    stop admitting anyone. A second click finds it withdrawn already and changes nothing."""
    now = now or utcnow()
    booking = locked_booking(session, booking_id, exhibitor=exhibitor)
    if booking.status is BookingStatus.WITHDRAWN:
        return booking
    if booking.is_active and booking.amount_paid > 0:
        raise PaidAlready()
    step(session, Action.WITHDRAW, booking.booth, booking, BoothState.AVAILABLE, actor_id=exhibitor.id, now=now)
    _cancel_badges(booking, now)
    _tell_exhibitor(session, booking, "withdrawn", key=f"booth:withdrawn:{booking.id}")
    return booking


def hold_expired(booking: BoothBooking, now: datetime) -> HoldExpired | None:
    """Why the booking's hold can no longer be submitted: run out by the clock, or already expired by the sweep
    or by another exhibitor's claim on the booth; None while it lasts (or once it was submitted)."""
    if booking.status in (BookingStatus.HELD, BookingStatus.EXPIRED) and booking.hold_expires_at <= now:
        return HoldExpired(_l("Your hold on booth %(number)s ran out at %(time)s. If it is still available, choose "
                              "it again: what you typed is kept.", number=booking.booth.number,
                              time=_when(booking.hold_expires_at)))
    return None


@dataclass
class Application:
    """What the exhibitor tells the organisers about themselves; the page's form fills it in."""

    company_name: str
    tax_code: str
    products: str
    contact_name: str
    contact_email: str
    contact_phone: str
    #: a file name from uploads.store_logo, or None
    logo: str | None = None

    def cleaned(self) -> Application:
        """Trimmed, and refused (Invalid naming the field) when required text is missing or the tax code or the
        phone number is malformed."""
        values = {name: (value.strip() if isinstance(value, str) else value) for name, value in vars(self).items()}
        values["contact_email"] = values["contact_email"].lower()
        for name in ("company_name", "tax_code", "products", "contact_name", "contact_email", "contact_phone"):
            if not values[name]:
                raise Invalid(_l("This field is required."), name)
        if not TAX_CODE.fullmatch(values["tax_code"]):
            raise Invalid(TAX_CODE_RULE, "tax_code")
        if not is_phone_number(values["contact_phone"]):
            raise Invalid(PHONE_RULE, "contact_phone")
        if values["logo"] is not None and not STORED_NAME.fullmatch(values["logo"]):
            raise ValueError(f"not a stored upload: {values['logo']!r}")  # only uploads.store_logo names files
        return Application(**values)


def submit_application(session: Session, exhibitor: User, booking_id: int, application: Application, *,
                       provider_key: str = MANUAL.key, now: datetime | None = None) -> BoothBooking:
    """Turns the exhibitor's hold into a reservation: it then waits for the organisers' approval, or (when the
    event needs none) for payment, or is sold at once when the booth is free of charge. A way to pay that cannot
    take each instalment is refused (AmountNotAccepted) and the hold stays as it was."""
    now = now or utcnow()
    booking = locked_booking(session, booking_id, exhibitor=exhibitor)
    if (expired := hold_expired(booking, now)) is not None:
        raise expired
    if provider_key not in PROVIDERS or not PROVIDERS[provider_key].offered_to_buyers:
        raise Invalid(_l("Choose one of the offered ways to pay."), "provider")
    application = application.cleaned()
    event, booth = booking.event, booking.booth
    settings = settings_for(session, event)
    (FREE if booth.price == 0 else PROVIDERS[provider_key]).check_amount(largest_instalment(session, booth))
    target = BoothState.AWAITING_APPROVAL if settings.approval_required else _payment_state(booth.price)
    step(session, Action.SUBMIT, booth, booking, target, actor_id=exhibitor.id, now=now)
    for name, value in vars(application).items():
        setattr(booking, name, value)
    booking.submitted_at = now
    booking.amount_due = booth.price
    booking.deposit_due = first_instalment(booth.price, settings.deposit_percent)
    booking.provider = FREE.key if booth.price == 0 else provider_key
    _set_payment_terms(booking, settings, now)
    _tell_exhibitor(session, booking, "submitted", key=f"booth:submitted:{booking.id}")
    return booking


@dataclass(frozen=True)
class Instalment:
    """One of a booking's two payments (a deposit, then its balance) as the exhibitor reads it."""

    is_deposit: bool
    amount: int
    #: how much of it has arrived
    paid: int
    #: when it must have arrived; None for a balance counted from the deposit's arrival (see `days_after_deposit`)
    due_at: datetime | None
    #: whether the reservation ends if it has not arrived by then (balance_is_enforced)
    ends_reservation: bool
    days_after_deposit: int | None = None

    @property
    def is_paid(self) -> bool:
        return self.paid >= self.amount


def instalments(session: Session, booking: BoothBooking) -> list[Instalment]:
    """A submitted booking's deposit and balance, each with its own deadline; none for a booking paid in one go."""
    if not 0 < booking.deposit_due < booking.amount_due:
        return []
    settings = settings_for(session, booking.event)
    enforced = balance_is_enforced(settings)
    deposit_paid = min(booking.amount_paid, booking.deposit_due)
    deposit_in = deposit_paid == booking.deposit_due
    deposit = Instalment(True, booking.deposit_due, deposit_paid, None if deposit_in else booking.payment_due_at,
                         ends_reservation=True)
    balance = booking.amount_due - booking.deposit_due
    balance_paid = booking.amount_paid - deposit_paid
    if deposit_in:
        return [deposit, Instalment(False, balance, balance_paid, booking.payment_due_at, enforced)]
    fixed = fixed_balance_deadline(settings, booking.event)
    if fixed is not None and (booking.payment_due_at is None or fixed > booking.payment_due_at):
        return [deposit, Instalment(False, balance, balance_paid, fixed, enforced)]
    return [deposit, Instalment(False, balance, balance_paid, None, enforced, days_after_deposit=settings.payment_days)]


def _payment_state(amount_due: int) -> BoothState:
    """Where a reservation goes once it may be paid: sold at once when there is nothing to pay."""
    return BoothState.SOLD if amount_due == 0 else BoothState.AWAITING_PAYMENT


def _set_payment_terms(booking: BoothBooking, settings: BoothSaleSettings, now: datetime) -> None:
    if booking.status is BookingStatus.SOLD:
        booking.paid_at, booking.payment_due_at = now, None
    elif booking.status is BookingStatus.AWAITING_PAYMENT:
        deadline = _payment_deadline if booking.amount_paid < booking.deposit_due else _balance_deadline
        booking.payment_due_at = deadline(settings, booking.event, now)


# --- the organisers' way ----------------------------------------------------------------------

def approve_application(session: Session, organiser: User, event: Event, booking_id: int, *, message: str = "",
                        now: datetime | None = None) -> BoothBooking:
    now = now or utcnow()
    booking = locked_booking(session, booking_id, event=event)
    step(session, Action.APPROVE, booking.booth, booking, _payment_state(booking.amount_due), actor_id=organiser.id,
         now=now)
    booking.decided_at, booking.decision_message = now, message.strip()
    _set_payment_terms(booking, settings_for(session, event), now)
    _tell_exhibitor(session, booking, "approved", key=f"booth:approved:{booking.id}",
                    note=booking.decision_message)
    return booking


def reject_application(session: Session, organiser: User, event: Event, booking_id: int, *, message: str,
                       now: datetime | None = None) -> BoothBooking:
    now = now or utcnow()
    if not message.strip():
        raise Invalid(_l("Tell the exhibitor why their application is not accepted."), "message")
    booking = locked_booking(session, booking_id, event=event)
    step(session, Action.REJECT, booking.booth, booking, BoothState.AVAILABLE, actor_id=organiser.id, now=now)
    booking.decided_at, booking.decision_message = now, message.strip()
    _tell_exhibitor(session, booking, "rejected", key=f"booth:rejected:{booking.id}",
                    note=booking.decision_message)
    return booking


def next_instalment(booking: BoothBooking) -> int:
    """What the exhibitor should pay now: the rest of the deposit, then the balance."""
    if booking.amount_paid < booking.deposit_due:
        return booking.deposit_due - booking.amount_paid
    return booking.amount_outstanding


def record_payment(session: Session, organiser: User, event: Event, booking_id: int, *, amount: int | None = None,
                   expected_paid: int | None = None, now: datetime | None = None) -> BoothBooking:
    """The manual provider: an organiser records money that arrived, by default the next instalment (the
    deposit, then the balance), as a payment received by hand that refunds give back like any other. Fully paid,
    the booth is sold.

    `expected_paid` is the amount paid as the organiser's page showed it: a second click of the same button finds
    it changed and records nothing twice."""
    now = now or utcnow()
    booking = locked_booking(session, booking_id, event=event)
    if expected_paid is not None and expected_paid != booking.amount_paid:
        raise Conflict(_l("This payment has already been recorded: the booking now shows %(paid)s paid.",
                          paid=format_vnd(booking.amount_paid)))
    paid_before = booking.amount_paid
    _take_payment(session, booking, amount, actor_id=organiser.id, provider=booking.provider, now=now)
    session.add(Payment.received_by_hand(booking.amount_paid - paid_before, now, booth_booking=booking))
    return booking


def record_provider_payment(session: Session, booking_id: int, *, amount: int, provider: str, payment_id: int,
                            now: datetime | None = None) -> BoothBooking:
    """Money a payment provider confirmed for the booking (portal.payments fulfils through this): the same step
    as an organiser's entry, with no actor. A DomainError means the booking cannot take it (ended, already paid,
    more than is owed), and nothing changes."""
    now = now or utcnow()
    booking = locked_booking(session, booking_id)
    return _take_payment(session, booking, amount, actor_id=None, provider=provider, now=now, payment_id=payment_id)


def _take_payment(session: Session, booking: BoothBooking, amount: int | None, *, actor_id: int | None,
                  provider: str | None, now: datetime, **details) -> BoothBooking:
    paid = booking.amount_paid
    if booking.status is BookingStatus.AWAITING_PAYMENT:
        amount = next_instalment(booking) if amount is None else amount
        if not 0 < amount <= booking.amount_outstanding:
            raise Invalid(_l("Enter an amount between 1 and %(left)s, what is still to be paid.",
                             left=format_vnd(booking.amount_outstanding)), "amount")
        paid += amount
    target = BoothState.SOLD if paid >= booking.amount_due else BoothState.AWAITING_PAYMENT
    step(session, Action.RECORD_PAYMENT, booking.booth, booking, target, actor_id=actor_id, now=now,
         amount=amount, amount_paid=paid, provider=provider, **details)
    deposit_completed = booking.amount_paid < booking.deposit_due <= paid
    booking.amount_paid, booking.provider = paid, provider
    if target is BoothState.SOLD or deposit_completed:  # the balance gets a deadline of its own
        _set_payment_terms(booking, settings_for(session, booking.event), now)
    _tell_exhibitor(session, booking, "paid" if target is BoothState.SOLD else "payment_recorded",
                    key=f"booth:payment:{booking.id}:{paid}", amount=amount)
    return booking


def reinstate_lapsed(session: Session, booking: BoothBooking, *, now: datetime | None = None) -> None:
    """A reservation that lapsed waits for payment again if its booth is still free, claimed through the state
    machine, so the unique index refuses it when another exhibitor got there first; BoothGone otherwise. Any
    other booking is left as it is (one past its deadline that the sweep has not lapsed still takes payment).
    Call with `booking` locked."""
    now = now or utcnow()
    if booking.status is not BookingStatus.LAPSED:
        return
    booth = _locked_booth(session, booking.booth_id, exclusive=False)
    try:
        step(session, Action.REINSTATE, booth, _occupant(session, booth, now), BoothState.AWAITING_PAYMENT,
             actor_id=None, now=now, booking=booking)
    except Conflict:
        raise BoothGone() from None
    booking.ended_at = None


def cancel_booking(session: Session, organiser: User, event: Event, booking_id: int, *, message: str = "",
                   now: datetime | None = None) -> BoothBooking:
    """Frees the booth; the exhibitor's badges stop admitting anyone."""
    now = now or utcnow()
    booking = locked_booking(session, booking_id, event=event)
    step(session, Action.CANCEL, booking.booth, booking, BoothState.AVAILABLE, actor_id=organiser.id, now=now)
    booking.decision_message = message.strip()
    _cancel_badges(booking, now)
    _tell_exhibitor(session, booking, "cancelled", key=f"booth:cancelled:{booking.id}",
                    note=booking.decision_message)
    return booking


def move_booking(session: Session, organiser: User, event: Event, booking_id: int, to_booth_id: int, *,
                 message: str = "", now: datetime | None = None) -> BoothBooking:
    """Moves a reservation or a sale to another available booth of the event, keeping its price and payments;
    the exhibitor is told."""
    now = now or utcnow()
    booking = locked_booking(session, booking_id, event=event)
    leaving = booking.booth
    if to_booth_id == leaving.id:
        raise Invalid(_l("Choose a booth other than the one it is on."), "booth")
    arriving = _locked_booth(session, to_booth_id, exclusive=False, event=event)
    details = {"from_booth": leaving.number, "to_booth": arriving.number}
    step(session, Action.MOVE_OUT, leaving, booking, BoothState.AVAILABLE, actor_id=organiser.id, now=now, **details)
    step(session, Action.MOVE_IN, arriving, _occupant(session, arriving, now), BoothState(booking.status.value),
         actor_id=organiser.id, now=now, booking=booking, **details)
    _tell_exhibitor(session, booking, "moved", key=f"booth:moved:{booking.id}:{arriving.id}:{now:%Y%m%d%H%M%S}",
                    old_booth=leaving, note=message.strip())
    return booking


def block_booth(session: Session, organiser: User, event: Event, booth_id: int, *,
                now: datetime | None = None) -> Booth:
    now = now or utcnow()
    booth = _locked_booth(session, booth_id, exclusive=True, event=event)
    step(session, Action.BLOCK, booth, _occupant(session, booth, now), BoothState.BLOCKED, actor_id=organiser.id,
         now=now)
    return booth


def unblock_booth(session: Session, organiser: User, event: Event, booth_id: int, *,
                  now: datetime | None = None) -> Booth:
    now = now or utcnow()
    booth = _locked_booth(session, booth_id, exclusive=True, event=event)
    step(session, Action.UNBLOCK, booth, None, BoothState.AVAILABLE, actor_id=organiser.id, now=now)
    return booth


# --- what the scheduler runs ------------------------------------------------------------------

def _due(session: Session, *conditions) -> list[BoothBooking]:
    """Bookings matching `conditions`, locked; those another transaction is changing right now are left for the
    next run."""
    return list(session.scalars(
        select(BoothBooking).where(*conditions).order_by(BoothBooking.id)
        .with_for_update(skip_locked=True).execution_options(populate_existing=True)
    ))


def expire_holds(session: Session, now: datetime | None = None) -> list[BoothBooking]:
    """Holds past their time free their booths (reads already treat them as free)."""
    now = now or utcnow()
    due = _due(session, BoothBooking.status == BookingStatus.HELD, BoothBooking.hold_expires_at <= now)
    for booking in due:
        step(session, Action.EXPIRE_HOLD, booking.booth, booking, BoothState.AVAILABLE, actor_id=None, now=now)
    return due


#: events whose organisers set a balance deadline, and so hold balances to it
_ENFORCED_BALANCES = select(BoothSaleSettings.event_id).where(BoothSaleSettings.balance_days_before_event.is_not(None))


def balance_is_enforced(settings: BoothSaleSettings) -> bool:
    """Whether an unpaid balance ends its reservation at its deadline, as an unpaid deposit does: when the
    organisers set a balance deadline. Without one, a late balance is for them to chase, not for the clock."""
    return settings.balance_days_before_event is not None


def lapse_unpaid_reservations(session: Session, now: datetime | None = None) -> list[BoothBooking]:
    """Reservations with nothing paid by their deadline free their booths, and so do those whose balance is late
    where the event enforces its balance deadline (the deposit stays paid, for the organisers to settle); the
    exhibitor is told."""
    now = now or utcnow()
    due = _due(session, BoothBooking.status == BookingStatus.AWAITING_PAYMENT, BoothBooking.payment_due_at <= now,
               or_(BoothBooking.amount_paid == 0,
                   and_(BoothBooking.amount_paid >= BoothBooking.deposit_due,
                        BoothBooking.event_id.in_(_ENFORCED_BALANCES))))
    for booking in due:
        step(session, Action.LAPSE, booking.booth, booking, BoothState.AVAILABLE, actor_id=None, now=now)
        _tell_exhibitor(session, booking, "lapsed", key=f"booth:lapsed:{booking.id}")
    return due


# --- mail -------------------------------------------------------------------------------------

#: the subject of each kind of mail; `kind` also picks the paragraph of mail/booth_booking
SUBJECTS = {
    "submitted": _l("We have received your booth application for %(event)s"),
    "approved": _l("Your booth application for %(event)s is approved"),
    "rejected": _l("Your booth application for %(event)s"),
    "payment_recorded": _l("Payment received for your booth at %(event)s"),
    "paid": _l("Your booth at %(event)s is paid"),
    "lapsed": _l("Your booth reservation for %(event)s has ended"),
    "cancelled": _l("Your booth booking for %(event)s is cancelled"),
    "moved": _l("Your booth at %(event)s has changed"),
    "withdrawn": _l("You have withdrawn your booth application for %(event)s"),
}


def booking_link(booking: BoothBooking) -> str:
    """Where the exhibitor follows their booking."""
    return absolute_url("booths.booking", booking_id=booking.id)


def receipt_link(booking: BoothBooking) -> str | None:
    """The receipt of what the exhibitor has paid so far, once they have paid something."""
    return absolute_url("receipts.exhibitor_receipt", booking_id=booking.id) if booking.amount_paid else None


def _tell_exhibitor(session: Session, booking: BoothBooking, kind: str, *, key: str, **context) -> bool:
    """Mails the exhibitor about their booking, in their language; returns whether it was queued now."""
    exhibitor, event = booking.exhibitor, booking.event
    with force_locale(exhibitor.locale):
        subject = SUBJECTS[kind] % {"event": localized(event, "name")}
    return queue_mail(session, key=key, to=exhibitor.email, locale=exhibitor.locale, template="booth_booking",
                      subject=subject, kind=kind, booking=booking, booth=booking.booth, event=event,
                      exhibitor=exhibitor, due_now=next_instalment(booking), instalments=instalments(session, booking),
                      link=booking_link(booking), receipt_link=receipt_link(booking),
                      provider=PROVIDERS.get(booking.provider or MANUAL.key), **context)


def _cancel_badges(booking: BoothBooking, now: datetime) -> None:
    if booking.badge_order is not None:
        for ticket in booking.badge_order.tickets:
            ticket.cancelled_at = ticket.cancelled_at or now
