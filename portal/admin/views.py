"""The admins' pages: users and roles, the audit log, the mail the portal sent."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts import services as account_services
from portal.accounts.forms import ROLE_LABELS
from portal.accounts.models import Role, User
from portal.admin import services
from portal.admin.forms import RoleChangeForm
from portal.audit.services import list_entries
from portal.db import db_session, end_refused
from portal.errors import DomainError
from portal.notifications.models import OutboxMessage
from portal.web import page_number, staff_only

#: the gate of every admin page (the style guide's too)
ADMIN_GATE = staff_only(Role.ADMIN)

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(ADMIN_GATE)


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
