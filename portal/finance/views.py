"""An event's finance page, refunds and receipts for its organisers (blueprint `finance`), and buyers' own receipts
(blueprint `receipts`). Organiser pages are behind the event management gate (events.gate), buyers see their own
orders only."""

from __future__ import annotations

import io
import secrets

from flask import Blueprint, abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import NumberRange

from portal.db import db_session, end_refused, utcnow
from portal.errors import DomainError
from portal.events.gate import event_management_blueprint
from portal.finance import receipts
from portal.finance import services as finance
from portal.forms import WholeNumberField, length, required
from portal.payments import refunds
from portal.payments.services import Outcome
from portal.web import button_action, client_ip, page_number, render_form

bp = event_management_blueprint("finance", __name__, "/manage/events/<int:event_id>/finance")
buyer_bp = Blueprint("receipts", __name__, url_prefix="/receipts")

REFUND_MESSAGES = {
    Outcome.REFUNDED: _l("The refund is recorded and the buyer has been told."),
    Outcome.WAITING: _l("Stripe is processing the refund; the buyer has been told."),
    Outcome.DUPLICATE: _l("This refund had already been recorded."),
    Outcome.FAILED: _l("Stripe refused the refund; nothing was refunded."),
}


class RefundForm(FlaskForm):
    amount = WholeNumberField(_l("Amount to refund (VND)"), validators=[
        required, NumberRange(min=1, message=_l("Enter an amount of at least 1 ₫."))])
    reason = StringField(_l("Reason (the buyer reads it)"), validators=[required, length(500)])
    #: made when the form is shown: a second submission of the same form refunds nothing more
    request_token = HiddenField(validators=[required, length(64, 16)])


@bp.route("")
def page():
    db, event = db_session(), g.event
    payments, total = finance.payment_page(db, event, page_number())
    return render_template("payments/finance.html", event=event, summary=finance.summary(db, event),
                           payments=payments, total=total, page=page_number(), per_page=finance.PAYMENTS_PER_PAGE,
                           refunds=finance.recent_refunds(db, event), refundable=refunds.refundable,
                           instalments=finance.instalments(db, payments), **_labels(), export_form=FlaskForm())


def _labels() -> dict:
    return {"status_labels": finance.PAYMENT_STATUS_LABELS, "refund_status_labels": finance.REFUND_STATUS_LABELS,
            "provider_label": finance.provider_label, "paid_for_label": finance.paid_for_label,
            "payer": finance.payer, "kind_labels": finance.KIND_LABELS, "to_send": finance.to_send,
            "refund_to_send": finance.REFUND_TO_SEND}


@bp.route("/payments/export.<file_format>", methods=["POST"])
def export(file_format: str):
    try:
        exported = finance.export_payments(db_session(), current_user, g.event, file_format, ip_address=client_ip())
    except DomainError as error:
        abort(error.status_code)
    return send_file(io.BytesIO(exported.content), mimetype=exported.mimetype, as_attachment=True,
                     download_name=exported.filename)


@bp.route("/payments/<int:payment_id>/refund", methods=["GET", "POST"])
def refund(payment_id: int):
    db, event = db_session(), g.event
    try:
        payment = finance.event_payment(db, event, payment_id)
    except DomainError as error:
        abort(error.status_code)
    form = RefundForm()
    if request.method == "GET":
        form.amount.data = refunds.refundable(payment)
    context = {"event": event, "payment": payment, "left": refunds.refundable(payment), **_labels()}
    submitted = form.validate_on_submit()
    token = form.request_token.data
    # a page shown again gets a new token: what it sends next is a new request, not a repeat of a refused one
    form.request_token.data = secrets.token_urlsafe(24)
    if not submitted:
        return render_form("payments/refund.html", form, **context)
    try:
        outcome = finance.refund(db, current_user, event, payment_id, amount=form.amount.data,
                                 reason=form.reason.data, request_token=token, now=utcnow())
    except DomainError as error:
        end_refused(db)
        flash(str(error.message), "error")
        return render_template("payments/refund.html", form=form, **context), error.status_code
    flash(str(REFUND_MESSAGES.get(outcome, REFUND_MESSAGES[Outcome.REFUNDED])),
          "error" if outcome is Outcome.FAILED else "success")
    return redirect(url_for("finance.page", event_id=event.id))


def _to_refund_form(**target):
    """The refund form of the order's or booking's payment that has money left to refund."""
    event = g.event
    try:
        payment = finance.payment_to_refund(db_session(), event, **target)
    except DomainError as error:
        abort(error.status_code)
    if payment is None:
        flash(_("Nothing paid for this is left to refund."), "error")
        return redirect(url_for("finance.page", event_id=event.id))
    return redirect(url_for("finance.refund", event_id=event.id, payment_id=payment.id))


@bp.route("/orders/<int:order_id>/refund")
def order_refund(order_id: int):
    return _to_refund_form(order_id=order_id)


@bp.route("/booth-bookings/<int:booking_id>/refund")
def booking_refund(booking_id: int):
    return _to_refund_form(booking_id=booking_id)


@bp.route("/refunds/<int:refund_id>/sent", methods=["POST"])
def refund_sent(refund_id: int):
    """The organisers sent back money owed to a payer."""
    event = g.event

    def run(db) -> str:
        finance.confirm_sent(db, current_user, event, refund_id, utcnow())
        return _("The refund is recorded as sent and the payer has been told.")

    return button_action(run, back=url_for("finance.page", event_id=event.id))


def _receipt_response(receipt: receipts.Receipt, as_pdf: bool):
    if as_pdf:
        return send_file(io.BytesIO(receipts.to_pdf(receipt)), mimetype="application/pdf",
                         download_name=f"receipt-{receipt.reference}.pdf")
    return render_template("payments/receipt.html", receipt=receipt,
                           not_an_e_invoice=receipts.NOT_AN_E_INVOICE,
                           pdf_url=request.path + ".pdf")


# the HTML rule is registered first (decorators apply bottom up), so url_for without as_pdf builds it, not the PDF's
@bp.route("/orders/<int:order_id>/receipt.pdf", defaults={"as_pdf": True})
@bp.route("/orders/<int:order_id>/receipt", defaults={"as_pdf": False})
def receipt(order_id: int, as_pdf: bool):
    try:
        found = receipts.for_event(db_session(), g.event, order_id)
    except DomainError as error:
        abort(error.status_code)
    return _receipt_response(found, as_pdf)


@bp.route("/booth-bookings/<int:booking_id>/receipt.pdf", defaults={"as_pdf": True})
@bp.route("/booth-bookings/<int:booking_id>/receipt", defaults={"as_pdf": False})
def booth_receipt(booking_id: int, as_pdf: bool):
    try:
        found = receipts.booth_for_event(db_session(), g.event, booking_id)
    except DomainError as error:
        abort(error.status_code)
    return _receipt_response(found, as_pdf)


@buyer_bp.route("/<code>.pdf", defaults={"as_pdf": True})
@buyer_bp.route("/<code>", defaults={"as_pdf": False})
@login_required
def buyer_receipt(code: str, as_pdf: bool):
    """The buyer's receipt of their order; anybody else's is not found (codes cannot be probed)."""
    try:
        found = receipts.for_buyer(db_session(), current_user, code)
    except DomainError:
        abort(404)
    return _receipt_response(found, as_pdf)



@buyer_bp.route("/booths/<int:booking_id>.pdf", defaults={"as_pdf": True})
@buyer_bp.route("/booths/<int:booking_id>", defaults={"as_pdf": False})
@login_required
def exhibitor_receipt(booking_id: int, as_pdf: bool):
    """The exhibitor's receipt of their booth's payments; anybody else's is not found."""
    try:
        found = receipts.for_exhibitor(db_session(), current_user, booking_id)
    except DomainError:
        abort(404)
    return _receipt_response(found, as_pdf)
