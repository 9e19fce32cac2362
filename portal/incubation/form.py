"""A call's application form: what each kind of field accepts, and which changes a manager may make to a field.

Drafts keep what was typed, even half-typed; a value is checked when the application is submitted (and when a
submitted application is edited), so closing the browser mid-sentence loses nothing. An answer is stored under its
field's id and a choice under its option's key, so renaming, reordering or retiring options never changes what an
answer already given means.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.errors import Invalid
from portal.incubation.models import Answer, ApplicationFile, FieldKind, FormField

CHOICE_KINDS = (FieldKind.SINGLE_CHOICE, FieldKind.MULTIPLE_CHOICE)
#: the founders' table: these columns, at most this many rows
TEAM_COLUMNS = ("name", "role", "email")
MAX_TEAM_ROWS = 30
MAX_TEXT = {FieldKind.SHORT_TEXT: 300, FieldKind.LONG_TEXT: 20_000, FieldKind.URL: 500}
_URL = re.compile(r"https?://[^\s/$.?#][^\s]*", re.IGNORECASE)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_THOUSANDS = re.compile(r"(?<=\d)[.,\s_](?=\d{3}\b)")


def word_count(text: str) -> int:
    return len(text.split())


def is_empty(field: FormField, raw) -> bool:
    if field.kind == FieldKind.TEAM:
        return not [row for row in (raw or []) if any(str(row.get(c, "")).strip() for c in TEAM_COLUMNS)]
    if isinstance(raw, list):
        return not raw
    return raw is None or not str(raw).strip()


def parse_number(raw: str) -> int | None:
    """Whole numbers as people type them: 1500000, 1.500.000, 1,500,000 or 1 500 000."""
    text = _THOUSANDS.sub("", str(raw).strip())
    return int(text) if re.fullmatch(r"-?\d{1,18}", text) else None


def draft_value(field: FormField, raw):
    """What a draft stores for a field: what was typed, trimmed to the field's shape and bounded in size, never
    refused (that waits for submission)."""
    if field.kind == FieldKind.MULTIPLE_CHOICE:
        values = raw if isinstance(raw, list) else [raw] if raw else []
        return [str(v)[:60] for v in values][:50]
    if field.kind == FieldKind.TEAM:
        rows = raw if isinstance(raw, list) else []
        kept = [{c: str(row.get(c, ""))[:200] for c in TEAM_COLUMNS} for row in rows if isinstance(row, dict)]
        return [row for row in kept if any(v.strip() for v in row.values())][:MAX_TEAM_ROWS]
    if raw is None:
        return ""
    return str(raw)[:MAX_TEXT.get(field.kind, 200)]


def check_value(field: FormField, raw, files: int = 0):
    """The problem with an answer, as a message for the applicant, or None when it is acceptable."""
    if field.kind == FieldKind.FILE:
        return _l("Please upload this file.") if field.required and not files else None
    if is_empty(field, raw):
        return _l("Please answer this question.") if field.required else None
    if field.kind in (FieldKind.SHORT_TEXT, FieldKind.LONG_TEXT):
        if field.word_limit and word_count(raw) > field.word_limit:
            return ngettext("At most %(num)d word, please; this answer has %(count)d.",
                            "At most %(num)d words, please; this answer has %(count)d.",
                            field.word_limit, count=word_count(raw))
        return None
    if field.kind == FieldKind.NUMBER:
        number = parse_number(raw)
        if number is None:
            return _l("Please enter a whole number, for example 1500000.")
        if field.min_value is not None and number < field.min_value:
            return _l("The smallest accepted number is %(min)s.", min=f"{field.min_value:,}".replace(",", "."))
        if field.max_value is not None and number > field.max_value:
            return _l("The largest accepted number is %(max)s.", max=f"{field.max_value:,}".replace(",", "."))
        return None
    if field.kind == FieldKind.DATE:
        try:
            date.fromisoformat(str(raw))
        except ValueError:
            return _l("Please enter a date as year-month-day, for example 2024-03-15.")
        return None
    if field.kind == FieldKind.URL:
        return None if _URL.fullmatch(str(raw).strip()) else _l("Please enter a web address starting with https://.")
    if field.kind in CHOICE_KINDS:
        offered = {o["key"] for o in field.options if not o.get("retired")}
        chosen = raw if isinstance(raw, list) else [raw]
        return None if set(chosen) <= offered else _l("Please choose among the options offered.")
    if field.kind == FieldKind.TEAM:
        for row in raw:
            if not row.get("name", "").strip():
                return _l("Every founder needs a name.")
            if row.get("email", "").strip() and not _EMAIL.fullmatch(row["email"].strip()):
                return _l("%(email)s is not an e-mail address.", email=row["email"])
        return None
    return None


def typed_value(field: FormField, raw):
    """A submitted answer as the rules and exports use it: numbers as int, dates as date, the rest as stored."""
    if is_empty(field, raw):
        return None
    if field.kind == FieldKind.NUMBER:
        return parse_number(raw)
    if field.kind == FieldKind.DATE:
        return date.fromisoformat(str(raw))
    return raw


# --- what a manager may change ----------------------------------------------------------------------------------

def option_key(label: str, taken: set[str]) -> str:
    """A new option's key: its English (or Vietnamese) label in ASCII, unique in the field; it never changes after."""
    ascii_label = unicodedata.normalize("NFKD", label.replace("đ", "d").replace("Đ", "D"))
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_label.encode("ascii", "ignore").decode().lower()).strip("-")[:40]
    key = slug or "option"
    while key in taken:
        key = f"{slug or 'option'}-{secrets.token_hex(2)}"
    return key


def answered(session: Session, field: FormField) -> bool:
    has_answer = session.scalar(select(func.count()).select_from(Answer).where(Answer.field_id == field.id)) > 0
    has_file = session.scalar(
        select(func.count()).select_from(ApplicationFile).where(ApplicationFile.field_id == field.id)) > 0
    return has_answer or has_file


def check_field_change(session: Session, field: FormField, kind: FieldKind, options: list[dict]) -> None:
    """Refuses a change that would change what answers already given mean: another kind of field, or an option
    that has been chosen taken away (it can be retired instead: kept for the answers, no longer offered)."""
    if field.id is None or not answered(session, field):
        return
    if kind != field.kind:
        raise Invalid(_l("This question already has answers, so its kind cannot change. Add a new question "
                         "instead."), "kind")
    if field.kind in CHOICE_KINDS:
        kept = {o["key"] for o in options}
        chosen = _chosen_keys(session, field)
        removed = sorted(chosen - kept)
        if removed:
            raise Invalid(_l("Some applicants chose %(options)s, so it cannot be removed: retire it instead.",
                             options=", ".join(removed)), "options")


def check_field_removal(session: Session, field: FormField) -> None:
    if answered(session, field):
        raise Invalid(_l("This question already has answers, so it cannot be deleted."))


def _chosen_keys(session: Session, field: FormField) -> set[str]:
    chosen: set[str] = set()
    for value in session.scalars(select(Answer.value).where(Answer.field_id == field.id)):
        chosen.update(value if isinstance(value, list) else [value] if value else [])
    return chosen
