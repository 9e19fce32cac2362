"""The admins' pages: users and roles, the audit log, the mail the portal sent."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.accounts import services as account_services
from portal.accounts.forms import ROLE_LABELS
from portal.accounts.models import Role, User
from portal.admin import jobs, services
from portal.admin.forms import RoleChangeForm
from portal.audit.services import list_entries, record
from portal.db import db_session, end_refused
from portal.errors import DomainError
from portal.notifications import services as outbox
from portal.notifications.models import OutboxMessage, OutboxStatus
from portal.web import button_action, client_ip, page_number, staff_only

#: the gate of every admin page (the style guide's too)
ADMIN_GATE = staff_only(Role.ADMIN)

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(ADMIN_GATE)

MAIL_STATUS_LABELS = {
    OutboxStatus.PENDING: _l("Waiting"),
    OutboxStatus.SENDING: _l("Sending"),
    OutboxStatus.SENT: _l("Sent"),
    OutboxStatus.FAILED: _l("Failed"),
}


@bp.context_processor
def _mail_labels():
    return {"mail_status_labels": MAIL_STATUS_LABELS}


@bp.route("/users")
def users():
    query = request.args.get("q", "")[:100]
    users, total = services.search_users(db_session(), query, page_number())
    return render_template("admin/users.html", users=users, total=total, query=query, page=page_number(),
                           per_page=services.PER_PAGE, role_labels=ROLE_LABELS)


def _user_or_404(user_id: int) -> User:
    user = db_session().get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_detail(user_id: int):
    db = db_session()
    user = _user_or_404(user_id)
    form = RoleChangeForm()
    status = 200
    if form.validate_on_submit():
        role = Role(form.role.data)
        try:
            if form.action.data == "grant":
                changed = account_services.grant_role(db, current_user, user, role)
            else:
                changed = account_services.revoke_role(db, current_user, user, role)
        except DomainError as error:
            end_refused(db)
            flash(str(error.message), "error")
            status = error.status_code
        else:
            if changed:
                flash(_("The roles have been updated."), "success")
            else:
                flash(_("Nothing changed: the role was already so."), "info")
            return redirect(url_for("admin.user_detail", user_id=user.id))
    elif form.is_submitted():
        status = 400
    return render_template("admin/user_detail.html", user=user, form=form, role_labels=ROLE_LABELS,
                           organisations=account_services.user_organisations(db, user)), status


@bp.route("/audit")
def audit():
    prefix = request.args.get("action", "")[:60]
    entries, total = list_entries(db_session(), action_prefix=prefix or None, page=page_number())
    return render_template("admin/audit.html", entries=entries, total=total, page=page_number(),
                           per_page=50, action=prefix)


@bp.route("/mail")
def mail():
    messages, total = services.list_mail(db_session(), page_number())
    return render_template("admin/mail.html", messages=messages, total=total, page=page_number(),
                           per_page=services.PER_PAGE)


@bp.route("/mail/<int:message_id>")
def mail_detail(message_id: int):
    message = db_session().get(OutboxMessage, message_id)
    if message is None:
        abort(404)
    return render_template("admin/mail_detail.html", message=message)


@bp.route("/scheduler")
def scheduler():
    db = db_session()
    counts = {status.value: count for status, count in jobs.queue_counts(db).items()}
    chart_rows = [(format_date(day, "EEE d/M"), sent) for day, sent in jobs.sent_per_day(db)]
    return render_template("admin/scheduler.html", jobs=jobs.job_statuses(db), leadership=jobs.leadership(db),
                           failed_runs=jobs.failed_runs(db), queue=jobs.queue(db), counts=counts,
                           chart_rows=chart_rows, list_limit=jobs.LIST_LIMIT)


@bp.post("/mail/<int:message_id>/resend")
def resend_mail(message_id: int):
    def run(db):
        if not outbox.resend(db, message_id):
            return _("Nothing changed: this message had not failed."), "info"
        record(db, "mail.resent", actor_id=current_user.id, object_type="outbox_message", object_id=message_id,
               ip_address=client_ip())
        return _("The message is queued again; it goes out within seconds.")
    return button_action(run, back=url_for("admin.scheduler"))


@bp.post("/mail/<int:message_id>/cancel")
def cancel_mail(message_id: int):
    def run(db):
        if not outbox.cancel(db, message_id):
            return _("Nothing changed: this message was no longer waiting to be sent."), "info"
        record(db, "mail.cancelled", actor_id=current_user.id, object_type="outbox_message", object_id=message_id,
               ip_address=client_ip())
        return _("The message is cancelled; it will not be sent.")
    return button_action(run, back=url_for("admin.scheduler"))
