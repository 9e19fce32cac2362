from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, StringField, TextAreaField

from portal.forms import length, optional, required
from portal.payments.models import LineStatus


class StatementUploadForm(FlaskForm):
    bank_account = SelectField(_l("Bank account"), coerce=int, validators=[required])
    statement = FileField(_l("Statement (CSV)"), validators=[FileRequired(_l("Choose the statement file."))],
                          description=_l("The CSV your bank exports (UTF-8), at most 2 MB. Importing a statement "
                                         "again credits nothing twice."),
                          render_kw={"accept": ".csv,text/csv"})

    def offer(self, accounts) -> None:
        self.bank_account.choices = [(account.id, f"{account.bank_name} – {account.account_number}")
                                     for account in accounts]


class LinkLineForm(FlaskForm):
    payment = StringField(_l("Payment reference or number"), validators=[required, length(40)],
                          description=_l("For example VE 7K3Q9X, as shown on the buyer's transfer page."))
    note = TextAreaField(_l("Note (optional)"), validators=[optional, length(1000)])


class AcceptLineForm(FlaskForm):
    note = TextAreaField(_l("Note (optional)"), validators=[optional, length(1000)])


class RejectLineForm(FlaskForm):
    note = TextAreaField(_l("Why (kept in the audit log)"), validators=[required, length(1000)])


STATUS_LABELS = {
    LineStatus.MATCHED: _l("Matched"),
    LineStatus.PARTIAL: _l("Partial"),
    LineStatus.EXCESS: _l("Excess"),
    LineStatus.DUPLICATE: _l("Paid twice"),
    LineStatus.UNFULFILLED: _l("Too late"),
    LineStatus.UNMATCHED: _l("Unmatched"),
    LineStatus.LINKED: _l("Linked"),
    LineStatus.ACCEPTED: _l("Accepted"),
    LineStatus.REJECTED: _l("Rejected"),
}
