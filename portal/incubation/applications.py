"""A startup's application: drafts that keep everything typed, sections two members cannot silently overwrite,
submission that checks everything (answers and eligibility) and confirms by mail, editing until the deadline,
withdrawal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from portal.accounts.models import OrganisationMember, User
from portal.audit.services import record
from portal.errors import Conflict, Invalid, NotFound, PermissionDenied
from portal.i18n import format_local_datetime
from portal.incubation import eligibility
from portal.incubation.form import check_value, draft_value, is_empty, typed_value
from portal.incubation.models import (
    Answer,
    Application,
    ApplicationFile,
    ApplicationStatus,
    Call,
    CallStatus,
    FieldKind,
    FormField,
    FormSection,
    SectionState,
    Stage,
)
from portal.notifications.services import absolute_url, queue_mail


class CallNotOpen(Conflict):
    default_message = _l("This call is not taking applications now. Your draft is kept.")


class EditConflict(Conflict):
    """Someone else saved the same section since this page was loaded."""


class IncompleteApplication(Invalid):
    default_message = _l("Some answers need your attention before the application can be submitted. Your draft "
                         "is kept.")

    def __init__(self, errors: dict[str, str], ineligible: list[str]) -> None:
        super().__init__(self.default_message)
        self.errors = errors  # field key → message
        self.ineligible = ineligible


# --- "may I?" -----------------------------------------------------------------------------------------------------

def is_open(call: Call, now: datetime) -> bool:
    return call.status == CallStatus.OPEN and call.opens_at <= now < call.closes_at


def may_edit(application: Application, now: datetime) -> bool:
    """Drafts, and submitted applications until the deadline, while no decision is made."""
    return (application.status != ApplicationStatus.WITHDRAWN and application.decision is None
            and is_open(application.call, now))


def may_withdraw(application: Application) -> bool:
    return application.status != ApplicationStatus.WITHDRAWN and application.decision is None


def is_member(session: Session, user: User, organisation_id: int) -> bool:
    return session.scalar(select(OrganisationMember.id).where(
        OrganisationMember.organisation_id == organisation_id, OrganisationMember.user_id == user.id)) is not None


# --- reading --------------------------------------------------------------------------------------------------

def form_of(session: Session, call_id: int) -> list[FormSection]:
    """The call's sections with their fields, in order, in one round trip each."""
    return list(session.scalars(
        select(FormSection).where(FormSection.call_id == call_id).options(selectinload(FormSection.fields))
        .order_by(FormSection.position, FormSection.id)))


def own_application(session: Session, user: User, application_id: int) -> Application:
    """An application the user may see as an applicant: a member of its organisation. Anyone else: 404, so an id
    tells nothing about other startups."""
    application = session.get(Application, application_id)
    if application is None or not is_member(session, user, application.organisation_id):
        raise NotFound()
    return application


def answers_of(session: Session, application: Application) -> dict[int, object]:
    return dict(session.execute(
        select(Answer.field_id, Answer.value).where(Answer.application_id == application.id)).all())


def files_of(session: Session, application: Application) -> dict[int, list[ApplicationFile]]:
    files: dict[int, list[ApplicationFile]] = {}
    for stored in session.scalars(select(ApplicationFile).where(ApplicationFile.application_id == application.id)
                                  .order_by(ApplicationFile.id)):
        files.setdefault(stored.field_id, []).append(stored)
    return files


def versions_of(session: Session, application: Application) -> dict[int, SectionState]:
    return {state.section_id: state for state in session.scalars(
        select(SectionState).where(SectionState.application_id == application.id)
        .options(selectinload(SectionState.updated_by)))}


# --- changing -------------------------------------------------------------------------------------------------

def start(session: Session, call: Call, organisation_id: int, user: User, now: datetime) -> Application:
    """The organisation's application to the call: the one it has, or a new draft."""
    if not is_member(session, user, organisation_id):
        raise PermissionDenied()
    existing = session.scalar(select(Application).where(
        Application.call_id == call.id, Application.organisation_id == organisation_id))
    if existing is not None:
        return existing
    if not is_open(call, now):
        raise CallNotOpen(_l("This call is not taking applications now."))
    application = Application(call=call, organisation_id=organisation_id, created_by_id=user.id, created_at=now,
                              updated_at=now)
    try:
        with session.begin_nested():
            session.add(application)
    except IntegrityError:  # another member started it at the same moment: use theirs
        return session.scalar(select(Application).where(
            Application.call_id == call.id, Application.organisation_id == organisation_id))
    return application


def save_section(session: Session, application: Application, section: FormSection, values: dict,
                 base_version: int, user: User, now: datetime) -> SectionState:
    """Stores what was typed in one section, as it is, if nobody saved the section since `base_version`.
    A submitted application stays complete: its edits are checked as at submission."""
    if section.call_id != application.call_id:
        raise NotFound()
    if not may_edit(application, now):
        raise CallNotOpen()
    state = _locked_state(session, application, section)
    if state.version != base_version:
        who = state.updated_by.full_name if state.updated_by else _l("another member")
        raise EditConflict(_l("%(name)s saved this section at %(when)s, after you opened it. Copy what you typed, "
                              "reload the page to see their changes, then add yours.",
                              name=who, when=format_local_datetime(state.updated_at)))
    stored = {answer.field_id: answer for answer in session.scalars(
        select(Answer).where(Answer.application_id == application.id,
                             Answer.field_id.in_([f.id for f in section.fields])))}
    errors = {}
    for field in section.fields:
        if field.kind == FieldKind.FILE or field.key not in values:
            continue
        value = draft_value(field, values[field.key])
        if application.status == ApplicationStatus.SUBMITTED and (problem := check_value(field, value)):
            errors[field.key] = str(problem)
        if field.key == "sector":
            application.sector = value if isinstance(value, str) and value else None
        if field.id in stored:
            stored[field.id].value = value
        else:
            session.add(Answer(application_id=application.id, field_id=field.id, value=value))
    if errors:
        raise IncompleteApplication(errors, [])
    state.version += 1
    state.updated_by_id, state.updated_at = user.id, now
    application.updated_at = now
    return state


def _locked_state(session: Session, application: Application, section: FormSection) -> SectionState:
    query = select(SectionState).where(SectionState.application_id == application.id,
                                       SectionState.section_id == section.id).with_for_update()
    state = session.scalar(query)
    if state is not None:
        return state
    try:
        with session.begin_nested():
            state = SectionState(application_id=application.id, section_id=section.id, version=0)
            session.add(state)
    except IntegrityError:  # the other member's first save created it a moment ago
        state = session.scalar(query.execution_options(populate_existing=True))
    return state


def problems(session: Session, application: Application, today: date) -> IncompleteApplication | None:
    """Everything that stops the application from being submitted, or None."""
    answers = answers_of(session, application)
    files = files_of(session, application)
    errors = {}
    by_key: dict[str, tuple[FormField, object]] = {}
    for section in form_of(session, application.call_id):
        for field in section.fields:
            raw = answers.get(field.id)
            by_key[field.key] = (field, raw)
            if problem := check_value(field, raw, files=len(files.get(field.id, []))):
                errors[field.key] = str(problem)
    if errors:
        return IncompleteApplication(errors, [])
    ineligible = eligibility.failures(application.call.eligibility or {}, _facts(by_key), today)
    return IncompleteApplication({}, ineligible) if ineligible else None


def _facts(by_key: dict[str, tuple[FormField, object]]) -> eligibility.Facts:
    def typed(key):
        field, raw = by_key.get(key, (None, None))
        return typed_value(field, raw) if field is not None else None

    return eligibility.Facts(founded_on=typed("founded_on"), province=typed("province"), sector=typed("sector"),
                             team_size=len(typed("team") or []))


def submit(session: Session, application: Application, user: User, now: datetime) -> bool:
    """Submits the application; True the first time (the members get a confirmation), False when it already was."""
    if not may_edit(application, now):
        raise CallNotOpen()
    if (found := problems(session, application, now.date())) is not None:
        raise found
    if application.status == ApplicationStatus.SUBMITTED:
        return False
    application.status, application.stage = ApplicationStatus.SUBMITTED, Stage.ELIGIBILITY
    application.submitted_at = application.updated_at = now
    record(session, "application.submitted", actor_id=user.id, object_type="application", object_id=application.id)
    _confirm_by_mail(session, application)
    return True


def _confirm_by_mail(session: Session, application: Application) -> None:
    link = absolute_url("incubation.application", application_id=application.id)
    members = session.scalars(select(User).join(OrganisationMember).where(
        OrganisationMember.organisation_id == application.organisation_id))
    for member in members:
        queue_mail(session, key=f"application-submitted:{application.id}:{member.id}", to=member.email,
                   locale=member.locale, template="application_submitted",
                   subject=_l("Your application to %(call)s is submitted", call=application.call.title_vi
                              if member.locale == "vi" else application.call.title_en),
                   name=member.full_name, application=application, call=application.call, link=link)


def withdraw(session: Session, application: Application, user: User, now: datetime) -> None:
    if not may_withdraw(application):
        raise Conflict(_l("This application can no longer be withdrawn."))
    application.status, application.updated_at = ApplicationStatus.WITHDRAWN, now
    record(session, "application.withdrawn", actor_id=user.id, object_type="application", object_id=application.id)


@dataclass(frozen=True)
class Progress:
    answered: int
    required: int


def progress(sections: list[FormSection], answers: dict[int, object], files: dict[int, list]) -> Progress:
    """Required questions answered, for the progress bar."""
    required = [f for s in sections for f in s.fields if f.required]
    done = sum(1 for f in required
               if (files.get(f.id) if f.kind == FieldKind.FILE else not is_empty(f, answers.get(f.id))))
    return Progress(answered=done, required=len(required))
