"""The waiting list's pages: joining a sold-out ticket type, one's place in line and leaving it, using a personal
offer link, and the organisers' list."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField

from portal.db import db_session, end_refused
from portal.errors import DomainError
from portal.events import orders, waitlist
from portal.events.forms import chosen_provider, offer_form
from portal.events.gate import event_management_blueprint
from portal.events.models import Event, OrderStatus, TicketType, WaitingListEntry, WaitingListStatus
from portal.events.payable import ORDER
from portal.forms import email_field, length, required
from portal.i18n import localized
from portal.payments.views import begin_payment
from portal.web import button_action, refuse_forged_post, render_domain_error, render_form, save_form

bp = Blueprint("waitlist", __name__)


class JoinForm(FlaskForm):
    name = StringField(_l("Your full name"), validators=[required, length(120)], render_kw={"autocomplete": "name"})
    email = email_field(_l("E-mail for the offer"))


def _abort_on(error: DomainError):
    abort(error.status_code)


# --- joining --------------------------------------------------------------------------------

def _event_and_type(slug: str, ticket_type_id: int) -> tuple[Event, TicketType]:
    try:
        event = orders.load_event_for_sale(db_session(), slug)
    except DomainError as error:
        _abort_on(error)
    ticket_type = next((t for t in event.ticket_types if t.id == ticket_type_id), None)
    if ticket_type is None:
        abort(404)
    return event, ticket_type


def _own_entry(ticket_type: TicketType) -> WaitingListEntry | None:
    return db_session().scalar(select(WaitingListEntry).where(
        WaitingListEntry.ticket_type_id == ticket_type.id, WaitingListEntry.user_id == current_user.id))


def _own_place(ticket_type: TicketType) -> waitlist.Place | None:
    return next(iter(waitlist.places_of(db_session(), current_user, ticket_type_id=ticket_type.id)), None)


@bp.route("/events/<slug>/waitlist/<int:ticket_type_id>", methods=["GET", "POST"])
@login_required
def join(slug: str, ticket_type_id: int):
    event, ticket_type = _event_and_type(slug, ticket_type_id)
    db = db_session()
    form = JoinForm(name=current_user.full_name, email=current_user.email)
    context = {"event": event, "ticket_type": ticket_type, "entry": _own_entry(ticket_type),
               "place": _own_place(ticket_type), "seats_left": orders.availability(db, event)[ticket_type.id]}
    if form.validate_on_submit():
        try:
            waitlist.join(db, event=event, ticket_type=ticket_type, user=current_user, name=form.name.data,
                          email=form.email.data)
        except DomainError as error:
            end_refused(db)
            return render_domain_error(error, "events/waitlist_join.html", form=form, **context)
        flash(_("You are on the waiting list for %(name)s. We will e-mail you as soon as a seat is free.",
                name=localized(ticket_type, "name")), "success")
        return redirect(url_for("waitlist.join", slug=slug, ticket_type_id=ticket_type_id))
    return render_form("events/waitlist_join.html", form, **context)


# --- leaving --------------------------------------------------------------------------------

@bp.route("/waitlist/<int:entry_id>/leave", methods=["GET", "POST"])
@login_required
def leave(entry_id: int):
    """Asks before taking the person off the list; a second POST (another tab) says they are off it already."""
    refuse_forged_post()
    form = FlaskForm()
    db = db_session()
    try:
        entry = waitlist.own_entry(db, current_user, entry_id)
    except DomainError as error:
        _abort_on(error)
    type_name = localized(entry.ticket_type, "name")

    def left(db):
        flash(_("You have left the waiting list for %(name)s.", name=type_name)
              if waitlist.leave(db, current_user, entry)
              else _("You are no longer on the waiting list for %(name)s.", name=type_name), "success")
        return redirect(url_for("events.my_tickets"), 303)

    return save_form(form, "events/waitlist_leave.html", left, entry=entry, event=entry.ticket_type.event,
                     type_name=type_name)


# --- the personal offer link ----------------------------------------------------------------

def _refused_offer(error: DomainError):
    return render_template("events/waitlist_offer_unavailable.html", message=error.message), error.status_code


@bp.route("/waitlist/offer/<token>", methods=["GET", "POST"])
@login_required
def offer(token: str):
    db = db_session()
    try:
        entry = waitlist.find_offer(db, token)
        event = orders.load_event_for_sale(db, entry.ticket_type.event.slug)
    except DomainError as error:
        return _refused_offer(error)
    form = offer_form(event, paid=entry.ticket_type.price > 0,
                      attendee={"name": entry.name, "email": entry.email, "ticket_type_id": entry.ticket_type_id})
    if "provider" in form:
        form.provider.offer_for(entry.ticket_type.price)
    context = {"event": event, "entry": entry, "ticket_type": entry.ticket_type}
    if form.validate_on_submit():
        attendee = form.attendee.form
        try:
            order = waitlist.accept_offer(db, token, buyer=current_user, name=attendee.name.data,
                                          email=attendee.email.data, organisation=attendee.organisation.data or "",
                                          answers=attendee.answers(), provider_key=chosen_provider(form))
        except waitlist.OfferUnavailable as error:
            end_refused(db)
            return _refused_offer(error)
        except DomainError as error:
            end_refused(db)
            return render_domain_error(error, "events/waitlist_offer.html", form=form, **context)
        flash(_("Your tickets are confirmed. We have sent them to %(email)s.", email=current_user.email)
              if order.status is OrderStatus.PAID else _("Your order has been registered."), "success")
        if order.status is OrderStatus.PENDING:
            return begin_payment(ORDER, order.code)
        return redirect(url_for("events.order_detail", code=order.code))
    return render_form("events/waitlist_offer.html", form, **context)


# --- organisers ---------------------------------------------------------------------------------

#: the organisers' list, behind the event management gate (events.gate)
manage_bp = event_management_blueprint("waitlist_manage", __name__, "/manage/events/<int:event_id>/waitlist")


@manage_bp.route("")
def entries():
    return render_template("events/manage_waitlist.html", event=g.event,
                           lists=waitlist.entries_by_type(db_session(), g.event), Status=WaitingListStatus)


def _change_entry(entry_id: int, change, done_message: str):
    """Applies an organiser's POSTed change to one entry and goes back to the list."""
    event = g.event

    def run(db):
        entry = waitlist.managed_entry(db, event, entry_id)
        change(db, current_user, event, entry)
        return done_message % {"name": entry.name}

    return button_action(run, back=url_for("waitlist_manage.entries", event_id=event.id))


@manage_bp.route("/<int:entry_id>/offer", methods=["POST"])
def offer_by_hand(entry_id: int):
    return _change_entry(entry_id, waitlist.offer_by_hand,
                         _("A seat has been offered to %(name)s; they have been e-mailed the link."))


@manage_bp.route("/<int:entry_id>/remove", methods=["POST"])
def remove(entry_id: int):
    return _change_entry(entry_id, waitlist.remove, _("%(name)s has been taken off the waiting list."))
