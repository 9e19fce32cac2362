"""The mentoring demo: fifteen mentors (some abroad, in their own time zones) with expertise, hours and days off;
the demo startups' needs; sessions booked, waiting for the mentor and past with feedback. The demo mentor account
lands on real work. People and companies are invented."""

from __future__ import annotations

from datetime import time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import Organisation, OrganisationKind, Role, User, UserRole
from portal.accounts.services import find_user_by_email, hash_password
from portal.db import utcnow
from portal.i18n import hanoi_date
from portal.mentoring.models import (
    DateOverride,
    FeedbackSide,
    MentoringSession,
    MentorProfile,
    MentorStatus,
    SessionFeedback,
    SessionStatus,
    StartupNeeds,
    WeeklyHours,
)

DEMO_MENTOR = "mentor@demo.dmst-hanoi.vn"
#: (e-mail, name, zone, sectors, functions, languages, headline vi, headline en)
MENTORS = (
    (DEMO_MENTOR, "Đỗ Anh Tuấn", "Asia/Ho_Chi_Minh", ["fintech", "edtech"], ["fundraising", "finance"], ["vi", "en"],
     "Nhà đầu tư thiên thần, 12 năm tài chính", "Angel investor, 12 years in finance"),
    ("mentor2@demo.dmst-hanoi.vn", "Lê Thu Trang", "Asia/Ho_Chi_Minh", ["agritech"], ["product", "go_to_market"],
     ["vi"], "Giám đốc sản phẩm nông nghiệp số", "Head of product, digital farming"),
    ("mentor3@demo.dmst-hanoi.vn", "Klaus Becker", "Europe/Berlin", ["manufacturing", "cleantech"],
     ["technology", "international"], ["en", "de"], "Kỹ sư sản xuất, Berlin", "Manufacturing engineer, Berlin"),
    ("mentor4@demo.dmst-hanoi.vn", "Tan Wei Ling", "Asia/Singapore", ["fintech", "healthtech"],
     ["fundraising", "international"], ["en", "zh"], "Quỹ đầu tư mạo hiểm, Singapore", "Venture fund, Singapore"),
    ("mentor5@demo.dmst-hanoi.vn", "Nguyễn Hải Nam", "Asia/Ho_Chi_Minh", ["smart-city"], ["technology", "team"],
     ["vi", "en"], "CTO thành phố thông minh", "Smart-city CTO"),
    ("mentor6@demo.dmst-hanoi.vn", "Phạm Minh Châu", "Asia/Ho_Chi_Minh", ["healthtech"], ["legal_ip", "product"],
     ["vi"], "Luật sư sở hữu trí tuệ", "IP lawyer"),
    ("mentor7@demo.dmst-hanoi.vn", "Yuki Tanaka", "Asia/Tokyo", ["manufacturing"], ["go_to_market", "international"],
     ["en", "ja"], "Phát triển thị trường Nhật Bản", "Business development for Japan"),
    ("mentor8@demo.dmst-hanoi.vn", "Trần Quốc Bảo", "Asia/Ho_Chi_Minh", ["culture-tourism"],
     ["go_to_market", "finance"], ["vi"], "Nhà sáng lập du lịch số", "Founder in digital tourism"),
    ("mentor9@demo.dmst-hanoi.vn", "Marie Dubois", "Europe/Paris", ["cleantech", "agritech"],
     ["fundraising", "international"], ["en", "fr"], "Quỹ tác động, Paris", "Impact fund, Paris"),
    ("mentor10@demo.dmst-hanoi.vn", "Vũ Thị Hạnh", "Asia/Ho_Chi_Minh", ["edtech"], ["product", "team"], ["vi", "en"],
     "Nhà sáng lập công nghệ giáo dục", "Edtech founder"),
    ("mentor11@demo.dmst-hanoi.vn", "Kim Min-jun", "Asia/Seoul", ["fintech"], ["technology", "product"],
     ["en", "ko"], "Kỹ sư thanh toán, Seoul", "Payments engineer, Seoul"),
    ("mentor12@demo.dmst-hanoi.vn", "Hoàng Văn Đức", "Asia/Ho_Chi_Minh", ["manufacturing", "smart-city"],
     ["finance", "legal_ip"], ["vi"], "Kế toán trưởng, doanh nghiệp sản xuất", "Chief accountant, manufacturing"),
    ("mentor13@demo.dmst-hanoi.vn", "Sarah Johnson", "America/New_York", ["healthtech", "edtech"],
     ["fundraising", "go_to_market"], ["en"], "Nhà đầu tư y tế, New York", "Health investor, New York"),
    ("mentor14@demo.dmst-hanoi.vn", "Đinh Thị Mai", "Asia/Ho_Chi_Minh", ["agritech", "culture-tourism"],
     ["team", "go_to_market"], ["vi", "en"], "Chuyên gia nhân sự khởi nghiệp", "Startup people specialist"),
    ("mentor15@demo.dmst-hanoi.vn", "Ngô Gia Huy", "Asia/Ho_Chi_Minh", ["cleantech"], ["technology", "fundraising"],
     ["vi", "en"], "Kỹ sư năng lượng tái tạo", "Renewable energy engineer"),
)


def load(session: Session) -> int:
    if session.scalar(select(MentorProfile.id).limit(1)) is not None:
        return 0
    password_hash = hash_password("hanoi-demo-2026")
    now = utcnow()
    mentors = []
    for number, (email, name, zone, sectors, functions, languages, headline_vi, headline_en) in enumerate(MENTORS):
        user = find_user_by_email(session, email)
        if user is None:
            user = User(email=email, full_name=name, locale="vi" if zone == "Asia/Ho_Chi_Minh" else "en",
                        password_hash=password_hash, email_verified_at=now)
            user.roles = [UserRole(role=Role.MENTOR)]
            session.add(user)
            session.flush()
        profile = MentorProfile(
            user_id=user.id, status=MentorStatus.APPROVED, headline_vi=headline_vi, headline_en=headline_en,
            bio_vi=f"{name} đồng hành cùng các nhóm khởi nghiệp của thành phố.",
            bio_en=f"{name} works with the city's startups.", sectors=sectors, functions=functions,
            languages=languages, timezone=zone, session_lengths=[60], location="https://meet.example/dmst",
            buffer_minutes=15, minimum_notice_hours=12, sessions_per_day=3, sessions_per_week=6,
            mentee_capacity=3, confirms_automatically=number % 3 != 1, visible=True, created_at=now)
        # weekday evenings abroad, working hours at home; a day off next week for some
        days = range(5) if zone == "Asia/Ho_Chi_Minh" else (1, 3)
        hours = (time(9), time(12)) if zone == "Asia/Ho_Chi_Minh" else (time(9), time(11))
        profile.weekly_hours = [WeeklyHours(weekday=d, starts=hours[0], ends=hours[1]) for d in days]
        if number % 4 == 0:
            profile.overrides = [DateOverride(day=hanoi_date(now) + timedelta(days=7), starts=None, ends=None)]
        session.add(profile)
        mentors.append(profile)
    session.flush()
    startups = list(session.scalars(select(Organisation).where(Organisation.kind == OrganisationKind.STARTUP)
                                    .order_by(Organisation.id).limit(30)))
    functions_cycle = ("fundraising", "go_to_market", "product", "technology", "legal_ip", "finance")
    sectors_cycle = ("agritech", "fintech", "edtech", "healthtech", "cleantech", "smart-city", "manufacturing")
    for number, organisation in enumerate(startups):
        session.add(StartupNeeds(organisation_id=organisation.id, sector=sectors_cycle[number % 7], stage="mvp",
                                 functions=[functions_cycle[number % 6], functions_cycle[(number + 2) % 6]],
                                 languages=["vi"] + (["en"] if number % 2 else []), updated_at=now))
    created = len(mentors) + len(startups)
    demo_mentor = mentors[0]
    today_9 = now.replace(hour=2, minute=0, second=0, microsecond=0)  # 09:00 in Hanoi
    plans = ((-14, SessionStatus.CONFIRMED), (-7, SessionStatus.CONFIRMED), (2, SessionStatus.CONFIRMED),
             (3, SessionStatus.PENDING), (4, SessionStatus.CONFIRMED))
    for offset, (days, status) in enumerate(plans):
        if not startups:
            break
        starts_at = today_9 + timedelta(days=days, hours=offset % 2)
        booked = MentoringSession(mentor_id=demo_mentor.id, organisation_id=startups[offset % len(startups)].id,
                                  starts_at=starts_at, ends_at=starts_at + timedelta(hours=1),
                                  blocked_until=starts_at + timedelta(minutes=75), status=status,
                                  topic="Chuẩn bị gọi vốn vòng hạt giống", created_at=now - timedelta(days=20))
        session.add(booked)
        if days < 0:
            booked.feedback = [SessionFeedback(side=FeedbackSide.STARTUP, rating=5, notes="Rất hữu ích.",
                                               created_at=starts_at + timedelta(hours=2))]
        created += 1
    return created
