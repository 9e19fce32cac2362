"""The mentor directory anyone can read; startups' needs, suggestions, booking and their sessions; mentors' profile,
hours, requests and sessions; the signed link that reschedules or cancels without logging in."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, send_from_directory, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from portal import uploads
from portal.accounts.models import OrganisationMember
from portal.db import db_session, end_refused, utcnow
from portal.errors import DomainError, NotFound
from portal.forms import ConfirmForm, choices
from portal.i18n import HANOI, hanoi_date
from portal.mentoring import matching, profiles, sessions
from portal.mentoring.forms import BookingForm, FeedbackForm, HoursForm, NeedsForm, ProfileForm, RescheduleForm
from portal.mentoring.models import (
    FeedbackSide,
    MentoringSession,
    MentorProfile,
    MentorStatus,
    SessionStatus,
    StartupNeeds,
)
from portal.mentoring.taxonomy import FUNCTIONS, LANGUAGES
from portal.search import fold
from portal.sectors import sector_labels
from portal.web import button_action, render_form, save_form, signed_in_only, upload_folder

bp = Blueprint("mentoring", __name__)
bp.before_request(signed_in_only(public_endpoints=frozenset({
    "mentoring.directory", "mentoring.mentor", "mentoring.photo", "mentoring.session_link"})))

#: days of free times a mentor's page shows
SHOWN_DAYS = 14


def _labels() -> dict:
    return {"functions": FUNCTIONS, "languages": LANGUAGES, "sectors": sector_labels()}


@bp.get("/mentors")
def directory():
    db = db_session()
    query = (select(MentorProfile).where(MentorProfile.status == MentorStatus.APPROVED,
                                         MentorProfile.visible.is_(True))
             .options(selectinload(MentorProfile.user)).order_by(MentorProfile.id))
    mentors = list(db.scalars(query))
    sector, function, language = (request.args.get(k, "") for k in ("sector", "function", "language"))
    search = fold(request.args.get("q", ""))[:100]
    mentors = [m for m in mentors
               if (not sector or sector in m.sectors) and (not function or function in m.functions)
               and (not language or language in m.languages)
               and (not search or search in fold(f"{m.user.full_name} {m.headline_vi} {m.headline_en} "
                                                 f"{m.organisation_name}"))]
    return render_template("mentoring/directory.html", mentors=mentors,
                           filters={"sector": sector, "function": function, "language": language, "q": search},
                           **_labels())


def _slots_by_day(slots: list[datetime]) -> dict:
    """Free times grouped by the viewer's day (Hanoi, or the viewer's own zone)."""
    days = defaultdict(list)
    for slot in slots:
        days[hanoi_date(slot)].append(slot)
    return dict(days)


def _mentor_page(mentor: MentorProfile, form: BookingForm | None, status: int = 200):
    db = db_session()
    now = utcnow()
    length = mentor.session_lengths[0] if mentor.session_lengths else 60
    slots = sessions.slots_for(db, mentor, length, now, days=SHOWN_DAYS)
    return render_template("mentoring/mentor.html", mentor=mentor, days=_slots_by_day(slots), form=form,
                           length=length, **_labels()), status


def _booking_form(mentor: MentorProfile) -> BookingForm | None:
    if not current_user.is_authenticated:
        return None
    startups = sessions.startups_of(db_session(), current_user)
    if not startups:
        return None
    form = BookingForm()
    form.organisation_id.choices = choices([(o.id, o.name) for o in startups])
    form.length.choices = choices([(minutes, _("%(minutes)d minutes", minutes=minutes))
                                   for minutes in mentor.session_lengths])
    return form


@bp.get("/mentors/<int:mentor_id>")
def mentor(mentor_id: int):
    try:
        found = sessions.mentor_for_booking(db_session(), mentor_id)
    except NotFound:
        abort(404)
    return _mentor_page(found, _booking_form(found))


@bp.post("/mentors/<int:mentor_id>/book")
def book(mentor_id: int):
    db = db_session()
    try:
        found = sessions.mentor_for_booking(db, mentor_id)
    except NotFound:
        abort(404)
    form = _booking_form(found)
    if form is None:
        abort(403)
    if not form.validate_on_submit():
        flash(_("Choose one of the free times shown."), "error")
        return _mentor_page(found, form, 400)
    try:
        starts_at = datetime.fromisoformat(form.slot.data)
        booked = sessions.book(db, found, form.organisation_id.data, current_user, starts_at, form.length.data,
                               form.topic.data or "", utcnow())
    except ValueError:
        flash(_("Choose one of the free times shown."), "error")
        return _mentor_page(found, form, 400)
    except DomainError as error:
        end_refused(db)
        flash(str(error.message), "error")
        return _mentor_page(sessions.mentor_for_booking(db, mentor_id), form, error.status_code)
    flash(_("Your session is booked. A confirmation with a calendar file is on its way.")
          if booked.status == SessionStatus.CONFIRMED else
          _("Your request is sent. The mentor will accept or decline it; you will get a mail either way."), "success")
    return redirect(url_for(".my_sessions"), 303)


# --- a startup's needs and suggestions --------------------------------------------------------------------------

def _own_startup():
    startups = sessions.startups_of(db_session(), current_user)
    if not startups:
        return None
    chosen = request.args.get("startup", type=int)
    return next((o for o in startups if o.id == chosen), startups[0])


@bp.route("/mentoring/needs", methods=["GET", "POST"])
def needs():
    db = db_session()
    startup = _own_startup()
    if startup is None:
        return render_template("mentoring/no_startup.html")
    existing = db.get(StartupNeeds, startup.id)
    form = NeedsForm(obj=existing) if request.method == "GET" else NeedsForm()
    form.sector.choices = choices([("", _("Choose")), *sector_labels().items()])

    def save(session):
        profiles.save_needs(session, startup.id, form.data, utcnow())
        flash(_("Your needs are saved. Here are the mentors who suit you best."), "success")
        return redirect(url_for(".suggestions", startup=startup.id), 303)

    return save_form(form, "mentoring/needs.html", save, startup=startup)


@bp.get("/mentoring/suggestions")
def suggestions():
    db = db_session()
    startup = _own_startup()
    if startup is None:
        return render_template("mentoring/no_startup.html")
    return render_template("mentoring/suggestions.html", startup=startup,
                           needs=db.get(StartupNeeds, startup.id),
                           suggestions=matching.suggestions(db, startup.id, utcnow()), **_labels())


# --- sessions ---------------------------------------------------------------------------------------------------

def _sessions_of_mine(profile: MentorProfile | None, *conditions) -> list[MentoringSession]:
    """The person's sessions, as a mentor and for their startups, with what the pages show loaded at once."""
    startup_ids = select(OrganisationMember.organisation_id).where(OrganisationMember.user_id == current_user.id)
    mine = MentoringSession.organisation_id.in_(startup_ids)
    if profile is not None:
        mine = or_(mine, MentoringSession.mentor_id == profile.id)
    return list(db_session().scalars(
        select(MentoringSession).where(mine, *conditions)
        .options(selectinload(MentoringSession.mentor).selectinload(MentorProfile.user),
                 selectinload(MentoringSession.organisation), selectinload(MentoringSession.feedback))
        .order_by(MentoringSession.starts_at)))


@bp.get("/mentoring/sessions")
def my_sessions():
    profile = profiles.profile_of(db_session(), current_user)
    listed = _sessions_of_mine(profile)
    now = utcnow()
    return render_template("mentoring/sessions.html", upcoming=[s for s in listed if s.ends_at >= now],
                           past=[s for s in listed if s.ends_at < now], profile=profile, now=now,
                           confirm=ConfirmForm())


@bp.get("/mentoring/calendar")
def calendar():
    """A week of the person's sessions, Monday to Sunday in Hanoi time (`?week=` any day of it; today's week
    when missing or nonsense)."""
    try:
        asked = date.fromisoformat(request.args.get("week", ""))
    except ValueError:
        asked = hanoi_date(utcnow())
    monday = asked - timedelta(days=asked.weekday())
    week_starts = datetime.combine(monday, time(), HANOI)
    profile = profiles.profile_of(db_session(), current_user)
    listed = _sessions_of_mine(profile, MentoringSession.starts_at < week_starts + timedelta(days=7),
                               MentoringSession.ends_at > week_starts,
                               MentoringSession.status.in_([SessionStatus.PENDING, SessionStatus.CONFIRMED]))
    days = {monday + timedelta(days=offset): [] for offset in range(7)}
    for booked in listed:  # a session across midnight shows on the day it starts, if that day is in the week
        days.get(hanoi_date(booked.starts_at), []).append(booked)
    return render_template("mentoring/calendar.html", days=days, profile=profile, today=hanoi_date(utcnow()),
                           previous_week=monday - timedelta(days=7), next_week=monday + timedelta(days=7),
                           monday=monday)


def _session_of_mine(session_id: int) -> tuple[MentoringSession, str]:
    """A session the person takes part in, and on which side; anyone else gets 404."""
    db = db_session()
    found = db.get(MentoringSession, session_id)
    if found is None:
        abort(404)
    if found.mentor.user_id == current_user.id:
        return found, "mentor"
    if sessions.is_member(db, current_user, found.organisation_id):
        return found, "startup"
    abort(404)


@bp.post("/mentoring/sessions/<int:session_id>/answer")
def answer(session_id: int):
    found, side = _session_of_mine(session_id)
    if side != "mentor":
        abort(404)
    accept = request.form.get("answer") == "accept"

    def run(db):
        sessions.decide(db, found, current_user, accept, utcnow())
        return _("The session is confirmed.") if accept else _("The request is declined.")

    return button_action(run, back=url_for(".my_sessions"))


@bp.post("/mentoring/sessions/<int:session_id>/cancel")
def cancel(session_id: int):
    found, side = _session_of_mine(session_id)

    def run(db):
        sessions.cancel(db, found, side, utcnow())
        return _("The session is cancelled; both sides are told.")

    return button_action(run, back=url_for(".my_sessions"))


@bp.route("/mentoring/sessions/<int:session_id>/feedback", methods=["GET", "POST"])
def feedback(session_id: int):
    found, side = _session_of_mine(session_id)
    form = FeedbackForm()

    def save(db):
        sessions.give_feedback(db, found, FeedbackSide(side), current_user, form.rating.data, form.notes.data or "",
                               form.for_managers_only.data, utcnow())
        flash(_("Thank you for your feedback."), "success")
        return redirect(url_for(".my_sessions"), 303)

    return save_form(form, "mentoring/feedback.html", save, booked=found, side=side)


@bp.route("/mentoring/s/<token>", methods=["GET", "POST"])
def session_link(token: str):
    """Reschedule or cancel from a mail, without logging in: the signed link is the permission."""
    db = db_session()
    try:
        found, side = sessions.session_from_link(db, token)
    except sessions.InvalidSessionLink as refused:
        return render_template("mentoring/link_invalid.html", message=refused.message), 403
    form = RescheduleForm()
    status = 200
    action = request.form.get("action")
    if request.method == "POST" and (ConfirmForm() if action == "cancel" else form).validate_on_submit():
        try:
            if action == "cancel":
                sessions.cancel(db, found, side, utcnow())
            else:
                sessions.reschedule(db, found, datetime.fromisoformat(form.slot.data), utcnow())
        except ValueError:
            flash(_("Choose one of the free times shown."), "error")
            status = 400
        except DomainError as error:
            end_refused(db)
            flash(str(error.message), "error")
            status = error.status_code
            found, side = sessions.session_from_link(db, token)
        else:
            flash(_("The session is cancelled; both sides are told.") if action == "cancel" else
                  _("The session is moved; both sides get the new time and calendar file."), "success")
            return redirect(url_for(".session_link", token=sessions.session_link_token(found, side)), 303)
    elif request.method == "POST":
        status = 400
    length = int((found.ends_at - found.starts_at).total_seconds() // 60)
    slots = sessions.slots_for(db, found.mentor, length, utcnow(), days=SHOWN_DAYS)
    return render_template("mentoring/session_link.html", booked=found, side=side, form=form, token=token,
                           days=_slots_by_day(slots)), status


# --- the mentor's own pages ------------------------------------------------------------------------------------

@bp.route("/mentoring/join", methods=["GET", "POST"])
def join():
    db = db_session()
    token = request.args.get("token", "")
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        try:
            profile = (profiles.accept_invitation(db, current_user, token, utcnow()) if token
                       else profiles.apply(db, current_user, utcnow()))
        except DomainError as error:
            end_refused(db)
            flash(str(error.message), "error")
            return render_template("mentoring/join.html", token=token), error.status_code
        flash(_("Welcome to the network. Complete your profile and your hours so startups can book you.")
              if profile.status == MentorStatus.APPROVED else
              _("Thank you. Complete your profile; the programme's managers will approve it."), "success")
        return redirect(url_for(".profile"), 303)
    return render_template("mentoring/join.html", token=token)


def _own_profile() -> MentorProfile:
    profile = profiles.profile_of(db_session(), current_user)
    if profile is None:
        abort(404)
    return profile


@bp.route("/mentoring/profile", methods=["GET", "POST"])
def profile():
    found = _own_profile()
    form = ProfileForm(obj=found) if request.method == "GET" else ProfileForm()
    form.sectors.choices = choices(sector_labels().items())
    if request.method == "GET":
        form.session_length.data = found.session_lengths[0] if found.session_lengths else 60

    def save(db):
        profiles.save_profile(db, found, form.data)
        profiles.change_photo(db, found, form.photo.data, form.remove_photo.data, upload_folder())
        flash(_("Your profile is saved."), "success")
        return redirect(url_for(".profile"), 303)

    return save_form(form, "mentoring/profile.html", save, profile=found)


@bp.get("/mentors/<int:mentor_id>/photo/<name>")
def photo(mentor_id: int, name: str):
    """A mentor's photo, for whoever may read their page: the directory's mentors, and the mentor themself."""
    found = db_session().get(MentorProfile, mentor_id)
    listed = found is not None and found.status == MentorStatus.APPROVED and found.visible
    own = found is not None and current_user.is_authenticated and found.user_id == current_user.id
    match = uploads.STORED_NAME.fullmatch(name)
    if not (listed or own) or found.photo != name or match is None:
        abort(404)
    return send_from_directory(upload_folder(), name, mimetype=uploads.CONTENT_TYPES["." + match.group(1)],
                               max_age=86400 if listed else 0)


@bp.route("/mentoring/hours", methods=["GET", "POST"])
def hours():
    found = _own_profile()
    form = HoursForm()
    if request.method == "GET":
        form.weekly.data, form.overrides.data = profiles.hours_text(found, get_locale().language)

    def save(db):
        profiles.save_hours(db, found, form.weekly.data or "", form.overrides.data or "")
        flash(_("Your hours are saved."), "success")
        return redirect(url_for(".hours"), 303)

    if request.method == "POST":
        return save_form(form, "mentoring/hours.html", save, profile=found)
    return render_form("mentoring/hours.html", form, profile=found)
