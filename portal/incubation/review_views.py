"""Reviewers' pages: invitations to calls (accept, decline, declare conflicts), the applications assigned to them,
and the scoring form. A reviewer sees only what is assigned to them, never a conflicted startup, never the other
reviewers."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.accounts.models import Organisation, Role
from portal.audit.services import record
from portal.db import db_session, end_refused, utcnow
from portal.errors import DomainError, NotFound
from portal.forms import choices
from portal.incubation import review as service
from portal.incubation import scoring
from portal.incubation.applications import answers_of, files_of, form_of
from portal.incubation.export import answer_text
from portal.incubation.forms import ConflictForm, score_form
from portal.incubation.models import (
    Application,
    ApplicationStatus,
    CallReviewer,
    ConflictReason,
    Criterion,
    ReviewerConflict,
)
from portal.web import button_action, staff_only

bp = Blueprint("reviewing", __name__, url_prefix="/reviewing")
bp.before_request(staff_only(Role.REVIEWER))


def _own_invitation(invitation_id: int) -> CallReviewer:
    invitation = db_session().get(CallReviewer, invitation_id)
    if invitation is None or invitation.user_id != current_user.id:
        abort(404)
    return invitation


@bp.get("/")
def home():
    db = db_session()
    return render_template("incubation/reviewer_home.html", invitations=service.invitations_of(db, current_user),
                           reviews=service.reviews_of(db, current_user))


@bp.post("/invitations/<int:invitation_id>/accept")
def accept(invitation_id: int):
    invitation = _own_invitation(invitation_id)

    def run(db):
        service.accept_invitation(db, invitation, current_user, utcnow())
        return _("Thank you. Declare any conflict of interest now: you will never see those startups' applications.")

    return button_action(run, back=url_for(".home"), back_when_done=url_for(".conflicts", invitation_id=invitation.id))


@bp.post("/invitations/<int:invitation_id>/decline")
def decline(invitation_id: int):
    invitation = _own_invitation(invitation_id)

    def run(db):
        if invitation.accepted_at is not None:
            raise service.Conflict(_("You have accepted this invitation; ask the call's managers to release you."))
        record(db, "call.reviewer_declined", actor_id=current_user.id, object_type="call",
               object_id=invitation.call_id)
        db.delete(invitation)
        return _("You have declined the invitation.")

    return button_action(run, back=url_for(".home"))


@bp.route("/invitations/<int:invitation_id>/conflicts", methods=["GET", "POST"])
def conflicts(invitation_id: int):
    db = db_session()
    invitation = _own_invitation(invitation_id)
    if invitation.accepted_at is None:
        abort(404)
    applicants = list(db.execute(select(Organisation.id, Organisation.name).join(
        Application, Application.organisation_id == Organisation.id).where(
        Application.call_id == invitation.call_id, Application.status == ApplicationStatus.SUBMITTED)
        .order_by(Organisation.name)))
    form = ConflictForm()
    form.organisation_id.choices = choices(applicants)
    status = 200
    if form.validate_on_submit():
        try:
            removed = service.declare_conflict(db, invitation, form.organisation_id.data,
                                               ConflictReason(form.reason.data))
        except DomainError as error:
            end_refused(db)
            abort(error.status_code)
        flash(_("The conflict is recorded.") + (" " + _("The review you had of this startup was removed.")
                                                 if removed else ""), "success")
        return redirect(url_for(".conflicts", invitation_id=invitation.id), 303)
    if form.is_submitted():
        status = 400
    declared = list(db.execute(select(Organisation.name, ReviewerConflict.reason).join(
        ReviewerConflict, ReviewerConflict.organisation_id == Organisation.id)
        .where(ReviewerConflict.call_reviewer_id == invitation.id).order_by(Organisation.name)))
    return render_template("incubation/reviewer_conflicts.html", invitation=invitation, form=form,
                           declared=declared), status


@bp.route("/reviews/<int:review_id>", methods=["GET", "POST"])
def review(review_id: int):
    db = db_session()
    try:
        found = service.own_review(db, current_user, review_id)
    except NotFound:
        abort(404)
    except service.ConflictOfInterest:
        abort(403)
    application = found.application
    criteria = list(db.scalars(select(Criterion).where(Criterion.call_id == application.call_id)
                               .order_by(Criterion.position)))
    form = score_form(criteria, found, formdata=request.form if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and found.submitted_at is None:
        if form.validate_on_submit():
            try:
                scoring.save_review(db, found, criteria, {c.key: form[c.key].data for c in criteria},
                                    form.comment_for_startup.data or "", form.comment_for_committee.data or "",
                                    submit=request.form.get("action") == "submit", now=utcnow())
            except DomainError as error:
                end_refused(db)
                field = getattr(error, "field", None)
                if field in form:
                    form[field].errors = [str(error.message)]
                else:
                    flash(str(error.message), "error")
                status = error.status_code
            else:
                flash(_("Your review is submitted. Thank you.") if found.submitted_at else _("Your scores are saved."),
                      "success")
                return redirect(url_for(".home") if found.submitted_at else url_for(".review", review_id=found.id),
                                303)
        else:
            status = 400
    return render_template("incubation/review.html", review=found, application=application, call=application.call,
                           criteria=criteria, form=form, sections=form_of(db, application.call_id),
                           answers=answers_of(db, application), files=files_of(db, application),
                           answer_text=answer_text), status
