"""The exhibitor's forms: the plan's filters (a GET form), the booth application and the badges."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DecimalField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Regexp, ValidationError

from portal.booths.plan import FEATURES, BoothFilter
from portal.booths.services import Application
from portal.forms import (
    WholeNumberField,
    choices,
    email_field,
    length,
    optional,
    phone_field,
    required,
    tax_code_field,
)
from portal.payments.forms import PaymentChoiceField
from portal.uploads import STORED_NAME

FEATURE_LABELS = {"corner": _l("Corner booth"), "power": _l("Power"), "water": _l("Water")}


def not_negative(_form, field) -> None:
    # A value that is not a number already carries its own message.
    if field.data is not None and field.data < 0:
        raise ValidationError(_l("Enter 0 or more."))


class LocalDecimalField(DecimalField):
    """A DecimalField whose refusal speaks the user's language."""

    def process_formdata(self, valuelist) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(_l("Enter a number, like 9 or 12.5.")) from error


class PlanFilterForm(FlaskForm):
    """The plan's filters, read from the query string; empty fields do not filter."""

    class Meta:
        csrf = False

    zone = SelectField(_l("Zone"), validators=[optional], validate_choice=False)
    min_m2 = LocalDecimalField(_l("At least (m²)"), validators=[optional, not_negative])
    max_m2 = LocalDecimalField(_l("At most (m²)"), validators=[optional, not_negative])
    max_price = WholeNumberField(_l("Price up to (VND)"), validators=[optional, not_negative])
    corner = BooleanField(FEATURE_LABELS["corner"])
    power = BooleanField(FEATURE_LABELS["power"])
    water = BooleanField(FEATURE_LABELS["water"])
    only_available = BooleanField(_l("Only available booths"))

    def prepare(self, zones: list[str]) -> None:
        self.zones = set(zones)
        self.zone.choices = choices([("", _l("All zones")), *((zone, zone) for zone in zones)])

    def booth_filter(self) -> BoothFilter:
        """What the visitor asked for; a refused field (see validate) does not filter."""
        def number(field):
            return None if field.errors or field.data is None else field.data

        min_m2, max_m2 = number(self.min_m2), number(self.max_m2)
        return BoothFilter(
            zone=self.zone.data if self.zone.data in self.zones else "",
            min_m2=float(min_m2) if min_m2 is not None else None,
            max_m2=float(max_m2) if max_m2 is not None else None,
            max_price=number(self.max_price),
            features=frozenset(name for name in FEATURES if self[name].data),
            only_available=bool(self.only_available.data),
        )


class ApplicationForm(FlaskForm):
    """The booth application. A logo already checked on an earlier try travels in `logo_name`, so a refusal (a
    hold that ran out, a field to correct) never asks for it again."""

    company_name = StringField(_l("Company name"), validators=[required, length(200)],
                               render_kw={"autocomplete": "organization"})
    tax_code = tax_code_field(_l("Tax code"), required_here=True)
    products = TextAreaField(_l("Products and services you will show"), validators=[required, length(2000)])
    contact_name = StringField(_l("Contact person"), validators=[required, length(120)],
                               render_kw={"autocomplete": "name"})
    contact_email = email_field(_l("Contact e-mail"))
    contact_phone = phone_field(_l("Contact phone"), required_here=True)
    logo = FileField(_l("Company logo (optional)"), description=_l("PNG, JPEG or WebP, at most 1 MB."),
                     render_kw={"accept": "image/png,image/jpeg,image/webp"})
    logo_name = HiddenField(validators=[optional, Regexp(STORED_NAME.pattern + "$")])
    provider = PaymentChoiceField()

    TYPED = ("company_name", "tax_code", "products", "contact_name", "contact_email", "contact_phone")

    def has_typed(self) -> bool:
        """Whether the exhibitor has filled in anything yet (a booth chosen again from a refused application)."""
        return any((self[name].data or "").strip() for name in self.TYPED) or bool(self.logo_name.data)

    def application(self) -> Application:
        return Application(**{name: self[name].data or "" for name in self.TYPED}, logo=self.logo_name.data or None)


class BadgeForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[required, length(120)], render_kw={"autocomplete": "off"})
    email = email_field(_l("E-mail"))
