from __future__ import annotations

from flask import Blueprint, abort, jsonify, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import text

from portal.accounts.consents import PURPOSES
from portal.accounts.forms import ROLE_LABELS
from portal.accounts.models import DASHBOARD_ORDER, Role
from portal.admin.services import site_overview
from portal.booths.services import next_instalment
from portal.booths.views import NEXT_STEPS
from portal.core.dashboard import events_to_run, my_things, startup_sessions
from portal.db import db_session, utcnow
from portal.events.services import upcoming_published_events
from portal.incubation.decisions import DECISION_LABELS
from portal.incubation.review import invitations_of, reviews_of
from portal.incubation.services import all_calls, applications_of, open_calls
from portal.mentoring.sessions import upcoming_sessions_of

bp = Blueprint("core", __name__)

STATUS_LABELS = {"draft": _l("Draft"), "published": _l("Published"), "open": _l("Open"), "closed": _l("Closed")}


@bp.route("/")
def home():
    db = db_session()
    return render_template("core/home.html", events=upcoming_published_events(db), calls=open_calls(db))


@bp.route("/privacy")
def privacy():
    return render_template("core/privacy.html", purposes=PURPOSES)


@bp.route("/healthz")
def healthz():
    try:
        db_session().execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        return jsonify(status="error", database=type(exc).__name__), 503
    return jsonify(status="ok", database="ok")


@bp.route("/dashboard")
@login_required
def dashboard():
    for role in DASHBOARD_ORDER:
        if current_user.has_role(role):
            return redirect(url_for("core.role_dashboard", role=role.value))
    db = db_session()
    return render_template("core/dashboard_member.html", events=upcoming_published_events(db), calls=open_calls(db),
                           **_own_things(db))


def _own_things(db) -> dict:
    """What every dashboard starts with (core.dashboard.my_things) and what its template needs to show it."""
    now = utcnow()
    return {"things": my_things(db, current_user, now), "now": now, "next_steps": NEXT_STEPS,
            "next_instalment": next_instalment}


@bp.route("/dashboard/<role>")
@login_required
def role_dashboard(role: str):
    try:
        role = Role(role)
    except ValueError:
        abort(404)
    if not current_user.has_role(role):
        abort(403)
    db = db_session()
    context: dict = {"role": role, "status_labels": STATUS_LABELS, "role_labels": ROLE_LABELS, **_own_things(db)}
    if role is Role.STARTUP:
        context.update(calls=open_calls(db), events=upcoming_published_events(db),
                       applications=applications_of(db, current_user), decision_labels=DECISION_LABELS,
                       sessions=startup_sessions(db, current_user, context["now"]))
    elif role is Role.ORGANISER:
        context.update(events=events_to_run(db, current_user, context["now"]))
    elif role is Role.INCUBATOR_MANAGER:
        context.update(calls=all_calls(db))
    elif role is Role.REVIEWER:
        context.update(reviews=reviews_of(db, current_user), invitations=invitations_of(db, current_user))
    elif role is Role.ADMIN:
        context.update(overview=site_overview(db))
    elif role is Role.MENTOR:
        context.update(events=upcoming_published_events(db), sessions=upcoming_sessions_of(db, current_user))
    return render_template(f"core/dashboard_{role.value}.html", **context)
