"""Calls, startups and applications for the incubation tests, built through the services a person's clicks call."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from portal.accounts.models import Organisation, OrganisationKind, OrganisationMember, Role, User
from portal.db import utcnow
from portal.incubation import applications, review
from portal.incubation.defaults import add_default_form, add_default_rubric
from portal.incubation.models import (
    Application,
    ApplicationFile,
    ApplicationStatus,
    Call,
    CallReviewer,
    CallStatus,
    FormField,
    FormSection,
    Programme,
    Stage,
)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

#: answers that pass the default form, by question key
GOOD_ANSWERS = {
    "company_name": "Nông Sạch Tech",
    "founded_on": "2024-03-15",
    "province": "ha-noi",
    "sector": "agritech",
    "website": "https://nongsach.example.vn",
    "team": [{"name": "Nguyễn Văn An", "role": "CEO", "email": "an@example.vn"},
             {"name": "Trần Thị Bình", "role": "CTO", "email": "binh@example.vn"}],
    "problem": "Nông dân thiếu dữ liệu thời tiết chính xác.",
    "solution": "Cảm biến giá rẻ và dự báo theo từng thửa ruộng.",
    "revenue_last_year": "1.500.000.000",
}


@dataclass
class Setup:
    call_id: int
    programme_id: int


def make_call(db, *, slug: str = "uom-tao-test", opens_in_days: int = -10, closes_in_days: int = 30,
              status: CallStatus = CallStatus.OPEN, eligibility: dict | None = None, k: int = 3,
              reviewer_cap: int = 15) -> int:
    now = utcnow()
    with db.transaction() as s:
        programme = s.scalar(select(Programme).where(Programme.slug == "test-incubator"))
        if programme is None:
            programme = Programme(slug="test-incubator", name_vi="Vườn ươm thử", name_en="Test incubator")
        call = Call(programme=programme, slug=slug, title_vi="Ươm tạo thử nghiệm", title_en="Test incubation",
                    description_vi="Đợt thử.", description_en="A test call.",
                    opens_at=now + timedelta(days=opens_in_days), closes_at=now + timedelta(days=closes_in_days),
                    status=status, eligibility=eligibility or {}, reviewers_per_application=k,
                    reviewer_cap=reviewer_cap)
        add_default_form(call)
        add_default_rubric(call)
        s.add(call)
        s.flush()
        return call.id


def make_startup(db, make_user, name: str = "Nông Sạch Tech", members: int = 1, locale: str = "vi"):
    """An organisation and its members (startup role), returned as (organisation id, [users])."""
    users = [make_user(Role.STARTUP, name=f"{name} member {i}", locale=locale) for i in range(members)]
    with db.transaction() as s:
        organisation = Organisation(name=name, kind=OrganisationKind.STARTUP)
        s.add(organisation)
        s.flush()
        for i, user in enumerate(users):
            s.add(OrganisationMember(organisation_id=organisation.id, user_id=user.id, is_owner=i == 0))
        return organisation.id, users


def sections_by_key(s, call_id: int) -> dict[str, FormSection]:
    """The form's sections keyed by each question key they hold."""
    found = {}
    for section in applications.form_of(s, call_id):
        for field in section.fields:
            found[field.key] = section
    return found


def fill(db, application_id: int, user: User, answers: dict | None = None) -> None:
    """Saves `answers` (default: the good ones) section by section, as the form's Save button does."""
    answers = GOOD_ANSWERS if answers is None else answers
    with db.transaction() as s:
        application = s.get(Application, application_id)
        by_section: dict[int, tuple[FormSection, dict]] = {}
        for key, value in answers.items():
            section = sections_by_key(s, application.call_id)[key]
            by_section.setdefault(section.id, (section, {}))[1][key] = value
        versions = applications.versions_of(s, application)
        for section, values in by_section.values():
            state = versions.get(section.id)
            applications.save_section(s, application, section, values, state.version if state else 0,
                                      s.get(User, user.id), utcnow())


def attach_deck(db, application_id: int, user: User, folder) -> None:
    with db.transaction() as s:
        application = s.get(Application, application_id)
        field = s.scalar(select(FormField).where(FormField.call_id == application.call_id,
                                                 FormField.key == "pitch_deck"))
        name = secrets.token_hex(16) + ".pdf"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(PDF)
        s.add(ApplicationFile(application_id=application.id, field_id=field.id, stored_name=name,
                              original_name="deck.pdf", content_type="application/pdf", size=len(PDF),
                              uploaded_by_id=user.id))


def submitted_application(app, db, make_user, call_id: int, name: str, folder, sector: str = "agritech",
                          stage: Stage = Stage.DOSSIER) -> tuple[int, int, list[User]]:
    """A complete, submitted application of a new startup: (application id, organisation id, members)."""
    with app.test_request_context():
        return _submitted_application(db, make_user, call_id, name, folder, sector, stage)


def _submitted_application(db, make_user, call_id, name, folder, sector, stage):
    organisation_id, users = make_startup(db, make_user, name)
    with db.transaction() as s:
        application = applications.start(s, s.get(Call, call_id), organisation_id, s.get(User, users[0].id),
                                         utcnow())
        application_id = application.id
    fill(db, application_id, users[0], {**GOOD_ANSWERS, "company_name": name, "sector": sector})
    attach_deck(db, application_id, users[0], folder)
    with db.transaction() as s:
        application = s.get(Application, application_id)
        applications.submit(s, application, s.get(User, users[0].id), utcnow())
        application.stage = stage
    return application_id, organisation_id, users


def reviewer_in_pool(app, db, make_user, call_id: int, expertise: dict | None = None, cap: int | None = None,
                     name: str = "Reviewer", locale: str = "vi") -> tuple[User, int]:
    user = make_user(Role.REVIEWER, name=name, locale=locale)
    with app.test_request_context(), db.transaction() as s:
        pooled = review.invite(s, s.get(Call, call_id), s.get(User, user.id), s.get(User, user.id),
                               expertise or {}, cap, utcnow())
        review.accept_invitation(s, pooled, s.get(User, user.id), utcnow())
        return user, pooled.id


def call_reviewer(s, reviewer_id: int) -> CallReviewer:
    return s.get(CallReviewer, reviewer_id)


def application_status(db, application_id: int) -> ApplicationStatus:
    with db.session_factory() as s:
        return s.get(Application, application_id).status


def founded_years_ago(years: int) -> str:
    today = date.today()
    return today.replace(year=today.year - years).isoformat()
