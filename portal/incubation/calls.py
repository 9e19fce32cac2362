"""Managers run calls: dates, places, eligibility, the application form and the rubric, each change audited."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.audit.services import record
from portal.errors import Invalid, NotFound
from portal.incubation import eligibility
from portal.incubation.defaults import add_default_form, add_default_rubric
from portal.incubation.form import CHOICE_KINDS, check_field_change, check_field_removal, option_key
from portal.incubation.models import Call, Criterion, FieldKind, FormField, FormSection
from portal.reminders.rules import create_default_rules

CALL_FIELDS = ("programme_id", "slug", "title_vi", "title_en", "description_vi", "description_en", "opens_at",
               "closes_at", "reviews_close_at", "status", "capacity", "reviewers_per_application", "reviewer_cap")
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_KEY = re.compile(r"[a-z][a-z0-9_]{0,59}")


def _check_call(session: Session, data: dict, call: Call | None) -> None:
    if not _SLUG.fullmatch(data["slug"]):
        raise Invalid(_l("Use lower-case letters, digits and hyphens, for example uom-tao-2027-dot-1."), "slug")
    taken = session.scalar(select(Call.id).where(Call.slug == data["slug"]))
    if taken is not None and (call is None or taken != call.id):
        raise Invalid(_l("Another call already has this address."), "slug")
    if data["closes_at"] <= data["opens_at"]:
        raise Invalid(_l("The deadline must come after the opening."), "closes_at")


def create_call(session: Session, data: dict, rules: dict, actor: User) -> Call:
    """A new call with the usual form and rubric, ready to adjust."""
    _check_call(session, data, None)
    call = Call(**{name: data[name] for name in CALL_FIELDS}, eligibility=eligibility.clean_rules(rules))
    add_default_form(call)
    add_default_rubric(call)
    session.add(call)
    session.flush()
    create_default_rules(session, "call", call.id)
    record(session, "call.created", actor_id=actor.id, object_type="call", object_id=call.id)
    return call


def update_call(session: Session, call: Call, data: dict, rules: dict, actor: User) -> None:
    _check_call(session, data, call)
    changed = {name: str(data[name]) for name in CALL_FIELDS if getattr(call, name) != data[name]}
    cleaned = eligibility.clean_rules(rules)
    if cleaned != (call.eligibility or {}):
        changed["eligibility"] = str(cleaned)
    for name in CALL_FIELDS:
        setattr(call, name, data[name])
    call.eligibility = cleaned
    if changed:
        record(session, "call.updated", actor_id=actor.id, object_type="call", object_id=call.id, changed=changed)


# --- the form builder -------------------------------------------------------------------------------------------

def section_of(session: Session, call: Call, section_id: int) -> FormSection:
    section = session.get(FormSection, section_id)
    if section is None or section.call_id != call.id:
        raise NotFound()
    return section


def field_of(session: Session, call: Call, field_id: int) -> FormField:
    field = session.get(FormField, field_id)
    if field is None or field.call_id != call.id:
        raise NotFound()
    return field


def save_section(session: Session, call: Call, section: FormSection | None, data: dict, actor: User) -> FormSection:
    if section is None:
        position = session.scalar(select(func.coalesce(func.max(FormSection.position), -1))
                                  .where(FormSection.call_id == call.id)) + 1
        section = FormSection(call_id=call.id, position=position)
        session.add(section)
    for name in ("title_vi", "title_en", "help_vi", "help_en"):
        setattr(section, name, data.get(name) or "")
    section.title_en = section.title_en or section.title_vi
    session.flush()
    record(session, "call.form_section_saved", actor_id=actor.id, object_type="call", object_id=call.id,
           section=section.id)
    return section


def delete_section(session: Session, call: Call, section: FormSection, actor: User) -> None:
    for field in section.fields:
        check_field_removal(session, field)
    record(session, "call.form_section_deleted", actor_id=actor.id, object_type="call", object_id=call.id,
           section=section.id)
    session.delete(section)


def parse_options(text: str, existing: list[dict]) -> list[dict]:
    """One option a line, 'Vietnamese | English'; a line starting with '-' retires the option. The editor shows
    existing options as 'key: Vietnamese | English', so renaming one keeps its key; a line without a known key is a
    new option with a new key."""
    taken = {o["key"] for o in existing}
    by_key = {o["key"]: o for o in existing}
    options = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        retired = line.startswith("-")
        line = line.lstrip("-").strip()
        key = None
        if ":" in line.split("|", 1)[0]:
            candidate, line = (part.strip() for part in line.split(":", 1))
            key = candidate if candidate in by_key else None
        label_vi, _sep, label_en = (part.strip() for part in line.partition("|"))
        if not label_vi:
            continue
        if key is None:
            key = option_key(label_en or label_vi, taken)
            taken.add(key)
        options.append({"key": key, "label_vi": label_vi, "label_en": label_en or label_vi, "retired": retired})
    return options


def options_text(options: list[dict]) -> str:
    return "\n".join(f"{'- ' if o.get('retired') else ''}{o['key']}: {o['label_vi']} | {o['label_en']}"
                     for o in options)


def save_field(session: Session, call: Call, section: FormSection, field: FormField | None, data: dict,
               actor: User) -> FormField:
    kind = FieldKind(data["kind"])
    options = parse_options(data.get("options_text") or "", field.options if field else [])
    if kind in CHOICE_KINDS and not [o for o in options if not o["retired"]]:
        raise Invalid(_l("A choice needs at least one option."), "options_text")
    if field is not None:
        check_field_change(session, field, kind, options)
    else:
        key = data.get("key") or ""
        if not _KEY.fullmatch(key):
            raise Invalid(_l("A key starts with a letter and uses lower-case letters, digits and _."), "key")
        if session.scalar(select(FormField.id).where(FormField.call_id == call.id, FormField.key == key)):
            raise Invalid(_l("Another question of this form has this key."), "key")
        position = session.scalar(select(func.coalesce(func.max(FormField.position), -1))
                                  .where(FormField.section_id == section.id)) + 1
        field = FormField(call_id=call.id, section_id=section.id, key=key, position=position)
        session.add(field)
    field.kind = kind
    field.options = options if kind in CHOICE_KINDS else []
    for name in ("label_vi", "label_en", "help_vi", "help_en"):
        setattr(field, name, data.get(name) or "")
    field.label_en = field.label_en or field.label_vi
    field.required = bool(data.get("required"))
    field.word_limit = data.get("word_limit") if kind == FieldKind.LONG_TEXT else None
    field.max_file_mb = data.get("max_file_mb") if kind == FieldKind.FILE else None
    field.min_value = data.get("min_value") if kind == FieldKind.NUMBER else None
    field.max_value = data.get("max_value") if kind == FieldKind.NUMBER else None
    session.flush()
    record(session, "call.form_field_saved", actor_id=actor.id, object_type="call", object_id=call.id,
           field=field.key)
    return field


def delete_field(session: Session, call: Call, field: FormField, actor: User) -> None:
    check_field_removal(session, field)
    record(session, "call.form_field_deleted", actor_id=actor.id, object_type="call", object_id=call.id,
           field=field.key)
    session.delete(field)


# --- the rubric -------------------------------------------------------------------------------------------------

def save_rubric(session: Session, call: Call, weights: dict[int, int], actor: User) -> None:
    """New weights for the criteria; they must add up to 100 (scores already given are weighed anew)."""
    criteria = list(session.scalars(select(Criterion).where(Criterion.call_id == call.id)))
    if any(not 1 <= weights.get(c.id, 0) <= 100 for c in criteria):
        raise Invalid(_l("Every weight is a whole number from 1 to 100."))
    if sum(weights[c.id] for c in criteria) != 100:
        raise Invalid(_l("The weights add up to %(total)d; they must add up to 100.",
                         total=sum(weights[c.id] for c in criteria)))
    for criterion in criteria:
        criterion.weight = weights[criterion.id]
    record(session, "call.rubric_saved", actor_id=actor.id, object_type="call", object_id=call.id,
           weights={c.key: c.weight for c in criteria})
