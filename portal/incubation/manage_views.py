"""Incubator managers' pages: calls and their forms, rubrics and reviewers; the pipeline, assignment, ranking,
decisions and letters; cohorts; the programme dashboard. One gate for all of them: the role, then the CSRF token of
a POST, then the call (404 when it does not exist)."""

from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal.accounts.models import Organisation, Role, User
from portal.accounts.services import find_user_by_email
from portal.db import db_session, end_refused, utcnow
from portal.errors import DomainError, Invalid, NotFound
from portal.forms import ConfirmForm, choices
from portal.i18n import localized
from portal.incubation import calls as call_service
from portal.incubation import cohorts, dashboard, decisions, export, review, scoring
from portal.incubation.applications import answers_of, files_of, form_of
from portal.incubation.forms import (
    FIELD_KIND_LABELS,
    STAGE_LABELS,
    CallForm,
    CohortForm,
    DecisionForm,
    FieldEditForm,
    InviteReviewerForm,
    MilestoneForm,
    MoveForm,
    SectionEditForm,
    localized_option,
    section_form,
)
from portal.incubation.models import (
    Application,
    ApplicationStatus,
    Call,
    CallReviewer,
    Cohort,
    Criterion,
    Programme,
    Review,
    Stage,
)
from portal.reminders.pages import Scope, register_rule_pages
from portal.search import matches
from portal.sectors import SECTORS, sector_labels
from portal.web import button_action, client_ip, page_number, render_form, save_form, staff_only

bp = Blueprint("incubator", __name__, url_prefix="/incubator")
bp.before_request(staff_only(Role.INCUBATOR_MANAGER, Role.ADMIN))

PER_PAGE = 50


def _call(call_id: int) -> Call:
    call = db_session().get(Call, call_id)
    if call is None:
        abort(404)
    return call


def _labels() -> dict:
    return {"stage_labels": STAGE_LABELS, "decision_labels": decisions.DECISION_LABELS}


@bp.get("/")
def index():
    db = db_session()
    listed = list(db.scalars(select(Call).options(selectinload(Call.programme)).order_by(Call.opens_at.desc())))
    counts = dict(db.execute(select(Application.call_id, func.count()).where(
        Application.status == ApplicationStatus.SUBMITTED).group_by(Application.call_id)).all())
    return render_template("incubation/manage_index.html", calls=listed, counts=counts)


# --- calls ------------------------------------------------------------------------------------------------------

def _call_form(call: Call | None = None) -> CallForm:
    form = CallForm(obj=call) if call is not None and request.method == "GET" else CallForm()
    form.programme_id.choices = choices([(p.id, localized(p, "name"))
                                         for p in db_session().scalars(select(Programme).order_by(Programme.id))])
    form.sectors.choices = choices(sector_labels().items())
    if call is not None and request.method == "GET":
        rules = call.eligibility or {}
        for name in CallForm.RULES:
            form[name].data = rules.get(name)
        form.status.data = call.status.value
    return form


@bp.route("/calls/new", methods=["GET", "POST"])
def call_new():
    form = _call_form()

    def save(db):
        created = call_service.create_call(db, form.call_data(), form.rules(), current_user)
        flash(_("The call is created with the usual form and rubric. Adjust them below."), "success")
        return redirect(url_for(".call", call_id=created.id), 303)

    return save_form(form, "incubation/manage_call_form.html", save, call=None)


@bp.route("/calls/<int:call_id>/edit", methods=["GET", "POST"])
def call_edit(call_id: int):
    call = _call(call_id)
    form = _call_form(call)

    def save(db):
        call_service.update_call(db, call, form.call_data(), form.rules(), current_user)
        flash(_("The call is saved."), "success")
        return redirect(url_for(".call", call_id=call.id), 303)

    return save_form(form, "incubation/manage_call_form.html", save, call=call)


@bp.get("/calls/<int:call_id>")
def call(call_id: int):
    db = db_session()
    found = _call(call_id)
    by_stage = dict(db.execute(select(Application.stage, func.count()).where(
        Application.call_id == found.id, Application.status == ApplicationStatus.SUBMITTED)
        .group_by(Application.stage)).all())
    drafts = db.scalar(select(func.count()).select_from(Application).where(
        Application.call_id == found.id, Application.status == ApplicationStatus.DRAFT))
    return render_template("incubation/manage_call.html", call=found, by_stage=by_stage, drafts=drafts,
                           stages=review.STAGES, **_labels())


# --- the pipeline -----------------------------------------------------------------------------------------------

@bp.get("/calls/<int:call_id>/applications")
def applications(call_id: int):
    db = db_session()
    found = _call(call_id)
    stage = request.args.get("stage", "")
    sector = request.args.get("sector", "")
    search = request.args.get("q", "").strip()[:100]
    query = (select(Application).where(Application.call_id == found.id,
                                       Application.status == ApplicationStatus.SUBMITTED)
             .options(selectinload(Application.organisation)))
    if stage in {s.value for s in Stage}:
        query = query.where(Application.stage == Stage(stage))
    if sector:
        query = query.where(Application.sector == sector)
    if search:
        query = query.join(Organisation, Organisation.id == Application.organisation_id).where(
            matches(Organisation.search_text, search))
    total = db.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    page = page_number()
    listed = list(db.scalars(query.order_by(Application.submitted_at, Application.id)
                             .limit(PER_PAGE).offset((page - 1) * PER_PAGE)))
    review_counts = _review_counts(db, [a.id for a in listed])
    form = MoveForm()
    return render_template("incubation/manage_applications.html", call=found, applications=listed, total=total,
                           page=page, per_page=PER_PAGE, form=form, review_counts=review_counts,
                           sectors=sector_labels(), filters={"stage": stage, "sector": sector, "q": search},
                           **_labels())


def _review_counts(db, application_ids: list[int]) -> dict[int, tuple[int, int]]:
    rows = db.execute(select(Review.application_id, func.count(), func.count(Review.submitted_at))
                      .where(Review.application_id.in_(application_ids)).group_by(Review.application_id))
    return {application_id: (assigned, submitted) for application_id, assigned, submitted in rows}


@bp.post("/calls/<int:call_id>/applications/move")
def move(call_id: int):
    found = _call(call_id)
    form = MoveForm()
    back = url_for(".applications", call_id=found.id, **{k: v for k, v in request.args.items() if k != "page"})
    if not form.validate_on_submit() or not form.application_ids.data:
        flash(_("Tick the applications to move first."), "error")
        return redirect(back, 303)

    def run(db):
        moved = review.move(db, found, form.application_ids.data, Stage(form.stage.data), current_user)
        return ngettext("%(num)d application moved to %(stage)s.", "%(num)d applications moved to %(stage)s.", moved,
                        stage=STAGE_LABELS[Stage(form.stage.data)])

    return button_action(run, back=back)


def _application(call: Call, application_id: int) -> Application:
    application = db_session().get(Application, application_id)
    if application is None or application.call_id != call.id or application.status == ApplicationStatus.DRAFT:
        abort(404)
    return application


@bp.route("/calls/<int:call_id>/applications/<int:application_id>", methods=["GET", "POST"])
def application(call_id: int, application_id: int):
    db = db_session()
    found = _call(call_id)
    chosen = _application(found, application_id)
    form = DecisionForm(obj=chosen if request.method == "GET" else None)
    if request.method == "GET" and chosen.decision:
        form.decision.data = chosen.decision.value

    def save(session):
        decisions.decide(session, chosen, decisions.Decision(form.decision.data), form.feedback.data or "",
                         current_user, utcnow())
        flash(_("The decision is recorded. Letters go out from the letters page."), "success")
        return redirect(url_for(".application", call_id=found.id, application_id=chosen.id), 303)

    reviews = list(db.scalars(select(Review).where(Review.application_id == chosen.id)
                              .options(selectinload(Review.reviewer).selectinload(CallReviewer.user),
                                       selectinload(Review.scores)).order_by(Review.id)))
    criteria = list(db.scalars(select(Criterion).where(Criterion.call_id == found.id).order_by(Criterion.position)))
    pool = [r for r in review.pool(db, found) if r.id not in {x.call_reviewer_id for x in reviews}]
    users = {u.id: u for u in db.scalars(select(User).where(User.id.in_([r.user_id for r in pool])))}
    context = dict(call=found, application=chosen, reviews=reviews, criteria=criteria, pool=pool, users=users,
                   sections=form_of(db, found.id), answers=answers_of(db, chosen), files=files_of(db, chosen),
                   answer_text=export.answer_text, **_labels(),
                   scores={r.id: scoring.weighted_score({s.criterion_id: s.value for s in r.scores}, criteria)
                           for r in reviews if r.submitted_at})
    if request.method == "POST":
        return save_form(form, "incubation/manage_application.html", save, **context)
    return render_form("incubation/manage_application.html", form, **context)


@bp.post("/calls/<int:call_id>/applications/<int:application_id>/reviewers")
def assign_by_hand(call_id: int, application_id: int):
    found = _call(call_id)
    chosen = _application(found, application_id)

    def run(db):
        reviewer = db.get(CallReviewer, request.form.get("reviewer_id", type=int) or 0)
        if reviewer is None:
            raise NotFound()
        review.assign_by_hand(db, chosen, reviewer, current_user, utcnow())
        return _("The reviewer is assigned.")

    return button_action(run, back=url_for(".application", call_id=found.id, application_id=chosen.id))


@bp.post("/calls/<int:call_id>/reviews/<int:review_id>/remove")
def unassign(call_id: int, review_id: int):
    found = _call(call_id)

    def run(db):
        chosen = db.get(Review, review_id)
        if chosen is None or chosen.application.call_id != found.id:
            raise NotFound()
        review.unassign(db, chosen, current_user)
        return _("The reviewer is taken off this application.")

    back = request.form.get("back", type=int)
    return button_action(run, back=url_for(".application", call_id=found.id, application_id=back) if back
                         else url_for(".applications", call_id=found.id))


# --- reviewers and assignment -----------------------------------------------------------------------------------

def _parse_expertise(text: str) -> dict[str, int]:
    """'agritech 5, fintech 3' → {"agritech": 5, "fintech": 3}; an unknown sector or level is refused."""
    known = {key for key, _vi, _en in SECTORS}
    expertise = {}
    for part in filter(None, (p.strip() for p in text.replace(";", ",").split(","))):
        pieces = part.split()
        if len(pieces) != 2 or pieces[0] not in known or not pieces[1].isdigit() or not 1 <= int(pieces[1]) <= 5:
            raise Invalid(_("Write each sector's key and a level from 1 to 5, for example: agritech 5, fintech 3. "
                            "Known sectors: %(keys)s.", keys=", ".join(sorted(known))), "expertise")
        expertise[pieces[0]] = int(pieces[1])
    return expertise


@bp.route("/calls/<int:call_id>/reviewers", methods=["GET", "POST"])
def reviewers(call_id: int):
    db = db_session()
    found = _call(call_id)
    form = InviteReviewerForm()

    def save(session):
        user = find_user_by_email(session, form.email.data or "")
        if user is None or not user.has_role(Role.REVIEWER):
            raise Invalid(_("Invite a person who has a reviewer account; an administrator grants the role."),
                          "email")
        review.invite(session, found, user, current_user, _parse_expertise(form.expertise.data or ""), form.cap.data,
                      utcnow())
        flash(_("%(name)s is invited.", name=user.full_name), "success")
        return redirect(url_for(".reviewers", call_id=found.id), 303)

    ranking = scoring.ranking(db, found)
    context = dict(call=found, progress=ranking.reviewers, sector_labels=sector_labels())
    if request.method == "POST":
        return save_form(form, "incubation/manage_reviewers.html", save, **context)
    return render_form("incubation/manage_reviewers.html", form, **context)


@bp.post("/calls/<int:call_id>/assign")
def assign(call_id: int):
    found = _call(call_id)

    def run(db):
        result = review.assign(db, found, current_user, utcnow())
        return _("Reviews assigned: %(assigned)d. Reviewers: %(reviewers)d. Reviews kept: %(kept)d. Total "
                 "expertise match: %(objective)d, the best possible.", assigned=result.assigned,
                 reviewers=result.reviewers, kept=result.kept, objective=result.objective)

    return button_action(run, back=url_for(".reviewers", call_id=found.id))


@bp.get("/calls/<int:call_id>/ranking")
def ranking(call_id: int):
    db = db_session()
    found = _call(call_id)
    sort = request.args.get("sort", "calibrated")
    sort = sort if sort in scoring.SORTS else "calibrated"
    ranked, page = scoring.ranking(db, found, sort), page_number()
    return render_template("incubation/manage_ranking.html", call=found, ranking=ranked, sort=sort, page=page,
                           per_page=PER_PAGE, rows=ranked.rows[(page - 1) * PER_PAGE:page * PER_PAGE],
                           first_rank=(page - 1) * PER_PAGE + 1, **_labels())


@bp.post("/calls/<int:call_id>/ranking.<any(csv, xlsx):file_format>")
def export_ranking(call_id: int, file_format: str):
    db = db_session()
    found = _call(call_id)
    exported = export.export(db, current_user, export.ranking_table(scoring.ranking(db, found)), file_format,
                             name=f"{found.slug}-ranking", what=f"ranking:{found.id}", now=utcnow(),
                             ip_address=client_ip())
    return send_file(io.BytesIO(exported.content), mimetype=exported.mimetype, as_attachment=True,
                     download_name=exported.filename)


# --- decisions and letters --------------------------------------------------------------------------------------

@bp.get("/calls/<int:call_id>/letters")
def letters(call_id: int):
    db = db_session()
    found = _call(call_id)
    pending = decisions.letters_to_send(db, found, lock=False)
    locale = request.args.get("lang", "vi") if request.args.get("lang") in ("vi", "en") else "vi"
    previews = [(application, *decisions.letter(application, locale)) for application in pending]
    sent = db.scalar(select(func.count()).select_from(Application).where(
        Application.call_id == found.id, Application.letter_sent_at.is_not(None)))
    return render_template("incubation/manage_letters.html", call=found, previews=previews, sent=sent,
                           locale=locale, **_labels())


@bp.post("/calls/<int:call_id>/letters")
def send_letters(call_id: int):
    found = _call(call_id)

    def run(db):
        count = decisions.send_letters(db, found, current_user, utcnow())
        return ngettext("%(num)d decision letter is on its way.", "%(num)d decision letters are on their way.",
                        count) if count else \
            _("Every decided startup has its letter already.")

    return button_action(run, back=url_for(".letters", call_id=found.id))


# --- the form builder -------------------------------------------------------------------------------------------

@bp.get("/calls/<int:call_id>/form")
def form_builder(call_id: int):
    db = db_session()
    found = _call(call_id)
    return render_template("incubation/manage_form.html", call=found, sections=form_of(db, found.id),
                           kind_labels=FIELD_KIND_LABELS, localized_option=localized_option)


@bp.get("/calls/<int:call_id>/form/preview")
def form_preview(call_id: int):
    db = db_session()
    found = _call(call_id)
    sections = form_of(db, found.id)
    return render_template("incubation/manage_form_preview.html", call=found,
                           forms=[(section, section_form(section, {})) for section in sections])


@bp.route("/calls/<int:call_id>/form/sections/new", methods=["GET", "POST"])
@bp.route("/calls/<int:call_id>/form/sections/<int:section_id>", methods=["GET", "POST"])
def section_edit(call_id: int, section_id: int | None = None):
    db = db_session()
    found = _call(call_id)
    try:
        section = call_service.section_of(db, found, section_id) if section_id else None
    except NotFound:
        abort(404)
    form = SectionEditForm(obj=section) if request.method == "GET" else SectionEditForm()

    def save(session):
        call_service.save_section(session, found, section, form.data, current_user)
        flash(_("The section is saved."), "success")
        return redirect(url_for(".form_builder", call_id=found.id), 303)

    return save_form(form, "incubation/manage_section_form.html", save, call=found, section=section)


@bp.post("/calls/<int:call_id>/form/sections/<int:section_id>/delete")
def section_delete(call_id: int, section_id: int):
    found = _call(call_id)

    def run(db):
        call_service.delete_section(db, found, call_service.section_of(db, found, section_id), current_user)
        return _("The section is deleted.")

    return button_action(run, back=url_for(".form_builder", call_id=found.id))


@bp.route("/calls/<int:call_id>/form/sections/<int:section_id>/fields/new", methods=["GET", "POST"])
@bp.route("/calls/<int:call_id>/form/fields/<int:field_id>", methods=["GET", "POST"])
def field_edit(call_id: int, section_id: int | None = None, field_id: int | None = None):
    db = db_session()
    found = _call(call_id)
    try:
        field = call_service.field_of(db, found, field_id) if field_id else None
        section = field.section if field else call_service.section_of(db, found, section_id)
    except NotFound:
        abort(404)
    form = FieldEditForm(obj=field) if request.method == "GET" else FieldEditForm()
    if request.method == "GET" and field is not None:
        form.kind.data = field.kind.value
        form.options_text.data = call_service.options_text(field.options)

    def save(session):
        call_service.save_field(session, found, section, field, form.data, current_user)
        flash(_("The question is saved."), "success")
        return redirect(url_for(".form_builder", call_id=found.id), 303)

    return save_form(form, "incubation/manage_field_form.html", save, call=found, section=section, field_obj=field)


@bp.post("/calls/<int:call_id>/form/fields/<int:field_id>/delete")
def field_delete(call_id: int, field_id: int):
    found = _call(call_id)

    def run(db):
        call_service.delete_field(db, found, call_service.field_of(db, found, field_id), current_user)
        return _("The question is deleted.")

    return button_action(run, back=url_for(".form_builder", call_id=found.id))


@bp.route("/calls/<int:call_id>/rubric", methods=["GET", "POST"])
def rubric(call_id: int):
    db = db_session()
    found = _call(call_id)
    criteria = list(db.scalars(select(Criterion).where(Criterion.call_id == found.id).order_by(Criterion.position)))
    typed = {c.id: str(c.weight) for c in criteria}
    if request.method == "GET":
        return render_template("incubation/manage_rubric.html", call=found, criteria=criteria, typed=typed)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    typed = {c.id: request.form.get(f"weight-{c.id}", "")[:5] for c in criteria}
    weights = {c.id: int(typed[c.id]) if typed[c.id].strip().isdigit() else 0 for c in criteria}
    try:
        call_service.save_rubric(db, found, weights, current_user)
    except DomainError as error:
        end_refused(db)
        flash(str(error.message), "error")
        return render_template("incubation/manage_rubric.html", call=found, criteria=criteria,
                               typed=typed), error.status_code
    flash(_("The rubric is saved."), "success")
    return redirect(url_for(".rubric", call_id=found.id), 303)


# --- cohorts ----------------------------------------------------------------------------------------------------

@bp.route("/calls/<int:call_id>/cohort", methods=["GET", "POST"])
def cohort(call_id: int):
    db = db_session()
    found = _call(call_id)
    existing = db.scalar(select(Cohort).where(Cohort.call_id == found.id).options(selectinload(Cohort.milestones)))
    form = CohortForm(obj=existing) if request.method == "GET" else CohortForm()

    def save(session):
        cohorts.form_cohort(session, found, form.name.data, form.starts_on.data, form.ends_on.data, current_user)
        flash(_("The cohort holds every accepted startup."), "success")
        return redirect(url_for(".cohort", call_id=found.id), 303)

    statuses = cohorts.member_statuses(db, existing, utcnow().date()) if existing else []
    context = dict(call=found, cohort=existing, statuses=statuses, milestone_form=MilestoneForm())
    if request.method == "POST":
        return save_form(form, "incubation/manage_cohort.html", save, **context)
    return render_form("incubation/manage_cohort.html", form, **context)


@bp.post("/calls/<int:call_id>/cohort/milestones")
def milestone_add(call_id: int):
    db = db_session()
    found = _call(call_id)
    existing = db.scalar(select(Cohort).where(Cohort.call_id == found.id).options(selectinload(Cohort.milestones)))
    if existing is None:
        abort(404)
    milestone_form = MilestoneForm()
    if milestone_form.validate_on_submit():
        try:
            cohorts.add_milestone(db, existing, milestone_form.title_vi.data, milestone_form.title_en.data or "",
                                  milestone_form.due_on.data, current_user)
        except Invalid as error:
            end_refused(db)
            milestone_form[error.field].errors.append(str(error.message))
        else:
            flash(_("The milestone is added."), "success")
            return redirect(url_for(".cohort", call_id=found.id), 303)
    return render_template("incubation/manage_cohort.html", call=found, cohort=existing,
                           statuses=cohorts.member_statuses(db, existing, utcnow().date()),
                           milestone_form=milestone_form, form=CohortForm(obj=existing)), 400


# --- the programme dashboard ------------------------------------------------------------------------------------

@bp.get("/dashboard")
def programme_dashboard():
    return render_template("incubation/manage_dashboard.html", figures=dashboard.figures(db_session()),
                           **_labels())


@bp.post("/dashboard.<any(csv, xlsx):file_format>")
def export_figures(file_format: str):
    db = db_session()
    exported = export.export(db, current_user, export.figures_table(dashboard.figures(db)), file_format,
                             name="incubation-figures", what="figures", now=utcnow(), ip_address=client_ip())
    return send_file(io.BytesIO(exported.content), mimetype=exported.mimetype, as_attachment=True,
                     download_name=exported.filename)


def _call_scope(call_id: int) -> Scope:
    found = _call(call_id)
    return Scope(found.id, {"call_id": found.id}, localized(found, "title"))


def _programme_scope(programme_id: int) -> Scope:
    found = db_session().get(Programme, programme_id)
    if found is None:
        abort(404)
    return Scope(found.id, {"programme_id": found.id}, localized(found, "name"))


register_rule_pages(bp, "call", "/calls/<int:call_id>/reminders", _call_scope,
                    nav_template="incubation/manage_nav.html")
register_rule_pages(bp, "programme", "/programmes/<int:programme_id>/reminders", _programme_scope,
                    nav_template="incubation/incubator_nav.html")
