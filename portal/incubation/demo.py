from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.demo.dates import demo_moment
from portal.incubation.models import Call, CallStatus, Programme


def _demo_programmes() -> tuple[dict, ...]:
    """Built when loading: the calls' dates follow the loading day's calendar."""
    return (
        {
            "slug": "vuon-uom-ha-noi",
            "name_vi": "Vườn ươm khởi nghiệp sáng tạo Hà Nội",
            "name_en": "Hanoi Startup Incubator",
            "description_vi": "Chương trình ươm tạo 6 tháng của thành phố cho các nhóm khởi nghiệp công nghệ.",
            "description_en": "The city's six-month incubation programme for technology startups.",
            "calls": (
                {
                    "slug": "uom-tao-2027-dot-1",
                    "title_vi": "Ươm tạo 2027 – Đợt 1",
                    "title_en": "Incubation 2027 – Round 1",
                    "description_vi": "Tuyển chọn 20 nhóm khởi nghiệp vào khóa ươm tạo đầu năm 2027.",
                    "description_en": "Selecting 20 startups for the first 2027 incubation cohort.",
                    "opens_at": demo_moment(11, 1, 8),
                    "closes_at": demo_moment(1, 31, 23, 59, year=2027),
                    "status": CallStatus.OPEN,
                },
            ),
        },
        {
            "slug": "trung-tam-dmst",
            "name_vi": "Trung tâm Đổi mới sáng tạo và Khởi nghiệp Hà Nội",
            "name_en": "Hanoi Innovation and Startup Centre",
            "description_vi": "Chương trình tăng tốc cho doanh nghiệp đã có sản phẩm.",
            "description_en": "An acceleration programme for startups with a product.",
            "calls": (
                {
                    "slug": "tang-toc-2026",
                    "title_vi": "Tăng tốc 2026",
                    "title_en": "Acceleration 2026",
                    "description_vi": "Đợt tuyển chọn đã kết thúc; khóa đang vận hành.",
                    "description_en": "The call has closed; the cohort is running.",
                    "opens_at": demo_moment(3, 1, 8),
                    "closes_at": demo_moment(4, 30, 23, 59),
                    "status": CallStatus.CLOSED,
                },
            ),
        },
    )


def load(session: Session) -> int:
    created = 0
    for data in _demo_programmes():
        data = dict(data)
        calls = data.pop("calls")
        programme = session.scalar(select(Programme).where(Programme.slug == data["slug"]))
        if programme is None:
            programme = Programme(**data)
            session.add(programme)
            created += 1
        for call in calls:
            if session.scalar(select(Call.id).where(Call.slug == call["slug"])) is None:
                session.add(Call(programme=programme, **call))
                created += 1
    return created
