"""Small helpers every blueprint's views share: role checks, client address, safe redirects."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.accounts.models import Role
from portal.errors import DomainError


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
