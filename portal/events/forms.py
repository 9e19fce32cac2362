"""The buyer's forms: attendee details with the event's own questions, a payment choice, ticket changes."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, Form, FormField, HiddenField, RadioField, SelectField, StringField
from wtforms.validators import AnyOf

from portal.events.models import Event, Question, QuestionKind
from portal.forms import choices, email_field, length, optional, required
from portal.i18n import current_locale, localized
from portal.payments.providers import buyer_providers

NOT_OFFERED = _l("Choose one of the offered answers.")


class _AttendeeDetails:
    name = StringField(_l("Attendee's full name"), validators=[required, length(120)],
                       render_kw={"autocomplete": "name"})
    email = email_field(_l("Attendee's e-mail"))
    organisation = StringField(_l("Organisation"), validators=[optional, length(200)],
                               render_kw={"autocomplete": "organization"})


class AttendeeFields(Form, _AttendeeDetails):
    """One ticket's attendee; attendee_form_class() adds the ticket type and the event's questions (q<id>)."""

    question_ids: tuple[int, ...] = ()

    def question_fields(self) -> list:
        return [self[f"q{question_id}"] for question_id in self.question_ids]

    def answers(self) -> dict[int, object]:
        return {question_id: self[f"q{question_id}"].data for question_id in self.question_ids}


def localized_option(option: dict) -> str:
    """A choice question's option, {"vi": …, "en": …}, in the reader's language."""
    return option.get(current_locale()) or option.get("vi") or option.get("en") or ""


def _question_field(question: Question):
    label = localized(question, "label")
    if question.kind is QuestionKind.CHECKBOX:
        return BooleanField(label, validators=[required] if question.required else [])
    presence = required if question.required else optional
    if question.kind is QuestionKind.CHOICE:
        offered = [str(index) for index in range(len(question.options))]
        # AnyOf rather than SelectField's own check, whose message exists in English only.
        return SelectField(
            label, validate_choice=False, validators=[presence, AnyOf(offered, message=NOT_OFFERED)],
            choices=choices([("", _l("— choose —"))]
                            + [(value, localized_option(option))
                               for value, option in zip(offered, question.options, strict=True)]),
        )
    return StringField(label, validators=[presence, length(2000)])


def attendee_form_class(event: Event) -> type[AttendeeFields]:
    type_ids = [str(t.id) for t in event.ticket_types]
    fields = {
        "question_ids": tuple(q.id for q in event.questions),
        "ticket_type_id": HiddenField(validators=[
            AnyOf(type_ids, message=_l("This ticket type does not exist for this event."))]),
    }
    fields.update({f"q{q.id}": _question_field(q) for q in event.questions})
    return type("EventAttendeeFields", (AttendeeFields,), fields)


def registration_form(event: Event, **kwargs) -> FlaskForm:
    """Step 2 of registration: one block per ticket, then how to pay (ignored when the order is free)."""
    providers = buyer_providers()

    class RegistrationForm(FlaskForm):
        attendees = FieldList(FormField(attendee_form_class(event)), max_entries=100)
        provider = RadioField(
            _l("How will you pay?"), default=providers[0].key, validate_choice=False,
            choices=choices([(p.key, p.label) for p in providers]),
            validators=[AnyOf([p.key for p in providers], message=NOT_OFFERED)],
        )

    return RegistrationForm(**kwargs)


class AttendeeChangeForm(FlaskForm, _AttendeeDetails):
    pass


