"""Managers run the mentor network: approve and invite mentors, set the weights of the suggestions, match a cohort
optimally and publish it, and follow sessions and hours. One gate: the role, then the CSRF token of a POST."""

from __future__ import annotations

from collections import defaultdict

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import delete, func, select
from sqlalchemy.orm import selectinload

from portal.accounts.models import Organisation, OrganisationKind, Role
from portal.db import db_session, utcnow
from portal.forms import choices
from portal.incubation.models import Cohort, CohortMember
from portal.mentoring import matching, profiles
from portal.mentoring.forms import InviteMentorForm, MatchForm, WeightsForm
from portal.mentoring.models import (
    MatchStatus,
    MentoringSession,
    MentorMatch,
    MentorProfile,
    MentorStatus,
    SessionStatus,
)
from portal.reminders.pages import Scope, register_rule_pages
from portal.web import button_action, render_form, save_form, staff_only

bp = Blueprint("mentoring_manage", __name__, url_prefix="/mentoring/manage")
bp.before_request(staff_only(Role.INCUBATOR_MANAGER, Role.ADMIN))

#: the matching's choice for every startup organisation rather than one cohort
ALL_STARTUPS = 0


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
    db = db_session()
    current = matching.weights_of(db)
    form = WeightsForm(obj=current) if request.method == "GET" else WeightsForm()

    def save(session):
        matching.save_weights(session, {name: form[name].data for name in
                                        ("sector", "function", "language", "availability")}, current_user)
        flash(_("The weights are saved; suggestions and matching use them from now on."), "success")
        return redirect(url_for(".weights"), 303)

    return save_form(form, "mentoring/manage_weights.html", save)


def _startups(cohort_id: int) -> list[int]:
    db = db_session()
    if cohort_id == ALL_STARTUPS:
        return list(db.scalars(select(Organisation.id).where(Organisation.kind == OrganisationKind.STARTUP)
                               .order_by(Organisation.id)))
    return list(db.scalars(select(CohortMember.organisation_id).where(CohortMember.cohort_id == cohort_id)
                           .order_by(CohortMember.organisation_id)))


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
        result = matching.match(session, _startups(form.cohort_id.data), form.per_startup.data, current_user,
                                utcnow())
        message = _("%(count)d matches proposed, with the best total score (%(score)d, proved optimal).",
                    count=result.proposed, score=result.objective)
        if result.unmatched:
            message += " " + _("%(count)d startups could not get every mentor asked for: no mentor with room suits "
                               "them. Invite more mentors or raise their capacity.", count=result.unmatched)
        flash(message, "success")
        return redirect(url_for(".matching_page"), 303)

    context = dict(proposal=matching.proposal(db), unmatched=matching.unmatched_startups(db, _startups(0)))
    if request.method == "POST":
        return save_form(form, "mentoring/manage_matching.html", save, **context)
    return render_form("mentoring/manage_matching.html", form, **context)


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
        return _("%(count)d matches published; mentors and startups are told.", count=count)

    return button_action(run, back=url_for(".matching_page"))


@bp.get("/report")
def report():
    """Sessions held and mentor hours, per mentor and per month."""
    db = db_session()
    held = list(db.execute(select(MentoringSession.mentor_id, MentoringSession.starts_at, MentoringSession.ends_at)
                           .where(MentoringSession.status == SessionStatus.CONFIRMED,
                                  MentoringSession.ends_at <= utcnow())))
    mentors = {m.id: m for m in db.scalars(select(MentorProfile).options(selectinload(MentorProfile.user)))}
    per_mentor: dict[int, list[float]] = defaultdict(lambda: [0, 0.0])
    per_month: dict[str, float] = defaultdict(float)
    for mentor_id, starts_at, ends_at in held:
        hours = (ends_at - starts_at).total_seconds() / 3600
        per_mentor[mentor_id][0] += 1
        per_mentor[mentor_id][1] += hours
        per_month[starts_at.strftime("%m/%Y")] += hours
    rows = sorted(((mentors[m], int(n), round(h, 1)) for m, (n, h) in per_mentor.items()), key=lambda r: -r[2])
    months = [(month, round(hours, 1)) for month, hours in sorted(per_month.items(), key=lambda kv: kv[0][3:] + kv[0])]
    startups_without = matching.unmatched_startups(db, _startups(ALL_STARTUPS))
    booked = db.scalar(select(func.count()).select_from(MentoringSession).where(
        MentoringSession.status == SessionStatus.CONFIRMED))
    return render_template("mentoring/manage_report.html", rows=rows, months=months, booked=booked,
                           startups_without=startups_without)


register_rule_pages(bp, "mentoring", "/reminders", lambda: Scope(None, {}, _("Mentoring sessions")))
