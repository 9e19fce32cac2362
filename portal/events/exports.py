"""The attendee list as a file for Excel: CSV and XLSX, readable in Vietnamese and unable to carry formulas.

A spreadsheet runs a cell that starts with = + - @ (or a tab or carriage return before one) as a formula,
so an attendee called '=HYPERLINK("http://x")' could plant a link or worse in the organiser's workbook.
Such text is prefixed with a single quote, and XLSX cells are always written as text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.audit.services import record
from portal.db import utcnow
from portal.errors import NotFound
from portal.events.labels import ORDER_STATUS_LABELS
from portal.events.models import Event, Question, QuestionKind, Ticket
from portal.events.options import answer_label
from portal.events.reports import AttendeeFilter, all_attendees, hanoi_time
from portal.i18n import localized

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
TIME_FORMAT = "%Y-%m-%d %H:%M"

Cell = str | int | datetime | None


def neutralise(text: str) -> str:
    """Text a spreadsheet shows as typed instead of running it."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


@dataclass(frozen=True)
class AttendeeTable:
    headers: list[str]
    #: text, whole đồng, or a Hanoi wall-clock time (naive, as spreadsheets want it)
    rows: list[list[Cell]]


def _answer(question: Question, value: object) -> str:
    """What the attendee chose, in words: the option's label, yes or no, or the text typed."""
    if value is None:
        return ""
    if question.kind is QuestionKind.CHECKBOX:
        return _("Yes") if value else _("No")
    if question.kind is QuestionKind.CHOICE:
        return answer_label(question.options, value)
    return str(value)


def _local(moment: datetime | None) -> datetime | None:
    return hanoi_time(moment).replace(tzinfo=None) if moment else None


def attendee_table(questions: list[Question], tickets: list[Ticket]) -> AttendeeTable:
    headers = [
        _("Order code"), _("Order status"), _("Ticket type"), _("Attendee name"), _("E-mail"), _("Organisation"),
        _("Price (VND)"), _("Checked in at (Hanoi time)"), _("Days checked in"), _("Ticket cancelled at (Hanoi time)"),
        *(localized(question, "label") for question in questions),
    ]
    rows = [
        [
            ticket.order.code, str(ORDER_STATUS_LABELS[ticket.order.status]), localized(ticket.ticket_type, "name"),
            ticket.attendee_name, ticket.attendee_email, ticket.attendee_organisation, ticket.price,
            _local(ticket.first_check_in.checked_in_at if ticket.first_check_in else None),
            ", ".join(entry.day.isoformat() for entry in ticket.check_ins), _local(ticket.cancelled_at),
            *(_answer(question, ticket.answers.get(str(question.id))) for question in questions),
        ]
        for ticket in tickets
    ]
    return AttendeeTable(headers, rows)


def to_csv(table: AttendeeTable) -> bytes:
    """RFC 4180 (quoted where needed, CRLF line ends), UTF-8 with a byte order mark so Excel reads Vietnamese."""

    def text(value: Cell) -> str | int:
        if value is None:
            return ""
        if isinstance(value, datetime):
            return value.strftime(TIME_FORMAT)
        return neutralise(value) if isinstance(value, str) else value

    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, dialect="excel")
    writer.writerow([text(value) for value in table.headers])
    writer.writerows([text(value) for value in row] for row in table.rows)
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(table: AttendeeTable, sheet_title: str) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title[:31])

    def cell(value: Cell) -> WriteOnlyCell:
        if isinstance(value, str):
            # XML cannot hold most control characters; openpyxl refuses the whole file if one slips in.
            written = WriteOnlyCell(sheet, value=neutralise(ILLEGAL_CHARACTERS_RE.sub("", value)))
            written.data_type = "s"  # text, whatever it looks like
            return written
        written = WriteOnlyCell(sheet, value=value)
        if isinstance(value, datetime):
            written.number_format = "yyyy-mm-dd hh:mm"
        return written

    sheet.append([cell(value) for value in table.headers])
    for row in table.rows:
        sheet.append([cell(value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@dataclass(frozen=True)
class ExportFile:
    filename: str
    mimetype: str
    content: bytes


#: the Content-Type of every export. Werkzeug adds "; charset=utf-8" to a text/* type itself: written here too, the
#: header would say it twice
MIMETYPES = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}

FORMATS: dict[str, tuple[str, Callable[[AttendeeTable], bytes]]] = {
    "csv": (MIMETYPES["csv"], to_csv),
    "xlsx": (MIMETYPES["xlsx"], lambda table: to_xlsx(table, _("Attendees"))),
}


def export_filename(event: Event, extension: str, now: datetime) -> str:
    return f"{event.slug}-attendees-{hanoi_time(now):%Y-%m-%d}.{extension}"


def export_attendees(session: Session, actor: User, event: Event, wanted: AttendeeFilter, file_format: str, *,
                     ip_address: str | None = None, now: datetime | None = None) -> ExportFile:
    """The filtered attendee list as a file, with an audit entry saying who took which people's data."""
    if file_format not in FORMATS:
        raise NotFound()
    mimetype, render = FORMATS[file_format]
    questions = list(session.scalars(
        select(Question).where(Question.event_id == event.id).order_by(Question.position, Question.id)
    ))
    tickets = all_attendees(session, event, wanted)
    record(session, "event.attendees_exported", actor_id=actor.id, object_type="event", object_id=event.id,
           ip_address=ip_address, format=file_format, rows=len(tickets), filters=wanted.describe())
    return ExportFile(export_filename(event, file_format, now or utcnow()), mimetype,
                      render(attendee_table(questions, tickets)))
