from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, StringField
from wtforms.validators import ValidationError

from portal.forms import choices, email_field, length, required
from portal.payments.providers import PROVIDERS, AmountNotAccepted, buyer_providers

NOT_OFFERED = _l("Choose one of the offered answers.")
NOTHING_CHOSEN = _l("Choose how you will pay.")


class BankAccountForm(FlaskForm):
    """The account's details are checked by the service, which builds a VietQR code from them."""

    bank_name = StringField(_l("Bank and branch"), validators=[required, length(120)],
                            description=_l("As buyers know it, for example Vietcombank – Hà Nội."))
    bank_bin = StringField(_l("Bank BIN"), validators=[required, length(6)],
                           description=_l("The bank's 6-digit NAPAS code, for example 970436 for Vietcombank."),
                           render_kw={"inputmode": "numeric", "autocomplete": "off"})
    account_number = StringField(_l("Account number"), validators=[required, length(19)],
                                 render_kw={"inputmode": "numeric", "autocomplete": "off"})
    holder_name = StringField(_l("Account holder"), validators=[required, length(120)],
                              description=_l("The name the bank shows the payer before they confirm."))
    activate = BooleanField(_l("Show this account on payment pages from now on"))


class ReconcilerForm(FlaskForm):
    email = email_field(_l("Organiser's e-mail"))


class PaymentChoiceField(RadioField):
    """How the payer will pay, among the providers buyers may choose as they stand when the form is built: the
    registration, the waiting-list offer, the booth application and the "change how you pay" form ask with it.
    Told the amount (`offer_for`), it offers only those that can take it and refuses another with the limit.
    Nothing is chosen for the payer: an empty answer is refused with NOTHING_CHOSEN; an order that turns out free
    ignores it."""

    def __init__(self, label=None, **kwargs) -> None:
        providers = buyer_providers()
        #: what may be chosen at all; `choices` narrows to what can take the amount
        self.offered = {p.key: p for p in providers}
        self.amount: int | None = None
        # validate_choice off: pre_validate's messages are translated, RadioField's own exists in English only
        super().__init__(label or _l("How will you pay?"), validate_choice=False,
                         choices=choices([(p.key, p.label) for p in providers]), **kwargs)

    def offer_for(self, amount: int, *, leaving_out: str | None = None) -> None:
        """Offers only the providers that can take `amount` in one payment (the order's total, a booth's largest
        instalment), without `leaving_out` (the one already chosen, on the form changing it)."""
        self.amount = amount
        self.choices = choices([(p.key, p.label) for p in self.offered.values()
                                if p.accepts(amount) and p.key != leaving_out])

    def pre_validate(self, form) -> None:
        if not self.data:
            raise ValidationError(str(NOTHING_CHOSEN))
        provider = self.offered.get(self.data)
        if provider is None:
            raise ValidationError(str(NOT_OFFERED))
        # an amount no way to pay can take is the order's to refuse (orders.check_total), not this choice's
        if self.amount is not None and self.choices:
            try:
                provider.check_amount(self.amount)
            except AmountNotAccepted as refusal:
                raise ValidationError(str(refusal.message)) from None

    @staticmethod
    def instructions(provider_key: str):
        """What the payer will have to do with this provider, shown under its name."""
        return PROVIDERS[provider_key].instructions


class PaymentMethodForm(FlaskForm):
    """The payer's "change how you pay" on an unpaid order or booking."""

    provider = PaymentChoiceField(_l("Pay another way"))
