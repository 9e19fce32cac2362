"""Incubation's reminder kinds: a call's deadline, to the members of startups whose application is still a draft;
the date reviews are due, to reviewers with unfinished reviews."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, cast, exists, literal, select
from sqlalchemy.orm import Session, joinedload

from portal.accounts.models import OrganisationMember, User
from portal.i18n import format_local_datetime, localized
from portal.incubation.models import Application, ApplicationStatus, Call, CallReviewer, Review
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


def _unfinished_reviewers(rule, after, up_to):
    unfinished = exists().where(Review.call_reviewer_id == CallReviewer.id, Review.submitted_at.is_(None))
    return (select(CallReviewer.id.label("target_id"), (literal("u") + cast(User.id, String)).label("recipient_ref"),
                   User.email.label("email"), User.locale.label("locale"), Call.reviews_close_at.label("occurs_at"))
            .join(Call, CallReviewer.call_id == Call.id).join(User, CallReviewer.user_id == User.id)
            .where(CallReviewer.call_id == rule.scope_id, CallReviewer.accepted_at.is_not(None), unfinished,
                   Call.reviews_close_at > after, Call.reviews_close_at <= up_to))


def _load_reviewers(session: Session, ids: list[int]) -> dict[int, CallReviewer]:
    return {reviewer.id: reviewer for reviewer in session.scalars(
        select(CallReviewer).where(CallReviewer.id.in_(ids))
        .options(joinedload(CallReviewer.call), joinedload(CallReviewer.user)))}


def _reviewer_values(reviewer: CallReviewer, _recipient: str) -> dict[str, str]:
    return {"name": reviewer.user.full_name, "call": localized(reviewer.call, "title"),
            "reviews_close_at": format_local_datetime(reviewer.call.reviews_close_at, "short"),
            "link": absolute_url("reviewing.home")}


def _example_reviewer(session: Session, call_id: int) -> tuple[CallReviewer, str] | None:
    reviewer_id = session.scalar(select(CallReviewer.id).where(CallReviewer.call_id == call_id,
                                                               CallReviewer.accepted_at.is_not(None))
                                 .order_by(CallReviewer.id).limit(1))
    if reviewer_id is None:
        return None
    reviewer = _load_reviewers(session, [reviewer_id])[reviewer_id]
    # a call without a review date yet has nothing to show for {reviews_close_at}: the placeholders are shown
    return (reviewer, REVIEWERS) if reviewer.call.reviews_close_at else None


REVIEWERS = "reviewers"

register_kind(ReminderKind(
    name="review_deadline", label=_l("Reviews are due (unfinished reviews)"), scope="call",
    audiences={REVIEWERS: _l("Reviewers with unfinished reviews")}, directions=frozenset({BEFORE}),
    default_subject=_l("Reviews for {call} are due {reviews_close_at}"),
    default_body=_l("Hello {name},\n\nSome of your reviews for {call} are not finished yet. Please submit them by "
                    "{reviews_close_at}, so the committee can rank the applications."),
    placeholders={"name": _l("the reviewer's name"), "call": _l("the call's title"),
                  "reviews_close_at": _l("when reviews are due"), "link": _l("the reviewer's page")},
    candidates=_unfinished_reviewers, load=_load_reviewers, values=_reviewer_values, example=_example_reviewer,
    defaults=(DefaultRule(timedelta(days=-3), timedelta(days=1), REVIEWERS),
              DefaultRule(timedelta(days=-1), timedelta(hours=12), REVIEWERS)),
    max_offset=timedelta(days=60),
))
