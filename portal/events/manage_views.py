"""Organisers' pages for running an event, behind the event management gate (events.gate)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, flash, g, redirect, render_template, request, send_from_directory, url_for
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.accounts.models import Role
from portal.db import db_session, utcnow
from portal.errors import DomainError
from portal.events import manage
from portal.events.gate import event_management_blueprint
from portal.events.labels import ORDER_STATUS_LABELS, PROGRAMME_KIND_LABELS
from portal.events.manage_forms import (
    ELIGIBILITIES,
    EVENT_STATUSES,
    QUESTION_KINDS,
    EventForm,
    ProgrammeItemForm,
    QuestionForm,
    QuotaForm,
    TeamMemberForm,
    TicketTypeForm,
)
from portal.events.models import Event, OrderStatus, ProgrammeItem, Question, Quota, TicketType
from portal.events.orders import seats_taken
from portal.events.payable import ORDER
from portal.events.permissions import managed_events
from portal.forms import ConfirmForm
from portal.i18n import localized
from portal.payments.services import received_so_far
from portal.reminders.pages import Scope, register_rule_pages
from portal.web import button_action, page_number, safe_next, save_form, upload_folder

#: covers are served to everyone: they appear on the public event pages
bp = event_management_blueprint("manage", __name__, "/manage/events", public_endpoints={"cover_image"})
COVER_TYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}


@bp.context_processor
def _labels():
    return {"event_status_labels": dict(EVENT_STATUSES), "programme_kind_labels": PROGRAMME_KIND_LABELS,
            "eligibility_labels": dict(ELIGIBILITIES), "question_kind_labels": dict(QUESTION_KINDS),
            "order_status_labels": ORDER_STATUS_LABELS}



# --- events ---------------------------------------------------------------------------------

@bp.route("/")
def index():
    return render_template("events/manage_index.html", events=managed_events(db_session(), current_user))


@bp.route("/new", methods=["GET", "POST"])
def create():
    form = EventForm()
    form.prepare(None)

    def save(db):
        event = manage.create_event(db, current_user, form.model_data(), cover=form.cover.data,
                                    upload_folder=upload_folder())
        flash(_("The event has been created. Add its programme, ticket types and quotas next."), "success")
        return redirect(url_for("manage.show", event_id=event.id))

    return save_form(form, "events/manage_form.html", save, title=_("New event"), event=None, multipart=True)


@bp.route("/<int:event_id>")
def show():
    event = g.event
    return render_template("events/manage_event.html", event=event, team=manage.team_of(db_session(), event),
                           member_form=TeamMemberForm(formdata=None))


@bp.route("/<int:event_id>/edit", methods=["GET", "POST"])
def edit():
    event = g.event
    form = EventForm(obj=event)
    form.prepare(event)

    def save(db):
        manage.update_event(db, current_user, event, form.model_data(), cover=form.cover.data,
                            upload_folder=upload_folder(), remove_cover=form.ticked("remove_cover"),
                            move_programme=form.ticked("move_programme"))
        flash(_("Saved."), "success")
        return redirect(url_for("manage.show", event_id=event.id))

    return save_form(form, "events/manage_form.html", save, title=_("Edit the event"), event=event, multipart=True)


@bp.route("/covers/<name>")
def cover_image(name: str):
    match = manage.COVER_NAME.fullmatch(name)
    if match is None:
        abort(404)
    return send_from_directory(upload_folder(), name, mimetype=COVER_TYPES[match.group(1)], max_age=86400)


# --- team -----------------------------------------------------------------------------------

@bp.route("/<int:event_id>/team", methods=["POST"])
def add_team_member():
    event = g.event
    form = TeamMemberForm()

    def save(db):
        user = manage.add_team_member(db, current_user, event, form.email.data)
        flash(_("%(name)s has joined the team.", name=user.full_name), "success")
        return redirect(url_for("manage.show", event_id=event.id))

    return save_form(form, "events/manage_event.html", save, event=event, member_form=form,
                 team=manage.team_of(db_session(), event))


@bp.route("/<int:event_id>/team/<int:user_id>/remove", methods=["POST"])
def remove_team_member(user_id: int):
    event = g.event
    left_the_team = user_id == current_user.id and not current_user.has_role(Role.ADMIN)

    def run(db):
        manage.remove_team_member(db, current_user, event, user_id)
        return _("The organiser has left the team.")

    return button_action(run, back=url_for("manage.show", event_id=event.id),
                         back_when_done=url_for("manage.index") if left_the_team else None)


# --- programme, ticket types, quotas, questions ----------------------------------------------

@dataclass(frozen=True)
class Section:
    """One kind of part of an event, with a list page and new / edit / delete pages."""

    key: str
    model: type
    form: type
    title: LazyString
    new_title: LazyString
    edit_title: LazyString

    @property
    def endpoint(self) -> str:
        return self.key.replace("-", "_")


SECTIONS = (
    Section("programme", ProgrammeItem, ProgrammeItemForm, _l("Programme"), _l("New programme item"),
            _l("Edit the programme item")),
    Section("ticket-types", TicketType, TicketTypeForm, _l("Ticket types"), _l("New ticket type"),
            _l("Edit the ticket type")),
    Section("quotas", Quota, QuotaForm, _l("Quotas"), _l("New quota"), _l("Edit the quota")),
    Section("questions", Question, QuestionForm, _l("Registration questions"), _l("New question"),
            _l("Edit the question")),
)


def _section_extras(section: Section, event: Event, items: list) -> dict:
    """What a list page shows beyond its items: a quota's seats given away."""
    if section.model is Quota:
        return {"taken": seats_taken(db_session(), [q.id for q in items], utcnow())}
    return {}


def _register_section(section: Section) -> None:
    list_endpoint = f"manage.{section.endpoint}"

    def listing():
        event = g.event
        items = manage.parts_of(db_session(), event, section.model)
        return render_template(f"events/manage_{section.endpoint}.html", event=event, items=items, section=section,
                               **_section_extras(section, event, items))

    def save_page(event: Event, item, title):
        form = section.form(obj=item)
        form.prepare(event)

        def save(db):
            manage.save_part(db, current_user, event, section.model, form.model_data(), item)
            flash(_("Saved."), "success")
            return redirect(url_for(list_endpoint, event_id=event.id))

        return save_form(form, "events/manage_form.html", save, title=title, event=event, section=section)

    def create():
        return save_page(g.event, None, section.new_title)

    def edit(item_id: int):
        return save_page(g.event, _part(g.event, item_id), section.edit_title)

    def delete(item_id: int):
        event = g.event
        item = _part(event, item_id)

        def run(db):
            manage.delete_part(db, current_user, event, item)
            return _("Deleted.")

        return button_action(run, back=url_for(list_endpoint, event_id=event.id))

    def _part(event: Event, item_id: int):
        try:
            return manage.get_part(db_session(), event, section.model, item_id)
        except DomainError as error:
            abort(error.status_code)

    base = f"/<int:event_id>/{section.key}"
    bp.add_url_rule(f"{base}/", section.endpoint, listing)
    bp.add_url_rule(f"{base}/new", f"{section.endpoint}_new", create, methods=["GET", "POST"])
    bp.add_url_rule(f"{base}/<int:item_id>", f"{section.endpoint}_edit", edit, methods=["GET", "POST"])
    bp.add_url_rule(f"{base}/<int:item_id>/delete", f"{section.endpoint}_delete", delete, methods=["POST"])


for _section in SECTIONS:
    _register_section(_section)


# --- orders ---------------------------------------------------------------------------------

@bp.route("/<int:event_id>/orders")
def orders():
    event = g.event
    status = request.args.get("status", "")
    status = OrderStatus(status) if status in {s.value for s in OrderStatus} else None
    search = request.args.get("q", "").strip()[:100]
    page = page_number()
    db = db_session()
    event_orders, total = manage.list_orders(db, event, status=status, search=search, page=page)
    return render_template("events/manage_orders.html", event=event, orders=event_orders, total=total, page=page,
                           per_page=manage.ORDERS_PER_PAGE, status=status, search=search, confirm_form=ConfirmForm(),
                           actions_for=manage.actions_for,
                           received=received_so_far(db, ORDER, [order.id for order in event_orders]))


ORDER_ACTION_MESSAGES = {
    "mark-paid": (_l("Order %(code)s is marked as paid; the tickets have been sent."),
                  _l("Order %(code)s had already been marked as paid.")),
    "approve": (_l("Order %(code)s is approved."), _l("Order %(code)s had already been approved.")),
    "cancel": (_l("Order %(code)s is cancelled."), _l("Order %(code)s had already been cancelled.")),
}


@bp.route("/<int:event_id>/orders/<int:order_id>/<any('mark-paid', 'approve', 'cancel'):action>", methods=["POST"])
def order_action(order_id: int, action: str):
    event = g.event

    def run(db):
        order, changed = manage.act_on_order(db, current_user, event, order_id, action)
        done, already = ORDER_ACTION_MESSAGES[action]
        return str(done if changed else already) % {"code": order.code}, "success" if changed else "info"

    return button_action(run, back=safe_next(request.form.get("next"), url_for("manage.orders", event_id=event.id)))


register_rule_pages(bp, "event", "/<int:event_id>/reminders",
                    lambda: Scope(g.event.id, {"event_id": g.event.id}, localized(g.event, "name"), {"event": g.event}),
                    nav_template="events/manage_nav.html")
