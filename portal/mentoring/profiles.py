"""Mentors join the network (a manager's invitation, or their own application approved by a manager), keep their
profile and their hours, and startups state their needs."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from werkzeug.datastructures import FileStorage

from portal import uploads
from portal.accounts.models import Role, User, UserRole
from portal.accounts.services import find_user_by_email
from portal.audit.services import record
from portal.errors import Conflict, Invalid, NotFound, PermissionDenied
from portal.mentoring.models import DateOverride, MentorProfile, MentorStatus, StartupNeeds, WeeklyHours
from portal.mentoring.taxonomy import FUNCTIONS, LANGUAGES
from portal.notifications.services import absolute_url, queue_mail
from portal.search import fold
from portal.sectors import SECTORS

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: how each language writes the days in the hours box (Thứ Hai is T2 … Chủ nhật is CN)
DAY_LABELS = {"en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
              "vi": ("T2", "T3", "T4", "T5", "T6", "T7", "CN")}
#: a day off in the overrides box, as each language writes it
DAY_OFF = {"en": "off", "vi": "nghỉ"}
_DAY_NAMES = {name: day for day, names in enumerate((
    ("mon", "monday", "t2", "thu 2", "thu hai"), ("tue", "tuesday", "t3", "thu 3", "thu ba"),
    ("wed", "wednesday", "t4", "thu 4", "thu tu"), ("thu", "thursday", "t5", "thu 5", "thu nam"),
    ("fri", "friday", "t6", "thu 6", "thu sau"), ("sat", "saturday", "t7", "thu 7", "thu bay"),
    ("sun", "sunday", "cn", "chu nhat"))) for name in names}
INVITATION_DAYS = 14
MAX_PHOTO_BYTES = 2 * 1024 * 1024
_STRETCH = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")


def profile_of(session: Session, user: User) -> MentorProfile | None:
    return session.scalar(select(MentorProfile).where(MentorProfile.user_id == user.id).options(
        selectinload(MentorProfile.weekly_hours), selectinload(MentorProfile.overrides)))


def apply(session: Session, user: User, now: datetime) -> MentorProfile:
    """A person offers to mentor: a pending profile a manager approves."""
    profile = profile_of(session, user)
    if profile is None:
        profile = MentorProfile(user_id=user.id, status=MentorStatus.PENDING, created_at=now)
        session.add(profile)
        session.flush()
    return profile


def invite(session: Session, email: str, actor: User, now: datetime) -> None:
    """A manager invites a person to join as a mentor: a mail with a signed link; nothing changes for them until
    they accept. The answer is the same whether or not the address has an account (nothing is sent without one)."""
    user = find_user_by_email(session, email)
    record(session, "mentoring.mentor_invited", actor_id=actor.id, email=email.strip().lower()[:254])
    if user is None or (profile_of(session, user) or MentorProfile()).status == MentorStatus.APPROVED:
        return
    token = _invitations().dumps({"user": user.id})
    queue_mail(session, key=f"mentor-invitation:{user.id}:{now.date().isoformat()}", to=user.email,
               locale=user.locale, template="mentor_invitation", subject=_l("Join the city's network of mentors"),
               name=user.full_name, link=absolute_url("mentoring.join", token=token))


def _invitations() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="mentor-invitation")


def accept_invitation(session: Session, user: User, token: str, now: datetime) -> MentorProfile:
    """The invited person accepts: an approved profile and the mentor role; anyone else's link is refused."""
    try:
        data = _invitations().loads(token, max_age=INVITATION_DAYS * 86400)
    except (BadSignature, SignatureExpired) as refused:
        raise PermissionDenied(_l("This invitation is not valid any more. Ask the programme's managers for a new "
                                  "one.")) from refused
    if not isinstance(data, dict) or data.get("user") != user.id:
        raise PermissionDenied(_l("This invitation was sent to another account."))
    profile = apply(session, user, now)
    if profile.status != MentorStatus.APPROVED:
        profile.status = MentorStatus.APPROVED
        _grant_role(profile.user, None)
        record(session, "mentoring.invitation_accepted", actor_id=user.id, object_type="user", object_id=user.id)
    return profile


def _grant_role(user: User, granted_by: User | None) -> None:
    if not user.has_role(Role.MENTOR):
        user.roles.append(UserRole(role=Role.MENTOR, granted_by_id=granted_by.id if granted_by else None))


def approve(session: Session, profile: MentorProfile, actor: User) -> None:
    if profile.status == MentorStatus.APPROVED:
        raise Conflict(_l("This mentor is approved already."))
    profile.status = MentorStatus.APPROVED
    _grant_role(profile.user, actor)
    record(session, "mentoring.mentor_approved", actor_id=actor.id, object_type="user", object_id=profile.user_id)


def save_profile(session: Session, profile: MentorProfile, data: dict) -> None:
    try:
        ZoneInfo(data["timezone"])
    except (ZoneInfoNotFoundError, ValueError) as refused:
        raise Invalid(_l("Write a time zone as Region/City, for example Asia/Ho_Chi_Minh."), "timezone") from refused
    sectors = {key for key, _vi, _en in SECTORS}
    profile.sectors = [s for s in data["sectors"] if s in sectors]
    profile.functions = [f for f in data["functions"] if f in FUNCTIONS]
    profile.languages = [code for code in data["languages"] if code in LANGUAGES]
    profile.session_lengths = [data["session_length"]]
    for name in ("headline_vi", "headline_en", "bio_vi", "bio_en", "organisation_name", "timezone", "location",
                 "buffer_minutes", "minimum_notice_hours", "sessions_per_day", "sessions_per_week",
                 "mentee_capacity", "confirms_automatically", "visible"):
        setattr(profile, name, data[name])


def weekday_of(name: str) -> int | None:
    """Monday 0 … Sunday 6 from a day as people write it in either language (Mon, Monday, T2, Thứ 2, thứ hai, CN,
    Chủ nhật; accents and case optional); None when it is no day."""
    return _DAY_NAMES.get(fold(name))


def change_photo(session: Session, profile: MentorProfile, upload: FileStorage | None, remove: bool,
                 folder: Path) -> None:
    """A new photo replaces the old one (then `remove` is ignored); files follow the transaction's outcome."""
    if upload:
        new = uploads.store_image(
            upload, folder, limit=MAX_PHOTO_BYTES, field="photo",
            too_big=_l("The photo is larger than 2 MB. Make it smaller and upload it again."),
            not_a_picture=_l("The photo must be a PNG, JPEG or WebP picture."))
    elif remove:
        new = None
    else:
        return
    replaced, profile.photo = profile.photo, new
    uploads.replace_after_commit(session, folder, replaced, new)


def parse_weekly(text: str) -> list[tuple[int, time, time]]:
    """'Mon 09:00-12:00' or 'T2 09:00-12:00' lines → (weekday, start, end); a line that cannot be read is refused
    with its number."""
    hours = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        stretch = _STRETCH.search(line)
        weekday = weekday_of(line[:stretch.start()]) if stretch else None
        if weekday is None or line[stretch.end():].strip():
            raise Invalid(_l("Line %(number)d: write a day and hours, for example Mon 09:00-12:00.", number=number),
                          "weekly")
        hours.append((weekday, *_times(stretch, number, "weekly")))
    return hours


def parse_overrides(text: str) -> list[tuple[date, time | None, time | None]]:
    days = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        day_text, _space, rest = line.partition(" ")
        try:
            day = date.fromisoformat(day_text)
        except ValueError as refused:
            raise Invalid(_l("Line %(number)d: write a date as 2027-01-05.", number=number), "overrides") from refused
        if fold(rest) in ("off", "nghi"):
            days.append((day, None, None))
            continue
        stretch = _STRETCH.fullmatch(rest.strip())
        if stretch is None:
            raise Invalid(_l("Line %(number)d: after the date write off, or hours such as 14:00-16:00.",
                             number=number), "overrides")
        days.append((day, *_times(stretch, number, "overrides")))
    return days


def _times(stretch: re.Match, number: int, field: str) -> tuple[time, time]:
    try:
        start = time(int(stretch.group(1)), int(stretch.group(2)))
        end = time(int(stretch.group(3)), int(stretch.group(4)))
    except ValueError as refused:
        raise Invalid(_l("Line %(number)d: a time goes from 00:00 to 23:59.", number=number), field) from refused
    if start >= end:
        raise Invalid(_l("Line %(number)d: the hours must end after they start.", number=number), field)
    return start, end


def save_hours(session: Session, profile: MentorProfile, weekly_text: str, overrides_text: str) -> None:
    weekly, overrides = parse_weekly(weekly_text), parse_overrides(overrides_text)
    profile.weekly_hours = [WeeklyHours(weekday=d, starts=s, ends=e) for d, s, e in weekly]
    profile.overrides = [DateOverride(day=d, starts=s, ends=e) for d, s, e in overrides]


def hours_text(profile: MentorProfile, language: str) -> tuple[str, str]:
    """The hours box's lines, with the days written in `language`."""
    days = DAY_LABELS.get(language, DAY_LABELS["en"])
    weekly = "\n".join(f"{days[h.weekday]} {h.starts:%H:%M}-{h.ends:%H:%M}" for h in profile.weekly_hours)
    day_off = DAY_OFF.get(language, DAY_OFF["en"])
    overrides = "\n".join(f"{o.day.isoformat()} " + (f"{o.starts:%H:%M}-{o.ends:%H:%M}" if o.starts else day_off)
                          for o in profile.overrides)
    return weekly, overrides


def save_needs(session: Session, organisation_id: int, data: dict, now: datetime) -> StartupNeeds:
    needs = session.get(StartupNeeds, organisation_id) or StartupNeeds(organisation_id=organisation_id)
    sectors = {key for key, _vi, _en in SECTORS}
    needs.sector = data["sector"] if data["sector"] in sectors else ""
    needs.stage = data["stage"] or ""
    needs.functions = [f for f in data["functions"] if f in FUNCTIONS]
    needs.languages = [code for code in data["languages"] if code in LANGUAGES]
    needs.notes = (data.get("notes") or "").strip()[:2000]
    needs.updated_at = now
    session.add(needs)
    return needs


def mentor_or_404(session: Session, mentor_id: int) -> MentorProfile:
    mentor = session.get(MentorProfile, mentor_id)
    if mentor is None:
        raise NotFound()
    return mentor
