"""Booths' reminder kinds: a booth held on the plan, to the exhibitor before the hold runs out; a reservation's
payment, before its deadline (after a deposit, the balance has a deadline of its own, so it is reminded too)."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, object_session

from portal.accounts.models import User
from portal.booths.models import BookingStatus, BoothBooking
from portal.booths.services import balance_is_enforced, next_instalment, settings_for
from portal.i18n import format_local_datetime, format_vnd, localized
from portal.notifications.services import absolute_url
from portal.reminders.kinds import (
    BEFORE,
    DefaultRule,
    ReminderKind,
    first_example,
    loader,
    register_kind,
    user_recipient,
)

EXHIBITOR = "exhibitor"


def _holds(rule, after, up_to):
    return (select(BoothBooking.id.label("target_id"), *user_recipient(),
                   BoothBooking.hold_expires_at.label("occurs_at"))
            .join(User, BoothBooking.exhibitor_id == User.id)
            .where(BoothBooking.event_id == rule.scope_id, BoothBooking.status == BookingStatus.HELD,
                   BoothBooking.hold_expires_at > after, BoothBooking.hold_expires_at <= up_to))


_load = loader(BoothBooking, joinedload(BoothBooking.booth), joinedload(BoothBooking.event),
               joinedload(BoothBooking.exhibitor))


def _values(booking: BoothBooking, _recipient: str) -> dict[str, str]:
    return {"name": booking.exhibitor.full_name, "event": localized(booking.event, "name"),
            "booth": booking.booth.number, "expires_at": format_local_datetime(booking.hold_expires_at, "short"),
            "link": absolute_url("booths.booking", booking_id=booking.id)}


def _example(session: Session, event_id: int) -> tuple[BoothBooking, str] | None:
    return first_example(session, _load, select(BoothBooking.id).where(BoothBooking.event_id == event_id)
                         .order_by(BoothBooking.id), EXHIBITOR)


register_kind(ReminderKind(
    name="booth_hold", label=_l("A booth hold runs out"), scope="event",
    audiences={EXHIBITOR: _l("The exhibitor")}, directions=frozenset({BEFORE}),
    default_subject=_l("Booth {booth} at {event} is held for you until {expires_at}"),
    default_body=_l("Hello {name},\n\nBooth {booth} at {event} is held for you until {expires_at}. Submit your "
                    "application before then, or the booth becomes free for others."),
    placeholders={"name": _l("the exhibitor's name"), "event": _l("the event's name"), "booth": _l("the booth"),
                  "expires_at": _l("when the hold runs out"), "link": _l("the booking's page")},
    candidates=_holds, load=_load, values=_values, example=_example,
    # holds last 15 minutes by default
    defaults=(DefaultRule(timedelta(minutes=-5), timedelta(minutes=4), EXHIBITOR),),
    max_offset=timedelta(days=14),
))


def _awaiting_payment(rule, after, up_to):
    return (select(BoothBooking.id.label("target_id"), *user_recipient(),
                   BoothBooking.payment_due_at.label("occurs_at"))
            .join(User, BoothBooking.exhibitor_id == User.id)
            .where(BoothBooking.event_id == rule.scope_id, BoothBooking.status == BookingStatus.AWAITING_PAYMENT,
                   BoothBooking.payment_due_at > after, BoothBooking.payment_due_at <= up_to))


def _payment_values(booking: BoothBooking, _recipient: str) -> dict[str, str]:
    # a late deposit always ends the reservation; a late balance only where the organisers set its deadline (the
    # settings come from the session's identity map after the first booking of an event)
    ends = booking.amount_paid < booking.deposit_due or balance_is_enforced(
        settings_for(object_session(booking), booking.event))
    return {**_values(booking, _recipient), "amount": format_vnd(next_instalment(booking)),
            "due_at": format_local_datetime(booking.payment_due_at, "short"),
            "if_late": str(_l("the reservation ends and the booth is offered to other exhibitors") if ends
                           else _l("the organisers will write to you about the balance"))}


def _example_payment(session: Session, event_id: int) -> tuple[BoothBooking, str] | None:
    return first_example(session, _load, select(BoothBooking.id).where(
        BoothBooking.event_id == event_id, BoothBooking.payment_due_at.is_not(None)).order_by(BoothBooking.id),
        EXHIBITOR)


register_kind(ReminderKind(
    name="booth_payment", label=_l("A booth payment is due"), scope="event",
    audiences={EXHIBITOR: _l("The exhibitor")}, directions=frozenset({BEFORE}),
    default_subject=_l("Payment reminder: your booth at {event}"),
    default_body=_l("Hello {name},\n\nA reminder: {amount} for booth {booth} at {event} is due by {due_at}. If "
                    "nothing has arrived by then, {if_late}; if you have already paid, thank you: you can ignore this "
                    "reminder."),
    placeholders={"name": _l("the exhibitor's name"), "event": _l("the event's name"), "booth": _l("the booth"),
                  "amount": _l("the amount to pay now"), "due_at": _l("when it is due"),
                  "if_late": _l("what happens if it is late"),
                  "link": _l("the booking's page")},
    candidates=_awaiting_payment, load=_load, values=_payment_values, example=_example_payment,
    defaults=(DefaultRule(timedelta(days=-2), timedelta(days=1), EXHIBITOR),),
    max_offset=timedelta(days=60),
))
