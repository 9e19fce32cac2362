"""Errors a user can cause: each carries a translatable message and the HTTP status a view answers with."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l


class DomainError(Exception):
    status_code = 400
    default_message = _l("This request could not be completed.")

    def __init__(self, message=None) -> None:
        self.message = message or self.default_message
        super().__init__(str(self.message))


class NotFound(DomainError):
    status_code = 404
    default_message = _l("Not found.")


class PermissionDenied(DomainError):
    status_code = 403
    default_message = _l("You do not have permission to do this.")


class Conflict(DomainError):
    status_code = 409
    default_message = _l("This conflicts with the current state; reload and try again.")


class Invalid(DomainError):
    """Input that breaks a rule; `field` names the form field it is about, if any, so the form shows it there."""

    def __init__(self, message, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InvalidFields(Invalid):
    """Several fields break their rules at once: `problems` maps each field to its message, so a form shows every
    one at its field rather than the first alone."""

    def __init__(self, problems: dict) -> None:
        field, message = next(iter(problems.items()))
        super().__init__(message, field)
        self.problems = problems
