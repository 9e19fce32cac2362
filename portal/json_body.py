"""JSON bodies, checked for shape before anything reads them: a script's request, a provider's webhook.

A parsed body can be anything JSON allows (`[1]`, `"x"`, `null`, an object whose fields have other types than
promised), so every JSON endpoint asks `json_object` for the object it expects and answers 400 with the error's
message otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from flask import request
from flask_babel import lazy_gettext as _l

from portal.db import INTEGER_MAX
from portal.errors import DomainError


@dataclass(frozen=True)
class Text:
    """A string of at most `max_length` characters: what the column it is stored in holds."""

    max_length: int


Kinds = type | Text | tuple[type | Text, ...]


class MalformedBody(DomainError):
    """The body is not the JSON object expected. `problem` says what is wrong, in English, for the log."""

    status_code = 400
    default_message = _l("The request could not be read. Reload the page and try again.")

    def __init__(self, problem: str, message=None) -> None:
        super().__init__(message)
        self.problem = problem

    def __str__(self) -> str:
        return self.problem


def _has_kind(value: object, kinds: Kinds) -> bool:
    kinds = kinds if isinstance(kinds, tuple) else (kinds,)
    if isinstance(value, str) and any(isinstance(kind, Text) and len(value) <= kind.max_length for kind in kinds):
        return True
    kinds = tuple(kind for kind in kinds if isinstance(kind, type))
    if isinstance(value, bool):  # bool is an int in Python, never in a JSON schema
        return bool in kinds
    if isinstance(value, int):  # a larger number cannot be any amount, size or id the portal keeps
        return int in kinds and -INTEGER_MAX - 1 <= value <= INTEGER_MAX
    if isinstance(value, float):  # Python's json reads NaN and Infinity
        return float in kinds and math.isfinite(value)
    return isinstance(value, kinds)


def json_object(value: object, required: Mapping[str, Kinds], optional: Mapping[str, Kinds] | None = None,
                message=None) -> dict:
    """`value` if it is an object holding every `required` field with a value of its kinds, and each `optional`
    field absent, null or of its kinds (other fields are left alone); MalformedBody otherwise, carrying `message`
    for the user (a generic one by default)."""
    if not isinstance(value, dict):
        raise MalformedBody(f"expected an object, got {type(value).__name__}", message)
    for fields, may_be_missing in ((required, False), (optional or {}, True)):
        for name, kinds in fields.items():
            field = value.get(name)
            if field is None and may_be_missing:
                continue
            if not _has_kind(field, kinds):
                raise MalformedBody(f"field {name!r} is missing or of the wrong type", message)
    return value


def request_json() -> object:
    """The request's body as parsed JSON, anything JSON allows; None when it is not JSON at all."""
    try:
        return request.get_json(silent=True)
    except RecursionError:  # nested deeper than the parser goes: not a body any endpoint expects
        return None


def request_object(required: Mapping[str, Kinds], optional: Mapping[str, Kinds] | None = None, message=None) -> dict:
    """The request's JSON body as `json_object` checks it; a body that is not JSON at all is refused the same way."""
    return json_object(request_json(), required, optional, message)
