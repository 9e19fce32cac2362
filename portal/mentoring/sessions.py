"""Booking a mentor: a startup picks a free slot; the session is confirmed at once or when the mentor accepts; both
sides get a mail with the calendar entry and a signed link to reschedule or cancel without logging in.

The database refuses two overlapping confirmed sessions of one mentor (their [start, end + buffer) ranges): an
exclusion constraint on PostgreSQL, a trigger on SQLite. A booking, an acceptance or a reschedule writes in a
savepoint, so the refusal becomes "this time has just been taken" and the transaction stays usable."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from portal.accounts.models import Organisation, OrganisationKind, OrganisationMember, User
from portal.audit.services import record
from portal.calendar import calendar_entry
from portal.db import utcnow
from portal.errors import Conflict, Invalid, NotFound, PermissionDenied
from portal.i18n import format_local_datetime, hanoi_date, localized
from portal.mentoring.availability import Booked, free_slots, is_free, rules_of
from portal.mentoring.models import (
    FeedbackSide,
    MentoringSession,
    MentorProfile,
    MentorStatus,
    SessionFeedback,
    SessionStatus,
)
from portal.notifications.services import Attachment, absolute_url, queue_mail

#: statuses that hold the mentor's time: a request waiting for the mentor keeps its slot from others
HOLDING = (SessionStatus.PENDING, SessionStatus.CONFIRMED)
LINK_SALT = "mentoring-session"
LINK_MAX_AGE = timedelta(days=120)


class SlotTaken(Conflict):
    default_message = _l("This time has just been taken. Please choose another one; the free times are shown again.")


class SlotNotOffered(Conflict):
    default_message = _l("This time is not free: it is in the past, too soon, outside the mentor's hours, or over "
                         "the mentor's limit for the day or the week. Please choose one of the times shown.")


class InvalidSessionLink(PermissionDenied):
    default_message = _l("This link is not valid any more: the session was rescheduled or cancelled since, or the "
                         "link is too old or incomplete. Use the latest mail about this session.")


# --- reading ----------------------------------------------------------------------------------------------------

def booked_of(session: Session, mentor: MentorProfile, since: datetime,
              except_session: int | None = None) -> list[Booked]:
    """The mentor's held time from a week before `since` (limits per week count it), buffers included."""
    query = select(MentoringSession.starts_at, MentoringSession.blocked_until).where(
        MentoringSession.mentor_id == mentor.id, MentoringSession.status.in_(HOLDING),
        MentoringSession.blocked_until > since - timedelta(days=7))
    if except_session is not None:
        query = query.where(MentoringSession.id != except_session)
    return [Booked(starts_at, blocked_until) for starts_at, blocked_until in session.execute(query)]


def mentor_for_booking(session: Session, mentor_id: int) -> MentorProfile:
    mentor = session.scalar(select(MentorProfile).where(MentorProfile.id == mentor_id).options(
        selectinload(MentorProfile.weekly_hours), selectinload(MentorProfile.overrides),
        selectinload(MentorProfile.user)))
    if mentor is None or mentor.status != MentorStatus.APPROVED or not mentor.visible:
        raise NotFound()
    return mentor


def slots_for(session: Session, mentor: MentorProfile, length_minutes: int, now: datetime,
              days: int = 90) -> list[datetime]:
    return free_slots(rules_of(mentor), booked_of(session, mentor, now), timedelta(minutes=length_minutes), now,
                      days)


def upcoming_sessions_of(session: Session, user: User) -> list[MentoringSession]:
    """A mentor's sessions still to come, requests first to answer, then in time order."""
    return list(session.scalars(select(MentoringSession).join(MentorProfile).where(
        MentorProfile.user_id == user.id, MentoringSession.status.in_(HOLDING),
        MentoringSession.ends_at >= utcnow()).options(selectinload(MentoringSession.organisation))
        .order_by(MentoringSession.status.desc(), MentoringSession.starts_at)))


def startups_of(session: Session, user: User) -> list[Organisation]:
    """The startups a person may book for: startup organisations they belong to."""
    return list(session.scalars(select(Organisation).join(OrganisationMember).where(
        OrganisationMember.user_id == user.id, Organisation.kind == OrganisationKind.STARTUP)
        .order_by(Organisation.name)))


# --- changing ---------------------------------------------------------------------------------------------------

def book(session: Session, mentor: MentorProfile, organisation_id: int, user: User, starts_at: datetime,
         length_minutes: int, topic: str, now: datetime) -> MentoringSession:
    """Books a free slot for a startup the person belongs to; confirmed at once if the mentor says so."""
    if organisation_id not in {o.id for o in startups_of(session, user)}:
        raise PermissionDenied(_l("Sessions are booked for a startup you belong to."))
    if length_minutes not in mentor.session_lengths:
        raise Invalid(_l("Choose one of the session lengths this mentor offers."), "length")
    _check_free(session, mentor, starts_at, length_minutes, now)
    booked = MentoringSession(
        mentor_id=mentor.id, organisation_id=organisation_id, booked_by_id=user.id, starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=length_minutes),
        blocked_until=starts_at + timedelta(minutes=length_minutes + mentor.buffer_minutes),
        status=SessionStatus.CONFIRMED if mentor.confirms_automatically else SessionStatus.PENDING,
        topic=topic.strip()[:300], created_at=now)
    _write(session, lambda: session.add(booked))
    _tell_both(session, booked, "booked" if booked.status == SessionStatus.CONFIRMED else "requested")
    return booked


def _check_free(session: Session, mentor: MentorProfile, starts_at: datetime, length_minutes: int, now: datetime,
                except_session: int | None = None) -> None:
    # the mentor's row is locked, so two bookings for one mentor check and write one after the other (PostgreSQL);
    # the database's refusal of overlaps stays the last word
    session.execute(select(MentorProfile.id).where(MentorProfile.id == mentor.id).with_for_update())
    booked = booked_of(session, mentor, now, except_session)
    if not is_free(rules_of(mentor), booked, timedelta(minutes=length_minutes), starts_at, now):
        overlapping = any(b.starts_at < starts_at + timedelta(minutes=length_minutes) and b.blocked_until > starts_at
                          for b in booked)
        raise SlotTaken() if overlapping else SlotNotOffered()


def _write(session: Session, change) -> None:
    """Runs `change` and flushes it in a savepoint: the database's refusal of an overlap becomes SlotTaken."""
    try:
        with session.begin_nested():
            change()
            session.flush()
    except IntegrityError as refused:
        raise SlotTaken() from refused


def decide(session: Session, booked: MentoringSession, mentor_user: User, accept: bool, now: datetime) -> None:
    """The mentor accepts or declines a request; two requests for one time accepted at once: one wins."""
    if booked.mentor.user_id != mentor_user.id:
        raise NotFound()
    if booked.status != SessionStatus.PENDING:
        raise Conflict(_l("This request has already been answered."))

    def answer():
        booked.status = SessionStatus.CONFIRMED if accept else SessionStatus.DECLINED
        booked.decided_at = now

    if accept:
        _write(session, answer)
    else:
        answer()
    _tell_both(session, booked, "accepted" if accept else "declined")


def cancel(session: Session, booked: MentoringSession, by: str, now: datetime) -> None:
    if not booked.holds_time:
        raise Conflict(_l("This session is already cancelled."))
    if not booked.may_cancel(now):
        raise Conflict(_l("A session that has begun can no longer be cancelled."))
    booked.status, booked.decided_at = SessionStatus.CANCELLED, now
    booked.link_version += 1  # the links mailed so far stop working
    record(session, "mentoring.session_cancelled", object_type="mentoring_session", object_id=booked.id, by=by)
    _tell_both(session, booked, "cancelled")


def reschedule(session: Session, booked: MentoringSession, starts_at: datetime, now: datetime) -> None:
    """Moves the session to another free slot of the same length; a confirmed one stays confirmed."""
    if not booked.holds_time:
        raise Conflict(_l("This session is cancelled; book a new one instead."))
    length = int((booked.ends_at - booked.starts_at).total_seconds() // 60)
    _check_free(session, booked.mentor, starts_at, length, now, except_session=booked.id)

    def move():
        booked.starts_at, booked.ends_at = starts_at, starts_at + timedelta(minutes=length)
        booked.blocked_until = booked.ends_at + timedelta(minutes=booked.mentor.buffer_minutes)
        booked.link_version += 1

    _write(session, move)
    _tell_both(session, booked, "rescheduled")


def is_member(session: Session, user: User, organisation_id: int) -> bool:
    return session.scalar(select(OrganisationMember.id).where(
        OrganisationMember.organisation_id == organisation_id, OrganisationMember.user_id == user.id)) is not None


def give_feedback(session: Session, booked: MentoringSession, side: FeedbackSide, author: User, rating: int,
                  notes: str, for_managers_only: bool, now: datetime) -> SessionFeedback:
    """Each side rates a session once it has ended (a second time corrects the first)."""
    if not booked.may_get_feedback(now):
        raise Conflict(_l("Feedback opens once the session has taken place."))
    if not 1 <= rating <= 5:
        raise Invalid(_l("Choose a rating from 1 to 5."), "rating")
    given = session.scalar(select(SessionFeedback).where(SessionFeedback.session_id == booked.id,
                                                         SessionFeedback.side == side))
    given = given or SessionFeedback(session_id=booked.id, side=side)
    given.rating, given.notes, given.for_managers_only = rating, notes.strip()[:2000], for_managers_only
    given.author_id, given.created_at = author.id, now
    session.add(given)
    return given


# --- signed links -----------------------------------------------------------------------------------------------

def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=LINK_SALT)


def session_link_token(booked: MentoringSession, side: str) -> str:
    return _serializer().dumps({"session": booked.id, "version": booked.link_version, "side": side})


def session_from_link(session: Session, token: str) -> tuple[MentoringSession, str]:
    """The session a mailed link names, and whose link it is; refused when tampered, too old, or superseded."""
    try:
        data = _serializer().loads(token, max_age=int(LINK_MAX_AGE.total_seconds()))
    except (BadSignature, SignatureExpired) as refused:
        raise InvalidSessionLink() from refused
    if not isinstance(data, dict) or data.get("side") not in ("startup", "mentor"):
        raise InvalidSessionLink()
    booked = session.get(MentoringSession, data.get("session"))
    if booked is None or booked.link_version != data.get("version") or not booked.holds_time:
        raise InvalidSessionLink()
    return booked, data["side"]


# --- mail -------------------------------------------------------------------------------------------------------

SUBJECTS = {
    "booked": _l("Mentoring session booked: %(when)s"),
    "requested": _l("Mentoring session requested: %(when)s"),
    "accepted": _l("Mentoring session confirmed: %(when)s"),
    "declined": _l("Mentoring session declined: %(when)s"),
    "cancelled": _l("Mentoring session cancelled: %(when)s"),
    "rescheduled": _l("Mentoring session moved to %(when)s"),
}


def _tell_both(session: Session, booked: MentoringSession, kind: str) -> None:
    """One mail to the mentor and one to each member of the startup, each in their language, with the .ics."""
    session.flush()
    members = list(session.scalars(select(User).join(OrganisationMember).where(
        OrganisationMember.organisation_id == booked.organisation_id)))
    people = [(booked.mentor.user, "mentor")] + [(member, "startup") for member in members]
    for person, side in people:
        with force_locale(person.locale):
            when = format_local_datetime(booked.starts_at, "short")
            subject = str(SUBJECTS[kind]) % {"when": when}
            attachments = [] if kind == "declined" else [_ics(booked, person, kind)]
        queue_mail(session, key=f"mentoring:{booked.id}:{booked.link_version}:{kind}:{person.id}", to=person.email,
                   locale=person.locale, template="mentoring_session", subject=subject, attachments=attachments,
                   kind=kind, booked=booked, side=side, name=person.full_name, mentor=booked.mentor,
                   startup=booked.organisation,
                   link=absolute_url("mentoring.session_link", token=session_link_token(booked, side)))


def _ics(booked: MentoringSession, person: User, kind: str) -> Attachment:
    mentor_name = booked.mentor.user.full_name
    summary = str(_l("Mentoring: %(startup)s with %(mentor)s", startup=booked.organisation.name, mentor=mentor_name))
    data = calendar_entry(uid=f"mentoring-{booked.id}@innovation.hanoi", starts_at=booked.starts_at,
                          ends_at=booked.ends_at, summary=summary, location=booked.mentor.location,
                          description=booked.topic or localized(booked.mentor, "headline"),
                          stamp=booked.decided_at or booked.created_at, sequence=booked.link_version,
                          cancelled=kind == "cancelled")
    return Attachment(f"mentoring-{booked.id}.ics", "text/calendar", data)


@dataclass(frozen=True)
class HoursReport:
    """Sessions held (confirmed and over) and their hours, per mentor and per Hanoi month, from one list of
    sessions, so the rows, the chart and the cards add up; hours are summed in minutes and rounded when shown."""

    #: (mentor, sessions held, minutes), most hours first
    per_mentor: list[tuple[MentorProfile, int, int]]
    #: ("MM/YYYY", minutes), oldest first
    per_month: list[tuple[str, int]]
    #: confirmed sessions still to come
    upcoming: int

    @property
    def held(self) -> int:
        return sum(sessions for _mentor, sessions, _minutes in self.per_mentor)

    @property
    def minutes(self) -> int:
        return sum(minutes for _mentor, _sessions, minutes in self.per_mentor)

    @property
    def hours_per_month(self) -> list[tuple[str, float]]:
        return [(month, round(minutes / 60, 1)) for month, minutes in self.per_month]


def hours_report(session: Session, now: datetime) -> HoursReport:
    confirmed = list(session.execute(
        select(MentoringSession.mentor_id, MentoringSession.starts_at, MentoringSession.ends_at)
        .where(MentoringSession.status == SessionStatus.CONFIRMED)))
    held = [(mentor_id, starts_at, ends_at) for mentor_id, starts_at, ends_at in confirmed if ends_at <= now]
    mentors = {m.id: m for m in session.scalars(select(MentorProfile).where(
        MentorProfile.id.in_({mentor_id for mentor_id, _start, _end in held}))
        .options(selectinload(MentorProfile.user)))}
    per_mentor: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    per_month: dict[date, int] = defaultdict(int)
    for mentor_id, starts_at, ends_at in held:
        minutes = round((ends_at - starts_at).total_seconds() / 60)
        per_mentor[mentor_id][0] += 1
        per_mentor[mentor_id][1] += minutes
        per_month[hanoi_date(starts_at).replace(day=1)] += minutes
    return HoursReport(
        per_mentor=sorted(((mentors[m], n, minutes) for m, (n, minutes) in per_mentor.items()), key=lambda r: -r[2]),
        per_month=[(month.strftime("%m/%Y"), minutes) for month, minutes in sorted(per_month.items())],
        upcoming=len(confirmed) - len(held),
    )
