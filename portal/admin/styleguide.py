"""/styleguide: every component of the design system (static/css/components.css) as pages use it, filled with long
Vietnamese text and ten-digit amounts in đồng, so a change to the CSS can be checked on one page. Admins only."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, SelectField, StringField, TextAreaField

from portal.admin.views import ADMIN_GATE
from portal.forms import WholeNumberField, choices, email_field, length, required, tax_code_field

bp = Blueprint("styleguide", __name__)
bp.before_request(ADMIN_GATE)

#: the largest amount the portal stores in đồng (a 32-bit integer): every box must hold it
LARGEST_AMOUNT = 2_147_483_647


class SampleForm(FlaskForm):
    """A form as the portal's forms are, shown already refused so every error style is on the page."""
    organisation = StringField(_l("Name of the organisation as on its business registration certificate"),
                               validators=[required, length(200)])
    email = email_field(_l("E-mail address"))
    tax_code = tax_code_field(_l("Tax code"), required_here=True)
    amount = WholeNumberField(_l("Amount in đồng"), description=_l("Whole đồng, without dots: 2147483647."))
    kind = SelectField(_l("Kind of organisation"), choices=choices([
        ("startup", _l("Startup")), ("university", _l("University or research institute"))]))
    note = TextAreaField(_l("Note for the organiser"), validators=[length(20)])
    consent = BooleanField(_l("I agree that the organiser keeps these details until the end of the event"),
                           validators=[required])


def _refused_sample_form() -> SampleForm:
    form = SampleForm(formdata=MultiDict({
        "organisation": "", "email": "khong-phai-dia-chi", "tax_code": "01234", "amount": "hai tỷ",
        "kind": "startup", "note": "Một ghi chú dài hơn hai mươi ký tự cho ban tổ chức."}), meta={"csrf": False})
    form.validate()
    return form


@bp.route("/styleguide")
def page():
    figures = [
        (LARGEST_AMOUNT, _l("revenue from paid orders, booths and sponsorships of the whole exhibition")),
        (244_600_000, _l("received by bank transfer and VietQR, before refunds")),
        (1_999_999_999, _l("owed back to payers, not sent yet")),
    ]
    chart_rows = [
        (str(_l("Startups in agriculture, food processing and the rural economy")), 1_234_567),
        (str(_l("Universities and research institutes")), 98_765),
        (str(_l("Exhibitors")), 42),
    ]
    return render_template("admin/styleguide.html", form=_refused_sample_form(), figures=figures,
                           chart_rows=chart_rows, largest=LARGEST_AMOUNT)
