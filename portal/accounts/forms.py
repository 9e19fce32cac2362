from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, EqualTo, NumberRange, ValidationError

from portal.accounts.models import OrganisationKind, Role, StartupStage
from portal.accounts.services import password_problem
from portal.forms import (
    LocalDateField,
    WholeNumberField,
    choices,
    email_field,
    length,
    optional,
    phone_field,
    required,
    tax_code_field,
)
from portal.i18n import LOCALE_NAMES


class StrongPassword:
    """Refuses short and common passwords, naming the reason."""

    def __call__(self, form, field) -> None:
        email = form.email.data if hasattr(form, "email") and form.email.data else ""
        problem = password_problem(field.data or "", email=email)
        if problem:
            raise ValidationError(problem)


def _new_password_fields():
    password = PasswordField(_l("Password"), validators=[required, StrongPassword()],
                             render_kw={"autocomplete": "new-password", "minlength": 10},
                             description=_l("At least 10 characters; not a common password."))
    confirm = PasswordField(_l("Repeat the password"), validators=[
        required, EqualTo("password", message=_l("The two passwords do not match."))],
        render_kw={"autocomplete": "new-password"})
    return password, confirm


def locale_field():
    options = [SelectChoice(code, name, {"lang": code}) for code, name in LOCALE_NAMES.items()]
    return SelectField(_l("Language"), choices=options, validators=[required])


class SignupForm(FlaskForm):
    full_name = StringField(_l("Full name"), validators=[required, length(120)],
                            render_kw={"autocomplete": "name"})
    email = email_field(_l("E-mail"))
    password, confirm = _new_password_fields()
    startup_name = StringField(_l("Startup name (optional)"), validators=[optional, length(200)],
                               description=_l("If you represent a startup, we create its profile for you."))
    locale = locale_field()
    consent_account = BooleanField(validators=[required])
    consent_newsletter = BooleanField()
    consent_analytics = BooleanField()

    def consent_decisions(self) -> dict[str, bool]:
        return {
            "account": self.consent_account.data,
            "newsletter": self.consent_newsletter.data,
            "analytics": self.consent_analytics.data,
        }


class LoginForm(FlaskForm):
    email = email_field(_l("E-mail"))
    password = PasswordField(_l("Password"), validators=[required], render_kw={"autocomplete": "current-password"})
    remember = BooleanField(_l("Remember me on this device"))


class EmailOnlyForm(FlaskForm):
    email = email_field(_l("E-mail"))


class ResetPasswordForm(FlaskForm):
    password, confirm = _new_password_fields()


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[required],
                                     render_kw={"autocomplete": "current-password"})
    password, confirm = _new_password_fields()


class ChangeEmailForm(FlaskForm):
    email = email_field(_l("New e-mail"))
    current_password = PasswordField(_l("Current password"), validators=[required],
                                     render_kw={"autocomplete": "current-password"})


class ProfileForm(FlaskForm):
    full_name = StringField(_l("Full name"), validators=[required, length(120)], render_kw={"autocomplete": "name"})
    phone = phone_field(_l("Phone"), required_here=False)
    locale = locale_field()


class ConsentForm(FlaskForm):
    purpose = HiddenField(validators=[required])
    granted = HiddenField(validators=[required])


ORGANISATION_KINDS = [
    (OrganisationKind.STARTUP.value, _l("Startup")),
    (OrganisationKind.COMPANY.value, _l("Company")),
    (OrganisationKind.UNIVERSITY.value, _l("University or institute")),
    (OrganisationKind.OTHER.value, _l("Other organisation")),
]
STARTUP_STAGES = [
    (StartupStage.IDEA.value, _l("Idea")),
    (StartupStage.PROTOTYPE.value, _l("Prototype")),
    (StartupStage.MVP.value, _l("Minimum viable product")),
    (StartupStage.EARLY_REVENUE.value, _l("Early revenue")),
    (StartupStage.GROWTH.value, _l("Growth")),
]
ROLE_LABELS = {
    Role.STARTUP: _l("Startup member"),
    Role.MENTOR: _l("Mentor"),
    Role.ORGANISER: _l("Organiser"),
    Role.INCUBATOR_MANAGER: _l("Incubator manager"),
    Role.REVIEWER: _l("Reviewer"),
    Role.ADMIN: _l("Administrator"),
}


class NewOrganisationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[required, length(200)])
    kind = SelectField(_l("Kind"), choices=choices(ORGANISATION_KINDS), validators=[required])
    website = URLField(_l("Website"), validators=[optional, length(255),
                                                  URL(message=_l("Enter a full web address, like https://example.vn."))])


class OrganisationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[required, length(200)])
    website = URLField(_l("Website"), validators=[optional, length(255),
                                                  URL(message=_l("Enter a full web address, like https://example.vn."))])
    tax_code = tax_code_field(_l("Tax code (printed on receipts)"), required_here=False)


class StartupProfileForm(OrganisationForm):
    sector = StringField(_l("Sector"), validators=[optional, length(80)])
    stage = SelectField(_l("Stage"), choices=choices(STARTUP_STAGES), validators=[required])
    founded_on = LocalDateField(_l("Founding date"), validators=[optional])
    team_size = WholeNumberField(_l("Team size"), validators=[
        optional, NumberRange(min=1, max=100000, message=_l("Enter a number between 1 and 100000."))])
    description_vi = TextAreaField(_l("Short description (Vietnamese)"), validators=[optional, length(2000)])
    description_en = TextAreaField(_l("Short description (English)"), validators=[optional, length(2000)])


class InviteMemberForm(FlaskForm):
    email = email_field(_l("E-mail address of the person to invite"))
