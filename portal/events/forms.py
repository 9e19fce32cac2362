"""The buyer's forms: attendee details with the event's own questions, a payment choice, ticket changes."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, Form, FormField, HiddenField, SelectField, StringField
from wtforms.validators import AnyOf

from portal.events.models import Event, Question, QuestionKind
from portal.events.options import localized_option, offered
from portal.forms import choices, email_field, length, optional, required
from portal.i18n import localized
from portal.payments.forms import NOT_OFFERED, PaymentChoiceField
from portal.payments.providers import FREE


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


def _question_field(question: Question):
    label = localized(question, "label")
    if question.kind is QuestionKind.CHECKBOX:
        return BooleanField(label, validators=[required] if question.required else [])
    presence = required if question.required else optional
    if question.kind is QuestionKind.CHOICE:
        options = offered(question.options)
        # AnyOf rather than SelectField's own check, whose message exists in English only.
        return SelectField(
            label, validate_choice=False,
            validators=[presence, AnyOf([option["key"] for option in options], message=NOT_OFFERED)],
            choices=choices([("", _l("— choose —"))]
                            + [(option["key"], localized_option(option)) for option in options]),
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
    """Step 2 of registration: one block per ticket, then how to pay, unless every ticket type is free (no
    question to answer, and no look-up of the providers on offer)."""

    class RegistrationForm(FlaskForm):
        attendees = FieldList(FormField(attendee_form_class(event)), max_entries=100)

    if any(ticket_type.price for ticket_type in event.ticket_types):
        RegistrationForm.provider = PaymentChoiceField()
    return RegistrationForm(**kwargs)


def chosen_provider(form: FlaskForm) -> str:
    """The provider the buyer chose, or the free one when the form did not ask (every ticket free)."""
    return form.provider.data if "provider" in form else FREE.key


def offer_form(event: Event, *, paid: bool, **kwargs) -> FlaskForm:
    """A waiting-list offer: the attendee of the one ticket it reserves, with the event's questions, and how to pay
    when the ticket is not free."""

    class OfferForm(FlaskForm):
        attendee = FormField(attendee_form_class(event))

    if paid:
        OfferForm.provider = PaymentChoiceField()
    return OfferForm(**kwargs)


class AttendeeChangeForm(FlaskForm, _AttendeeDetails):
    pass


