from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField

from portal.forms import email_field, length, required


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
