"""The exhibitor's side of booth sales: the public floor plan, holding a booth and applying for it, the exhibitor's
bookings and their staff badges.

A refusal (a booth just taken, a hold that ran out, selection not open) answers with its 4xx status, the plan as it
now stands and every field the exhibitor typed: the plan's booths are then buttons of the application form itself
(formaction), so choosing another booth carries the application along.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from flask import Blueprint, abort, flash, redirect, render_template, request, send_from_directory, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup, escape
from sqlalchemy import select

from portal.booths import badges as badge_services
from portal.booths import services
from portal.booths.drawing import HATCHED, booth_rows, booth_shapes, drawn_booths
from portal.booths.forms import ApplicationForm, BadgeForm, PlanFilterForm
from portal.booths.labels import BOOKING_STATUS_LABELS, LEGEND_LABELS
from portal.booths.menu import note_booth_booking
from portal.booths.models import BookingStatus, Booth, BoothBooking, PlanImageKind
from portal.booths.payable import BOOTH_BOOKING
from portal.booths.plan import Plan, booking_of, bookings_of, booth_plan, floor_plan_of
from portal.booths.uploads import store_logo
from portal.db import db_session, end_refused, utcnow
from portal.errors import DomainError, Invalid, NotFound
from portal.events.models import Event, EventStatus
from portal.events.permissions import can_manage_event
from portal.forms import ConfirmForm
from portal.payments.views import begin_payment, change_method, payment_panel
from portal.uploads import STORED_NAME
from portal.web import button_action, upload_folder

bp = Blueprint("booths", __name__)

BACKGROUND_TYPES = {PlanImageKind.PNG: "image/png", PlanImageKind.JPEG: "image/jpeg",
                    PlanImageKind.SVG: "image/svg+xml"}
#: a logo's type by the extension its stored name got from its content (uploads.store_logo)
LOGO_TYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}
#: a drawing or logo is shown as an image, never as a document: even a sanitised SVG opened on its own runs nothing
DRAWING_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
#: what the exhibitor is asked to do next, by the status of their booking
NEXT_STEPS = {
    BookingStatus.AWAITING_APPROVAL: _l("The organisers are reviewing your application. We will e-mail you their "
                                        "decision."),
    BookingStatus.AWAITING_PAYMENT: _l("Pay the amount to pay now by the deadline: how to pay, and how to change the "
                                       "way you pay, are shown below."),
    BookingStatus.SOLD: _l("Your booth is paid. Name your staff to give them their badges."),
    BookingStatus.RELEASED: _l("You let this booth go. You can choose another booth on the plan."),
    BookingStatus.EXPIRED: _l("Your hold ran out before the application was submitted. You can choose a booth "
                              "again on the plan."),
    BookingStatus.REJECTED: _l("The organisers did not accept this application."),
    BookingStatus.LAPSED: _l("The payment did not arrive by the deadline, so the booth was freed."),
    BookingStatus.CANCELLED: _l("The organisers cancelled this booking."),
    BookingStatus.WITHDRAWN: _l("You withdrew this application, and the booth is offered to other exhibitors again. "
                                "You can choose a booth on the plan."),
}


@bp.context_processor
def _labels():
    return {"legend_labels": LEGEND_LABELS, "booking_status_labels": BOOKING_STATUS_LABELS, "next_steps": NEXT_STEPS,
            "booth_shapes": booth_shapes, "booth_rows": booth_rows, "hatched_states": HATCHED}


@bp.app_template_global()
def sells_booths(event: Event) -> bool:
    """Whether the event's page links to a floor plan: once the organisers have placed a booth on it."""
    return db_session().scalar(select(Booth.id).where(Booth.event_id == event.id).limit(1)) is not None


def _viewer():
    return current_user._get_current_object() if current_user.is_authenticated else None


def _event(slug: str) -> Event:
    """A published or closed event; a draft only for its organisers."""
    db = db_session()
    event = db.scalar(select(Event).where(Event.slug == slug))
    if event is None or (event.status is EventStatus.DRAFT
                         and not (current_user.is_authenticated and can_manage_event(db, current_user, event))):
        abort(404)
    return event


# --- the plan -------------------------------------------------------------------------------

def _booth_texts() -> dict[str, str]:
    """The list's per-booth words as patterns (filled in with |format): one translation lookup, not one per booth."""
    return {"choose": _("Choose %(number)s"), "log_in_to_choose": _("Log in to choose %(number)s"),
            "own": _("Your booking of %(number)s")}


def _filters(plan: Plan) -> PlanFilterForm:
    filters = PlanFilterForm(formdata=request.args if request.method == "GET" else None)
    filters.prepare(plan.zones)
    if request.method == "GET" and request.args:
        filters.validate()
    return filters


def _plan_link(event: Event) -> Callable[[int], Markup]:
    """Where a booth on the drawing leads: this page with the booth chosen, the visitor's filters kept. Built and
    escaped once, completed per booth id: url_for for each of 200 booths is a visible share of the page's time."""
    kept = [(key, value) for key, value in request.args.items(multi=True) if key != "booth"]
    tail = escape(("&" + urlencode(kept) if kept and request.method == "GET" else "") + "#chosen")
    path = escape(url_for("booths.plan_page", slug=event.slug))
    return lambda booth_id: Markup(f"{path}?booth={booth_id}{tail}")  # noqa: S704 - its parts are escaped


def _render_plan(event: Event, status: int = 200):
    plan = booth_plan(db_session(), event, _viewer())
    filters = _filters(plan)
    chosen_id = request.args.get("booth", type=int) if request.method == "GET" else None
    booths = drawn_booths(plan, _plan_link(event))
    shown_ids = {item.booth.id for item in filters.booth_filter().apply(plan.booths)}
    if filters.errors and status == 200:
        status = 400
    return render_template("booths/plan.html", event=event, plan=plan, filters=filters, booths=booths,
                           login_url=None if current_user.is_authenticated else url_for(
                               "accounts.login", next=request.full_path), texts=_booth_texts(),
                           shown=[b for b in booths if b.item.booth.id in shown_ids], shown_ids=shown_ids,
                           chosen=next((b for b in booths if b.item.booth.id == chosen_id), None)), status


@bp.route("/events/<slug>/booths")
def plan_page(slug: str):
    return _render_plan(_event(slug))


@bp.route("/events/<slug>/booths/background")
def plan_background(slug: str):
    floor_plan = floor_plan_of(db_session(), _event(slug))
    if floor_plan.background is None or not STORED_NAME.fullmatch(floor_plan.background):
        abort(404)
    response = send_from_directory(upload_folder(), floor_plan.background,
                                   mimetype=BACKGROUND_TYPES[floor_plan.background_kind], max_age=3600)
    response.headers["Content-Security-Policy"] = DRAWING_POLICY
    return response


# --- holding and applying ---------------------------------------------------------------------

def _keep_logo(form: ApplicationForm) -> bool:
    """Stores a newly chosen logo (checked for type and size) and remembers its name in the form; False, with the
    reason on the field, when it is refused."""
    upload = form.logo.data
    if upload is None or not getattr(upload, "filename", ""):
        return True
    try:
        form.logo_name.data = store_logo(upload, upload_folder())
    except Invalid as error:
        form.logo.errors = [*form.logo.errors, str(error.message)]
        return False
    return True


def _offer_for(booking: BoothBooking | None, form: ApplicationForm) -> None:
    """The ways to pay that can take each instalment of the held booth."""
    if booking is not None:
        form.provider.offer_for(services.largest_instalment(db_session(), booking.booth))


def _render_application(event: Event, booking: BoothBooking | None, form: ApplicationForm, status: int = 200):
    """The application: with the hold's countdown while it lasts, otherwise with the plan as it now stands to
    choose a booth again, keeping what was typed."""
    now = utcnow()
    _offer_for(booking, form)
    live = booking is not None and booking.hold_is_live(now)
    plan = None if live else booth_plan(db_session(), event, _viewer(), now=now)
    booths = drawn_booths(plan) if plan else []
    return render_template("booths/application.html", event=event, booking=booking, form=form, live=live,
                           plan=plan, booths=booths, texts=_booth_texts(), now=now), status


@bp.route("/events/<slug>/booths/hold", methods=["POST"])
@login_required
def hold(slug: str):
    """Chooses a booth: the pressed button's `booth` value, from the plan or from a refused application (whose
    fields come along). One form for the whole list: one CSRF token, not one per booth."""
    event = _event(slug)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    db = db_session()
    booth_id = request.form.get("booth", type=int)
    booth = db.get(Booth, booth_id) if booth_id else None
    if booth is None or booth.event_id != event.id:
        abort(404)
    form = ApplicationForm()
    _keep_logo(form)  # a refused logo shows on its field with the rest of the application
    typed = form.has_typed() or bool(form.logo.errors)
    try:
        booking = services.hold_booth(db, current_user, booth_id)
    except DomainError as error:
        end_refused(db)
        flash(str(error.message), "error")
        if typed:
            return _render_application(event, None, form, error.status_code)
        return _render_plan(event, error.status_code)
    note_booth_booking()
    if typed:
        flash(_("Booth %(number)s is yours for now. Check your application and submit it.",
                number=booking.booth.number), "success")
        return _render_application(event, booking, form)
    return redirect(url_for("booths.booking", booking_id=booking.id))


def _own_booking(booking_id: int) -> BoothBooking:
    try:
        return booking_of(db_session(), current_user, booking_id)
    except NotFound:
        abort(404)


def _prefilled(booking: BoothBooking) -> dict:
    """A new application starts from the exhibitor's organisation (its name and tax code) and account (name, address
    and phone)."""
    organisation = booking.organisation
    return {"company_name": organisation.name if organisation else "",
            "tax_code": organisation.tax_code if organisation else "",
            "contact_name": current_user.full_name, "contact_email": current_user.email,
            "contact_phone": current_user.phone or ""}


def _submit(booking: BoothBooking, form: ApplicationForm):
    _offer_for(booking, form)
    valid = form.validate_on_submit()
    valid = _keep_logo(form) and valid
    if not valid:
        return _render_application(booking.event, booking, form, 400)
    db = db_session()
    try:
        services.submit_application(db, current_user, booking.id, form.application(),
                                    provider_key=form.provider.data)
    except DomainError as error:
        end_refused(db)
        field = getattr(error, "field", None)
        if field in form:
            form[field].errors.append(str(error.message))
        else:
            flash(str(error.message), "error")
        return _render_application(booking.event, booking, form, error.status_code)
    flash(_("Your application for booth %(number)s has been sent. We have e-mailed you a copy.",
            number=booking.booth.number), "success")
    return redirect(url_for("booths.booking", booking_id=booking.id))


def _refresh(booking: BoothBooking, form: ApplicationForm):
    """The application as the server now sees it, with what was typed and nothing submitted: booth_plan.js posts
    the form here when the countdown reaches zero, so a hold that ran out shows the plan as it now stands."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    _keep_logo(form)
    expired = services.hold_expired(booking, utcnow())
    if expired is None:  # the device's clock ran ahead: the hold goes on
        return _render_application(booking.event, booking, form)
    flash(str(expired.message), "error")
    return _render_application(booking.event, booking, form, expired.status_code)


@bp.route("/booths/bookings/<int:booking_id>", methods=["GET", "POST"])
@login_required
def booking(booking_id: int):
    """A hold's application form (POST submits it, or with `refresh` only shows it again as it now stands), or
    the booking's status and what to do next."""
    booking = _own_booking(booking_id)
    if request.method == "POST" and booking.submitted_at is not None:  # "Submit" clicked twice
        flash(_("Your application for booth %(number)s has already been sent.", number=booking.booth.number), "info")
        return redirect(url_for("booths.booking", booking_id=booking.id))
    if request.method == "POST":
        return (_refresh if "refresh" in request.form else _submit)(booking, ApplicationForm())
    if booking.status is BookingStatus.HELD:
        return _render_application(booking.event, booking, ApplicationForm(data=_prefilled(booking)))
    now = utcnow()
    return render_template("booths/booking.html", booking=booking, event=booking.event, now=now,
                           next_instalment=services.next_instalment(booking),
                           instalments=services.instalments(db_session(), booking),
                           may_withdraw=services.may_withdraw(booking),
                           panel=payment_panel(BOOTH_BOOKING, booking, now) if booking.awaits_payment(now) else None)


@bp.route("/payments/booth-bookings/<int:booking_id>/pay", methods=["POST"], endpoint="pay_from_payments")
@bp.route("/booths/bookings/<int:booking_id>/pay", methods=["POST"])
@login_required
def pay(booking_id: int):
    """The next instalment, through the provider chosen with the application (payments' pages take over)."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return begin_payment(BOOTH_BOOKING, str(booking_id))


@bp.route("/booths/bookings/<int:booking_id>/payment-method", methods=["POST"])
@login_required
def change_method_of(booking_id: int):
    """The booking page's "change how you pay": payments' pages take over."""
    return change_method(BOOTH_BOOKING, str(booking_id))


@bp.route("/booths/bookings/<int:booking_id>/release", methods=["POST"])
@login_required
def release(booking_id: int):
    booking = _own_booking(booking_id)
    number, slug = booking.booth.number, booking.event.slug

    def run(db):
        services.release_hold(db, current_user, booking_id)
        return _("You let booth %(number)s go.", number=number)

    return button_action(run, back=url_for("booths.booking", booking_id=booking_id),
                         back_when_done=url_for("booths.plan_page", slug=slug))


@bp.route("/booths/bookings/<int:booking_id>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw(booking_id: int):
    """Asks the exhibitor to confirm (GET), then withdraws the application or reservation (POST)."""
    booking = _own_booking(booking_id)
    back = url_for("booths.booking", booking_id=booking_id)
    if request.method == "GET":
        if not services.may_withdraw(booking):
            return redirect(back)
        return render_template("booths/withdraw.html", booking=booking, event=booking.event, back=back)
    number = booking.booth.number

    def run(db):
        services.withdraw_booking(db, current_user, booking_id)
        return _("You have withdrawn your application for booth %(number)s. The booth is offered to other "
                 "exhibitors again.", number=number)

    return button_action(run, back=back)


@bp.route("/booths/bookings/<int:booking_id>/logo")
@login_required
def logo(booking_id: int):
    """The company logo sent with the application, for the exhibitor and the event's organisers only."""
    db = db_session()
    booking = db.get(BoothBooking, booking_id)
    if booking is None or not booking.logo or not (
            booking.exhibitor_id == current_user.id or can_manage_event(db, current_user, booking.event)):
        abort(404)
    match = STORED_NAME.fullmatch(booking.logo)
    if match is None or match.group(1) not in LOGO_TYPES:
        abort(404)
    # Logged in, so no cache keeps it (portal.security: no-store); a picture opened on its own runs nothing.
    response = send_from_directory(upload_folder(), booking.logo, mimetype=LOGO_TYPES[match.group(1)])
    response.headers["Content-Security-Policy"] = DRAWING_POLICY
    return response


@bp.route("/booths/mine")
@login_required
def my_bookings():
    return render_template("booths/my_bookings.html", bookings=bookings_of(db_session(), current_user),
                           now=utcnow(), next_instalment=services.next_instalment)


# --- badges ---------------------------------------------------------------------------------

def _render_badges(booking: BoothBooking, status: int = 200, *, add_form: BadgeForm | None = None,
                   rename_form: BadgeForm | None = None, editing: int | None = None):
    """The badges page; `editing` is the badge whose rename form is open (?edit=…, or the one just refused)."""
    editing = editing or request.args.get("edit", type=int)
    badges = badge_services.badges_of(db_session(), booking)
    ticket = next((t for t in badges.tickets if t.id == editing), None)
    if ticket is not None and rename_form is None:
        rename_form = BadgeForm(formdata=None, name=ticket.attendee_name, email=ticket.attendee_email)
    return render_template("booths/badges.html", booking=booking, event=booking.event, badges=badges,
                           form=add_form or BadgeForm(formdata=None), rename_form=rename_form,
                           editing=ticket.id if ticket else None), status


def _badge_change(booking: BoothBooking, form: BadgeForm, change, done: str, *, editing: int | None = None):
    """Runs one badge change for a valid form; a refusal re-renders the page with what was typed, in the form it
    was typed in (adding, or renaming badge `editing`)."""
    typed_in = {"rename_form": form, "editing": editing} if editing else {"add_form": form}
    if not form.validate_on_submit():
        return _render_badges(booking, 400, **typed_in)
    db = db_session()
    try:
        change(db)
    except DomainError as error:
        end_refused(db)
        if error.status_code == 404:
            abort(404)
        field = getattr(error, "field", None)
        if field in form:
            form[field].errors.append(str(error.message))
        else:
            flash(str(error.message), "error")
        return _render_badges(_own_booking(booking.id), error.status_code, **typed_in)
    flash(done, "success")
    return redirect(url_for("booths.badges", booking_id=booking.id))


@bp.route("/booths/bookings/<int:booking_id>/badges", methods=["GET", "POST"])
@login_required
def badges(booking_id: int):
    booking = _own_booking(booking_id)
    if request.method == "GET":
        return _render_badges(booking)
    form = BadgeForm()
    return _badge_change(
        booking, form,
        lambda db: badge_services.add_badge(db, current_user, booking_id, name=form.name.data, email=form.email.data),
        _("A badge has been named for %(name)s; its QR code is on its way by e-mail.", name=form.name.data))


@bp.route("/booths/bookings/<int:booking_id>/badges/<int:ticket_id>", methods=["POST"])
@login_required
def rename_badge(booking_id: int, ticket_id: int):
    booking = _own_booking(booking_id)
    form = BadgeForm()
    return _badge_change(
        booking, form,
        lambda db: badge_services.rename_badge(db, current_user, booking_id, ticket_id, name=form.name.data,
                                               email=form.email.data),
        _("The badge now reads %(name)s.", name=form.name.data), editing=ticket_id)


@bp.route("/booths/bookings/<int:booking_id>/badges/<int:ticket_id>/remove", methods=["POST"])
@login_required
def remove_badge(booking_id: int, ticket_id: int):
    def run(db):
        badge_services.remove_badge(db, current_user, booking_id, ticket_id)
        return _("The badge has been removed; its QR code no longer lets anyone in.")

    return button_action(run, back=url_for("booths.badges", booking_id=booking_id))
