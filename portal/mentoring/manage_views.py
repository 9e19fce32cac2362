"""Managers run the mentor network: approve and invite mentors, set the weights of the suggestions, match a cohort
optimally and publish it, and follow sessions and hours. One gate: the role, then the CSRF token of a POST."""

from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from portal.accounts.models import Role
from portal.db import db_session, utcnow
from portal.forms import choices
from portal.incubation.models import Cohort
from portal.mentoring import matching, profiles, runs
from portal.mentoring import report as report_service
from portal.mentoring.forms import InviteMentorForm, MatchForm, WeightsForm
from portal.mentoring.models import (
    MatchingRun,
    MatchStatus,
    MentorMatch,
    MentorProfile,
    MentorStatus,
)
from portal.mentoring.report import hours_report
from portal.reminders.pages import Scope, register_rule_pages
from portal.web import button_action, client_ip, page_number, render_form, save_form, staff_only

bp = Blueprint("mentoring_manage", __name__, url_prefix="/mentoring/manage")
bp.before_request(staff_only(Role.INCUBATOR_MANAGER, Role.ADMIN))

#: the matching's choice for every startup organisation rather than one cohort
ALL_STARTUPS = 0
#: matches a page of the matching shows
PER_PAGE = 100


@bp.route("/", methods=["GET", "POST"])
def index():
    db = db_session()
    form = InviteMentorForm()

    def save(session):
        profiles.invite(session, form.email.data or "", current_user, utcnow())
        flash(_("If %(email)s has an account, an invitation is on its way.", email=form.email.data), "success")
        return redirect(url_for(".index"), 303)

    mentors = list(db.scalars(select(MentorProfile).options(selectinload(MentorProfile.user))
                              .order_by(MentorProfile.status, MentorProfile.id)))
    if request.method == "POST":
        return save_form(form, "mentoring/manage_index.html", save, mentors=mentors, statuses=MentorStatus)
    return render_form("mentoring/manage_index.html", form, mentors=mentors, statuses=MentorStatus)


@bp.post("/mentors/<int:mentor_id>/approve")
def approve(mentor_id: int):
    def run(db):
        profiles.approve(db, profiles.mentor_or_404(db, mentor_id), current_user)
        return _("The mentor is approved and appears in the directory once their profile is visible.")

    return button_action(run, back=url_for(".index"))


@bp.route("/weights", methods=["GET", "POST"])
def weights():
    form = WeightsForm(obj=matching.current_weights(db_session())) if request.method == "GET" else WeightsForm()

    def save(session):
        matching.save_weights(session, {name: form[name].data for name in
                                        ("sector", "function", "language", "availability")}, current_user)
        flash(_("The weights are saved; suggestions and matching use them from now on."), "success")
        return redirect(url_for(".weights"), 303)

    return save_form(form, "mentoring/manage_weights.html", save)


def _match_form() -> MatchForm:
    form = MatchForm()
    cohorts = db_session().scalars(select(Cohort).order_by(Cohort.starts_on.desc()))
    form.cohort_id.choices = choices([(ALL_STARTUPS, _("Every startup")), *[(c.id, c.name) for c in cohorts]])
    return form


@bp.route("/matching", methods=["GET", "POST"])
def matching_page():
    db = db_session()
    form = _match_form()

    def save(session):
        run = runs.start(session, current_user, form.cohort_id.data or None, form.per_startup.data, utcnow())
        return redirect(url_for(".matching_run", run_id=run.id), 303)

    page = page_number()
    proposed, total = matching.proposal_page(db, (page - 1) * PER_PAGE, PER_PAGE)
    context = dict(proposal=proposed, total=total, page=page, per_page=PER_PAGE, latest_run=runs.latest(db),
                   unmatched=matching.unmatched_startups(db, runs.startups_query(None).order_by(None)))
    if request.method == "POST":
        return save_form(form, "mentoring/manage_matching.html", save, **context)
    return render_form("mentoring/manage_matching.html", form, **context)


@bp.get("/matching/runs/<int:run_id>")
def matching_run(run_id: int):
    """Where a matching stands; the page reloads itself until the matching has finished."""
    run = db_session().get(MatchingRun, run_id)
    if run is None:
        abort(404)
    return render_template("mentoring/manage_matching_run.html", run=run, percent=runs.percent(run))


@bp.post("/matching/<int:match_id>/remove")
def remove_match(match_id: int):
    def run(db):
        removed = db.execute(delete(MentorMatch).where(MentorMatch.id == match_id,
                                                       MentorMatch.status == MatchStatus.PROPOSED))
        if not removed.rowcount:
            abort(404)
        return _("The proposed match is removed.")

    return button_action(run, back=url_for(".matching_page"))


@bp.post("/matching/publish")
def publish():
    def run(db):
        count = matching.publish(db, current_user, utcnow())
        return ngettext("%(num)d match published; the mentor and the startup are told.",
                        "%(num)d matches published; mentors and startups are told.", count)

    return button_action(run, back=url_for(".matching_page"))


@bp.get("/report")
def report():
    """Sessions held and mentor hours, per mentor, programme and month."""
    db = db_session()
    return render_template("mentoring/manage_report.html", report=hours_report(db, utcnow()),
                           startups_without=matching.unmatched_startups(db, runs.startups_query(None).order_by(None)))


@bp.post("/report/hours.<any(csv, xlsx):file_format>")
def export_hours(file_format: str):
    exported = report_service.export_hours(db_session(), current_user, file_format, utcnow(), client_ip())
    return send_file(io.BytesIO(exported.content), mimetype=exported.mimetype, as_attachment=True,
                     download_name=exported.filename)


register_rule_pages(bp, "mentoring", "/reminders", lambda: Scope(None, {}, _("Mentoring sessions")),
                    nav_template="incubation/incubator_nav.html")
