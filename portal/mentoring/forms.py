"""Forms of the mentoring pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.forms import choices, length, long_text, number, text
from portal.mentoring.taxonomy import FUNCTIONS, LANGUAGES


class Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class NeedsForm(FlaskForm):
    sector = SelectField(_l("Sector"), validators=[Optional()])
    stage = SelectField(_l("Stage"), choices=choices([
        ("idea", _l("Idea")), ("prototype", _l("Prototype")), ("mvp", _l("First product")),
        ("early_revenue", _l("First revenue")), ("growth", _l("Growth"))]))
    functions = Checkboxes(_l("What do you need help with?"), choices=choices(FUNCTIONS.items()))
    languages = Checkboxes(_l("Languages your team works in"), choices=choices(LANGUAGES.items()))
    notes = TextAreaField(_l("Anything else a mentor should know"), validators=[Length(max=2000)])


class BookingForm(FlaskForm):
    organisation_id = SelectField(_l("Book for"), coerce=int, validators=[InputRequired()])
    slot = HiddenField(validators=[InputRequired()])
    length = SelectField(_l("Length"), coerce=int)
    topic = StringField(_l("What would you like to discuss?"), validators=[Optional(), Length(max=300)])


class RescheduleForm(FlaskForm):
    slot = HiddenField(validators=[InputRequired()])


class FeedbackForm(FlaskForm):
    rating = SelectField(_l("How useful was the session?"), coerce=int, choices=choices([
        (5, _l("5 — very useful")), (4, "4"), (3, "3"), (2, "2"), (1, _l("1 — not useful"))]))
    notes = TextAreaField(_l("Notes"), validators=[Length(max=2000)])
    for_managers_only = BooleanField(_l("Only the programme's managers may read my notes"))


class ProfileForm(FlaskForm):
    headline_vi = text(_l("Headline (Vietnamese)"), 200)
    headline_en = text(_l("Headline (English)"), 200, needed=False)
    bio_vi = long_text(_l("About you (Vietnamese)"))
    bio_en = long_text(_l("About you (English)"))
    organisation_name = text(_l("Organisation"), 200, needed=False)
    photo = FileField(_l("Photo"), description=_l("PNG, JPEG or WebP, at most 2 MB. Startups see it in the directory."),
                      render_kw={"accept": "image/png,image/jpeg,image/webp"})
    remove_photo = BooleanField(_l("Remove the photo"))
    sectors = Checkboxes(_l("Sectors you know"), choices=[])
    functions = Checkboxes(_l("Expertise"), choices=choices(FUNCTIONS.items()))
    languages = Checkboxes(_l("Languages"), choices=choices(LANGUAGES.items()))
    timezone = text(_l("Your time zone"), 64, description=_l("For example Asia/Ho_Chi_Minh, Europe/Berlin."))
    location = text(_l("Meeting link or place"), 300, needed=False)
    session_length = SelectField(_l("Session length"), coerce=int, choices=choices([
        (30, _l("30 minutes")), (45, _l("45 minutes")), (60, _l("1 hour")), (90, _l("1 hour 30"))]))
    buffer_minutes = number(_l("Minutes between sessions"), 0, 120)
    minimum_notice_hours = number(_l("Hours of notice before a session"), 0, 336)
    sessions_per_day = number(_l("Most sessions a day"), 0, 20)
    sessions_per_week = number(_l("Most sessions a week"), 0, 60)
    mentee_capacity = number(_l("Startups you follow at a time"), 0, 50)
    confirms_automatically = BooleanField(_l("Confirm bookings at once (otherwise I accept each request)"))
    visible = BooleanField(_l("Show me in the mentor directory"))


class HoursForm(FlaskForm):
    """Weekly hours, one line a stretch: 'Mon 09:00-12:00'; date overrides: '2027-01-05 off' or
    '2027-01-12 14:00-16:00'."""

    weekly = TextAreaField(_l("Weekly hours"), validators=[Length(max=2000)], render_kw={"rows": 7}, description=_l(
        "One stretch a line, in your time zone, for example: Mon 09:00-12:00"))
    overrides = TextAreaField(_l("Days that differ"), validators=[Length(max=4000)], render_kw={"rows": 5},
                              description=_l("One day a line: 2027-01-05 off, or 2027-01-12 14:00-16:00"))


class WeightsForm(FlaskForm):
    sector = number(_l("Same sector"), 0, 100)
    function = number(_l("Each need the mentor covers"), 0, 100)
    language = number(_l("A language in common"), 0, 100)
    availability = number(_l("Free this week"), 0, 100)


class MatchForm(FlaskForm):
    cohort_id = SelectField(_l("Startups to match"), coerce=int)
    per_startup = number(_l("Mentors per startup"), 1, 5, default=1)


class InviteMentorForm(FlaskForm):
    email = StringField(_l("Mentor's e-mail"), validators=[InputRequired(), length(254)])
