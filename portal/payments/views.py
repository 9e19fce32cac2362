"""The buyer's side of paying (starting a payment, Stripe's return page, the demo card, the bank-transfer page),
Stripe's webhook, and the admins' bank accounts."""

from __future__ import annotations

import logging

import stripe
from flask import Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from portal.accounts.models import Role
from portal.db import db_session, end_refused, utcnow
from portal.errors import DomainError, NotFound
from portal.extensions import limiter
from portal.forms import ConfirmForm
from portal.i18n import format_vnd
from portal.json_body import MalformedBody
from portal.payments import services, stripe_checkout, vietqr
from portal.payments.forms import BankAccountForm, PaymentMethodForm, ReconcilerForm
from portal.payments.models import COLLECTED_STATUSES, BankAccount, Payment, PaymentStatus
from portal.payments.payables import Payable, PayableKind
from portal.payments.providers import DEMO_CARD, HOOKS, PROVIDERS, STRIPE, VIETQR
from portal.web import button_action, refuse_forged_post, render_domain_error, render_form, staff_only

log = logging.getLogger(__name__)
bp = Blueprint("payments", __name__)
#: the admins' bank accounts and who reconciles each
bank_accounts_bp = Blueprint("bank_accounts", __name__, url_prefix="/admin/bank-accounts")
bank_accounts_bp.before_request(staff_only(Role.ADMIN))


class PaymentUnavailable(DomainError):
    status_code = 409
    default_message = _l("This way of paying is not available at the moment. Please contact the organisers.")


# --- starting -------------------------------------------------------------------------------

def _opened_at(key: str, endpoint: str):
    """A provider's start that opens its payment and sends the buyer to that payment's page."""
    def start(session, payable: Payable, now) -> str:
        return url_for(endpoint, payment_id=services.open_payment(session, payable, key, now).id)

    return start


# providers cannot import what opens their payments (it builds on them): their starts are given to them here
HOOKS.starts.update({STRIPE.key: stripe_checkout.start_checkout,
                     DEMO_CARD.key: _opened_at(DEMO_CARD.key, "payments.demo_card"),
                     VIETQR.key: _opened_at(VIETQR.key, "payments.transfer")})
HOOKS.withdraws[STRIPE.key] = stripe_checkout.withdraw
HOOKS.has_bank_account = lambda: services.active_bank_account(db_session()) is not None


def begin_payment(kind: PayableKind, key: str):
    """Sends the buyer to pay what they chose, through the provider they chose: Stripe's page, the demo card, the
    transfer details, or (to pay the organiser) the order's own page. Used right after an order is placed and by
    the order page's "pay" button."""
    db, now = db_session(), utcnow()
    try:
        payable = kind.for_buyer(db, current_user, key, now)
    except NotFound:
        abort(404)
    provider = PROVIDERS[payable.provider_key]
    try:
        if not provider.available():
            raise PaymentUnavailable()
        destination = provider.start(db, payable, now)
    except DomainError as error:
        end_refused(db)
        flash(str(error.message), "error")
        return redirect(payable.page_url)
    return redirect(destination)


def payment_panel(kind: PayableKind, target, now) -> dict:
    """What the "how to pay" panel of an unpaid order's or booking's page shows: the way chosen, the others it may
    change to, and what has arrived so far of a transfer paying part."""
    payable = kind.describe(target, now)
    form = PaymentMethodForm(formdata=None)
    form.provider.offer_for(payable.amount_due, leaving_out=payable.provider_key)
    received = services.received_so_far(db_session(), kind, [target.id]).get(target.id, 0)
    return {"payable": payable, "provider": PROVIDERS[payable.provider_key], "method_form": form,
            "received": received}


def change_method(kind: PayableKind, key: str):
    """The panel's "pay another way" form: notes the way chosen, then starts paying through it as begin_payment
    does. A refusal (nothing chosen, a way that cannot take the amount, money already arriving) goes back to the
    page saying why."""
    refuse_forged_post()
    db, now = db_session(), utcnow()
    try:
        payable = kind.for_buyer(db, current_user, key, now)
    except NotFound:
        abort(404)
    form = PaymentMethodForm()
    form.provider.offer_for(payable.amount_due)
    if not form.validate_on_submit():
        flash(" ".join(form.provider.errors)
              or _("This form has expired. Check what you entered and send it again."), "error")
        return redirect(payable.page_url)
    try:
        services.change_method(db, payable, form.provider.data, now)
    except DomainError as error:
        end_refused(db)
        flash(str(error.message), "error")
        return redirect(payable.page_url)
    return begin_payment(kind, key)


def _buyers_payment(payment_id: int, provider_key: str | None = None) -> tuple[Payment, Payable]:
    try:
        payment, payable = services.payment_for_buyer(db_session(), current_user, payment_id, utcnow())
    except NotFound:
        abort(404)
    if provider_key is not None and payment.provider != provider_key:
        abort(404)
    return payment, payable


def _state(payment: Payment) -> str:
    """How the buyer reads a payment: processing, part of it arrived, done, in review, or did not go through."""
    if payment.status is PaymentStatus.PENDING and 0 < payment.amount_received < payment.amount:
        return "partial"
    if payment.review_reason is not None:
        return "review"
    if payment.status in COLLECTED_STATUSES:
        return "done"
    if payment.status is PaymentStatus.PENDING:
        return "processing"
    return "unpaid"


# --- card (Stripe) --------------------------------------------------------------------------

@bp.route("/payments/<int:payment_id>/card")
@login_required
def card_return(payment_id: int):
    """Where Stripe sends the buyer back. The money is confirmed by the webhook, never by this visit: the page says
    "processing" and asks (payments.js) until the webhook has been."""
    payment, payable = _buyers_payment(payment_id, stripe_checkout.PROVIDER)
    return render_template("payments/card_return.html", payment=payment, payable=payable, state=_state(payment))


@bp.route("/payments/<int:payment_id>/status")
@login_required
def payment_status(payment_id: int):
    payment, _payable = _buyers_payment(payment_id)
    return jsonify(state=_state(payment))


@bp.route("/payments/stripe/webhook", methods=["POST"])
@limiter.exempt  # Stripe's bursts and retries are its own to pace; a refused delivery is only sent again later
def stripe_webhook():
    """Stripe's notifications. No CSRF token (Stripe signs the raw body instead); a bad or old signature, or a
    signed body that is not an event the portal can read, is a 400 and changes nothing. Any other error rolls the
    whole event back and answers 500, so Stripe sends it again."""
    try:
        event = stripe_checkout.verified_event(request.get_data(), request.headers.get("Stripe-Signature"),
                                               current_app.config.get("STRIPE_WEBHOOK_SECRET"))
    except (ValueError, stripe.SignatureVerificationError) as error:
        log.warning("refused a Stripe webhook: %s", error)
        return jsonify(error="invalid signature"), 400
    except MalformedBody as error:
        log.warning("refused a malformed Stripe event: %s", error)
        return jsonify(error="malformed event"), 400
    outcome = stripe_checkout.process_event(db_session(), event, utcnow())
    return jsonify(outcome=outcome.value)


# --- demo card ------------------------------------------------------------------------------

@bp.route("/payments/<int:payment_id>/demo-card", methods=["GET", "POST"])
@login_required
def demo_card(payment_id: int):
    form = ConfirmForm()
    if request.method == "POST" and not form.validate_on_submit():
        abort(400)
    if not DEMO_CARD.available():
        abort(404)
    payment, payable = _buyers_payment(payment_id, DEMO_CARD.key)
    if request.method == "POST":
        # a tab left open on a payment the buyer replaced by another way to pay charges nothing
        if payment.status is PaymentStatus.PENDING:
            services.pay_with_demo_card(db_session(), payment.id, utcnow())
        return redirect(payable.page_url)
    return render_template("payments/demo_card.html", payment=payment, payable=payable, state=_state(payment))


# --- bank transfer (VietQR) -----------------------------------------------------------------

def _transfer_details(payment: Payment) -> tuple[BankAccount | None, str | None]:
    """The account to transfer to and the VietQR payload for this payment: the account it was asked into, whose
    statement is the one that can pay it, while payment pages still show that account; (None, None) otherwise (the
    buyer starts paying again, into the account shown now). No payload for an amount a code cannot carry (a payment
    opened before amounts were checked: it is transferred by hand)."""
    account = payment.bank_account
    if account is None or not account.active:
        return None, None
    if not VIETQR.accepts(payment.amount):
        return account, None
    return account, vietqr.transfer_payload(account.bank_bin, account.account_number, _still_owed(payment),
                                             payment.transfer_reference)


def _still_owed(payment: Payment) -> int:
    """What is left to transfer: the whole amount, or the rest once part of it arrived (transfers add up)."""
    return max(payment.amount - payment.amount_received, 0)


@bp.route("/payments/<int:payment_id>/transfer")
@login_required
def transfer(payment_id: int):
    payment, payable = _buyers_payment(payment_id, VIETQR.key)
    account, payload = _transfer_details(payment)
    owed = _still_owed(payment)
    title = _("VietQR code: transfer %(amount)s with the memo %(reference)s", amount=format_vnd(owed),
              reference=payment.transfer_reference)
    return render_template("payments/transfer.html", payment=payment, payable=payable, account=account,
                           state=_state(payment), payload=payload, owed=owed,
                           qr=vietqr.qr_svg(payload, title) if payload else None)


@bp.route("/payments/<int:payment_id>/vietqr.png")
@login_required
def transfer_qr_png(payment_id: int):
    """The code as an image to save: a buyer on their phone opens it from their banking app's gallery."""
    payment, _payable = _buyers_payment(payment_id, VIETQR.key)
    _account, payload = _transfer_details(payment)
    if payload is None:
        abort(404)
    return Response(vietqr.qr_png(payload), mimetype="image/png")


# --- bank accounts (admins) -----------------------------------------------------------------

def _accounts_page(bound: dict[int, ReconcilerForm] | None = None) -> dict:
    """What the bank accounts page shows beside the form adding one: the accounts, and a form per account naming
    an organiser who reconciles it (`bound`: one as typed, refused)."""
    accounts = services.list_bank_accounts(db_session())
    forms = {account.id: ReconcilerForm(prefix=f"reconciler-{account.id}", formdata=None) for account in accounts}
    return {"accounts": accounts, "reconciler_forms": forms | (bound or {})}


@bank_accounts_bp.route("", methods=["GET", "POST"])
def index():
    db = db_session()
    form = BankAccountForm()
    if form.validate_on_submit():
        try:
            services.add_bank_account(db, current_user, bank_bin=form.bank_bin.data, bank_name=form.bank_name.data,
                                      account_number=form.account_number.data, holder_name=form.holder_name.data,
                                      activate=form.activate.data)
        except DomainError as error:
            end_refused(db)
            return render_domain_error(error, "payments/bank_accounts.html", form=form, **_accounts_page())
        flash(_("The bank account has been added."), "success")
        return redirect(url_for("bank_accounts.index"))
    return render_form("payments/bank_accounts.html", form, **_accounts_page())


@bank_accounts_bp.route("/<int:account_id>/reconcilers", methods=["POST"])
def name_reconciler(account_id: int):
    form = ReconcilerForm(prefix=f"reconciler-{account_id}")
    status = 400
    if form.validate_on_submit():
        db = db_session()
        try:
            user = services.name_reconciler(db, current_user, account_id, form.email.data)
        except DomainError as error:
            end_refused(db)
            if error.status_code == 404:
                abort(404)
            form.email.errors.append(str(error.message))
            status = error.status_code
        else:
            flash(_("%(name)s now reconciles this account's statements.", name=user.full_name), "success")
            return redirect(url_for("bank_accounts.index"))
    return render_template("payments/bank_accounts.html", form=BankAccountForm(formdata=None),
                           **_accounts_page({account_id: form})), status


@bank_accounts_bp.route("/<int:account_id>/reconcilers/<int:user_id>/remove", methods=["POST"])
def remove_reconciler(account_id: int, user_id: int):
    def run(db) -> str:
        services.remove_reconciler(db, current_user, account_id, user_id)
        return _("They no longer reconcile this account's statements.")

    return button_action(run, back=url_for("bank_accounts.index"))


@bank_accounts_bp.route("/<int:account_id>/activate", methods=["POST"])
def activate(account_id: int):
    def run(db) -> str:
        services.activate_bank_account(db, current_user, account_id)
        return _("Payment pages now show this account.")

    return button_action(run, back=url_for("bank_accounts.index"))


@bank_accounts_bp.route("/<int:account_id>/deactivate", methods=["POST"])
def deactivate(account_id: int):
    def run(db) -> str:
        services.deactivate_bank_account(db, current_user, account_id)
        return _("No account is shown now: buyers cannot choose bank transfer until you activate one.")

    return button_action(run, back=url_for("bank_accounts.index"))
