"""What the mentor network gave: sessions held and mentor hours per mentor, per programme and per month (Hanoi
months), for the managers' report, its chart and its spreadsheet."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.audit.services import record
from portal.exports import ExportFile, Table, export_file
from portal.i18n import HANOI, localized
from portal.incubation.models import Cohort, CohortMember, Programme
from portal.mentoring.models import MentoringSession, MentorProfile, SessionStatus


@dataclass
class Tally:
    sessions: int = 0
    minutes: int = 0

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 1)

    def add(self, minutes: int) -> None:
        self.sessions += 1
        self.minutes += minutes


@dataclass
class HoursReport:
    total: Tally = field(default_factory=Tally)
    #: (mentor name, tally), most hours first
    per_mentor: list[tuple[str, Tally]] = field(default_factory=list)
    #: (programme name, or None for startups in no programme, tally), most hours first
    per_programme: list[tuple[str | None, Tally]] = field(default_factory=list)
    #: ("MM/YYYY", tally), oldest month first
    per_month: list[tuple[str, Tally]] = field(default_factory=list)
    #: (month, mentor, programme, tally): what the spreadsheet lists
    lines: list[tuple[str, str, str | None, Tally]] = field(default_factory=list)
    upcoming: int = 0  # confirmed sessions still to come: not in the hours

    @property
    def hours_per_month(self) -> list[tuple[str, float]]:
        """The chart's bars."""
        return [(month, tally.hours) for month, tally in self.per_month]


def _programme_names(session: Session) -> dict[int, str]:
    """Each startup's programme: the one of the cohort it joined last."""
    rows = session.execute(
        select(CohortMember.organisation_id, Programme)
        .join(Cohort, Cohort.id == CohortMember.cohort_id).join(Programme, Programme.id == Cohort.programme_id)
        .order_by(CohortMember.joined_at, CohortMember.id))
    return {organisation_id: localized(programme, "name") for organisation_id, programme in rows}


def hours_report(session: Session, now: datetime) -> HoursReport:
    """Confirmed sessions that have ended, summed in minutes from one list, so the cards, rows and chart add up;
    three statements whatever the number of sessions."""
    held = session.execute(
        select(MentoringSession.starts_at, MentoringSession.ends_at, MentoringSession.organisation_id,
               User.full_name)
        .join(MentorProfile, MentorProfile.id == MentoringSession.mentor_id)
        .join(User, User.id == MentorProfile.user_id)
        .where(MentoringSession.status == SessionStatus.CONFIRMED, MentoringSession.ends_at <= now)).all()
    programmes = _programme_names(session)
    report = HoursReport(upcoming=session.scalar(select(func.count()).select_from(MentoringSession).where(
        MentoringSession.status == SessionStatus.CONFIRMED, MentoringSession.ends_at > now)) or 0)
    per_mentor: dict[str, Tally] = defaultdict(Tally)
    per_programme: dict[str | None, Tally] = defaultdict(Tally)
    per_month: dict[tuple[int, int], Tally] = defaultdict(Tally)
    per_line: dict[tuple[tuple[int, int], str, str | None], Tally] = defaultdict(Tally)
    for starts_at, ends_at, organisation_id, mentor_name in held:
        minutes = round((ends_at - starts_at).total_seconds() / 60)
        local = starts_at.astimezone(HANOI)
        month = (local.year, local.month)
        programme = programmes.get(organisation_id)
        for tally in (report.total, per_mentor[mentor_name], per_programme[programme], per_month[month],
                      per_line[month, mentor_name, programme]):
            tally.add(minutes)

    def label(month: tuple[int, int]) -> str:
        return f"{month[1]:02d}/{month[0]}"

    def most_hours_first(items):
        return sorted(items, key=lambda item: (-item[1].minutes, item[0] or ""))

    report.per_mentor = most_hours_first(per_mentor.items())
    report.per_programme = most_hours_first(per_programme.items())
    report.per_month = [(label(month), tally) for month, tally in sorted(per_month.items())]
    report.lines = [(label(month), mentor, programme, tally)
                    for (month, mentor, programme), tally in sorted(per_line.items(), key=lambda kv: (
                        kv[0][0], kv[0][1], kv[0][2] or ""))]
    return report


def hours_table(report: HoursReport) -> Table:
    headers = [_("Month"), _("Mentor"), _("Programme"), _("Sessions held"), _("Minutes"), _("Hours")]
    rows = [[month, mentor, programme or _("No programme"), tally.sessions, tally.minutes, str(tally.hours)]
            for month, mentor, programme, tally in report.lines]
    return Table(headers=headers, rows=rows)


def export_hours(session: Session, actor: User, file_format: str, now: datetime,
                 ip_address: str | None = None) -> ExportFile:
    """The hours per month, mentor and programme as CSV or XLSX; the download is audited."""
    exported = export_file(hours_table(hours_report(session, now)), file_format, name="mentor-hours",
                           sheet_title=_("Mentor hours")[:31], now=now)
    record(session, "mentoring.hours_exported", actor_id=actor.id, ip_address=ip_address, format=file_format)
    return exported
