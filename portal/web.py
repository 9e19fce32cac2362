"""Small helpers every blueprint's views share: the gates, forms and buttons, client address, safe redirects."""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path
from urllib.parse import urlsplit

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from sqlalchemy.orm import Session
from wtforms.validators import ValidationError

from portal.accounts.models import Role
from portal.db import db_session, end_refused
from portal.errors import DomainError, NotFound, PermissionDenied
from portal.forms import ConfirmForm


def upload_folder() -> Path:
    """Where uploaded files (covers, hall drawings, logos) are kept: in the instance folder, outside static/."""
    return Path(current_app.instance_path) / "uploads"


def save_form(form, template: str, save, **context):
    """Runs `save(session)` for a valid form, returning what it returns (the request then commits: db.end_request);
    a refused form or a rule the service enforces re-renders the page with what was typed, the message next to its
    field when it has one."""
    if not form.validate_on_submit():
        return render_form(template, form, **context)
    db = db_session()
    try:
        return save(db)
    except DomainError as error:
        end_refused(db)
        problems = getattr(error, "problems", None) or {getattr(error, "field", None): error.message}
        if all(field in form for field in problems):
            for field, message in problems.items():
                form[field].errors.append(str(message))
            return render_template(template, form=form, **context), error.status_code
        return render_domain_error(error, template, form=form, **context)


def page_number() -> int:
    """The ?page= of a paginated list, 1 when missing or nonsense."""
    return max(request.args.get("page", 1, type=int) or 1, 1)


def client_ip() -> str | None:
    return request.remote_addr


#: what a page's script (fetch) is told when the page's CSRF token no longer holds, and when its login has ended
PAGE_EXPIRED = _l("This page has expired. Reload it and try again.")
LOGIN_ENDED = _l("Your login has ended. Reload the page and log in again.")


def staff_only(*roles: Role, public_endpoints: Collection[str] = frozenset(),
               json_endpoints: Collection[str] = frozenset(), load: Callable[[], None] | None = None,
               expired=PAGE_EXPIRED):
    """A blueprint's before_request, the one gate of every management page, in this order: who (visitors go to log
    in, users without one of `roles` get 403), then a POST's CSRF token (400; a form field, or the X-CSRFToken
    header a page's script sends), then `load()`, which puts the object the pages are about on `g` or raises
    NotFound/PermissionDenied; only then the view. So a forged or unauthorised request learns nothing about which
    objects exist.

    `json_endpoints` are called by a page's script: they are refused with {"error": message} (401 when the login
    has ended, `expired` when the token is wrong) instead of an error page."""
    return _gate(lambda user: any(user.has_role(role) for role in roles), public_endpoints, json_endpoints, load,
                 expired)


def signed_in_only(public_endpoints: Collection[str] = frozenset()):
    """The same gate for pages of a person's own things (their applications, their reviews): anyone logged in,
    the object's own check coming after the CSRF token's."""
    return _gate(lambda _user: True, public_endpoints, frozenset(), None, PAGE_EXPIRED)


def refuse_forged_post() -> None:
    """For a person's own page outside a gate: a POST without our token is refused (400) before its object is
    looked up, so a forged request learns nothing of what exists."""
    if _refused_token():
        abort(400)


def _refused_token() -> bool:
    """Whether a request that changes something lacks a valid CSRF token."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return False
    try:
        validate_csrf(_posted_csrf_token())
    except ValidationError:
        return True
    return False


def _gate(allowed: Callable, public_endpoints: Collection[str], json_endpoints: Collection[str],
          load: Callable[[], None] | None, expired):
    def refuse(message, status: int):
        if request.endpoint in json_endpoints:
            return jsonify(error=str(message)), status
        abort(status)

    def check():
        if request.endpoint in public_endpoints:
            # open to anyone (a signed link is its own permission), yet a POST still proves it came from our page
            return refuse(expired, 400) if _refused_token() else None
        if not current_user.is_authenticated:
            if request.endpoint in json_endpoints:
                return jsonify(error=str(LOGIN_ENDED)), 401
            return redirect(url_for("accounts.login", next=request.full_path))
        if not allowed(current_user):
            return refuse(PermissionDenied.default_message, 403)
        if _refused_token():
            return refuse(expired, 400)
        if load is not None:
            try:
                load()
            except (NotFound, PermissionDenied) as error:
                return refuse(error.message, error.status_code)
        return None

    return check


def _posted_csrf_token() -> str | None:
    """The token a POST carries: a form's field (named `<prefix>-csrf_token` in a form with a prefix, as Flask-WTF
    names it), or the X-CSRFToken header a page's script sends."""
    fields = request.form
    token = fields.get("csrf_token") or next((fields[key] for key in fields if key.endswith("-csrf_token")), None)
    return token or request.headers.get("X-CSRFToken")


def onward_path(target: str | None) -> str | None:
    """The page a ?next= names, when it is a path on this site; None for anything else, so a crafted link cannot
    send anyone elsewhere: another host (`//evil`, `https://…`), a backslash or a control character (browsers read
    a backslash as a slash and drop tabs and newlines, turning `/<backslash>evil` or `/<tab>/evil` into `//evil`)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target


def safe_next(target: str | None, default: str) -> str:
    """Where to go after a form: the ?next= when it is a path on this site (onward_path), otherwise `default`."""
    return onward_path(target) or default


def render_form(template: str, form, **context):
    """A form page: 400 when a submitted form was refused, so clients and tests see the failure."""
    status = 400 if form.is_submitted() and form.errors else 200
    return render_template(template, form=form, **context), status


def render_domain_error(error: DomainError, template: str, **context):
    """Shows a service's refusal above the form, keeping what was typed."""
    flash(str(error.message), "error")
    return render_template(template, **context), error.status_code


def button_action(run: Callable[[Session], str | tuple[str, str]], *, back: str, back_when_done: str | None = None):
    """A POSTed button: checks its CSRF token, runs one service call in the request's write transaction (committed
    as the request ends: db.end_request) and goes back, flashing the service's refusal or what `run` returns (a
    message, or a message and its category). A missing object is a 404 page, a forbidden one a 403."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    db = db_session()
    try:
        outcome = run(db)
    except DomainError as error:
        end_refused(db)
        if error.status_code in (403, 404):
            abort(error.status_code)
        flash(str(error.message), "error")
        return redirect(back)
    message, category = outcome if isinstance(outcome, tuple) else (outcome, "success")
    flash(message, category)
    return redirect(back_when_done or back)
