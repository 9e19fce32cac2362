"""Validators and fields shared by every domain's forms, with messages in the user's language."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

from flask_babel import get_timezone
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, IntegerField, StringField, TextAreaField
from wtforms.fields import DateTimeLocalField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    Length,
    NumberRange,
    Optional,
    Regexp,
    StopValidation,
    ValidationError,
)

from portal.phones import PHONE_RULE, is_phone_number
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


def _phone_number(_form, field) -> None:
    if field.data and not is_phone_number(field.data):
        raise ValidationError(PHONE_RULE)


def phone_field(label, *, required_here: bool) -> StringField:
    """A phone number, national or international; the rule is portal.phones'."""
    return StringField(label, filters=[_strip], validators=[required if required_here else optional, length(32),
                                                            _phone_number],
                       render_kw={"autocomplete": "tel", "type": "tel", "inputmode": "tel"})


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


LOCAL_INPUT_FORMAT = "%Y-%m-%dT%H:%M"
#: what browsers send for a datetime-local input (with seconds when a step is set), and what people type
ACCEPTED_INPUT_FORMATS = [LOCAL_INPUT_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]


def local_zone() -> tzinfo:
    # Flask-Babel hands out a pytz zone, whose replace(tzinfo=…) silently uses the 1906 local mean time.
    return ZoneInfo(str(get_timezone()))


class HanoiDateTimeField(DateTimeLocalField):
    """A datetime-local input read and shown in Hanoi time; its data is an aware UTC datetime.

    People type the time printed on the poster; storing UTC keeps every comparison on one clock."""

    def __init__(self, label=None, validators=None, **kwargs) -> None:
        super().__init__(label, validators, format=ACCEPTED_INPUT_FORMATS, **kwargs)

    def process_formdata(self, valuelist) -> None:
        if valuelist and not "".join(valuelist).strip():
            self.data = None  # an empty box is a missing time, not a malformed one
            return
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(_l("Enter a date and time, like 2026-12-10 08:00.")) from error
        if self.data is not None:
            self.data = self.data.replace(tzinfo=local_zone()).astimezone(UTC)

    def _value(self) -> str:
        if self.raw_data:
            return " ".join(self.raw_data)
        if isinstance(self.data, datetime):
            return self.data.astimezone(local_zone()).strftime(LOCAL_INPUT_FORMAT)
        return ""


class EndsAfter:
    """The field's time must come after `start_field`'s (either may be left empty when optional)."""

    def __init__(self, start_field: str, message) -> None:
        self.start_field, self.message = start_field, message

    def __call__(self, form, field) -> None:
        start = form[self.start_field].data
        if start is not None and field.data is not None and field.data <= start:
            raise ValidationError(self.message)


def text(label, max_chars: int, *, needed: bool = True, **kwargs) -> StringField:
    return StringField(label, filters=[_strip], validators=[required if needed else optional, length(max_chars)],
                       **kwargs)


def long_text(label, description: str = "") -> TextAreaField:
    return TextAreaField(label, filters=[_strip], validators=[optional, length(20_000)], default="",
                         description=description)


class _Filled:
    """Refuses an empty field. Unlike DataRequired it accepts 0 (a valid price and size) and keeps the message
    of a value that could not be read ("Enter a whole number"); either way it stops the checks that follow."""

    field_flags = {"required": True}

    def __call__(self, form, field) -> None:
        if field.data is None:
            raise StopValidation(None if field.errors else _l("This field is required."))


filled = _Filled()


class _NumberField(WholeNumberField):
    def process_formdata(self, valuelist) -> None:
        if valuelist and not valuelist[0].strip():
            self.data = None  # an empty box is a missing number, not a malformed one
            return
        super().process_formdata(valuelist)


def number(label, minimum: int, maximum: int, *, needed: bool = True, **kwargs) -> _NumberField:
    return _NumberField(label, validators=[
        filled if needed else optional,
        NumberRange(minimum, maximum, _l("Enter a number between %(min)d and %(max)d."))], **kwargs)
