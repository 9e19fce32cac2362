"""The attendee list as a file for Excel (CSV or XLSX, through portal.exports, which keeps formulas out)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.audit.services import record
from portal.db import utcnow
from portal.events.labels import ORDER_STATUS_LABELS
from portal.events.models import Event, Question, QuestionKind, Ticket
from portal.events.options import answer_label
from portal.events.reports import AttendeeFilter, all_attendees
from portal.exports import ExportFile, Table, check_format, export_file, spreadsheet_time
from portal.i18n import localized


def _answer(question: Question, value: object) -> str:
    """What the attendee chose, in words: the option's label, yes or no, or the text typed."""
    if value is None:
        return ""
    if question.kind is QuestionKind.CHECKBOX:
        return _("Yes") if value else _("No")
    if question.kind is QuestionKind.CHOICE:
        return answer_label(question.options, value)
    return str(value)


def attendee_table(questions: list[Question], tickets: list[Ticket]) -> Table:
    headers = [
        _("Order code"), _("Order status"), _("Ticket type"), _("Attendee name"), _("E-mail"), _("Organisation"),
        _("Price (VND)"), _("Checked in at (Hanoi time)"), _("Days checked in"), _("Ticket cancelled at (Hanoi time)"),
        *(localized(question, "label") for question in questions),
    ]
    rows = [
        [
            ticket.order.code, str(ORDER_STATUS_LABELS[ticket.order.status]), localized(ticket.ticket_type, "name"),
            ticket.attendee_name, ticket.attendee_email, ticket.attendee_organisation, ticket.price,
            spreadsheet_time(ticket.first_check_in.checked_in_at if ticket.first_check_in else None),
            ", ".join(entry.day.isoformat() for entry in ticket.check_ins), spreadsheet_time(ticket.cancelled_at),
            *(_answer(question, ticket.answers.get(str(question.id))) for question in questions),
        ]
        for ticket in tickets
    ]
    return Table(headers, rows)


def export_attendees(session: Session, actor: User, event: Event, wanted: AttendeeFilter, file_format: str, *,
                     ip_address: str | None = None, now: datetime | None = None) -> ExportFile:
    """The filtered attendee list as a file, with an audit entry saying who took which people's data."""
    check_format(file_format)
    questions = list(session.scalars(
        select(Question).where(Question.event_id == event.id).order_by(Question.position, Question.id)
    ))
    tickets = all_attendees(session, event, wanted)
    record(session, "event.attendees_exported", actor_id=actor.id, object_type="event", object_id=event.id,
           ip_address=ip_address, format=file_format, rows=len(tickets), filters=wanted.describe())
    return export_file(attendee_table(questions, tickets), file_format, name=f"{event.slug}-attendees",
                       sheet_title=_("Attendees"), now=now or utcnow())
