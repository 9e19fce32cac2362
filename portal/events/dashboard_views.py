"""An event's numbers and attendee list for its organisers, and the list as CSV or XLSX."""

from __future__ import annotations

import io

from flask import abort, g, render_template, request, send_file
from flask_babel import format_percent
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from portal.db import db_session
from portal.errors import DomainError
from portal.events.exports import export_attendees
from portal.events.gate import event_management_blueprint
from portal.events.labels import ORDER_STATUS_LABELS
from portal.events.models import OrderStatus, TicketType
from portal.events.reports import (
    ATTENDEES_PER_PAGE,
    AttendeeFilter,
    attendee_page,
    event_report,
)
from portal.web import client_ip, page_number

bp = event_management_blueprint("event_dashboard", __name__, "/manage/events/<int:event_id>")


@bp.route("/dashboard")
def dashboard():
    event = g.event
    report = event_report(db_session(), event)
    return render_template("events/manage_dashboard.html", event=event, report=report,
                           check_in_rate=format_percent(report.check_in_rate))


@bp.route("/attendees")
def attendees():
    db, event = db_session(), g.event
    wanted = AttendeeFilter.from_args(request.args)
    page = page_number()
    tickets, total = attendee_page(db, event, wanted, page)
    ticket_types = db.scalars(
        select(TicketType).where(TicketType.event_id == event.id).order_by(TicketType.position, TicketType.id)
    ).all()
    return render_template("events/manage_attendees.html", event=event, tickets=tickets, total=total, page=page,
                           per_page=ATTENDEES_PER_PAGE, wanted=wanted, ticket_types=ticket_types,
                           order_statuses=list(OrderStatus), status_labels=ORDER_STATUS_LABELS,
                           export_form=FlaskForm())


@bp.route("/attendees/export.<file_format>", methods=["POST"])
def export(file_format: str):
    try:
        exported = export_attendees(db_session(), current_user, g.event, AttendeeFilter.from_args(request.form),
                                    file_format, ip_address=client_ip())
    except DomainError as error:
        abort(error.status_code)
    return send_file(io.BytesIO(exported.content), mimetype=exported.mimetype, as_attachment=True,
                     download_name=exported.filename)
