"""Forms organisers use to run an event: the event itself, its team, programme, tickets, quotas and questions."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, SelectMultipleField, TextAreaField
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal.events.labels import PROGRAMME_KIND_LABELS
from portal.events.models import Eligibility, EventStatus, ProgrammeKind, QuestionKind
from portal.events.options import offered
from portal.forms import (
    EndsAfter,
    HanoiDateTimeField,
    choices,
    email_field,
    filled,
    long_text,
    number,
    optional,
    required,
    text,
)


class ModelForm(FlaskForm):
    """A form whose fields of the same name are copied onto a model by the services."""

    model_fields: tuple[str, ...] = ()

    def model_data(self) -> dict:
        return {name: self[name].data for name in self.model_fields}

    def prepare(self, event) -> None:
        """Fills choices that depend on the event (none by default)."""


EVENT_STATUSES = [
    (EventStatus.DRAFT.value, _l("Draft")),
    (EventStatus.PUBLISHED.value, _l("Published")),
    (EventStatus.CLOSED.value, _l("Closed")),
]


class EventForm(ModelForm):
    model_fields = ("name_vi", "name_en", "description_vi", "description_en", "venue_vi", "venue_en", "starts_at",
                    "ends_at", "status", "pending_order_minutes", "waitlist_offer_hours", "attendee_change_deadline",
                    "payment_instructions_vi", "payment_instructions_en")

    name_vi = text(_l("Name (Vietnamese)"), 200)
    name_en = text(_l("Name (English)"), 200, description=_l("The event's web address is made from it."))
    description_vi = long_text(_l("Description (Vietnamese)"))
    description_en = long_text(_l("Description (English)"))
    venue_vi = text(_l("Venue (Vietnamese)"), 255, needed=False, default="")
    venue_en = text(_l("Venue (English)"), 255, needed=False, default="")
    starts_at = HanoiDateTimeField(_l("Starts (Hanoi time)"), validators=[filled])
    ends_at = HanoiDateTimeField(_l("Ends (Hanoi time)"), validators=[
        filled, EndsAfter("starts_at", _l("The end must come after the start."))])
    move_programme = BooleanField(_l("Move every programme item by as much as the start moves"))
    status = SelectField(_l("Status"), choices=choices(EVENT_STATUSES), validators=[required],
                         coerce=lambda value: EventStatus(value) if value else None,
                         description=_l("Only published events are shown to visitors and sell tickets."))
    pending_order_minutes = number(_l("Minutes an unpaid order keeps its seats"), 5, 60 * 24 * 30, default=3 * 24 * 60)
    waitlist_offer_hours = number(_l("Hours a waiting-list offer reserves its seat"), 1, 24 * 14, default=48)
    attendee_change_deadline = HanoiDateTimeField(
        _l("Attendee names can be changed until (Hanoi time)"), validators=[optional],
        description=_l("Leave empty to allow changes until the event starts."))
    payment_instructions_vi = long_text(
        _l("How to pay the organisers (Vietnamese)"),
        description=_l("Shown to buyers and exhibitors who choose to pay the organiser: your bank account, where "
                       "and when to pay in person, how to ask for an invoice."))
    payment_instructions_en = long_text(_l("How to pay the organisers (English)"))
    cover = FileField(_l("Cover image"), description=_l("PNG, JPEG or WebP, at most 2 MB."),
                      render_kw={"accept": "image/png,image/jpeg,image/webp"})
    remove_cover = BooleanField(_l("Remove the cover image"))

    def prepare(self, event) -> None:
        """Offers to move the programme and to remove the cover only when the event has them."""
        if event is None or not event.programme:
            del self.move_programme
        if event is None or not event.cover_image:
            del self.remove_cover

    def ticked(self, name: str) -> bool:
        return name in self and bool(self[name].data)


class TeamMemberForm(FlaskForm):
    email = email_field(_l("Organiser's e-mail"))


PROGRAMME_KINDS = [(kind.value, label) for kind, label in PROGRAMME_KIND_LABELS.items()]


class ProgrammeItemForm(ModelForm):
    model_fields = ("kind", "title_vi", "title_en", "stage", "stage_en", "speakers", "starts_at", "ends_at")

    kind = SelectField(_l("Kind"), choices=choices(PROGRAMME_KINDS), validators=[required],
                       coerce=lambda value: ProgrammeKind(value) if value else None)
    title_vi = text(_l("Title (Vietnamese)"), 200)
    title_en = text(_l("Title (English)"), 200)
    stage = text(_l("Stage or room (Vietnamese)"), 80, needed=False, default="")
    stage_en = text(_l("Stage or room (English)"), 80, needed=False, default="",
                    description=_l("Left empty, English pages show the Vietnamese name."))
    speakers = text(_l("Speakers"), 500, needed=False, default="", description=_l("Names separated by commas."))
    starts_at = HanoiDateTimeField(_l("Starts (Hanoi time)"), validators=[filled])
    ends_at = HanoiDateTimeField(_l("Ends (Hanoi time)"), validators=[
        filled, EndsAfter("starts_at", _l("The end must come after the start."))])


ELIGIBILITIES = [
    (Eligibility.ANYONE.value, _l("Anyone")),
    (Eligibility.STARTUP.value, _l("Members of a startup")),
    (Eligibility.APPROVAL.value, _l("Anyone, after an organiser approves the order")),
]


class TicketTypeForm(ModelForm):
    model_fields = ("name_vi", "name_en", "description_vi", "description_en", "price", "sale_starts_at",
                    "sale_ends_at", "max_per_order", "eligibility", "position")

    name_vi = text(_l("Name (Vietnamese)"), 120)
    name_en = text(_l("Name (English)"), 120)
    description_vi = long_text(_l("Description (Vietnamese)"))
    description_en = long_text(_l("Description (English)"))
    price = number(_l("Price (VND)"), 0, 1_000_000_000, default=0, description=_l("0 makes a free ticket."))
    sale_starts_at = HanoiDateTimeField(_l("Sale starts (Hanoi time)"), validators=[optional],
                                        description=_l("Leave empty to sell at once."))
    sale_ends_at = HanoiDateTimeField(_l("Sale ends (Hanoi time)"), validators=[
        optional, EndsAfter("sale_starts_at", _l("The sale must end after it starts."))],
        description=_l("Leave empty to sell until the event ends."))
    max_per_order = number(_l("Most tickets of this type in one order"), 1, 100, default=10)
    eligibility = SelectField(_l("Who may buy it"), choices=choices(ELIGIBILITIES), validators=[required],
                              coerce=lambda value: Eligibility(value) if value else None)
    position = number(_l("Position in the list"), 0, 1000, default=0)


class TicketTypeChoices(SelectMultipleField):
    """Checkboxes for the event's ticket types; reads a quota's types as their ids."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def process_data(self, value) -> None:
        super().process_data([getattr(item, "id", item) for item in value or ()])

    def pre_validate(self, form) -> None:
        """The services refuse ids of other events' ticket types, in the user's language."""


class QuotaForm(ModelForm):
    model_fields = ("name", "name_en", "size", "ticket_types")

    name = text(_l("Name (Vietnamese)"), 120, description=_l("For example: Ngày 1, Hội trường chính."))
    name_en = text(_l("Name (English)"), 120, needed=False, default="",
                   description=_l("For example: Day 1, Main hall. Left empty, English pages show the Vietnamese "
                                  "name."))
    size = number(_l("Seats"), 0, 1_000_000)
    ticket_types = TicketTypeChoices(_l("Ticket types it covers"), coerce=int, choices=[],
                                     description=_l("A ticket type may count against several quotas."))

    def prepare(self, event) -> None:
        self.ticket_types.choices = [(t.id, f"{t.name_vi} / {t.name_en}") for t in event.ticket_types]


class OptionsField(TextAreaField):
    """Choice options typed one per line as "Vietnamese | English"; its data is [{"vi": …, "en": …}, …].

    It shows the options still offered; the services match the lines typed to the options' keys (options.py)."""

    def process_data(self, value) -> None:
        self.data = list(value or [])

    def process_formdata(self, valuelist) -> None:
        options = []
        for line in (valuelist[0] if valuelist else "").splitlines():
            if not line.strip():
                continue
            vi, separator, en = line.partition("|")
            if not separator or not vi.strip() or not en.strip():
                self.data = []
                raise ValueError(_l('Write each option as "Vietnamese | English" on its own line.'))
            options.append({"vi": vi.strip()[:200], "en": en.strip()[:200]})
        self.data = options

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "\n".join(f"{option['vi']} | {option['en']}" for option in offered(self.data or []))


QUESTION_KINDS = [
    (QuestionKind.TEXT.value, _l("Text")),
    (QuestionKind.CHOICE.value, _l("Choice of options")),
    (QuestionKind.CHECKBOX.value, _l("Checkbox")),
]


class QuestionForm(ModelForm):
    model_fields = ("label_vi", "label_en", "kind", "options", "required", "position")

    label_vi = text(_l("Question (Vietnamese)"), 255)
    label_en = text(_l("Question (English)"), 255)
    kind = SelectField(_l("Kind of answer"), choices=choices(QUESTION_KINDS), validators=[required],
                       coerce=lambda value: QuestionKind(value) if value else None)
    options = OptionsField(_l("Options (for a choice)"),
                           description=_l('One per line, as "Vietnamese | English", e.g. "Sinh viên | Student". '
                                          'An option removed after people chose it still shows in their answers.'))
    required = BooleanField(_l("An answer is required"))
    position = number(_l("Position in the form"), 0, 1000, default=0)

    def validate_options(self, field) -> None:
        if self.kind.data is QuestionKind.CHOICE and not field.data and not field.errors:
            raise ValidationError(_l("A choice question needs at least one option."))
