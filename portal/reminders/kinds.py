"""The registry of reminder kinds. A domain registers each kind at import, as payments' payable kinds are registered:
its query of targets, recipients and moments, its placeholders and its default rules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, String, case, cast, literal, null, select
from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.db import UTCDateTime
from portal.i18n import HANOI
from portal.notifications.services import Attachment, BuiltAtSend

BEFORE, AFTER = "before", "after"


@dataclass(frozen=True)
class DefaultRule:
    """A rule every new event, call or programme starts with: `offset` before (negative) or after its moment."""

    offset: timedelta
    late: timedelta
    audience: str


@dataclass(frozen=True)
class ReminderKind:
    name: str
    #: what the rules page calls it ("Event starts")
    label: Any
    #: what its rules belong to: "event", "call", "programme", or "mentoring" (one set for the whole network)
    scope: str
    #: audience name → its label; a rule picks one
    audiences: dict[str, Any]
    #: BEFORE and/or AFTER the moment
    directions: frozenset[str]
    default_subject: Any
    default_body: Any
    #: placeholder name → what it stands for; {link} is always there (values() must give it)
    placeholders: dict[str, Any]
    #: (rule, moments after, moments up to) → a SELECT of target_id, recipient_ref, email, locale, occurs_at: the
    #: targets of the rule's scope and audience that are still to be reminded (not cancelled), moment in the range
    candidates: Callable[[Any, datetime, datetime], Select]
    #: (session, target ids) → {id: target} loaded with what values() reads
    load: Callable[[Session, list[int]], dict[int, Any]]
    #: (target, recipient_ref) → placeholder values, in the current locale
    values: Callable[[Any, str], dict[str, str]]
    #: (session, scope_id) → (target, recipient_ref) of a real example for the preview, or None
    example: Callable[[Session, int | None], tuple[Any, str] | None]
    #: the rules each new event, call or programme starts with; the first is also where a new rule's form starts
    defaults: tuple[DefaultRule, ...]
    #: (target, recipient_ref, locale) → what the mail carries (a ticket, say)
    attachments: Callable[[Any, str, str], list[Attachment | BuiltAtSend]] = field(default=lambda *_: [])
    #: the longest offset that makes sense (a payment has days to run, an event is announced months ahead)
    max_offset: timedelta = timedelta(days=180)


#: kind name → kind, in the order registered
KINDS: dict[str, ReminderKind] = {}


def user_recipient(locale: ColumnElement | None = None) -> tuple:
    """The recipient columns of a kind's query for a person with an account: the reference, the address and the
    language (the user's, unless the target has its own, as an order does)."""
    return ((literal("u") + cast(User.id, String)).label("recipient_ref"), User.email.label("email"),
            (User.locale if locale is None else locale).label("locale"))


def loader(model: Any, *options: Any) -> Callable[[Session, list[int]], dict[int, Any]]:
    """A kind's `load`: the targets with these ids, with what its values read (`options`) loaded alongside."""
    def load(session: Session, ids: list[int]) -> dict[int, Any]:
        return {target.id: target for target in session.scalars(
            select(model).where(model.id.in_(ids)).options(*options))}
    return load


def first_example(session: Session, load: Callable[[Session, list[int]], dict[int, Any]], target_ids: Select,
                  recipient_ref: str) -> tuple[Any, str] | None:
    """A kind's `example`: the first target `target_ids` selects, loaded as the kind loads it, or None."""
    target_id = session.scalar(target_ids.limit(1))
    return None if target_id is None else (load(session, [target_id])[target_id], recipient_ref)


def register_kind(kind: ReminderKind) -> None:
    KINDS[kind.name] = kind


def kinds_of_scope(scope: str) -> list[ReminderKind]:
    return [kind for kind in KINDS.values() if kind.scope == scope]


def local_days_in(after: datetime, up_to: datetime, at: time) -> dict[date, datetime]:
    """The days whose Hanoi time `at` falls in (after, up_to], each with that moment: for kinds whose moment is a
    date (a milestone, a report due), the planner's window holds a few days at most."""
    days, day = {}, after.astimezone(HANOI).date()
    while (moment := datetime.combine(day, at, HANOI)) <= up_to:
        if moment > after:
            days[day] = moment.astimezone(UTC)
        day += timedelta(days=1)
    return days


def moment_of_day(day_column, days: dict[date, datetime]) -> ColumnElement:
    """The moment of each row's day, as a column: one CASE over the window's few days, the same on both databases."""
    if not days:
        return cast(null(), UTCDateTime())  # typed, or PostgreSQL reads the empty column as text
    return case({day: literal(moment, UTCDateTime()) for day, moment in days.items()}, value=day_column)
