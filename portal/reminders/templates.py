"""A rule's subject and body: text with {placeholders}, checked when the rule is saved, filled when it is sent."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

from portal.reminders.kinds import ReminderKind
from portal.reminders.models import ReminderRule

_BRACED = re.compile(r"\{([^{}]*)\}")


def template_errors(text: str, kind: ReminderKind) -> list[str]:
    """What is wrong with `text` as a template of `kind`: unknown placeholders, stray braces."""
    errors = []
    unknown = [name for name in _BRACED.findall(text) if name not in kind.placeholders]
    if unknown:
        errors.append(str(_l("Unknown placeholder %(names)s. You can use: %(known)s.",
                             names=", ".join(_braced(name) for name in dict.fromkeys(unknown)),
                             known=", ".join(_braced(name) for name in kind.placeholders))))
    if "{" in _BRACED.sub("", text) or "}" in _BRACED.sub("", text):
        errors.append(str(_l("A brace { or } is not closed. Placeholders are written like {%(example)s}.",
                             example=next(iter(kind.placeholders)))))
    return errors


def _braced(name: str) -> str:
    return "{" + name + "}"


def fill(text: str, values: dict[str, str]) -> str:
    return _BRACED.sub(lambda match: values.get(match.group(1), match.group(0)), text)


def rule_texts(rule: ReminderRule, kind: ReminderKind, locale: str) -> tuple[str, str]:
    """The rule's subject and body in `locale`, which the caller has made the current one (force_locale): the
    organiser's words, or the kind's default text."""
    return (getattr(rule, f"subject_{locale}") or str(kind.default_subject),
            getattr(rule, f"body_{locale}") or str(kind.default_body))
