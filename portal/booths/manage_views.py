"""Organisers' booth pages: the floor-plan editor (static/js/booth_editor.js, with plain forms without JavaScript),
the sale's settings and priority windows, applications and bookings, occupancy by zone and the exhibitor export.

Every page is behind the event management gate (events.gate: role, CSRF token, the event), and every object is
looked up within that event by the services. The editor's JSON carries its token in the X-CSRFToken header."""

from __future__ import annotations

import io
from pathlib import Path

from flask import (
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.accounts.models import Organisation
from portal.booths import plan, services, setup
from portal.booths.drawing import HATCHED, LABEL_GLYPH_WIDTH
from portal.booths.labels import BOOKING_STATUS_LABELS, BOOTH_STATE_LABELS, LEGEND_LABELS
from portal.booths.manage_forms import (
    BoothForm,
    DecisionForm,
    FloorPlanForm,
    MoveForm,
    PaymentForm,
    PriorityWindowForm,
    SaleSettingsForm,
)
from portal.booths.models import ACTIVE_STATUSES, BookingStatus, Booth, BoothBooking, BoothState, PriorityWindow
from portal.booths.payable import BOOTH_BOOKING
from portal.booths.uploads import store_plan_background
from portal.booths.views import BACKGROUND_TYPES, DRAWING_POLICY
from portal.db import db_session, end_refused, utcnow
from portal.errors import DomainError
from portal.events.gate import event_management_blueprint
from portal.i18n import format_vnd
from portal.json_body import MalformedBody, json_object, request_json
from portal.payments.services import received_so_far
from portal.uploads import STORED_NAME
from portal.web import button_action, client_ip, save_form, upload_folder

#: the editor's endpoints answer booth_editor.js with JSON, so a refusal shows as a message next to the plan
bp = event_management_blueprint("booth_manage", __name__, "/manage/events/<int:event_id>/booths",
                                json_endpoints={"editor_save", "editor_delete"})
#: the list's status filter: the active bookings unless told, "all", or one status
STATUS_FILTERS = {"": ACTIVE_STATUSES, "all": tuple(BookingStatus),
                  **{status.value: (status,) for status in BookingStatus}}


def _json_error(message: str, status: int, **extra):
    return jsonify(error=message, **extra), status


@bp.context_processor
def _labels():
    return {"booking_status_labels": BOOKING_STATUS_LABELS, "booth_state_labels": BOOTH_STATE_LABELS,
            "legend_labels": LEGEND_LABELS, "hatched_states": HATCHED, "label_glyph_width": LABEL_GLYPH_WIDTH}


def _here(endpoint: str, **values) -> str:
    return url_for(f"booth_manage.{endpoint}", event_id=g.event.id, **values)


# --- the floor plan and its editor -------------------------------------------------------------

def _booth_json(booth: Booth, state: BoothState) -> dict:
    return {"id": booth.id, "number": booth.number, "zone": booth.zone, "x": booth.x, "y": booth.y, "w": booth.w,
            "h": booth.h, "size_m2": booth.size_m2, "price": booth.price, "corner": booth.corner,
            "power": booth.power, "water": booth.water, "state": state.shown,
            "state_label": str(BOOTH_STATE_LABELS[state])}


def _plan_context(**forms) -> dict:
    """What the plan page shows; `forms` replaces the empty floor-plan or booth form with one being corrected."""
    event = g.event
    booth_plan = plan.booth_plan(db_session(), event, current_user)
    floor_plan = booth_plan.floor_plan
    return {
        "event": event, "plan": booth_plan, "floor_plan": floor_plan,
        "floor_form": forms.get("floor_form") or FloorPlanForm(formdata=None, obj=floor_plan),
        "booth_form": forms.get("booth_form") or BoothForm(formdata=None),
        "booths_json": [_booth_json(item.booth, item.state) for item in booth_plan.booths],
    }


@bp.route("/")
def plan_page():
    return render_template("booths/manage_plan.html", **_plan_context())


@bp.route("/floor-plan", methods=["POST"])
def save_floor_plan():
    form = FloorPlanForm()

    def save(db):
        stored = store_plan_background(form.background.data, upload_folder()) if form.background.data else None
        try:
            setup.save_floor_plan(db, current_user, g.event, width=form.width.data, height=form.height.data,
                                  grid_size=form.grid_size.data, metres_per_unit=form.metres_per_unit.data,
                                  background=stored)
        except DomainError:
            if stored is not None:  # the plan does not point at it, so nobody ever will
                (upload_folder() / stored[0]).unlink(missing_ok=True)
            raise
        flash(_("The floor plan is saved."), "success")
        return redirect(_here("plan_page"))

    return save_form(form, "booths/manage_plan.html", save, **_plan_context(floor_form=form))


def _saved_booth(form: BoothForm, booth_id: int | None):
    def save(db):
        booth = setup.save_booth(db, current_user, g.event, form.booth_input(), booth_id)
        flash(_("Booth %(number)s is saved.", number=booth.number), "success")
        return redirect(_here("plan_page"))

    return save


@bp.route("/new", methods=["POST"])
def new_booth():
    """The plan page's form for adding a booth by its coordinates (what the editor does without JavaScript)."""
    form = BoothForm()
    return save_form(form, "booths/manage_plan.html", _saved_booth(form, None), **_plan_context(booth_form=form))


@bp.route("/<int:booth_id>", methods=["GET", "POST"])
def edit_booth(booth_id: int):
    booth = db_session().get(Booth, booth_id)
    if booth is None or booth.event_id != g.event.id:
        abort(404)
    form = BoothForm(obj=booth)
    return save_form(form, "events/manage_form.html", _saved_booth(form, booth_id), event=g.event,
                     title=_("Edit booth %(number)s", number=booth.number))


@bp.route("/<int:booth_id>/delete", methods=["POST"])
def delete_booth(booth_id: int):
    def run(db):
        setup.delete_booth(db, current_user, g.event, booth_id)
        return _("The booth is deleted.")

    return button_action(run, back=_here("plan_page"))


def _booth_state_change(booth_id: int, change, done: str):
    def run(db):
        booth = change(db, current_user, g.event, booth_id)
        return done % {"number": booth.number}

    return button_action(run, back=_here("plan_page"))


@bp.route("/<int:booth_id>/block", methods=["POST"])
def block_booth(booth_id: int):
    return _booth_state_change(booth_id, services.block_booth, _("Booth %(number)s is no longer for sale."))


@bp.route("/<int:booth_id>/unblock", methods=["POST"])
def unblock_booth(booth_id: int):
    return _booth_state_change(booth_id, services.unblock_booth, _("Booth %(number)s is for sale again."))


#: a booth as booth_editor.js sends it ({"id": null} adds one)
EDITOR_FIELDS = {"number": str, "x": int, "y": int, "w": int, "h": int, "price": int}
EDITOR_OPTIONAL_FIELDS = {"id": int, "zone": str, "size_m2": (int, float), "corner": bool, "power": bool,
                          "water": bool}


def _editor_input(data: dict) -> setup.BoothInput:
    return setup.BoothInput(number=data["number"], zone=data.get("zone") or "", x=data["x"], y=data["y"],
                            w=data["w"], h=data["h"], price=data["price"], size_m2=data.get("size_m2"),
                            corner=data.get("corner") is True, power=data.get("power") is True,
                            water=data.get("water") is True)


def _stored_booth(booth_id) -> plan.PlanBooth | None:
    """The booth as the database has it now, with its state and booking as the booth list shows them."""
    booth = db_session().get(Booth, booth_id) if isinstance(booth_id, int) else None
    if booth is None or booth.event_id != g.event.id:
        return None
    occupant = db_session().scalar(select(BoothBooking).where(BoothBooking.booth_id == booth.id,
                                                              BoothBooking.status.in_(ACTIVE_STATUSES)))
    state = services.booth_state(booth, occupant, utcnow())
    return plan.PlanBooth(booth, state, occupant if state not in (BoothState.AVAILABLE, BoothState.BLOCKED) else None,
                          is_own=False)


def _stored_json(booth_id) -> dict | None:
    """The booth as the database has it, for the editor to put back after a refusal."""
    item = _stored_booth(booth_id)
    return _booth_json(item.booth, item.state) if item else None


@bp.route("/editor", methods=["POST"])
def editor_save():
    """booth_editor.js posts each added, moved, resized or edited booth here as JSON ({"id": null} adds one)."""
    body = request_json()
    try:
        data = json_object(body, EDITOR_FIELDS, EDITOR_OPTIONAL_FIELDS,
                           _("The booth could not be read. Reload the page and try again."))
    except MalformedBody as error:
        return _json_error(str(error.message), error.status_code,
                           booth=_stored_json(body.get("id") if isinstance(body, dict) else None))
    booth_id = data.get("id")
    db = db_session()
    try:
        booth = setup.save_booth(db, current_user, g.event, _editor_input(data), booth_id)
    except DomainError as error:
        end_refused(db)
        if error.status_code in (403, 404):
            return _json_error(str(error.message), error.status_code)
        field = getattr(error, "field", None)
        problems = getattr(error, "problems", None) or ({field: error.message} if field else {})
        message = _("Please correct the fields marked below.") if len(problems) > 1 else str(error.message)
        return _json_error(message, error.status_code, field=field,
                           problems={name: str(text) for name, text in problems.items()},
                           booth=_stored_json(booth_id))
    item = _stored_booth(booth.id)
    # the booth list's row too, drawn by the plan page's own template
    return jsonify(booth=_booth_json(item.booth, item.state),
                   message=_("Booth %(number)s is saved.", number=booth.number),
                   row=render_template("booths/_manage_booth_row.html", item=item, event=g.event))


@bp.route("/editor/<int:booth_id>/delete", methods=["POST"])
def editor_delete(booth_id: int):
    db = db_session()
    try:
        setup.delete_booth(db, current_user, g.event, booth_id)
    except DomainError as error:
        end_refused(db)
        return _json_error(str(error.message), error.status_code, booth=_stored_json(booth_id))
    return jsonify(deleted=booth_id, message=_("The booth is deleted."))


@bp.route("/files/<name>")
def plan_file(name: str):
    """The hall's drawing, for this event's organisers, also while the event is a draft (exhibitors' logos:
    booths.logo)."""
    floor_plan = plan.floor_plan_of(db_session(), g.event)
    if floor_plan.background != name or not STORED_NAME.fullmatch(name):
        abort(404)
    response = send_from_directory(Path(upload_folder()), name, mimetype=BACKGROUND_TYPES[floor_plan.background_kind],
                                   max_age=3600)
    # An SVG opened on its own is a document: it may never run anything (it was sanitised on upload as well).
    response.headers["Content-Security-Policy"] = DRAWING_POLICY
    return response


# --- the sale's settings and priority windows --------------------------------------------------

@bp.route("/settings", methods=["GET", "POST"])
def settings():
    db = db_session()
    form = SaleSettingsForm(obj=services.settings_for(db, g.event))

    def save(db):
        setup.save_sale_settings(db, current_user, g.event, **form.settings_data())
        flash(_("The sale settings are saved."), "success")
        return redirect(_here("settings"))

    return save_form(form, "booths/manage_settings.html", save, event=g.event,
                     windows=services.priority_windows(db, g.event))


def _window_page(window: PriorityWindow | None):
    form = PriorityWindowForm(obj=window)
    form.prepare(db_session().scalars(select(Organisation).order_by(Organisation.name)))

    def save(db):
        setup.save_priority_window(db, current_user, g.event, name_vi=form.name_vi.data, name_en=form.name_en.data,
                                   opens_at=form.opens_at.data, organisation_ids=form.organisations.data,
                                   window_id=window.id if window else None)
        flash(_("The priority window is saved."), "success")
        return redirect(_here("settings"))

    title = _("New priority window") if window is None else _("Edit the priority window")
    return save_form(form, "booths/manage_window.html", save, event=g.event, title=title)


@bp.route("/windows/new", methods=["GET", "POST"])
def new_window():
    return _window_page(None)


@bp.route("/windows/<int:window_id>", methods=["GET", "POST"])
def edit_window(window_id: int):
    window = db_session().get(PriorityWindow, window_id)
    if window is None or window.event_id != g.event.id:
        abort(404)
    return _window_page(window)


@bp.route("/windows/<int:window_id>/delete", methods=["POST"])
def delete_window(window_id: int):
    def run(db):
        setup.delete_priority_window(db, current_user, g.event, window_id)
        return _("The priority window is deleted.")

    return button_action(run, back=_here("settings"))


# --- applications and bookings -----------------------------------------------------------------

@bp.route("/bookings")
def bookings():
    status = request.args.get("status", "")
    if status not in STATUS_FILTERS:
        status = ""
    found = plan.event_bookings(db_session(), g.event, statuses=STATUS_FILTERS[status])
    return render_template("booths/manage_bookings.html", event=g.event, bookings=found, status=status,
                           statuses=list(BookingStatus),
                           received=received_so_far(db_session(), BOOTH_BOOKING, [b.id for b in found]))


def _render_booking(booking_id: int, status: int = 200, **forms):
    """The booking page; `forms` replaces an empty action form with one being corrected."""
    db = db_session()
    try:
        booking = plan.event_booking(db, g.event, booking_id)
    except DomainError as error:
        abort(error.status_code)
    available = ([item.booth for item in plan.booth_plan(db, g.event, current_user).booths
                  if item.state is BoothState.AVAILABLE] if booking.is_active else [])
    due_now = services.next_instalment(booking)
    page_forms = {
        "decision_form": DecisionForm(formdata=None),
        "payment_form": PaymentForm(formdata=None, amount=due_now or None, expected_paid=booking.amount_paid),
        "move_form": MoveForm(formdata=None),
        **forms,
    }
    page_forms["move_form"].prepare(available)
    return render_template("booths/manage_booking.html", event=g.event, booking=booking, next_instalment=due_now,
                           **page_forms), status


@bp.route("/bookings/<int:booking_id>")
def booking_page(booking_id: int):
    return _render_booking(booking_id)


def _booking_action(booking_id: int, form, form_name: str, run):
    """Checks the form, then runs the service through button_action; a form that cannot be read shows the booking
    page again with what was typed."""
    if not form.validate_on_submit():
        return _render_booking(booking_id, 400, **{form_name: form})
    back = _here("booking_page", booking_id=booking_id)
    return button_action(run, back=back)


def _decide(booking_id: int, decide, done: str):
    """Approve, reject or cancel, with the message the organiser wrote to the exhibitor."""
    form = DecisionForm()

    def run(db):
        booking = decide(db, current_user, g.event, booking_id, message=form.message.data or "")
        return done % {"number": booking.booth.number}

    return _booking_action(booking_id, form, "decision_form", run)


@bp.route("/bookings/<int:booking_id>/approve", methods=["POST"])
def approve(booking_id: int):
    return _decide(booking_id, services.approve_application,
                   _("The application for booth %(number)s is approved."))


@bp.route("/bookings/<int:booking_id>/reject", methods=["POST"])
def reject(booking_id: int):
    return _decide(booking_id, services.reject_application,
                   _("The application for booth %(number)s is rejected."))


@bp.route("/bookings/<int:booking_id>/cancel", methods=["POST"])
def cancel(booking_id: int):
    return _decide(booking_id, services.cancel_booking, _("The booking of booth %(number)s is cancelled."))


@bp.route("/bookings/<int:booking_id>/payment", methods=["POST"])
def record_payment(booking_id: int):
    form = PaymentForm()

    def run(db):
        booking = services.record_payment(db, current_user, g.event, booking_id, amount=form.amount.data,
                                          expected_paid=form.expected())
        if booking.status is BookingStatus.SOLD:
            return _("The payment is recorded: booth %(number)s is sold.", number=booking.booth.number)
        return _("The payment is recorded. Still to pay: %(left)s.",
                 left=format_vnd(booking.amount_outstanding))

    return _booking_action(booking_id, form, "payment_form", run)


@bp.route("/bookings/<int:booking_id>/move", methods=["POST"])
def move(booking_id: int):
    form = MoveForm()

    def run(db):
        booking = services.move_booking(db, current_user, g.event, booking_id, form.booth.data,
                                        message=form.note.data or "")
        return _("The exhibitor is moved to booth %(number)s and has been told.", number=booking.booth.number)

    return _booking_action(booking_id, form, "move_form", run)


# --- occupancy, revenue and the exhibitor list --------------------------------------------------

@bp.route("/report")
def report():
    return render_template("booths/manage_report.html", event=g.event, report=plan.zone_report(db_session(), g.event))


@bp.route("/export.<any(csv, xlsx):file_format>", methods=["POST"])
def export(file_format: str):
    exported = plan.export_exhibitors(db_session(), current_user, g.event, file_format, ip_address=client_ip())
    return send_file(io.BytesIO(exported.content), mimetype=exported.mimetype, as_attachment=True,
                     download_name=exported.filename)
