"""Mentors with hours and startups that book them, for the mentoring tests."""

from __future__ import annotations

from datetime import time

from portal.accounts.models import Organisation, OrganisationKind, OrganisationMember, Role, User
from portal.mentoring.models import MentorProfile, MentorStatus, WeeklyHours

EVERY_DAY_9_TO_17 = [(day, time(9), time(17)) for day in range(7)]


def make_mentor(db, make_user, *, name="Mentor", zone="Asia/Ho_Chi_Minh", confirms=True, buffer=0, notice=0,
                per_day=8, per_week=40, capacity=3, sectors=("fintech",), functions=("fundraising",),
                languages=("vi", "en"), hours=EVERY_DAY_9_TO_17, locale="en") -> tuple[User, int]:
    user = make_user(Role.MENTOR, name=name, locale=locale)
    with db.transaction() as s:
        profile = MentorProfile(
            user_id=user.id, status=MentorStatus.APPROVED, headline_en=f"{name}, investor", headline_vi=name,
            sectors=list(sectors), functions=list(functions), languages=list(languages), timezone=zone,
            session_lengths=[60], location="https://meet.example/room", buffer_minutes=buffer,
            minimum_notice_hours=notice, sessions_per_day=per_day, sessions_per_week=per_week,
            mentee_capacity=capacity, confirms_automatically=confirms, visible=True)
        profile.weekly_hours = [WeeklyHours(weekday=d, starts=s, ends=e) for d, s, e in hours]
        s.add(profile)
        s.flush()
        return user, profile.id


def make_startup(db, make_user, name="Startup", locale="en") -> tuple[User, int]:
    founder = make_user(Role.STARTUP, name=f"{name} founder", locale=locale)
    with db.transaction() as s:
        organisation = Organisation(name=name, kind=OrganisationKind.STARTUP)
        s.add(organisation)
        s.flush()
        s.add(OrganisationMember(organisation_id=organisation.id, user_id=founder.id, is_owner=True))
        return founder, organisation.id
