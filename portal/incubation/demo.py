"""The incubation demo: the incubator's open call "Ươm tạo 2027 – Đợt 1" with its form, rubric, three reviewers and
about twenty applications in every stage, and the innovation centre's closed call with a running cohort that reports
its figures. The demo manager and reviewer land on real work. Companies and people are invented."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import Organisation, OrganisationKind, OrganisationMember, Role, User, UserRole
from portal.accounts.services import find_user_by_email, hash_password
from portal.db import utcnow
from portal.demo_calendar import demo_moment
from portal.i18n import hanoi_date
from portal.incubation.cohorts import month_start, previous_month
from portal.incubation.defaults import add_default_form, add_default_rubric
from portal.incubation.models import (
    Answer,
    Application,
    ApplicationStatus,
    Call,
    CallReviewer,
    CallStatus,
    Cohort,
    CohortMember,
    Decision,
    KpiReport,
    Milestone,
    Programme,
    ProgrammeBody,
    ProgrammeKind,
    Review,
    Score,
    Stage,
)

OPEN_CALL = "uom-tao-2027-dot-1"
CLOSED_CALL = "tang-toc-2026"
DEMO_REVIEWERS = (
    ("reviewer@demo.dmst-hanoi.vn", "Phạm Thị Lan", {"agritech": 5, "cleantech": 3, "smart-city": 2}),
    ("reviewer2@demo.dmst-hanoi.vn", "Hoàng Đức Minh", {"fintech": 5, "edtech": 4, "manufacturing": 2}),
    ("reviewer3@demo.dmst-hanoi.vn", "Ngô Thanh Hương", {"healthtech": 5, "culture-tourism": 4, "agritech": 2}),
)
#: (name, sector, stage or None for a draft, decision); the first twenty apply to the open call
DEMO_STARTUPS = (
    ("Lúa Xanh Analytics", "agritech", Stage.ELIGIBILITY, None),
    ("PayHanoi", "fintech", Stage.ELIGIBILITY, None),
    ("Bếp Việt Cloud", "culture-tourism", Stage.ELIGIBILITY, None),
    ("EduMầm Non", "edtech", Stage.DOSSIER, None),
    ("MedLink Hà Nội", "healthtech", Stage.DOSSIER, None),
    ("SolarMái", "cleantech", Stage.DOSSIER, None),
    ("ThuySan IoT", "agritech", Stage.DOSSIER, None),
    ("Vay Nhanh Minh Bạch", "fintech", Stage.DOSSIER, None),
    ("Phố Cổ 3D", "culture-tourism", Stage.DOSSIER, None),
    ("GiaoThông AI", "smart-city", Stage.CALIBRATION, None),
    ("Nhựa Sinh Học Hồng Hà", "manufacturing", Stage.CALIBRATION, None),
    ("Học Toán Vui", "edtech", Stage.CALIBRATION, None),
    ("Nông Trại Dọc", "agritech", Stage.PITCH, None),
    ("Y Tế Từ Xa 24/7", "healthtech", Stage.PITCH, None),
    ("Ví Xanh", "fintech", Stage.PITCH, None),
    ("Robot Kho Vận", "manufacturing", Stage.COUNCIL, None),
    ("Không Khí Sạch HN", "cleantech", Stage.COUNCIL, None),
    ("Chợ Quê Online", "agritech", Stage.DECIDED, Decision.ACCEPT),
    ("Lớp Học Số", "edtech", Stage.DECIDED, Decision.PRE_INCUBATION),
    ("Bảo Hiểm Vi Mô", "fintech", Stage.DECIDED, Decision.REJECT),
)
#: the innovation centre's accepted startups, in its running cohort
COHORT_STARTUPS = (("Drone Nông Nghiệp Việt", "agritech"), ("Kho Lạnh Thông Minh", "manufacturing"),
                   ("Thẻ Sức Khỏe", "healthtech"), ("Điện Mặt Trời Làng", "cleantech"))


def _demo_programmes() -> tuple[dict, ...]:
    """Built when loading: the calls' dates follow the loading day's calendar."""
    return (
        {
            "slug": "vuon-uom-ha-noi",
            "name_vi": "Vườn ươm khởi nghiệp sáng tạo Hà Nội",
            "name_en": "Hanoi Startup Incubator",
            "description_vi": "Chương trình ươm tạo 6 tháng của thành phố cho các nhóm khởi nghiệp công nghệ.",
            "description_en": "The city's six-month incubation programme for technology startups.",
            "body": ProgrammeBody.INCUBATOR,
            "kind": ProgrammeKind.INCUBATION,
            "calls": (
                {
                    "slug": OPEN_CALL,
                    "title_vi": "Ươm tạo 2027 – Đợt 1",
                    "title_en": "Incubation 2027 – Round 1",
                    "description_vi": "Tuyển chọn 20 nhóm khởi nghiệp vào khóa ươm tạo đầu năm 2027.",
                    "description_en": "Selecting 20 startups for the first 2027 incubation cohort.",
                    "opens_at": demo_moment(11, 1, 8),
                    "closes_at": demo_moment(1, 31, 23, 59, year=2027),
                    "status": CallStatus.OPEN,
                    "capacity": 20,
                    "eligibility": {"max_age_years": 5, "in_hanoi": True},
                },
            ),
        },
        {
            "slug": "trung-tam-dmst",
            "name_vi": "Trung tâm Đổi mới sáng tạo và Khởi nghiệp Hà Nội",
            "name_en": "Hanoi Innovation and Startup Centre",
            "description_vi": "Chương trình tăng tốc cho doanh nghiệp đã có sản phẩm.",
            "description_en": "An acceleration programme for startups with a product.",
            "body": ProgrammeBody.INNOVATION_CENTRE,
            "kind": ProgrammeKind.ACCELERATION,
            "calls": (
                {
                    "slug": CLOSED_CALL,
                    "title_vi": "Tăng tốc 2026",
                    "title_en": "Acceleration 2026",
                    "description_vi": "Đợt tuyển chọn đã kết thúc; khóa đang vận hành.",
                    "description_en": "The call has closed; the cohort is running.",
                    "opens_at": demo_moment(3, 1, 8),
                    "closes_at": demo_moment(4, 30, 23, 59),
                    "status": CallStatus.CLOSED,
                    "capacity": 10,
                    "eligibility": {},
                },
            ),
        },
    )


def load(session: Session) -> int:
    created = 0
    calls = {}
    for data in _demo_programmes():
        data = dict(data)
        call_rows = data.pop("calls")
        programme = session.scalar(select(Programme).where(Programme.slug == data["slug"]))
        if programme is None:
            programme = Programme(**data)
            session.add(programme)
            created += 1
        programme.body, programme.kind = data["body"], data["kind"]  # rows from before these columns existed
        for row in call_rows:
            call = session.scalar(select(Call).where(Call.slug == row["slug"]))
            if call is None:
                call = Call(programme=programme, **row)
                session.add(call)
                created += 1
            if not call.sections:
                add_default_form(call)
                add_default_rubric(call)
                call.capacity, call.eligibility = row["capacity"], row["eligibility"]
            calls[row["slug"]] = call
    session.flush()
    if session.scalar(select(Application.id).where(Application.call_id == calls[OPEN_CALL].id).limit(1)) is None:
        created += _load_open_call(session, calls[OPEN_CALL])
    if session.scalar(select(Cohort.id).where(Cohort.call_id == calls[CLOSED_CALL].id)) is None:
        created += _load_cohort(session, calls[CLOSED_CALL])
    return created


def _user(session: Session, email: str, name: str, role: Role, password_hash: list[str]) -> User:
    user = find_user_by_email(session, email)
    if user is None:
        password_hash[0] = password_hash[0] or hash_password("hanoi-demo-2026")
        user = User(email=email, full_name=name, locale="vi", password_hash=password_hash[0],
                    email_verified_at=utcnow())
        user.roles = [UserRole(role=role)]
        session.add(user)
        session.flush()
    return user


def _startup(session: Session, number: int, name: str, password_hash: list[str]) -> Organisation:
    founder = _user(session, f"startup{number}@demo.dmst-hanoi.vn", f"Nhà sáng lập {name}", Role.STARTUP,
                    password_hash)
    organisation = Organisation(name=f"{name} (demo)", kind=OrganisationKind.STARTUP)
    organisation.members.append(OrganisationMember(user=founder, is_owner=True))
    session.add(organisation)
    session.flush()
    return organisation


def _answers(call: Call, name: str, sector: str, founded_years_ago: int) -> dict[str, object]:
    today = hanoi_date(utcnow())
    return {
        "company_name": name, "founded_on": today.replace(year=today.year - founded_years_ago).isoformat(),
        "province": "ha-noi", "sector": sector, "website": f"https://{sector}.example.vn",
        "team": [{"name": "Nguyễn Văn An", "role": "CEO", "email": "an@example.vn"},
                 {"name": "Trần Thị Bình", "role": "CTO", "email": "binh@example.vn"}],
        "problem": f"{name} giải quyết một vấn đề thực tế của người dân Hà Nội trong lĩnh vực {sector}.",
        "solution": "Một sản phẩm số đơn giản, thử nghiệm với khách hàng đầu tiên tại Hà Nội.",
        "revenue_last_year": str(150_000_000 * (founded_years_ago + 1)),
    }


def _apply(session: Session, call: Call, organisation: Organisation, answers: dict, submitted: bool) -> Application:
    now = utcnow()
    application = Application(call=call, organisation_id=organisation.id, sector=answers["sector"],
                              status=ApplicationStatus.SUBMITTED if submitted else ApplicationStatus.DRAFT,
                              created_at=now - timedelta(days=10), updated_at=now - timedelta(days=2),
                              submitted_at=now - timedelta(days=3) if submitted else None)
    session.add(application)
    session.flush()
    fields = {f.key: f for section in call.sections for f in section.fields}
    session.add_all(Answer(application_id=application.id, field_id=fields[key].id, value=value)
                    for key, value in answers.items() if key in fields)
    return application


def _load_open_call(session: Session, call: Call) -> int:
    password_hash = [""]
    reviewers = []
    for email, name, expertise in DEMO_REVIEWERS:
        user = _user(session, email, name, Role.REVIEWER, password_hash)
        pooled = CallReviewer(call_id=call.id, user_id=user.id, expertise=expertise, accepted_at=utcnow())
        session.add(pooled)
        reviewers.append(pooled)
    session.flush()
    criteria = call.criteria
    for number, (name, sector, stage, decision) in enumerate(DEMO_STARTUPS, start=1):
        organisation = _startup(session, number, name, password_hash)
        application = _apply(session, call, organisation, _answers(call, name, sector, 1 + number % 4), True)
        application.stage, application.decision = stage, decision
        if decision is not None:
            application.decided_at = utcnow() - timedelta(days=1)
            application.feedback = "Hội đồng đánh giá cao đội ngũ; cần làm rõ mô hình doanh thu."
        if stage in (Stage.ELIGIBILITY,):
            continue
        # reviews: the dossier stage is under way (the demo reviewer has work to do); later stages are scored
        for position, reviewer in enumerate(reviewers):
            review = Review(application_id=application.id, call_reviewer_id=reviewer.id,
                            assigned_at=utcnow() - timedelta(days=2))
            session.add(review)
            if stage == Stage.DOSSIER and (position == 0 or number % 2):
                continue
            review.started_at = review.submitted_at = utcnow() - timedelta(days=1)
            review.comment_for_startup = "Sản phẩm rõ ràng; cần số liệu khách hàng."
            review.comment_for_committee = "Đội ngũ mạnh, thị trường cần kiểm chứng."
            for index, criterion in enumerate(criteria):
                review.scores.append(Score(criterion_id=criterion.id,
                                           value=max(1, min(10, 4 + (number * 7 + position * 3 + index) % 6))))
    # the demo startup has a draft to finish
    founder = find_user_by_email(session, "startup@demo.dmst-hanoi.vn")
    if founder is not None and founder.memberships:
        organisation = founder.memberships[0].organisation
        answers = _answers(call, organisation.name, "agritech", 2)
        _apply(session, call, organisation, {k: answers[k] for k in ("company_name", "founded_on", "sector")}, False)
    return len(DEMO_STARTUPS) + len(DEMO_REVIEWERS)


def _load_cohort(session: Session, call: Call) -> int:
    password_hash = [""]
    today = hanoi_date(utcnow())
    starts_on = month_start(today) - timedelta(days=150)
    cohort = Cohort(programme_id=call.programme_id, call_id=call.id, name="Khóa Tăng tốc 2026",
                    starts_on=month_start(starts_on), ends_on=month_start(starts_on) + timedelta(days=365))
    session.add(cohort)
    session.flush()
    cohort.milestones.extend([
        Milestone(title_vi="Hoàn thiện sản phẩm thử nghiệm", title_en="Pilot product ready",
                  due_on=cohort.starts_on + timedelta(days=60)),
        Milestone(title_vi="10 khách hàng trả phí", title_en="10 paying customers",
                  due_on=cohort.starts_on + timedelta(days=180)),
        Milestone(title_vi="Ngày ra mắt nhà đầu tư", title_en="Demo day", due_on=cohort.ends_on - timedelta(days=14)),
    ])
    months = []
    month = previous_month(today)
    while month >= cohort.starts_on:
        months.append(month)
        month = previous_month(month)
    for number, (name, sector) in enumerate(COHORT_STARTUPS, start=len(DEMO_STARTUPS) + 1):
        organisation = _startup(session, number, name, password_hash)
        application = _apply(session, call, organisation, _answers(call, name, sector, 3), True)
        application.stage, application.decision = Stage.DECIDED, Decision.ACCEPT
        application.decided_at = application.letter_sent_at = utcnow() - timedelta(days=200)
        member = CohortMember(cohort_id=cohort.id, organisation_id=organisation.id, application_id=application.id)
        session.add(member)
        session.flush()
        # the last startup has not reported last month: the manager sees it late
        reported = months[1:] if number == len(DEMO_STARTUPS) + len(COHORT_STARTUPS) else months
        for age, period in enumerate(reversed(reported)):
            session.add(KpiReport(cohort_member_id=member.id, period=period,
                                  revenue_vnd=(80_000_000 + 25_000_000 * age) * (number % 3 + 1),
                                  employees=5 + age, funding_vnd=500_000_000 if age == 2 else 0,
                                  ip_filed=1 if age == 3 else 0, products_launched=1 if age in (1, 4) else 0))
    return len(COHORT_STARTUPS)
