"""Incubation's reminder kinds: a call's deadline, to the members of startups whose application is still a draft;
the date reviews are due, to reviewers with unfinished reviews; a cohort's milestones and its monthly reports, to the
members of its startups (the reports only to those who have not sent that month's)."""

from __future__ import annotations

from datetime import time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, false, literal, select, union_all
from sqlalchemy.orm import Session, joinedload

from portal.accounts.models import OrganisationMember, User
from portal.db import UTCDateTime, utcnow
from portal.i18n import HANOI, format_local_date, format_local_datetime, localized
from portal.incubation import cohorts
from portal.incubation.models import (
    Application,
    ApplicationStatus,
    Call,
    CallReviewer,
    Cohort,
    CohortMember,
    KpiReport,
    Milestone,
    Review,
)
from portal.notifications.services import absolute_url
from portal.reminders.kinds import (
    BEFORE,
    DefaultRule,
    ReminderKind,
    first_example,
    loader,
    local_days_in,
    moment_of_day,
    register_kind,
    user_recipient,
)

MEMBERS = "members"


def _drafts(rule, after, up_to):
    return (select(Application.id.label("target_id"), *user_recipient(), Call.closes_at.label("occurs_at"))
            .join(Call, Application.call_id == Call.id)
            .join(OrganisationMember, OrganisationMember.organisation_id == Application.organisation_id)
            .join(User, OrganisationMember.user_id == User.id)
            .where(Application.call_id == rule.scope_id, Application.status == ApplicationStatus.DRAFT,
                   Call.closes_at > after, Call.closes_at <= up_to))


_load = loader(Application, joinedload(Application.call), joinedload(Application.organisation))


def _values(application: Application, _recipient: str) -> dict[str, str]:
    return {"startup": application.organisation.name, "call": localized(application.call, "title"),
            "closes_at": format_local_datetime(application.call.closes_at, "short"),
            "link": absolute_url("incubation.application", application_id=application.id)}


def _example(session: Session, call_id: int) -> tuple[Application, str] | None:
    return first_example(session, _load, select(Application.id).where(Application.call_id == call_id)
                         .order_by(Application.id), MEMBERS)


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
    return (select(CallReviewer.id.label("target_id"), *user_recipient(), Call.reviews_close_at.label("occurs_at"))
            .join(Call, CallReviewer.call_id == Call.id).join(User, CallReviewer.user_id == User.id)
            .where(CallReviewer.call_id == rule.scope_id, CallReviewer.accepted_at.is_not(None), unfinished,
                   Call.reviews_close_at > after, Call.reviews_close_at <= up_to))


_load_reviewers = loader(CallReviewer, joinedload(CallReviewer.call), joinedload(CallReviewer.user))


def _reviewer_values(reviewer: CallReviewer, _recipient: str) -> dict[str, str]:
    return {"name": reviewer.user.full_name, "call": localized(reviewer.call, "title"),
            "reviews_close_at": format_local_datetime(reviewer.call.reviews_close_at, "short"),
            "link": absolute_url("reviewing.home")}


def _example_reviewer(session: Session, call_id: int) -> tuple[CallReviewer, str] | None:
    found = first_example(session, _load_reviewers, select(CallReviewer.id).where(
        CallReviewer.call_id == call_id, CallReviewer.accepted_at.is_not(None)).order_by(CallReviewer.id), REVIEWERS)
    # a call without a review date yet has nothing to show for {reviews_close_at}: the placeholders are shown
    return found if found and found[0].call.reviews_close_at else None


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


#: a date's reminders count from 9:00 in Hanoi that day
DAY_MOMENT = time(9)
COHORT_MEMBERS = "members"


def _milestones(rule, after, up_to):
    days = local_days_in(after, up_to, DAY_MOMENT)
    return (select(Milestone.id.label("target_id"), *user_recipient(),
                   moment_of_day(Milestone.due_on, days).label("occurs_at"))
            .join(Cohort, Milestone.cohort_id == Cohort.id)
            .join(CohortMember, CohortMember.cohort_id == Cohort.id)
            .join(OrganisationMember, OrganisationMember.organisation_id == CohortMember.organisation_id)
            .join(User, OrganisationMember.user_id == User.id)
            .where(Cohort.programme_id == rule.scope_id, Milestone.due_on.in_(list(days))))


_load_milestones = loader(Milestone, joinedload(Milestone.cohort))


def _milestone_values(milestone: Milestone, _recipient: str) -> dict[str, str]:
    return {"milestone": localized(milestone, "title"), "cohort": milestone.cohort.name,
            "due_on": format_local_date(milestone.due_on, "short"), "link": absolute_url("incubation.reports")}


def _example_milestone(session: Session, programme_id: int) -> tuple[Milestone, str] | None:
    return first_example(session, _load_milestones, select(Milestone.id).join(Cohort).where(
        Cohort.programme_id == programme_id).order_by(Milestone.due_on), COHORT_MEMBERS)


register_kind(ReminderKind(
    name="cohort_milestone", label=_l("A cohort milestone is due"), scope="programme",
    audiences={COHORT_MEMBERS: _l("Members of the cohort's startups")}, directions=frozenset({BEFORE}),
    default_subject=_l("Milestone due {due_on}: {milestone}"),
    default_body=_l("Hello,\n\nThe milestone \u201c{milestone}\u201d of {cohort} is due {due_on}."),
    placeholders={"milestone": _l("the milestone"), "cohort": _l("the cohort"), "due_on": _l("the day it is due"),
                  "link": _l("the startup's reports page")},
    candidates=_milestones, load=_load_milestones, values=_milestone_values, example=_example_milestone,
    defaults=(DefaultRule(timedelta(days=-7), timedelta(days=2), COHORT_MEMBERS),
              DefaultRule(timedelta(days=-1), timedelta(hours=12), COHORT_MEMBERS)),
    max_offset=timedelta(days=60),
))


def _reports_due(rule, after, up_to):
    """Cohort startups that have not reported the month whose report is due on a day of the window (the 10th: at
    most one in a window, which spans a week at most)."""
    selects = []
    for day, moment in local_days_in(after, up_to, DAY_MOMENT).items():
        if day.day != cohorts.REPORT_DUE_DAY:
            continue
        period = cohorts.previous_month(day)
        reported = exists().where(KpiReport.cohort_member_id == CohortMember.id, KpiReport.period == period)
        selects.append(
            select(CohortMember.id.label("target_id"), *user_recipient(),
                   literal(moment, UTCDateTime()).label("occurs_at"))
            .join(Cohort, CohortMember.cohort_id == Cohort.id)
            .join(OrganisationMember, OrganisationMember.organisation_id == CohortMember.organisation_id)
            .join(User, OrganisationMember.user_id == User.id)
            .where(Cohort.programme_id == rule.scope_id, Cohort.starts_on < day.replace(day=1),
                   Cohort.ends_on >= period, ~reported))
    if not selects:
        return select(CohortMember.id.label("target_id"), *user_recipient(),
                      literal(up_to, UTCDateTime()).label("occurs_at")).join(
            OrganisationMember, OrganisationMember.organisation_id == CohortMember.organisation_id).join(
            User, OrganisationMember.user_id == User.id).where(false())
    return selects[0] if len(selects) == 1 else union_all(*selects)


_load_members = loader(CohortMember, joinedload(CohortMember.cohort), joinedload(CohortMember.organisation))


def _report_values(member: CohortMember, _recipient: str) -> dict[str, str]:
    today = utcnow().astimezone(HANOI).date()
    due_on = today.replace(day=cohorts.REPORT_DUE_DAY)
    return {"startup": member.organisation.name, "cohort": member.cohort.name,
            "month": cohorts.previous_month(due_on).strftime("%m/%Y"), "due_on": format_local_date(due_on, "short"),
            "link": absolute_url("incubation.reports", member=member.id)}


def _example_member(session: Session, programme_id: int) -> tuple[CohortMember, str] | None:
    return first_example(session, _load_members, select(CohortMember.id).join(Cohort).where(
        Cohort.programme_id == programme_id).order_by(CohortMember.id), COHORT_MEMBERS)


register_kind(ReminderKind(
    name="kpi_report", label=_l("A monthly report is due"), scope="programme",
    audiences={COHORT_MEMBERS: _l("Members of cohort startups that have not reported")},
    directions=frozenset({BEFORE}),
    default_subject=_l("Your figures for {month} are due {due_on}"),
    default_body=_l("Hello,\n\n{startup} has not reported its figures for {month} to {cohort} yet. They are due "
                    "{due_on}."),
    placeholders={"startup": _l("the startup's name"), "cohort": _l("the cohort"), "month": _l("the month"),
                  "due_on": _l("the day it is due"), "link": _l("the startup's reports page")},
    candidates=_reports_due, load=_load_members, values=_report_values, example=_example_member,
    defaults=(DefaultRule(timedelta(days=-3), timedelta(days=1), COHORT_MEMBERS),),
    # sent between the 1st and the 10th, so the month it names is the one before the current
    max_offset=timedelta(days=9),
))
