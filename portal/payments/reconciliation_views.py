"""Organisers' reconciliation pages: importing a bank statement, an import's result, the review queue. Who may do
what is the service's rule (reconciliation.reconciled_account_ids); the blueprint's gate checks the role and a POST's
CSRF token, then answers 403 before any lookup to someone who reconciles no account at all."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import Forbidden, HTTPException, RequestEntityTooLarge
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from portal.accounts.models import Role
from portal.db import db_session, end_refused, utcnow
from portal.errors import DomainError, NotFound, PermissionDenied
from portal.i18n import format_vnd, render_stored_message
from portal.payments import reconciliation, refunds, services
from portal.payments.models import REVIEW_STATUSES, LineStatus
from portal.payments.reconciliation_forms import (
    STATUS_LABELS,
    AcceptLineForm,
    LinkLineForm,
    RejectLineForm,
    StatementUploadForm,
)
from portal.web import render_domain_error, render_form, staff_only

bp = Blueprint("reconciliation", __name__, url_prefix="/payments/reconciliation")
#: the statement upload on its own, so that it alone answers a body over the site's limit its own way (_too_large)
upload_bp = Blueprint("upload", __name__)
#: the roles that may reconcile: admins every account, organisers those an admin named them on
RECONCILERS = (Role.ORGANISER, Role.ADMIN)


def _reconcilers_only() -> None:
    # an organiser named on no account learns nothing here
    if reconciliation.reconciled_account_ids(db_session(), current_user) == []:
        raise PermissionDenied()


bp.before_request(staff_only(*RECONCILERS, load=_reconcilers_only))


@bp.context_processor
def _labels():
    return {"status_labels": STATUS_LABELS, "review_statuses": REVIEW_STATUSES, "refundable": refunds.refundable}


def _import_page(formdata=None) -> tuple[StatementUploadForm, dict, dict]:
    """The upload form (from `formdata`, or the request's), the accounts it offers, and the rest of the page."""
    db = db_session()
    form = StatementUploadForm() if formdata is None else StatementUploadForm(formdata=formdata)
    accounts = {account.id: account for account in reconciliation.reconciled_accounts(db, current_user)}
    form.offer(accounts.values())
    return form, accounts, {"imports": reconciliation.recent_imports(db, current_user), "waiting": _waiting(db)}


@bp.route("/")
def index():
    form, _accounts, context = _import_page()
    return render_template("payments/reconciliation/index.html", form=form, **context)


@upload_bp.route("/", methods=["POST"])
def statement():
    db = db_session()
    form, accounts, context = _import_page()
    if form.validate_on_submit():
        upload = form.statement.data
        account = accounts[form.bank_account.data]  # one of the choices: the form checked
        try:
            data = reconciliation.read_upload(upload.filename or "", upload.stream)
            result = reconciliation.import_statement(db, current_user, account, upload.filename, data, utcnow())
        except DomainError as error:
            end_refused(db)
            return render_domain_error(error, "payments/reconciliation/index.html", form=form, **context)
        flash(_("The statement has been imported: %(new)s new lines, %(old)s imported before.",
                new=result.lines_new, old=result.statement_import.lines_already_imported), "success")
        if result.lines_under_other_accounts:
            flash(_("%(count)s of its lines had been imported under another bank account and were skipped. If that "
                    "was the wrong account, tell an admin.", count=result.lines_under_other_accounts), "info")
        return redirect(url_for("reconciliation.statement_import", import_id=result.statement_import.id))
    return render_form("payments/reconciliation/index.html", form, **context)


#: how much of a body too large to read is read for the fields before its file
FIELDS_READ_BYTES = 64 * 1024


def _fields_before_the_file() -> MultiDict:
    """The fields a multipart body sends before its first file, read from its first FIELDS_READ_BYTES only:
    browsers send a form's fields in its order, the account before the statement. Empty when the start of the body
    was read already (a body refused while it was being read) or is not multipart: the form then starts afresh."""
    boundary = request.mimetype_params.get("boundary")
    fields = MultiDict()
    if request.mimetype != "multipart/form-data" or not boundary:
        return fields
    request.max_content_length = max(request.content_length or 0, FIELDS_READ_BYTES)  # only the start is read
    decoder = MultipartDecoder(boundary.encode(), max_form_memory_size=FIELDS_READ_BYTES)
    name, value = None, b""
    try:
        decoder.receive_data(request.stream.read(FIELDS_READ_BYTES))
        while not isinstance(event := decoder.next_event(), NeedData | File | Epilogue):
            if isinstance(event, Field):
                name, value = event.name, b""
            elif isinstance(event, Data) and name is not None:
                value += event.data
                if not event.more_data:
                    fields.add(name, value.decode(errors="replace"))
    except (HTTPException, ValueError):  # the body cut short, refused while read, or not multipart after all
        return MultiDict()
    return fields


@upload_bp.errorhandler(RequestEntityTooLarge)
def _too_large(_error):
    """A body over the site's limit is refused before it is read (app.py), before the gates above: a statement
    too large for its reconciler is answered on the import page, with the statement's own limit and the account
    that was chosen; anyone else is refused as the gates would."""
    if not current_user.is_authenticated or reconciliation.reconciled_account_ids(db_session(), current_user) == []:
        return current_app.handle_http_exception(Forbidden())
    form, _accounts, context = _import_page(_fields_before_the_file())
    return render_domain_error(reconciliation.StatementTooLarge(), "payments/reconciliation/index.html", form=form,
                               **context)


bp.register_blueprint(upload_bp)


def _waiting(db) -> int:
    counts = reconciliation.status_counts(db, current_user)
    return sum(counts.get(status, 0) for status in REVIEW_STATUSES)


@bp.route("/imports/<int:import_id>")
def statement_import(import_id: int):
    db = db_session()
    try:
        found = reconciliation.get_import(db, current_user, import_id)
    except (NotFound, PermissionDenied) as refused:
        abort(refused.status_code)
    return render_template("payments/reconciliation/import.html", statement_import=found,
                           counts=reconciliation.status_counts(db, current_user, import_id))


def _status_filter() -> tuple[LineStatus, ...]:
    """?status=… chooses one status; without it, every status that waits for review."""
    value = request.args.get("status", "")
    if not value:
        return REVIEW_STATUSES
    try:
        return (LineStatus(value),)
    except ValueError:
        abort(400)


ReviewForm = LinkLineForm | AcceptLineForm | RejectLineForm
_FORM_KEYS = {LinkLineForm: "link", AcceptLineForm: "accept", RejectLineForm: "reject"}


def _render_queue(bound: dict[int, ReviewForm] | None = None, status_code: int = 200):
    db = db_session()
    statuses = _status_filter()
    lines = reconciliation.review_queue(db, current_user, statuses)
    forms = {}
    for line in lines:
        if line.status in REVIEW_STATUSES:
            forms[line.id] = {
                "link": LinkLineForm(prefix=f"link-{line.id}", formdata=None) if line.payment_id is None else None,
                "accept": (AcceptLineForm(prefix=f"accept-{line.id}", formdata=None)
                           if line.status in reconciliation.ACCEPTABLE_STATUSES else None),
                "reject": RejectLineForm(prefix=f"reject-{line.id}", formdata=None),
            }
    for line_id, form in (bound or {}).items():
        if line_id in forms:
            forms[line_id][_FORM_KEYS[type(form)]] = form
    return render_template("payments/reconciliation/queue.html", lines=lines, forms=forms,
                           status=request.args.get("status", ""), counts=reconciliation.status_counts(db, current_user),
                           statuses=list(LineStatus)), status_code


@bp.route("/review")
def queue():
    return _render_queue()


def _review(line_id: int, form: ReviewForm, act):
    """Runs a review action; a refused form or service shows the queue again with the form as typed."""
    if not form.validate_on_submit():
        return _render_queue({line_id: form}, 400)
    db = db_session()
    try:
        message = act(db)
    except DomainError as error:
        end_refused(db)
        if error.status_code in (403, 404) and not isinstance(error, reconciliation.PaymentNotFound):
            abort(error.status_code)
        flash(str(error.message), "error")
        return _render_queue({line_id: form}, error.status_code)
    flash(message, "success")
    return redirect(url_for("reconciliation.queue", status=request.args.get("status", "")))


@bp.route("/lines/<int:line_id>/link", methods=["POST"])
def link_line(line_id: int):
    form = LinkLineForm(prefix=f"link-{line_id}")

    def act(db) -> str:
        line, outcome = reconciliation.link_line(db, current_user, line_id, form.payment.data, form.note.data or "",
                                                 utcnow())
        if outcome is services.Outcome.FULFILLED:
            return _("The transfer has been credited to %(reference)s and its order is paid.",
                     reference=line.reference)
        return _("The transfer has been credited to %(reference)s; the payment still waits for review: %(note)s",
                 reference=line.reference, note=render_stored_message(line.payment.review_message) or outcome.value)

    return _review(line_id, form, act)


@bp.route("/lines/<int:line_id>/accept", methods=["POST"])
def accept_line(line_id: int):
    form = AcceptLineForm(prefix=f"accept-{line_id}")

    def act(db) -> str:
        line, owed_back = reconciliation.accept_line(db, current_user, line_id, form.note.data or "", utcnow())
        if not owed_back:
            return _("The late transfer is accepted: %(reference)s is paid.", reference=line.reference)
        return _("The transfer is accepted: %(reference)s is paid, and %(amount)s is owed back to the payer. Send it "
                 "back, then mark the refund as sent on the event's finance page.", reference=line.reference,
                 amount=format_vnd(owed_back))

    return _review(line_id, form, act)


@bp.route("/lines/<int:line_id>/reject", methods=["POST"])
def reject_line(line_id: int):
    form = RejectLineForm(prefix=f"reject-{line_id}")

    def act(db) -> str:
        reconciliation.reject_line(db, current_user, line_id, form.note.data, utcnow())
        return _("The line has been rejected.")

    return _review(line_id, form, act)
