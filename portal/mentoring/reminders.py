"""Mentoring's reminder kinds: a confirmed session to the mentor and the startup's members before it, and a request
for feedback after it to those who have not given theirs."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select, union_all
from sqlalchemy.orm import Session, joinedload

from portal.accounts.models import OrganisationMember, User
from portal.i18n import format_local_datetime, localized
from portal.mentoring.models import FeedbackSide, MentoringSession, MentorProfile, SessionFeedback, SessionStatus
from portal.notifications.services import absolute_url
from portal.reminders.kinds import (
    AFTER,
    BEFORE,
    DefaultRule,
    ReminderKind,
    first_example,
    loader,
    register_kind,
    user_recipient,
)

BOTH, MENTOR, STARTUP = "both", "mentor", "startup"
AUDIENCES = {BOTH: _l("The mentor and the startup"), MENTOR: _l("The mentor"), STARTUP: _l("The startup's members")}


def _people(rule, moment, conditions):
    """The session's mentor and/or the startup's members, per the rule's audience, as candidates at `moment`."""
    columns = (MentoringSession.id.label("target_id"), *user_recipient(), moment.label("occurs_at"))
    mentors = (select(*columns).join(MentorProfile, MentoringSession.mentor_id == MentorProfile.id)
               .join(User, MentorProfile.user_id == User.id).where(*conditions(FeedbackSide.MENTOR)))
    members = (select(*columns).join(OrganisationMember,
                                     OrganisationMember.organisation_id == MentoringSession.organisation_id)
               .join(User, OrganisationMember.user_id == User.id).where(*conditions(FeedbackSide.STARTUP)))
    return {MENTOR: mentors, STARTUP: members}.get(rule.audience) or union_all(mentors, members)


def _sessions(rule, after, up_to):
    return _people(rule, MentoringSession.starts_at, lambda _side: (
        MentoringSession.status == SessionStatus.CONFIRMED, MentoringSession.starts_at > after,
        MentoringSession.starts_at <= up_to))


def _sessions_ended(rule, after, up_to):
    return _people(rule, MentoringSession.ends_at, lambda side: (
        MentoringSession.status == SessionStatus.CONFIRMED, MentoringSession.ends_at > after,
        MentoringSession.ends_at <= up_to,
        ~exists().where(SessionFeedback.session_id == MentoringSession.id, SessionFeedback.side == side)))


_load = loader(MentoringSession, joinedload(MentoringSession.mentor).joinedload(MentorProfile.user),
               joinedload(MentoringSession.organisation))


def _values(booked: MentoringSession, _recipient: str) -> dict[str, str]:
    return _common_values(booked) | {"link": absolute_url("mentoring.my_sessions")}


def _feedback_values(booked: MentoringSession, _recipient: str) -> dict[str, str]:
    return _common_values(booked) | {"link": absolute_url("mentoring.feedback", session_id=booked.id)}


def _common_values(booked: MentoringSession) -> dict[str, str]:
    return {"mentor": booked.mentor.user.full_name, "startup": booked.organisation.name,
            "starts_at": format_local_datetime(booked.starts_at, "short"),
            "topic": booked.topic or localized(booked.mentor, "headline"), "location": booked.mentor.location}


def _example(session: Session, _scope_id: None) -> tuple[MentoringSession, str] | None:
    return first_example(session, _load, select(MentoringSession.id).order_by(MentoringSession.id.desc()), "u0")


PLACEHOLDERS = {"mentor": _l("the mentor's name"), "startup": _l("the startup's name"),
                "starts_at": _l("when the session starts"), "topic": _l("the session's topic"),
                "location": _l("where it takes place"), "link": _l("the mentoring sessions page")}

register_kind(ReminderKind(
    name="mentoring_session", label=_l("A mentoring session starts"), scope="mentoring", audiences=AUDIENCES,
    directions=frozenset({BEFORE}),
    default_subject=_l("Reminder: mentoring session {starts_at}"),
    default_body=_l("Hello,\n\nThe mentoring session of {startup} with {mentor} starts {starts_at} ({location}). "
                    "Topic: {topic}."),
    placeholders=PLACEHOLDERS, candidates=_sessions, load=_load, values=_values, example=_example,
    defaults=(DefaultRule(timedelta(hours=-24), timedelta(hours=12), BOTH),
              DefaultRule(timedelta(hours=-1), timedelta(minutes=45), BOTH)),
    max_offset=timedelta(days=30),
))

register_kind(ReminderKind(
    name="mentoring_feedback", label=_l("A mentoring session has ended: feedback"), scope="mentoring",
    audiences=AUDIENCES, directions=frozenset({AFTER}),
    default_subject=_l("How was the mentoring session of {starts_at}?"),
    default_body=_l("Hello,\n\nThe session of {startup} with {mentor} has ended. A rating and a few words help the "
                    "incubator match mentors and startups better: it takes a minute."),
    placeholders=PLACEHOLDERS | {"link": _l("the feedback page")}, candidates=_sessions_ended, load=_load,
    values=_feedback_values, example=_example,
    defaults=(DefaultRule(timedelta(hours=2), timedelta(days=2), BOTH),),
    max_offset=timedelta(days=30),
))
