"""The check-in page staff open on a phone at the door: camera scanning (static/js/checkin.js), a typed-code
form and an attendee search that work without JavaScript, and live counts for the chosen event day. Before the
event, the same page in test mode (?test=1) records test check-ins and lets the organisers delete them."""

from __future__ import annotations

from flask import g, jsonify, render_template, request, url_for
from flask_babel import format_time, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField

from portal.db import db_session, end_refused, utcnow
from portal.events import checkin
from portal.events.checkin import CheckInResult, InvalidTicketCode, NotAnEventDay, Outcome, TestCheckInsOver
from portal.events.gate import event_management_blueprint
from portal.events.models import OrderStatus
from portal.forms import length, required
from portal.i18n import format_local_date, hanoi_date, localized
from portal.json_body import MalformedBody, request_object
from portal.web import button_action

#: scan and live_counts answer checkin.js with JSON, so an expired login shows as a message, not as a login page
bp = event_management_blueprint("checkin", __name__, "/manage/events/<int:event_id>/checkin",
                                json_endpoints={"scan", "live_counts"},
                                expired=_l("This page has expired. Reload it and scan again."))


class CheckInForm(FlaskForm):
    code = StringField(_l("Ticket code"), validators=[required, length(200)],
                       description=_l("The 8 letters and digits printed under the ticket's QR code, for example "
                                      "7KQ2-M9XD. Small or capital letters, spaces and hyphens make no difference."),
                       render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"})
    area = HiddenField()
    #: the event day whose counts the page shows (scans always record today)
    day = HiddenField()
    #: the attendee search to show again after checking in from its results
    q = HiddenField()
    #: "1" on the test page: the check-in is a test
    test = HiddenField()


# --- how each answer looks ------------------------------------------------------------------------

#: tone (the panel's colour), icon and HTTP status of each answer; the words carry the meaning, not the colour
_LOOK = {
    Outcome.VALID: ("ok", "✓", 200),
    Outcome.ALREADY: ("warn", "!", 409),
    Outcome.NOT_PAID: ("stop", "✕", 409),
    Outcome.CANCELLED: ("stop", "✕", 409),
    Outcome.WRONG_EVENT: ("stop", "✕", 409),
    Outcome.NOT_EVENT_DAY: ("stop", "✕", 409),
    Outcome.UNKNOWN: ("stop", "?", 404),
}


def _headline(result: CheckInResult) -> str:
    if result.test:
        return {
            Outcome.VALID: _("Test: this ticket would be let in"),
            Outcome.ALREADY: _("Test: already tried today"),
        }.get(result.outcome) or _("Test: %(answer)s", answer=_real_headline(result))
    return _real_headline(result)


def _real_headline(result: CheckInResult) -> str:
    return {
        Outcome.VALID: _("Valid: let them in"),
        Outcome.ALREADY: _("Already checked in"),
        Outcome.NOT_PAID: _("Not paid: do not let in"),
        Outcome.CANCELLED: _("Cancelled: do not let in"),
        Outcome.WRONG_EVENT: _("Wrong event: do not let in"),
        Outcome.NOT_EVENT_DAY: _("Not an event day: do not let in"),
        Outcome.UNKNOWN: _("Unknown ticket: do not let in"),
    }[result.outcome]


def _detail(result: CheckInResult) -> str:
    if result.test and result.outcome in (Outcome.VALID, Outcome.ALREADY):
        return _("Nothing is counted: delete the test check-ins once the door is ready.")
    if result.outcome is Outcome.ALREADY:
        entry = result.entry
        by = entry.checked_in_by.full_name if entry.checked_in_by else _("a former staff member")
        time = format_time(entry.checked_in_at, "short")
        if entry.area:
            return _("Checked in today at %(time)s by %(by)s at %(area)s.", time=time, by=by, area=entry.area)
        return _("Checked in today at %(time)s by %(by)s.", time=time, by=by)
    if result.outcome is Outcome.NOT_PAID:
        if result.ticket.order.status is OrderStatus.AWAITING_APPROVAL:
            return _("The order is still waiting for an organiser's approval.")
        return _("The order is still waiting for payment. Send the attendee to the registration desk.")
    if result.outcome is Outcome.CANCELLED:
        return _("This ticket was cancelled, or its order expired, was cancelled or was refunded.")
    if result.outcome is Outcome.WRONG_EVENT:
        return _("This ticket is for %(event)s.", event=localized(result.other_event, "name"))
    if result.outcome is Outcome.NOT_EVENT_DAY:
        event = result.ticket.order.event
        days = checkin.event_days(event)
        return _("%(event)s runs from %(first)s to %(last)s; today is %(today)s.",
                 event=localized(event, "name"), first=format_local_date(days[0]),
                 last=format_local_date(days[-1]), today=format_local_date(hanoi_date(utcnow())))
    if result.outcome is Outcome.UNKNOWN:
        return _("No ticket has this code. Check the code, or search for the attendee by name.")
    return ""


def describe(result: CheckInResult) -> dict:
    tone, icon, _status = _LOOK[result.outcome]
    ticket = result.ticket  # None for another event's ticket: its holder is none of this door's business
    return {
        "outcome": result.outcome.value, "tone": tone, "icon": icon,
        "mode": _("Test check-in: not counted") if result.test else "",
        "title": _headline(result), "detail": _detail(result),
        "attendee": ticket.attendee_name if ticket else "",
        "ticket_type": localized(ticket.ticket_type, "name") if ticket else "",
    }


def _invalid_code_answer(error: InvalidTicketCode) -> dict:
    return {"outcome": "invalid", "tone": "stop", "icon": "✕", "title": _("Not a ticket code"), "mode": "",
            "detail": str(error.message), "attendee": "", "ticket_type": ""}


# --- counts -------------------------------------------------------------------------------------

def _counts_json(counts: checkin.Counts) -> dict:
    return {
        "day": counts.day.isoformat(), "checked_in": counts.checked_in, "valid": counts.valid,
        "types": [{"id": c.ticket_type_id, "checked_in": c.checked_in, "valid": c.valid} for c in counts.by_type],
        "areas": [{"area": area, "label": area or _("No area"), "count": n} for area, n in counts.by_area],
    }


# --- pages --------------------------------------------------------------------------------------

class _PageState:
    """Which list the page is on: the event day and area whose counts and entries it shows, the search, and
    whether it makes test check-ins (asked for, and the event not begun)."""

    def __init__(self, area: str, day: str, term: str, test: str = "") -> None:
        self.area = checkin.normalise_area(area)
        self.term = term[:100]
        self.may_test = checkin.may_test(g.event)
        self.test = test == "1" and self.may_test
        self.day_error = ""
        try:
            self.day = checkin.parse_day(g.event, day)
        except NotAnEventDay as error:
            self.day, self.day_error = checkin.default_day(g.event), str(error.message)

    def empty_form(self) -> CheckInForm:
        return CheckInForm(formdata=None, area=self.area, day=self.day.isoformat(), q=self.term,
                           test="1" if self.test else "")

    def args(self) -> dict[str, str]:
        """The page's query string, what is not set left out."""
        args = {"area": self.area, "day": self.day.isoformat(), "q": self.term, "test": "1" if self.test else ""}
        return {key: value for key, value in args.items() if value}


def _render(form: CheckInForm, state: _PageState, *, answer: dict | None = None, status: int = 200):
    db, event = db_session(), g.event
    counts = checkin.counts(db, event, state.day)
    tests, test_total = checkin.recent_test_check_ins(db, event)
    page = render_template(
        "events/manage_checkin.html",
        event=event, form=form, area=state.area, term=state.term, answer=answer,
        day=state.day, days=checkin.event_days(event), today=hanoi_date(utcnow()), day_error=state.day_error,
        counts=counts, counts_by_type={c.ticket_type_id: c for c in counts.by_type},
        area_suggestions=checkin.area_suggestions(event),
        recent=checkin.recent_check_ins(db, event, state.day, state.area or None),
        results=checkin.search_attendees(db, event, state.term), search_min_chars=checkin.SEARCH_MIN_CHARS,
        admission=checkin.admission, entry_on=checkin.entry_on, state=state, tests=tests, test_total=test_total,
    )
    return page, 400 if state.day_error and status == 200 else status


@bp.route("/")
def page():
    state = _PageState(request.args.get("area", ""), request.args.get("day", ""), request.args.get("q", ""),
                       request.args.get("test", ""))
    return _render(state.empty_form(), state)


@bp.route("/", methods=["POST"])
def check_in_by_form():
    form = CheckInForm()
    state = _PageState(form.area.data or "", form.day.data or "", form.q.data or "", form.test.data or "")
    if not form.validate_on_submit():
        return _render(form, state, status=400)
    if form.test.data == "1" and not state.test:
        form.code.errors.append(str(TestCheckInsOver().message))
        return _render(form, state, status=TestCheckInsOver.status_code)
    db = db_session()
    try:
        result = checkin.check_in(db, current_user, g.event, form.code.data, state.area, test=state.test)
    except InvalidTicketCode as error:
        end_refused(db)
        form.code.errors.append(str(error.message))
        return _render(form, state, status=error.status_code)
    # The code field is emptied for the next attendee; the answer stays on screen.
    return _render(state.empty_form(), state, answer=describe(result), status=_LOOK[result.outcome][2])


@bp.route("/scan", methods=["POST"])
def scan():
    """checkin.js posts each decoded QR code here: {"code": …, "area": …, "test": true on the test page} with the
    X-CSRFToken header (checked by the gate). A code typed into a scanner app works too: the short code is
    accepted as the form accepts it."""
    try:
        data = request_object({"code": str}, {"area": str, "test": bool},
                              _("The scan could not be read. Reload the page and scan again."))
    except MalformedBody as error:
        return jsonify(error=str(error.message)), error.status_code
    code, area = data["code"], data.get("area") or ""
    db = db_session()
    try:
        result = checkin.check_in(db, current_user, g.event, code, area, test=bool(data.get("test")))
    except InvalidTicketCode as error:
        end_refused(db)
        return jsonify(answer=_invalid_code_answer(error)), error.status_code
    except TestCheckInsOver as error:
        end_refused(db)
        return jsonify(error=str(error.message)), error.status_code
    # Today's counts: the day the scan was recorded for (checkin.js shows them if the page is on that day).
    counts = checkin.counts(db, g.event, hanoi_date(utcnow()))
    return jsonify(answer=describe(result), counts=_counts_json(counts)), _LOOK[result.outcome][2]


@bp.route("/counts")
def live_counts():
    """What checkin.js polls every few seconds to keep the numbers of the page's day on every staff phone current."""
    try:
        day = checkin.parse_day(g.event, request.args.get("day", ""))
    except NotAnEventDay as error:
        return jsonify(error=str(error.message)), error.status_code
    return jsonify(_counts_json(checkin.counts(db_session(), g.event, day)))


@bp.route("/tests/delete", methods=["POST"])
def delete_tests():
    """Deletes the event's test check-ins, so the door starts the event with none."""
    event = g.event

    def run(db):
        deleted = checkin.delete_test_check_ins(db, current_user, event)
        return ngettext("%(num)d test check-in deleted.", "%(num)d test check-ins deleted.", deleted)

    return button_action(run, back=url_for("checkin.page", event_id=event.id, test="1"))
