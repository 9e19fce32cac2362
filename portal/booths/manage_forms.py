"""Forms organisers use for booth sales: the hall, its booths, the sale's rules, priority windows and the
decisions on applications."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, FloatField, HiddenField, SelectField, SelectMultipleField, TextAreaField
from wtforms.validators import NumberRange
from wtforms.widgets import CheckboxInput, ListWidget

from portal.booths.setup import MAX_PLAN_UNITS, ZONE_MAX_CHARS, BoothInput
from portal.forms import EndsAfter, HanoiDateTimeField, filled, length, long_text, optional, required, text
from portal.forms import number as whole_number

#: an Integer column on PostgreSQL: 2,147,483,647 is the most it holds
MAX_PRICE = 2_000_000_000


class DecimalNumberField(FloatField):
    """A number that may have decimals (2.5 m²); an empty box is a missing number, and a refusal speaks the
    user's language."""

    def process_formdata(self, valuelist) -> None:
        if valuelist and not valuelist[0].strip():
            self.data = None
            return
        if valuelist:
            valuelist = [valuelist[0].replace(",", ".")]  # Vietnamese writes 2,5
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(_l("Enter a number, like 2.5.")) from error


def decimal(label, minimum: float, maximum: float, *, needed: bool = True, **kwargs) -> DecimalNumberField:
    return DecimalNumberField(label, validators=[
        filled if needed else optional,
        NumberRange(minimum, maximum, _l("Enter a number between %(min)s and %(max)s."))], **kwargs)


class FloorPlanForm(FlaskForm):
    width = whole_number(_l("Hall width (grid units)"), 1, MAX_PLAN_UNITS)
    height = whole_number(_l("Hall depth (grid units)"), 1, MAX_PLAN_UNITS)
    grid_size = whole_number(_l("Pixels per grid unit on screen"), 4, 100)
    metres_per_unit = decimal(_l("Metres per grid unit"), 0.1, 100)
    background = FileField(_l("Drawing of the hall"), description=_l("PNG, JPEG or SVG, at most 5 MB."),
                           render_kw={"accept": "image/png,image/jpeg,image/svg+xml"})


class BoothForm(FlaskForm):
    number = text(_l("Booth number"), 12, description=_l("Letters and digits joined by hyphens, like A-01."))
    zone = text(_l("Zone"), ZONE_MAX_CHARS, needed=False, default="",
                description=_l("At most %(count)d characters.", count=ZONE_MAX_CHARS))
    x = whole_number(_l("Left edge (grid units from the left wall)"), 0, MAX_PLAN_UNITS, default=0)
    y = whole_number(_l("Top edge (grid units from the top wall)"), 0, MAX_PLAN_UNITS, default=0)
    w = whole_number(_l("Width (grid units)"), 1, MAX_PLAN_UNITS, default=3)
    h = whole_number(_l("Depth (grid units)"), 1, MAX_PLAN_UNITS, default=3)
    size_m2 = decimal(_l("Size (m²)"), 0.1, 100_000, needed=False,
                      description=_l("Leave empty to use the area it covers on the plan."))
    price = whole_number(_l("Price (VND)"), 0, MAX_PRICE, default=0)
    corner = BooleanField(_l("Corner booth"))
    power = BooleanField(_l("Power supply"))
    water = BooleanField(_l("Water supply"))

    def booth_input(self) -> BoothInput:
        return BoothInput(number=self.number.data, zone=self.zone.data or "", x=self.x.data, y=self.y.data,
                          w=self.w.data, h=self.h.data, price=self.price.data, size_m2=self.size_m2.data,
                          corner=self.corner.data, power=self.power.data, water=self.water.data)


class BadgeRulesField(TextAreaField):
    """The badge allotment, one rule per line: "9: 2" (booths up to 9 m² get 2 badges), the last line "*: 8"
    for any larger booth. Its data is [(up to m², badges), …, (None, badges)]."""

    def process_data(self, value) -> None:
        self.data = [(rule["up_to_m2"], rule["badges"]) for rule in value or ()]

    def process_formdata(self, valuelist) -> None:
        if not valuelist:
            return
        rules = []
        for line in valuelist[0].splitlines():
            if not line.strip():
                continue
            bound, colon, badges = line.partition(":")
            try:
                rules.append((None if bound.strip() == "*" else float(bound.replace(",", ".")), int(badges)))
            except ValueError as error:
                self.data = []
                raise ValueError(_l("Write one rule per line, like “9: 2”, and “*: 8” last for any larger booth.")
                                 ) from error
        self.data = rules

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "\n".join(f"{'*' if bound is None else f'{bound:g}'}: {badges}" for bound, badges in self.data or ())


class SaleSettingsForm(FlaskForm):
    hold_minutes = whole_number(_l("Minutes a chosen booth is held"), 1, 120, default=15,
                                description=_l("While the exhibitor fills in the application."))
    approval_required = BooleanField(_l("Organisers approve each application before it is paid"), default=True)
    deposit_percent = whole_number(_l("Deposit (percent of the price)"), 0, 100, default=100,
                                   description=_l("0 or 100: the full price in one payment."))
    payment_days = whole_number(_l("Days to pay each instalment"), 1, 90, default=7)
    balance_days_before_event = whole_number(
        _l("The balance is due this many days before the event"), 0, 365, needed=False,
        description=_l("With a deposit. A balance not paid by then ends the reservation, as a late deposit does; "
                       "the deposit stays paid for you to settle. Leave empty to give the days to pay above, counted "
                       "from the deposit, and to chase late balances yourselves."))
    selection_opens_at = HanoiDateTimeField(_l("Selection opens for everyone (Hanoi time)"), validators=[optional],
                                            description=_l("Leave empty until you announce it."))
    selection_closes_at = HanoiDateTimeField(
        _l("Selection closes (Hanoi time)"),
        validators=[optional, EndsAfter("selection_opens_at", _l("The selection deadline must come after the "
                                                                 "opening."))],
        description=_l("Leave empty to keep it open until the event starts."))
    badge_rules = BadgeRulesField(_l("Badges per booth"), render_kw={"rows": 4}, description=_l(
        "One rule per line: the largest size in m² and its badges, like “9: 2”; the last line “*: 8” for any "
        "larger booth."))

    def settings_data(self) -> dict:
        return {name: self[name].data for name in (
            "hold_minutes", "approval_required", "deposit_percent", "payment_days", "balance_days_before_event",
            "selection_opens_at", "selection_closes_at", "badge_rules")}


class OrganisationChoices(SelectMultipleField):
    """Checkboxes for organisations; reads a window's organisations as their ids."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def process_data(self, value) -> None:
        super().process_data([getattr(item, "id", item) for item in value or ()])


class PriorityWindowForm(FlaskForm):
    name_vi = text(_l("Who it is for (Vietnamese)"), 120, needed=False, default="",
                   description=_l("As exhibitors read it, like “nhà tài trợ”."))
    name_en = text(_l("Who it is for (English)"), 120, needed=False, default="",
                   description=_l("Like “sponsors”."))
    opens_at = HanoiDateTimeField(_l("Opens for them at (Hanoi time)"), validators=[filled])
    organisations = OrganisationChoices(_l("Organisations"), coerce=int,
                                        validators=[required], render_kw={"class": "choice-list"})

    def prepare(self, organisations) -> None:
        self.organisations.choices = [(organisation.id, organisation.name) for organisation in organisations]


class DecisionForm(FlaskForm):
    """Approve, reject or cancel, with a message to the exhibitor (a rejection must say why)."""

    message = long_text(_l("Message to the exhibitor"))


class PaymentForm(FlaskForm):
    amount = whole_number(_l("Amount received (VND)"), 1, MAX_PRICE,
                          description=_l("Leave as it is to record the instalment due now."))
    #: the amount paid as the page showed it, so a second click records nothing twice
    expected_paid = HiddenField()

    def expected(self) -> int | None:
        return int(self.expected_paid.data) if (self.expected_paid.data or "").isdigit() else None


class MoveForm(FlaskForm):
    # The service refuses a booth taken meanwhile with a clearer message than a stale choice list would.
    booth = SelectField(_l("Move to booth"), coerce=int, validators=[required], validate_choice=False)
    #: not "message": the decision form on the same page has that field
    note = TextAreaField(_l("Message to the exhibitor"), validators=[optional, length(2000)], default="")

    def prepare(self, booths) -> None:
        self.booth.choices = [(booth.id, f"{booth.number} · {booth.zone} · {booth.size_m2:g} m²")
                              for booth in booths]
