"""Cohorts: the startups a call accepted, their milestones, and the figures they report each month (KPIs), which
are the numbers the city reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from portal.accounts.models import User
from portal.audit.services import record
from portal.errors import Invalid
from portal.incubation.models import (
    Application,
    Call,
    Cohort,
    CohortMember,
    Decision,
    KpiReport,
    Milestone,
)

#: a month's report is due by this day of the next month; later it is marked late
REPORT_DUE_DAY = 10
KPI_FIELDS = ("revenue_vnd", "employees", "funding_vnd", "ip_filed", "products_launched")
KPI_LABELS = {
    "revenue_vnd": _l("Revenue (VND)"),
    "employees": _l("Employees"),
    "funding_vnd": _l("Funding raised (VND)"),
    "ip_filed": _l("IP filed"),
    "products_launched": _l("Products launched"),
}
#: the largest figure a report accepts: 15 digits of đồng, far above any startup's revenue
MAX_FIGURE = 10**15


def form_cohort(session: Session, call: Call, name: str, starts_on: date, ends_on: date, actor: User) -> Cohort:
    """A cohort of the call's accepted startups (accepted later ones can be added by forming it again)."""
    if ends_on <= starts_on:
        raise Invalid(_l("The cohort must end after it starts."), "ends_on")
    cohort = session.scalar(select(Cohort).where(Cohort.call_id == call.id))
    if cohort is None:
        cohort = Cohort(programme_id=call.programme_id, call_id=call.id, name=name, starts_on=starts_on,
                        ends_on=ends_on)
        session.add(cohort)
        session.flush()
    present = set(session.scalars(select(CohortMember.organisation_id).where(CohortMember.cohort_id == cohort.id)))
    accepted = session.execute(select(Application.id, Application.organisation_id).where(
        Application.call_id == call.id, Application.decision == Decision.ACCEPT))
    for application_id, organisation_id in accepted:
        if organisation_id not in present:
            session.add(CohortMember(cohort_id=cohort.id, organisation_id=organisation_id,
                                     application_id=application_id))
    record(session, "cohort.formed", actor_id=actor.id, object_type="cohort", object_id=cohort.id)
    return cohort


def add_milestone(session: Session, cohort: Cohort, title_vi: str, title_en: str, due_on: date,
                  actor: User) -> Milestone:
    if not cohort.starts_on <= due_on <= cohort.ends_on:
        raise Invalid(_l("A milestone falls between the cohort's start and end."), "due_on")
    milestone = Milestone(cohort=cohort, title_vi=title_vi.strip(), title_en=title_en.strip() or title_vi.strip(),
                          due_on=due_on)
    session.add(milestone)
    session.flush()
    record(session, "cohort.milestone_added", actor_id=actor.id, object_type="cohort", object_id=cohort.id,
           milestone=milestone.id)
    return milestone


def month_start(day: date) -> date:
    return day.replace(day=1)


def previous_month(day: date) -> date:
    first = month_start(day)
    return (first.replace(year=first.year - 1, month=12) if first.month == 1
            else first.replace(month=first.month - 1))


def report(session: Session, member: CohortMember, period: date, figures: dict[str, int], user: User,
           now: datetime) -> KpiReport:
    """Stores (or corrects) a month's figures; a month not yet ended cannot be reported."""
    period = month_start(period)
    if period not in reportable_months(member.cohort, now.date()):
        raise Invalid(_l("Report an ended month of the cohort."), "period")
    for name in KPI_FIELDS:
        value = figures.get(name, 0)
        if not isinstance(value, int) or not 0 <= value < MAX_FIGURE:
            raise Invalid(_l("Figures are whole numbers of at least 0."), name)
    existing = session.scalar(select(KpiReport).where(KpiReport.cohort_member_id == member.id,
                                                      KpiReport.period == period).with_for_update())
    kpi = existing or KpiReport(cohort_member_id=member.id, period=period)
    for name in KPI_FIELDS:
        setattr(kpi, name, figures.get(name, 0))
    kpi.submitted_by_id, kpi.submitted_at = user.id, now
    session.add(kpi)
    return kpi


def reportable_months(cohort: Cohort, today: date) -> list[date]:
    """The cohort's ended months, newest first (three years at most): what a startup may report or correct."""
    months, month = [], min(previous_month(today), month_start(cohort.ends_on))
    while month >= month_start(cohort.starts_on) and len(months) < 36:
        months.append(month)
        month = previous_month(month)
    return months


def due_period(cohort: Cohort, today: date) -> date | None:
    """The latest month whose report is past due today, or None when none is due yet."""
    due = previous_month(today) if today.day > REPORT_DUE_DAY else previous_month(previous_month(today))
    return due if month_start(cohort.starts_on) <= due <= cohort.ends_on else None


def reports_of(session: Session, member: CohortMember) -> list[KpiReport]:
    return list(session.scalars(select(KpiReport).where(KpiReport.cohort_member_id == member.id)
                                .order_by(KpiReport.period.desc())))


def is_late(cohort: Cohort, reports: list[KpiReport], today: date) -> bool:
    due = due_period(cohort, today)
    return due is not None and due not in {r.period for r in reports}


@dataclass(frozen=True)
class MemberStatus:
    member: CohortMember
    last_period: date | None
    late: bool  # the last due month's report is missing


def member_statuses(session: Session, cohort: Cohort, today: date) -> list[MemberStatus]:
    """Each startup of the cohort with its latest report, late ones marked, in three queries."""
    members = list(session.scalars(select(CohortMember).where(CohortMember.cohort_id == cohort.id)
                                   .options(selectinload(CohortMember.organisation)).order_by(CohortMember.id)))
    latest = dict(session.execute(select(KpiReport.cohort_member_id, func.max(KpiReport.period)).where(
        KpiReport.cohort_member_id.in_([m.id for m in members])).group_by(KpiReport.cohort_member_id)).all())
    due = due_period(cohort, today)
    reported_due = set() if due is None else set(session.scalars(select(KpiReport.cohort_member_id).where(
        KpiReport.cohort_member_id.in_([m.id for m in members]), KpiReport.period == due)))
    return [MemberStatus(m, latest.get(m.id), due is not None and m.id not in reported_due) for m in members]


def totals_by_period(session: Session, programme_id: int | None = None) -> list[dict]:
    """The cohorts' reported figures summed per month (a programme's, or all): the city's series."""
    query = (select(KpiReport.period, *[func.sum(getattr(KpiReport, name)) for name in KPI_FIELDS])
             .group_by(KpiReport.period).order_by(KpiReport.period))
    if programme_id is not None:
        query = query.join(CohortMember).join(Cohort).where(Cohort.programme_id == programme_id)
    return [{"period": row[0], **{name: int(value or 0) for name, value in zip(KPI_FIELDS, row[1:], strict=True)}}
            for row in session.execute(query)]
