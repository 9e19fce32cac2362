"""Rules as organisers and managers keep them: the defaults each new event, call or programme starts with, and a
rule's changes, checked (an offset that makes no sense, a placeholder the kind does not have) and audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.audit.services import record
from portal.errors import Invalid, NotFound
from portal.i18n import SUPPORTED_LOCALES
from portal.reminders.kinds import BEFORE, KINDS, ReminderKind, kinds_of_scope
from portal.reminders.models import Reminder, ReminderRule
from portal.reminders.templates import fill, rule_texts, template_errors

#: the reminders job runs every 30 seconds, so a reminder always has a run within its late window
SHORTEST_LATE = timedelta(minutes=1)
LONGEST_LATE = timedelta(days=7)
TEXT_FIELDS = tuple(f"{part}_{locale}" for part in ("subject", "body") for locale in SUPPORTED_LOCALES)


def create_default_rules(session: Session, scope: str, scope_id: int | None) -> None:
    """The rules a new event, call or programme starts with, in the kinds' default words."""
    for kind in kinds_of_scope(scope):
        for default in kind.defaults:
            session.add(ReminderRule(kind=kind.name, scope_id=scope_id, audience=default.audience,
                                     offset_minutes=int(default.offset.total_seconds() // 60),
                                     late_minutes=int(default.late.total_seconds() // 60), active=True))


def rules_of(session: Session, scope: str, scope_id: int | None) -> list[ReminderRule]:
    names = [kind.name for kind in kinds_of_scope(scope)]
    return list(session.scalars(select(ReminderRule).where(ReminderRule.kind.in_(names),
                                                           ReminderRule.scope_id.is_(scope_id) if scope_id is None
                                                           else ReminderRule.scope_id == scope_id)
                                .order_by(ReminderRule.kind, ReminderRule.offset_minutes, ReminderRule.id)))


def rule_of(session: Session, scope: str, scope_id: int | None, rule_id: int) -> ReminderRule:
    """A rule of this scope (a rule id of another event is not found here)."""
    rule = session.get(ReminderRule, rule_id)
    if rule is None or rule.kind not in KINDS or KINDS[rule.kind].scope != scope or rule.scope_id != scope_id:
        raise NotFound()
    return rule


@dataclass
class RuleChange:
    """What the rule form gives: the offset as an amount of a unit before or after the moment."""

    kind: str
    audience: str
    direction: str
    amount: int
    unit_minutes: int
    late_amount: int
    late_unit_minutes: int
    active: bool
    texts: dict[str, str]

    @property
    def offset(self) -> timedelta:
        return timedelta(minutes=self.amount * self.unit_minutes) * (-1 if self.direction == BEFORE else 1)

    @property
    def late(self) -> timedelta:
        return timedelta(minutes=self.late_amount * self.late_unit_minutes)


def check_change(change: RuleChange) -> ReminderKind:
    """The kind, when the change makes sense; Invalid naming the field otherwise."""
    kind = KINDS.get(change.kind)
    if kind is None:
        raise Invalid(_l("Choose what to remind of."), field="kind")
    if change.audience not in kind.audiences:
        raise Invalid(_l("Choose who gets this reminder."), field="audience")
    if change.direction not in kind.directions:
        raise Invalid(_l("This reminder can only be sent %(direction)s the moment.",
                         direction=_l("before") if BEFORE in kind.directions else _l("after")), field="direction")
    if change.amount < 0 or (change.direction == BEFORE and change.amount == 0):
        raise Invalid(_l("Give how long before the moment: a whole number above zero."), field="amount")
    if abs(change.offset) > kind.max_offset:
        raise Invalid(_l("That is too far from the moment to help anyone: at most %(days)d days.",
                         days=kind.max_offset.days), field="amount")
    if not SHORTEST_LATE <= change.late <= LONGEST_LATE:
        raise Invalid(_l("Send a late reminder up to between 1 minute and 7 days after its time."),
                      field="late_amount")
    if change.direction == BEFORE and change.late >= -change.offset:
        raise Invalid(_l("A reminder sent that late would arrive after the moment it announces: make the late "
                         "window shorter than the time before the moment."), field="late_amount")
    for name in TEXT_FIELDS:
        errors = template_errors(change.texts.get(name) or "", kind)
        if errors:
            raise Invalid(" ".join(errors), field=name)
    return kind


def save_rule(session: Session, actor_id: int, scope_id: int | None, rule: ReminderRule | None,
              change: RuleChange, now: datetime) -> ReminderRule:
    """Creates or changes a rule after check_change, and audits it. A text left as the kind's default is kept as
    None, so it follows the catalogue's translation."""
    kind = check_change(change)
    created = rule is None
    if created:
        rule = ReminderRule(kind=kind.name, scope_id=scope_id, created_at=now)
        session.add(rule)
    elif rule.kind != change.kind:
        raise Invalid(_l("What a rule reminds of cannot change: add a new rule instead."), field="kind")
    rule.audience, rule.active, rule.updated_at = change.audience, change.active, now
    rule.offset_minutes = int(change.offset.total_seconds() // 60)
    rule.late_minutes = int(change.late.total_seconds() // 60)
    for name in TEXT_FIELDS:
        part, locale = name.split("_")
        with force_locale(locale):
            default = str(kind.default_subject if part == "subject" else kind.default_body)
        text = (change.texts.get(name) or "").strip().replace("\r\n", "\n")
        setattr(rule, name, text if text and text != default else None)
    session.flush()
    record(session, "reminder_rule.created" if created else "reminder_rule.changed", actor_id=actor_id,
           object_type="reminder_rule", object_id=rule.id, kind=rule.kind, scope_id=scope_id,
           offset_minutes=rule.offset_minutes, late_minutes=rule.late_minutes, active=rule.active,
           audience=rule.audience)
    return rule


def delete_rule(session: Session, actor_id: int, rule: ReminderRule) -> None:
    record(session, "reminder_rule.deleted", actor_id=actor_id, object_type="reminder_rule", object_id=rule.id,
           kind=rule.kind, scope_id=rule.scope_id)
    session.execute(delete(Reminder).where(Reminder.rule_id == rule.id))
    session.delete(rule)


@dataclass(frozen=True)
class Preview:
    subject: str
    body: str
    #: False: no target yet, the placeholders are shown by name
    real: bool


def preview(session: Session, kind: ReminderKind, scope_id: int | None, texts: dict[str, str],
            locale: str) -> Preview:
    """The mail as a recipient would read it, filled from a real target of the scope when there is one."""
    rule = ReminderRule(**{name: texts.get(name) or None for name in TEXT_FIELDS})
    example = kind.example(session, scope_id)
    with force_locale(locale):
        subject, body = rule_texts(rule, kind, locale)
        if example is None:
            values = {name: f"[{description}]" for name, description in kind.placeholders.items()}
        else:
            values = kind.values(*example)
    return Preview(fill(subject, values), fill(body, values), example is not None)
