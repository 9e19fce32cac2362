"""Small helpers every blueprint's views share: role checks, client address, safe redirects."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from sqlalchemy.orm import Session
from wtforms.validators import ValidationError

from portal.accounts.models import Role
from portal.db import db_session
from portal.errors import DomainError
from portal.forms import ConfirmForm


def upload_folder() -> Path:
    """Where uploaded files (covers, hall drawings, logos) are kept: in the instance folder, outside static/."""
    return Path(current_app.instance_path) / "uploads"


def save_form(form, template: str, save, **context):
    """Runs `save(session)` for a valid form and commits, returning what it returns; a refused form or a rule the
    service enforces re-renders the page with what was typed, the message next to its field when it has one."""
    if not form.validate_on_submit():
        return render_form(template, form, **context)
    db = db_session()
    try:
        response = save(db)
    except DomainError as error:
        db.rollback()
        field = getattr(error, "field", None)
        if field in form:
            form[field].errors.append(str(error.message))
            return render_template(template, form=form, **context), error.status_code
        return render_domain_error(error, template, form=form, **context)
    db.commit()
    return response


def page_number() -> int:
    """The ?page= of a paginated list, 1 when missing or nonsense."""
    return max(request.args.get("page", 1, type=int) or 1, 1)


def client_ip() -> str | None:
    return request.remote_addr


def role_required(*roles: Role):
    """Logged-in users holding one of `roles`; others get 403, visitors the login page."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return redirect(url_for("accounts.login", next=request.full_path))
            if not any(current_user.has_role(role) for role in roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def staff_only(*roles: Role, public_endpoints: frozenset[str] = frozenset()):
    """A blueprint's before_request: users holding `roles` only (visitors go to log in), and a POST's CSRF token is
    checked before any lookup, so a forged request learns nothing about which objects exist."""
    return _gate(lambda user: any(user.has_role(role) for role in roles), public_endpoints)


def signed_in_only(public_endpoints: frozenset[str] = frozenset()):
    """The same gate for pages of a person's own things (their applications, their reviews): anyone logged in,
    the object's own check coming after the CSRF token's."""
    return _gate(lambda _user: True, public_endpoints)


def _gate(allowed: Callable, public_endpoints: frozenset[str]):
    def check():
        if request.endpoint in public_endpoints:
            return None
        if not current_user.is_authenticated:
            return redirect(url_for("accounts.login", next=request.full_path))
        if not allowed(current_user):
            abort(403)
        if request.method == "POST":
            try:
                validate_csrf(request.form.get("csrf_token"))
            except ValidationError:
                abort(400)
        return None

    return check


def safe_next(target: str | None, default: str) -> str:
    """Only same-site paths, so a crafted ?next= cannot send users elsewhere."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def render_form(template: str, form, **context):
    """A form page: 400 when a submitted form was refused, so clients and tests see the failure."""
    status = 400 if form.is_submitted() and form.errors else 200
    return render_template(template, form=form, **context), status


def render_domain_error(error: DomainError, template: str, **context):
    """Shows a service's refusal above the form, keeping what was typed."""
    flash(str(error.message), "error")
    return render_template(template, **context), error.status_code


def button_action(run: Callable[[Session], str | tuple[str, str]], *, back: str, back_when_done: str | None = None):
    """A POSTed button: checks its CSRF token, runs one service call in the request's write transaction and goes
    back, flashing the service's refusal or what `run` returns (a message, or a message and its category).
    A missing object is a 404 page, a forbidden one a 403."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    db = db_session()
    try:
        outcome = run(db)
    except DomainError as error:
        db.rollback()
        if error.status_code in (403, 404):
            abort(error.status_code)
        flash(str(error.message), "error")
        return redirect(back)
    db.commit()
    message, category = outcome if isinstance(outcome, tuple) else (outcome, "success")
    flash(message, category)
    return redirect(back_when_done or back)
