"""Validators and fields shared by every domain's forms, with messages in the user's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, IntegerField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp, ValidationError

from portal.tax_codes import TAX_CODE, TAX_CODE_RULE

required = DataRequired(message=_l("This field is required."))
optional = Optional()


def length(max_chars: int, min_chars: int = -1) -> Length:
    return Length(min=min_chars, max=max_chars,
                  message=_l("Use between %(min)d and %(max)d characters.") if min_chars > 0
                  else _l("Use at most %(max)d characters."))


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def email_field(label) -> EmailField:
    # Phone keyboards and copy-paste add spaces around addresses; they are never part of one.
    return EmailField(label, filters=[_strip], validators=[
        required, length(254),
        Email(message=_l("Enter a valid e-mail address, like name@example.com."), check_deliverability=False),
    ], render_kw={"autocomplete": "email"})


def tax_code_field(label, *, required_here: bool) -> StringField:
    """A Vietnamese tax code, spaces ignored; the rule is portal.tax_codes'."""
    return StringField(label, filters=[_strip], description=TAX_CODE_RULE, render_kw={"inputmode": "numeric"},
                       validators=[required if required_here else optional, length(14),
                                   Regexp(TAX_CODE, message=TAX_CODE_RULE)])


class StrongPassword:
    """Refuses short and common passwords, naming the reason."""

    def __call__(self, form, field) -> None:
        from portal.accounts.services import password_problem

        email = form.email.data if hasattr(form, "email") and form.email.data else ""
        problem = password_problem(field.data or "", email=email)
        if problem:
            raise ValidationError(problem)


class WholeNumberField(IntegerField):
    """An IntegerField whose refusal speaks the user's language (WTForms ships no Vietnamese messages)."""

    def process_formdata(self, valuelist) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(_l("Enter a whole number, like 12.")) from error


class LocalDateField(DateField):
    """A DateField whose refusal speaks the user's language."""

    def process_formdata(self, valuelist) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(_l("Enter a date, like 2025-03-31.")) from error


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms wants select options."""
    return [SelectChoice(value, label) for value, label in pairs]


class ConfirmForm(FlaskForm):
    """A button that changes something: only the CSRF token is needed."""
