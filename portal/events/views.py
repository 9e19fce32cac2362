"""The public side of events: the event page, registration, the buyer's orders and tickets."""

from __future__ import annotations

from collections import Counter
from itertools import groupby

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_time, get_timezone, lazy_ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from portal.db import db_session, end_refused, utcnow
from portal.errors import DomainError, NotFound
from portal.events import orders, waitlist
from portal.events.forms import AttendeeChangeForm, chosen_provider, localized_option, registration_form
from portal.events.labels import PROGRAMME_KIND_LABELS
from portal.events.models import (
    Eligibility,
    Event,
    EventStatus,
    Order,
    OrderStatus,
    ProgrammeItem,
    Ticket,
    TicketType,
)
from portal.events.payable import ORDER
from portal.events.tickets import qr_svg, ticket_png
from portal.forms import ConfirmForm
from portal.i18n import localized
from portal.payments.views import begin_payment, change_method, payment_panel
from portal.web import render_domain_error, render_form

bp = Blueprint("events", __name__)

#: how a buyer reads an order's status
BUYER_ORDER_STATUS_LABELS = {
    OrderStatus.AWAITING_APPROVAL: _l("Waiting for the organisers' approval"),
    OrderStatus.PENDING: _l("Waiting for payment"),
    OrderStatus.PAID: _l("Confirmed"),
    OrderStatus.EXPIRED: _l("Expired: it was not paid in time"),
    OrderStatus.CANCELLED: _l("Cancelled"),
    OrderStatus.REFUNDED: _l("Refunded"),
}
ELIGIBILITY_NOTES = {
    Eligibility.STARTUP: _l("For members of a startup: your account must belong to a startup organisation."),
    Eligibility.APPROVAL: _l("The organisers approve each order before it is confirmed."),
}
QUANTITY_PREFIX = "qty-"
REGISTER_TEMPLATE = "events/order_register.html"


@bp.context_processor
def _helpers():
    return {
        "order_status_labels": BUYER_ORDER_STATUS_LABELS, "programme_kind_labels": PROGRAMME_KIND_LABELS,
        "eligibility_notes": ELIGIBILITY_NOTES, "time_of": lambda moment: format_time(moment, "short"),
        "qr_svg": qr_svg, "localized_option": localized_option,
    }


def _event_or_404(slug: str) -> Event:
    try:
        return orders.load_event_for_sale(db_session(), slug)
    except NotFound:
        abort(404)


def _held_ticket(ticket_id: int) -> Ticket:
    try:
        return orders.get_ticket_for_holder(db_session(), current_user, ticket_id)
    except NotFound:
        abort(404)


def programme_by_day(items: list[ProgrammeItem]) -> list[tuple[object, list[ProgrammeItem]]]:
    """The programme in days of Hanoi time, each day's items in time order (the relationship's order)."""
    zone = get_timezone()
    days = groupby(items, key=lambda item: item.starts_at.astimezone(zone).date())
    return [(day, list(day_items)) for day, day_items in days]


# --- the event page -------------------------------------------------------------------------

def _render_event(event: Event, quantities: dict[str, str], status: int = 200):
    return render_template(
        "events/public_event.html", event=event, days=programme_by_day(event.programme),
        seats=orders.availability(db_session(), event), quantities=quantities, now=utcnow(),
        quantity_prefix=QUANTITY_PREFIX,
    ), status


@bp.route("/events/<slug>")
def event_page(slug: str):
    return _render_event(_event_or_404(slug), {})


# --- registration ---------------------------------------------------------------------------

def _chosen_tickets(event: Event) -> list[tuple[TicketType, int]]:
    """Step 1's answer (?qty-<type id>=n), checked against the types' rules and the seats left now."""
    if event.status is not EventStatus.PUBLISHED:
        raise orders.OrderRefused(_l("Registration for this event is closed."))
    types = {str(t.id): t for t in event.ticket_types}
    seats = orders.availability(db_session(), event)
    chosen = []
    for key, value in request.args.items():
        if not key.startswith(QUANTITY_PREFIX):
            continue
        ticket_type = types.get(key.removeprefix(QUANTITY_PREFIX))
        if ticket_type is None:
            raise orders.OrderRefused(_l("This ticket type does not exist for this event."))
        try:
            count = int(value)
        except ValueError:
            count = -1
        if count < 0:
            raise orders.OrderRefused(_l("Choose how many tickets you want as a whole number."))
        if count == 0:
            continue
        orders.check_ticket_type(db_session(), event, ticket_type, count, current_user, utcnow())
        if count > seats[ticket_type.id]:
            name = localized(ticket_type, "name")
            raise orders.SoldOut(lazy_ngettext("Only %(num)d seat is left for %(name)s.",
                                               "Only %(num)d seats are left for %(name)s.", seats[ticket_type.id],
                                               name=name)
                                 if seats[ticket_type.id] else _l("Sorry, %(name)s is sold out.", name=name))
        chosen.append((ticket_type, count))
    if not chosen:
        raise orders.OrderRefused(_l("Choose at least one ticket."))
    orders.check_total(sum(ticket_type.price * count for ticket_type, count in chosen))
    return chosen


def _summary(event: Event, type_ids: list[str]) -> tuple[list[tuple[TicketType, int]], int]:
    """(type, count) lines and the total, priced from the ticket types: what the form says is never trusted."""
    types = {str(t.id): t for t in event.ticket_types}
    lines = [(types[type_id], count) for type_id, count in Counter(type_ids).items() if type_id in types]
    return lines, sum(t.price * count for t, count in lines)


def _registration_form(event: Event, **kwargs):
    """Step 2's form, offering only the ways to pay that can take the order's total."""
    form = registration_form(event, **kwargs)
    if "provider" in form:
        form.provider.offer_for(_summary(event, _type_ids(form))[1])
    return form


def _type_ids(form) -> list[str]:
    return [entry.form.ticket_type_id.data for entry in form.attendees]


def _render_registration(event: Event, form, error: DomainError | None = None):
    lines, total = _summary(event, _type_ids(form))
    context = {"event": event, "lines": lines, "total": total, "types": {str(t.id): t for t in event.ticket_types}}
    if error is not None:
        return render_domain_error(error, REGISTER_TEMPLATE, form=form, **context)
    return render_form(REGISTER_TEMPLATE, form, **context)


@bp.route("/events/<slug>/register", methods=["GET", "POST"])
@login_required
def register(slug: str):
    event = _event_or_404(slug)
    if request.method == "GET":
        try:
            chosen = _chosen_tickets(event)
        except DomainError as error:
            flash(str(error.message), "error")
            return _render_event(event, request.args, error.status_code)
        buyer = {"name": current_user.full_name, "email": current_user.email}
        blocks = [{"ticket_type_id": str(t.id)} for t, count in chosen for _n in range(count)]
        blocks[0].update(buyer)
        return _render_registration(event, _registration_form(event, data={"attendees": blocks}))

    form = _registration_form(event)
    if not form.validate_on_submit():
        return _render_registration(event, form)
    attendees = [
        orders.AttendeeInput(ticket_type_id=int(entry.form.ticket_type_id.data), name=entry.form.name.data,
                             email=entry.form.email.data, organisation=entry.form.organisation.data or "",
                             answers=entry.form.answers())
        for entry in form.attendees
    ]
    db = db_session()
    try:
        order = orders.place_order(db, event=event, buyer=current_user, attendees=attendees,
                                   provider_key=chosen_provider(form))
    except DomainError as error:
        end_refused(db)
        return _render_registration(event, form, error)
    flash(_("Your tickets are confirmed. We have sent them to %(email)s.", email=current_user.email)
          if order.status is OrderStatus.PAID else _("Your order has been registered."), "success")
    if order.status is OrderStatus.PENDING:
        return begin_payment(ORDER, order.code)
    return redirect(url_for("events.order_detail", code=order.code))


# --- orders and tickets ---------------------------------------------------------------------

@bp.route("/orders/<code>")
@login_required
def order_detail(code: str):
    try:
        order = orders.get_order_for(db_session(), current_user, code)
    except NotFound:
        abort(404)
    now = utcnow()
    return render_template("events/order_detail.html", order=order, event=order.event, now=now,
                           panel=payment_panel(ORDER, order, now) if order.awaits_payment(now) else None)


@bp.route("/orders/<code>/pay", methods=["POST"])
@login_required
def pay_order(code: str):
    """The order page's "pay" button: payments' pages take over."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return begin_payment(ORDER, code)


@bp.route("/orders/<code>/payment-method", methods=["POST"])
@login_required
def change_order_method(code: str):
    """The order page's "change how you pay": payments' pages take over."""
    return change_method(ORDER, code)


@bp.route("/tickets")
@login_required
def my_tickets():
    tickets = db_session().scalars(
        select(Ticket).join(Ticket.order).where(Order.buyer_id == current_user.id)
        .options(contains_eager(Ticket.order).joinedload(Order.event), joinedload(Ticket.ticket_type),
                 selectinload(Ticket.check_ins))
        .order_by(Order.created_at.desc(), Ticket.id)
    ).unique().all()
    return render_template("events/tickets_list.html", tickets=tickets, now=utcnow(),
                           places=waitlist.places_of(db_session(), current_user))


@bp.route("/tickets/<int:ticket_id>/attendee", methods=["GET", "POST"])
@login_required
def change_attendee(ticket_id: int):
    ticket = _held_ticket(ticket_id)
    form = AttendeeChangeForm(name=ticket.attendee_name, email=ticket.attendee_email,
                              organisation=ticket.attendee_organisation)
    context = {"ticket": ticket, "now": utcnow()}
    if form.validate_on_submit():
        db = db_session()
        try:
            orders.change_attendee(db, current_user, ticket, name=form.name.data, email=form.email.data,
                                   organisation=form.organisation.data or "")
        except DomainError as error:
            end_refused(db)
            return render_domain_error(error, "events/tickets_attendee.html", form=form, **context)
        flash(_("The attendee details have been saved."), "success")
        return redirect(url_for("events.my_tickets"))
    return render_form("events/tickets_attendee.html", form, **context)


@bp.route("/tickets/<int:ticket_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel_ticket(ticket_id: int):
    ticket = _held_ticket(ticket_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        db = db_session()
        try:
            orders.cancel_free_ticket(db, current_user, ticket)
        except DomainError as error:
            end_refused(db)
            return render_domain_error(error, "events/tickets_cancel.html", form=form, ticket=ticket)
        flash(_("Your ticket has been cancelled and its seat given back."), "success")
        return redirect(url_for("events.my_tickets"))
    return render_form("events/tickets_cancel.html", form, ticket=ticket,
                       refusal=None if ticket.may_cancel else orders.why_not_cancellable(ticket))


@bp.route("/tickets/<int:ticket_id>/qr.png")
@login_required
def ticket_qr(ticket_id: int):
    ticket = _held_ticket(ticket_id)
    if not ticket.is_confirmed:
        abort(404)
    return Response(ticket_png(ticket), mimetype="image/png")
