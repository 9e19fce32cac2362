"""Incubation's reminder kind: a call's deadline, to the members of startups whose application is still a draft."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, cast, literal, select
from sqlalchemy.orm import Session, joinedload

from portal.accounts.models import OrganisationMember, User
from portal.i18n import format_local_datetime, localized
from portal.incubation.models import Application, ApplicationStatus, Call
from portal.notifications.services import absolute_url
from portal.reminders.kinds import BEFORE, DefaultRule, ReminderKind, register_kind

MEMBERS = "members"


def _drafts(rule, after, up_to):
    return (select(Application.id.label("target_id"), (literal("u") + cast(User.id, String)).label("recipient_ref"),
                   User.email.label("email"), User.locale.label("locale"), Call.closes_at.label("occurs_at"))
            .join(Call, Application.call_id == Call.id)
            .join(OrganisationMember, OrganisationMember.organisation_id == Application.organisation_id)
            .join(User, OrganisationMember.user_id == User.id)
            .where(Application.call_id == rule.scope_id, Application.status == ApplicationStatus.DRAFT,
                   Call.closes_at > after, Call.closes_at <= up_to))


def _load(session: Session, ids: list[int]) -> dict[int, Application]:
    return {application.id: application for application in session.scalars(
        select(Application).where(Application.id.in_(ids))
        .options(joinedload(Application.call), joinedload(Application.organisation)))}


def _values(application: Application, _recipient: str) -> dict[str, str]:
    return {"startup": application.organisation.name, "call": localized(application.call, "title"),
            "closes_at": format_local_datetime(application.call.closes_at, "short"),
            "link": absolute_url("incubation.application", application_id=application.id)}


def _example(session: Session, call_id: int) -> tuple[Application, str] | None:
    application_id = session.scalar(select(Application.id).where(Application.call_id == call_id)
                                    .order_by(Application.id).limit(1))
    return None if application_id is None else (_load(session, [application_id])[application_id], MEMBERS)


register_kind(ReminderKind(
    name="application_deadline", label=_l("The call closes (unsubmitted drafts)"), scope="call",
    audiences={MEMBERS: _l("Members of startups with a draft")}, directions=frozenset({BEFORE}),
    default_subject=_l("{call} closes {closes_at}: your application is not submitted yet"),
    default_body=_l("Hello,\n\nThe application of {startup} to {call} is still a draft. Applications must be "
                    "submitted by {closes_at}; a draft is not considered."),
    placeholders={"startup": _l("the startup's name"), "call": _l("the call's title"),
                  "closes_at": _l("when the call closes"), "link": _l("the application's page")},
    candidates=_drafts, load=_load, values=_values, example=_example,
    defaults=(DefaultRule(timedelta(days=-7), timedelta(days=2), MEMBERS),
              DefaultRule(timedelta(days=-1), timedelta(hours=12), MEMBERS)),
    max_offset=timedelta(days=90),
))
