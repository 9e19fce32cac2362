"""Forms of the incubation pages. A section of a call's form becomes a WTForms form built from its fields; it
checks only its CSRF token, because a draft keeps whatever was typed (portal/incubation/form.py checks answers)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms import Form as PlainForm
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.forms import (
    EndsAfter,
    HanoiDateTimeField,
    LocalDateField,
    WholeNumberField,
    choices,
    filled,
    long_text,
    number,
    text,
)
from portal.i18n import current_locale, localized
from portal.incubation.form import MAX_TEAM_ROWS
from portal.incubation.models import CallStatus, Decision, FieldKind, FormSection, Stage

#: a form field's name on the page: the question's key, apart from the form's own fields
ANSWER_PREFIX = "q_"


class TeamRow(PlainForm):
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    role = StringField(_l("Role"), validators=[Optional(), Length(max=200)])
    email = StringField(_l("E-mail"), validators=[Optional(), Length(max=200)])


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _choices(field, chosen) -> list[tuple[str, str]]:
    """Options offered, plus a retired one still chosen by this applicant (so their answer shows as it is)."""
    chosen = set(chosen if isinstance(chosen, list) else [chosen] if chosen else [])
    return [(o["key"], localized_option(o)) for o in field.options if not o.get("retired") or o["key"] in chosen]


def localized_option(option: dict) -> str:
    return option.get(f"label_{current_locale()}") or option.get("label_vi") or option["key"]


def section_form(section: FormSection, answers: dict[int, object], formdata=None) -> FlaskForm:
    """The section's questions as a form filled with the stored draft (or with what was just posted)."""
    attributes = {"base_version": HiddenField()}
    for field in section.fields:
        if field.kind == FieldKind.FILE:
            continue
        label, help_text = localized(field, "label"), localized(field, "help")
        name = ANSWER_PREFIX + field.key
        value = answers.get(field.id)
        if field.kind == FieldKind.LONG_TEXT:
            attributes[name] = TextAreaField(label, description=help_text, render_kw={
                "rows": 8, **({"data-word-limit": field.word_limit} if field.word_limit else {})})
        elif field.kind == FieldKind.SINGLE_CHOICE:
            attributes[name] = RadioField(label, description=help_text, choices=choices(_choices(field, value)),
                                          validate_choice=False)
        elif field.kind == FieldKind.MULTIPLE_CHOICE:
            attributes[name] = CheckboxesField(label, description=help_text, choices=choices(_choices(field, value)),
                                               validate_choice=False)
        elif field.kind == FieldKind.TEAM:
            rows = len(value or []) + 1
            attributes[name] = FieldList(FormField(TeamRow), label=label, description=help_text,
                                         min_entries=min(rows, MAX_TEAM_ROWS), max_entries=MAX_TEAM_ROWS)
        else:
            render_kw = {"date": {"type": "date"}, "number": {"inputmode": "numeric"},
                         "url": {"inputmode": "url", "autocomplete": "url"}}.get(field.kind.value, {})
            attributes[name] = StringField(label, description=help_text, render_kw=render_kw)
    form_class = type("SectionForm", (FlaskForm,), attributes)
    if formdata is not None:
        return form_class(formdata=formdata)
    data = {ANSWER_PREFIX + f.key: answers.get(f.id) for f in section.fields if f.id in answers}
    return form_class(data=data)


def posted_values(form: FlaskForm, section: FormSection) -> dict:
    """question key → what was typed, in the shape the service stores."""
    values = {}
    for field in section.fields:
        name = ANSWER_PREFIX + field.key
        if name in form:
            values[field.key] = form[name].data
    return values


class ApplyForm(FlaskForm):
    organisation_id = SelectField(_l("Apply as"), coerce=int, validators=[InputRequired()])


class UploadForm(FlaskForm):
    file = FileField(_l("File (PDF, PNG or JPEG)"), validators=[FileRequired(_l("Choose a file to upload."))])


class ScoreFormBase(FlaskForm):
    comment_for_startup = TextAreaField(_l("Comment for the startup"), validators=[Length(max=5000)],
                                        description=_l("The startup reads this with the decision, without your name."))
    comment_for_committee = TextAreaField(_l("Comment for the committee"), validators=[Length(max=5000)],
                                          description=_l("Only the managers and the council read this."))


def score_form(criteria, review=None, formdata=None) -> FlaskForm:
    attributes = {}
    for criterion in criteria:
        attributes[criterion.key] = StringField(
            _l("%(name)s (weight %(weight)d, 1–%(max)d)", name=localized(criterion, "name"), weight=criterion.weight,
               max=criterion.scale_max),
            render_kw={"inputmode": "numeric", "pattern": "[0-9]*", "maxlength": 3})
    form_class = type("ScoreForm", (ScoreFormBase,), attributes)
    if formdata is not None:
        return form_class(formdata=formdata)
    data = {}
    if review is not None:
        by_id = {s.criterion_id: s.value for s in review.scores}
        data = {c.key: by_id.get(c.id) for c in criteria}
        data.update(comment_for_startup=review.comment_for_startup,
                    comment_for_committee=review.comment_for_committee)
    return form_class(data=data)


class ConflictForm(FlaskForm):
    organisation_id = SelectField(_l("Startup"), coerce=int, validators=[InputRequired()])
    reason = SelectField(_l("Reason"), choices=choices([("knows_founder", _l("I know a founder")),
                                                        ("own_organisation", _l("I work with or for this startup")),
                                                        ("other", _l("Another reason"))]))


class DecisionForm(FlaskForm):
    decision = SelectField(_l("Decision"), choices=choices([
        (Decision.ACCEPT.value, _l("Accept")), (Decision.WAITLIST.value, _l("Waiting list")),
        (Decision.PRE_INCUBATION.value, _l("Pre-incubation")), (Decision.REJECT.value, _l("Reject"))]))
    feedback = TextAreaField(_l("Feedback for the startup"), validators=[Length(max=5000)])


STAGE_LABELS = {
    Stage.ELIGIBILITY: _l("Eligibility"),
    Stage.DOSSIER: _l("Dossier review"),
    Stage.CALIBRATION: _l("Calibration"),
    Stage.PITCH: _l("Pitch"),
    Stage.COUNCIL: _l("Council decision"),
    Stage.DECIDED: _l("Decided"),
}


class MoveForm(FlaskForm):
    stage = SelectField(_l("Move the selected applications to"),
                        choices=choices([(s.value, STAGE_LABELS[s]) for s in Stage if s != Stage.DECIDED]))
    application_ids = SelectMultipleField(_l("Applications"), coerce=int, validate_choice=False)


class InviteReviewerForm(FlaskForm):
    email = StringField(_l("Reviewer's e-mail"), validators=[InputRequired(), Length(max=254)])
    cap = IntegerField(_l("Most applications"), validators=[Optional(), NumberRange(min=0, max=500)])
    expertise = StringField(
        _l("Expertise"), validators=[Optional(), Length(max=500)],
        description=_l("Sectors with a level from 1 to 5, for example: agritech 5, fintech 3."))


# --- managers' forms ----------------------------------------------------------------------------------------------

class CallForm(FlaskForm):
    programme_id = SelectField(_l("Programme"), coerce=int, validators=[InputRequired()])
    title_vi = text(_l("Title (Vietnamese)"), 200)
    title_en = text(_l("Title (English)"), 200)
    slug = text(_l("Address"), 80, description=_l("Shown in the call's link, for example uom-tao-2027-dot-1."))
    description_vi = long_text(_l("Description (Vietnamese)"))
    description_en = long_text(_l("Description (English)"))
    opens_at = HanoiDateTimeField(_l("Opens (Hanoi time)"), validators=[filled])
    closes_at = HanoiDateTimeField(_l("Deadline (Hanoi time)"), validators=[
        filled, EndsAfter("opens_at", _l("The deadline must come after the opening."))])
    reviews_close_at = HanoiDateTimeField(_l("Reviews due (Hanoi time)"), validators=[
        Optional(), EndsAfter("closes_at", _l("Reviews are due after the call closes."))],
        description=_l("Reviewers with unfinished reviews are reminded before it."))
    status = SelectField(_l("Status"), choices=choices([(CallStatus.DRAFT.value, _l("Draft (not public)")),
                                                        (CallStatus.OPEN.value, _l("Open")),
                                                        (CallStatus.CLOSED.value, _l("Closed"))]))
    capacity = WholeNumberField(_l("Places"), validators=[Optional(), NumberRange(1, 10_000)])
    reviewers_per_application = number(_l("Reviewers per application"), 1, 20, default=3)
    reviewer_cap = number(_l("Most applications per reviewer"), 1, 10_000, default=15)
    max_age_years = WholeNumberField(_l("Founded less than this many years ago"),
                                     validators=[Optional(), NumberRange(1, 100)])
    in_hanoi = BooleanField(_l("Registered in Hanoi"))
    sectors = CheckboxesField(_l("Sectors (none ticked: every sector)"), choices=[])
    team_min = WholeNumberField(_l("Smallest founding team"), validators=[Optional(), NumberRange(1, 100)])
    team_max = WholeNumberField(_l("Largest founding team"), validators=[Optional(), NumberRange(1, 100)])

    RULES = ("max_age_years", "in_hanoi", "sectors", "team_min", "team_max")

    def call_data(self) -> dict:
        return {name: self[name].data for name in (
            "programme_id", "slug", "title_vi", "title_en", "description_vi", "description_en", "opens_at",
            "closes_at", "reviews_close_at", "capacity", "reviewers_per_application", "reviewer_cap")} | {
            "status": CallStatus(self.status.data)}

    def rules(self) -> dict:
        return {name: self[name].data for name in self.RULES}


class SectionEditForm(FlaskForm):
    title_vi = text(_l("Title (Vietnamese)"), 200)
    title_en = text(_l("Title (English)"), 200, needed=False)
    help_vi = long_text(_l("Help (Vietnamese)"))
    help_en = long_text(_l("Help (English)"))


FIELD_KIND_LABELS = {
    FieldKind.SHORT_TEXT: _l("Short text"), FieldKind.LONG_TEXT: _l("Long text"), FieldKind.NUMBER: _l("Number"),
    FieldKind.DATE: _l("Date"), FieldKind.SINGLE_CHOICE: _l("One choice"),
    FieldKind.MULTIPLE_CHOICE: _l("Several choices"), FieldKind.URL: _l("Web address"), FieldKind.FILE: _l("File"),
    FieldKind.TEAM: _l("Founders' table"),
}


class FieldEditForm(FlaskForm):
    key = text(_l("Key"), 60, needed=False, description=_l(
        "A short name for exports and eligibility rules, for example sector. It cannot change later."))
    kind = SelectField(_l("Kind"), choices=choices([(k.value, label) for k, label in FIELD_KIND_LABELS.items()]))
    label_vi = text(_l("Question (Vietnamese)"), 300)
    label_en = text(_l("Question (English)"), 300, needed=False)
    help_vi = long_text(_l("Help (Vietnamese)"))
    help_en = long_text(_l("Help (English)"))
    required = BooleanField(_l("An answer is required"))
    word_limit = WholeNumberField(_l("Word limit (long text)"), validators=[Optional(), NumberRange(1, 5000)])
    max_file_mb = WholeNumberField(_l("Largest file in MB (file)"), validators=[Optional(), NumberRange(1, 10)])
    min_value = WholeNumberField(_l("Smallest number (number)"), validators=[Optional()])
    max_value = WholeNumberField(_l("Largest number (number)"), validators=[Optional()])
    options_text = TextAreaField(_l("Options (choices)"), validators=[Length(max=10_000)], description=_l(
        "One option a line, as 'Vietnamese | English'. Keep the key before ':' on existing options; start a line "
        "with '-' to retire an option without losing the answers that chose it."), render_kw={"rows": 6})


class CohortForm(FlaskForm):
    name = text(_l("Name of the cohort"), 200)
    starts_on = LocalDateField(_l("Starts on"), validators=[InputRequired()])
    ends_on = LocalDateField(_l("Ends on"), validators=[InputRequired()])


class MilestoneForm(FlaskForm):
    title_vi = text(_l("Milestone (Vietnamese)"), 200)
    title_en = text(_l("Milestone (English)"), 200, needed=False)
    due_on = LocalDateField(_l("Due on"), validators=[InputRequired()])


class KpiForm(FlaskForm):
    period = SelectField(_l("Month"), validators=[InputRequired()])
    revenue_vnd = number(_l("Revenue in the month (VND)"), 0, 10**15 - 1, default=0)
    employees = number(_l("Employees at the end of the month"), 0, 1_000_000, default=0)
    funding_vnd = number(_l("Funding raised in the month (VND)"), 0, 10**15 - 1, default=0)
    ip_filed = number(_l("IP applications filed in the month"), 0, 10_000, default=0)
    products_launched = number(_l("Products launched in the month"), 0, 10_000, default=0)
