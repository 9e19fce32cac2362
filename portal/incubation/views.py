"""Calls anyone can read, and a startup's applications: start, fill in section by section (saved as typed), attach
files, submit, follow, withdraw, download as PDF. Only members of the applying organisation see an application."""

from __future__ import annotations

import io
from datetime import date

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.accounts.services import user_organisations
from portal.db import db_session, end_refused, utcnow
from portal.errors import DomainError, NotFound
from portal.forms import choices
from portal.i18n import format_local_datetime
from portal.incubation import applications as service
from portal.incubation import cohorts, eligibility, files
from portal.incubation.decisions import DECISION_LABELS
from portal.incubation.export import answer_text, application_pdf
from portal.incubation.forms import ApplyForm, KpiForm, UploadForm, posted_values, section_form
from portal.incubation.models import (
    Application,
    ApplicationFile,
    Call,
    CallStatus,
    CohortMember,
    FormField,
    FormSection,
)
from portal.incubation.permissions import may_read_application
from portal.incubation.services import applications_of
from portal.sectors import sector_labels
from portal.uploads import STORED_NAME
from portal.web import button_action, signed_in_only, upload_folder

bp = Blueprint("incubation", __name__)
bp.before_request(signed_in_only(public_endpoints=frozenset({"incubation.calls", "incubation.call"})))


def _call_by_slug(slug: str) -> Call:
    call = db_session().scalar(select(Call).where(Call.slug == slug, Call.status != CallStatus.DRAFT)
                               .options(selectinload(Call.programme)))
    if call is None:
        abort(404)
    return call


@bp.get("/calls")
def calls():
    db = db_session()
    listed = list(db.scalars(select(Call).where(Call.status != CallStatus.DRAFT)
                             .options(selectinload(Call.programme)).order_by(Call.closes_at.desc())))
    now = utcnow()
    return render_template("incubation/calls.html", open_calls=[c for c in listed if service.is_open(c, now)],
                           past_calls=[c for c in listed if not service.is_open(c, now)])


@bp.get("/calls/<slug>")
def call(slug: str):
    db = db_session()
    found = _call_by_slug(slug)
    organisations = user_organisations(db, current_user) if current_user.is_authenticated else []
    existing = {}
    if organisations:
        existing = {a.organisation_id: a for a in db.scalars(select(Application).where(
            Application.call_id == found.id, Application.organisation_id.in_([o.id for o in organisations])))}
    form = ApplyForm()
    form.organisation_id.choices = choices([(o.id, o.name) for o in organisations])
    return render_template("incubation/call.html", call=found, is_open=service.is_open(found, utcnow()),
                           rules=eligibility.describe(found.eligibility or {}, sector_labels()),
                           sections=service.form_of(db, found.id), organisations=organisations, existing=existing,
                           form=form)


@bp.post("/calls/<slug>/apply")
def apply(slug: str):
    db = db_session()
    found = _call_by_slug(slug)
    form = ApplyForm()
    form.organisation_id.choices = choices([(o.id, o.name) for o in user_organisations(db, current_user)])
    if not form.validate_on_submit():
        flash(_("Choose the organisation you apply for. No organisation yet? Create one from your dashboard."),
              "error")
        return redirect(url_for(".call", slug=slug)), 303
    try:
        application = service.start(db, found, form.organisation_id.data, current_user, utcnow())
    except DomainError as error:
        end_refused(db)
        flash(str(error.message), "error")
        return redirect(url_for(".call", slug=slug)), 303
    return redirect(url_for(".application", application_id=application.id))


def _own(application_id: int) -> Application:
    try:
        return service.own_application(db_session(), current_user, application_id)
    except NotFound:
        abort(404)


@bp.get("/my/applications")
def my_applications():
    return render_template("incubation/my_applications.html", applications=applications_of(db_session(), current_user),
                           decision_labels=DECISION_LABELS)


def _overview(application: Application, problems=None, status: int = 200):
    db = db_session()
    sections = service.form_of(db, application.call_id)
    answers = service.answers_of(db, application)
    attached = service.files_of(db, application)
    return render_template(
        "incubation/application.html", application=application, call=application.call, sections=sections,
        answers=answers, files=attached, versions=service.versions_of(db, application),
        progress=service.progress(sections, answers, attached), problems=problems, now=utcnow(),
        may_edit=service.may_edit(application, utcnow()), may_withdraw=service.may_withdraw(application),
        decision_labels=DECISION_LABELS, upload_form=UploadForm(), answer_text=answer_text), status


@bp.get("/applications/<int:application_id>")
def application(application_id: int):
    return _overview(_own(application_id))


@bp.route("/applications/<int:application_id>/sections/<int:section_id>", methods=["GET", "POST"])
def section(application_id: int, section_id: int):
    db = db_session()
    application = _own(application_id)
    found = db.scalar(select(FormSection).where(FormSection.id == section_id,
                                                FormSection.call_id == application.call_id)
                      .options(selectinload(FormSection.fields)))
    if found is None:
        abort(404)
    wants_json = request.accept_mimetypes.best == "application/json"
    state = service.versions_of(db, application).get(found.id)
    if request.method == "GET":
        form = section_form(found, service.answers_of(db, application))
        form.base_version.data = state.version if state else 0
        return _section_page(application, found, form, state)
    form = section_form(found, {}, formdata=request.form)
    if not form.validate_on_submit():
        if wants_json:
            return jsonify(error=_("This page has expired. Reload it; what you typed since the last save is in "
                                   "the form.")), 400
        return _section_page(application, found, form, state, status=400)
    try:
        base_version = int(form.base_version.data or 0)
        saved = service.save_section(db, application, found, posted_values(form, found), base_version,
                                     current_user, utcnow())
    except service.IncompleteApplication as error:
        end_refused(db)
        if wants_json:
            return jsonify(error=str(error.message), fields=error.errors), 400
        for key, message in error.errors.items():
            form["q_" + key].errors = [message]
        flash(str(error.message), "error")
        return _section_page(application, found, form, state, status=400)
    except DomainError as error:
        end_refused(db)
        if wants_json:
            return jsonify(error=str(error.message)), error.status_code
        flash(str(error.message), "error")
        return _section_page(application, found, form, state, status=error.status_code)
    saved_at = format_local_datetime(saved.updated_at, "short")
    if wants_json:
        return jsonify(version=saved.version, saved=_("Saved at %(time)s", time=saved_at))
    flash(_("Saved at %(time)s.", time=saved_at), "success")
    if request.form.get("next") == "continue":
        following = _next_section(application, found)
        if following is not None:
            return redirect(url_for(".section", application_id=application.id, section_id=following.id), 303)
    return redirect(url_for(".application", application_id=application.id), 303)


def _next_section(application: Application, current: FormSection) -> FormSection | None:
    sections = service.form_of(db_session(), application.call_id)
    ids = [s.id for s in sections]
    position = ids.index(current.id)
    return sections[position + 1] if position + 1 < len(sections) else None


def _section_page(application, found, form, state, status: int = 200):
    sections = service.form_of(db_session(), application.call_id)
    return render_template("incubation/section.html", application=application, call=application.call,
                           section=found, sections=sections, form=form, state=state,
                           files=service.files_of(db_session(), application),
                           may_edit=service.may_edit(application, utcnow()),
                           is_last=_next_section(application, found) is None), status


@bp.post("/applications/<int:application_id>/files/<int:field_id>")
def upload(application_id: int, field_id: int):
    db = db_session()
    application = _own(application_id)
    field = db.get(FormField, field_id)
    if field is None or field.call_id != application.call_id:
        abort(404)
    form = UploadForm()
    back = (url_for(".section", application_id=application.id, section_id=field.section_id)
            if request.args.get("back") == "section" else url_for(".application", application_id=application.id)
            ) + f"#field-{field.id}"
    if not form.validate_on_submit():
        flash(" ".join(str(e) for e in form.file.errors) or _("Choose a file to upload."), "error")
        return redirect(back, 303)
    try:
        stored = files.attach(db, application, field, form.file.data, upload_folder(), current_user, utcnow())
    except DomainError as error:
        end_refused(db)
        flash(str(error.message), "error")
        return redirect(back, 303)
    flash(_("%(name)s is attached.", name=stored.original_name), "success")
    return redirect(back, 303)


@bp.post("/applications/<int:application_id>/files/<int:file_id>/delete")
def delete_file(application_id: int, file_id: int):
    application = _own(application_id)

    def run(db):
        stored = db.get(ApplicationFile, file_id)
        if stored is None or stored.application_id != application.id:
            raise NotFound()
        files.remove(db, stored, upload_folder(), utcnow())
        return _("%(name)s is removed.", name=stored.original_name)

    return button_action(run, back=url_for(".application", application_id=application.id))


@bp.get("/applications/<int:application_id>/files/<int:file_id>")
def download(application_id: int, file_id: int):
    """Served to the startup's members, the call's managers and reviewers assigned without a conflict only."""
    db = db_session()
    stored = db.get(ApplicationFile, file_id)
    if stored is None or stored.application_id != application_id or not STORED_NAME.fullmatch(stored.stored_name):
        abort(404)
    if not may_read_application(db, current_user, stored.application):
        abort(404)
    path = upload_folder() / stored.stored_name
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype=stored.content_type, as_attachment=True, download_name=stored.original_name,
                     max_age=0)


@bp.post("/applications/<int:application_id>/submit")
def submit(application_id: int):
    db = db_session()
    application = _own(application_id)
    try:
        first = service.submit(db, application, current_user, utcnow())
    except service.IncompleteApplication as problems:
        end_refused(db)
        return _overview(application, problems=problems, status=400)
    except DomainError as error:
        end_refused(db)
        flash(str(error.message), "error")
        return redirect(url_for(".application", application_id=application.id), 303)
    flash(_("Your application is submitted. A confirmation is on its way to every member of your team.") if first
          else _("Your application is up to date."), "success")
    return redirect(url_for(".application", application_id=application.id), 303)


@bp.post("/applications/<int:application_id>/withdraw")
def withdraw(application_id: int):
    application = _own(application_id)

    def run(db):
        service.withdraw(db, application, current_user, utcnow())
        return _("Your application is withdrawn.")

    return button_action(run, back=url_for(".application", application_id=application.id))


@bp.post("/applications/<int:application_id>/discard")
def discard(application_id: int):
    application = _own(application_id)

    def run(db):
        files.discard_draft(db, application, upload_folder())
        return _("The draft is deleted.")

    return button_action(run, back=url_for(".application", application_id=application.id),
                         back_when_done=url_for(".my_applications"))


@bp.get("/applications/<int:application_id>.pdf")
def application_as_pdf(application_id: int):
    application = _own(application_id)
    document = application_pdf(db_session(), application)
    name = f"{application.call.slug}-{application.id}.pdf"
    return send_file(io.BytesIO(document), mimetype="application/pdf", as_attachment=True, download_name=name)


@bp.route("/my/reports", methods=["GET", "POST"])
def reports():
    """A cohort startup's monthly figures: the months it owes, and a form to report or correct one."""
    db = db_session()
    organisation_ids = [o.id for o in user_organisations(db, current_user)]
    members = list(db.scalars(select(CohortMember).where(CohortMember.organisation_id.in_(organisation_ids))
                              .options(selectinload(CohortMember.cohort), selectinload(CohortMember.organisation))
                              .order_by(CohortMember.id)))
    if not members:
        return render_template("incubation/reports.html", members=[], form=None, reported=[])
    chosen = next((m for m in members if m.id == request.args.get("member", type=int)), members[0])
    today = utcnow().date()
    months = cohorts.reportable_months(chosen.cohort, today)
    form = KpiForm()
    form.period.choices = choices([(m.isoformat(), m.strftime("%m/%Y")) for m in months])
    if form.validate_on_submit():
        try:
            cohorts.report(db, chosen, date.fromisoformat(form.period.data),
                           {name: form[name].data for name in cohorts.KPI_FIELDS}, current_user, utcnow())
        except DomainError as error:
            end_refused(db)
            flash(str(error.message), "error")
        else:
            flash(_("The figures for %(month)s are saved.", month=form.period.data[:7]), "success")
            return redirect(url_for(".reports", member=chosen.id), 303)
    reported = cohorts.reports_of(db, chosen)
    status = 400 if form.is_submitted() and form.errors else 200
    return render_template("incubation/reports.html", members=members, chosen=chosen, form=form,
                           reported=reported, late=cohorts.is_late(chosen.cohort, reported, today)), status
