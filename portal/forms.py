"""Validators and fields shared by every domain's forms, with messages in the user's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

required = DataRequired(message=_l("This field is required."))
optional = Optional()


def length(max_chars: int, min_chars: int = -1) -> Length:
    return Length(min=min_chars, max=max_chars,
                  message=_l("Use between %(min)d and %(max)d characters.") if min_chars > 0
                  else _l("Use at most %(max)d characters."))


def email_field(label) -> EmailField:
    return EmailField(label, validators=[
        required, length(254),
        Email(message=_l("Enter a valid e-mail address, like name@example.com."), check_deliverability=False),
    ], render_kw={"autocomplete": "email"})


class StrongPassword:
    """Refuses short and common passwords, naming the reason."""

    def __call__(self, form, field) -> None:
        from portal.accounts.services import password_problem

        email = form.email.data if hasattr(form, "email") and form.email.data else ""
        problem = password_problem(field.data or "", email=email)
        if problem:
            raise ValidationError(problem)
