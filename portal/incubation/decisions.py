"""Decisions on applications and the letters that announce them: previewed, then sent in bulk through the outbox,
never twice to the same startup."""

from __future__ import annotations

from datetime import datetime

from flask import render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from portal.accounts.models import OrganisationMember, User
from portal.audit.services import record
from portal.errors import Conflict
from portal.i18n import localized
from portal.incubation.models import Application, ApplicationStatus, Call, Decision, Stage
from portal.notifications.services import absolute_url, queue_mail

DECISION_LABELS = {
    Decision.ACCEPT: _l("Accepted"),
    Decision.WAITLIST: _l("Waiting list"),
    Decision.PRE_INCUBATION: _l("Pre-incubation"),
    Decision.REJECT: _l("Not selected"),
}
SUBJECTS = {
    Decision.ACCEPT: _l("Your application to %(call)s is accepted"),
    Decision.WAITLIST: _l("Your application to %(call)s is on the waiting list"),
    Decision.PRE_INCUBATION: _l("Your application to %(call)s: an offer of pre-incubation"),
    Decision.REJECT: _l("Your application to %(call)s"),
}


def _subject(application: Application, locale: str) -> str:
    """The letter's subject in its reader's language."""
    with force_locale(locale):
        return str(SUBJECTS[application.decision]) % {"call": localized(application.call, "title")}


def decide(session: Session, application: Application, decision: Decision, feedback: str, actor: User,
           now: datetime) -> None:
    """Records the council's decision; a letter already sent fixes it (a change would contradict the letter)."""
    if application.status != ApplicationStatus.SUBMITTED:
        raise Conflict(_l("Only a submitted application can be decided."))
    if application.letter_sent_at is not None and application.decision != decision:
        raise Conflict(_l("The decision letter has been sent, so the decision can no longer change."))
    record(session, "application.decided", actor_id=actor.id, object_type="application", object_id=application.id,
           before=str(application.decision), after=str(decision))
    application.decision, application.stage = decision, Stage.DECIDED
    application.feedback = feedback.strip()[:5000]
    application.decided_at = now


def letter(application: Application, locale: str) -> tuple[str, str]:
    """The subject and text of the decision letter, as the startup will read it."""
    call = application.call
    subject = _subject(application, locale)
    with force_locale(locale):
        body = render_template("mail/decision_letter.txt", application=application, call=call,
                               name=application.organisation.name, decision=application.decision,
                               link=absolute_url("incubation.application", application_id=application.id))
    return subject, body


def letters_to_send(session: Session, call: Call, lock: bool = True) -> list[Application]:
    """Decided applications whose letter has not gone; locked when about to be sent, so two clicks send once."""
    query = (select(Application).where(Application.call_id == call.id, Application.decision.is_not(None),
                                       Application.letter_sent_at.is_(None))
             .options(selectinload(Application.organisation), selectinload(Application.call))
             .order_by(Application.id))
    return list(session.scalars(query.with_for_update(of=Application) if lock else query))


def send_letters(session: Session, call: Call, actor: User, now: datetime) -> int:
    """Queues the letter of every decided application that has none yet, to each member of the startup; a second
    click (or a retry) finds them sent. Returns how many startups were written to."""
    applications = letters_to_send(session, call)
    members = session.execute(
        select(OrganisationMember.organisation_id, User).join(User)
        .where(OrganisationMember.organisation_id.in_([a.organisation_id for a in applications])))
    by_organisation: dict[int, list[User]] = {}
    for organisation_id, user in members:
        by_organisation.setdefault(organisation_id, []).append(user)
    for application in applications:
        for user in by_organisation.get(application.organisation_id, []):
            queue_mail(session, key=f"decision-letter:{application.id}:{user.id}", to=user.email, locale=user.locale,
                       template="decision_letter",
                       subject=_subject(application, user.locale),
                       application=application, call=call, name=application.organisation.name,
                       decision=application.decision,
                       link=absolute_url("incubation.application", application_id=application.id))
        application.letter_sent_at = now
    record(session, "call.letters_sent", actor_id=actor.id, object_type="call", object_id=call.id,
           letters=len(applications))
    return len(applications)
