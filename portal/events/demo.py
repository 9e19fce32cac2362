from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.events.models import Event, EventStatus

DEMO_EVENTS = (
    {
        "slug": "techfest-hanoi-2026",
        "name_vi": "TechFest Hà Nội 2026",
        "name_en": "TechFest Hanoi 2026",
        "description_vi": "Ngày hội khởi nghiệp đổi mới sáng tạo của Thủ đô: triển lãm, sân khấu gọi vốn, "
                          "kết nối cung – cầu công nghệ và gặp gỡ ba nhà.",
        "description_en": "The capital's innovation and startup festival: exhibition, pitch stages, technology "
                          "supply–demand matching and three-party meetings.",
        "venue_vi": "Cung Văn hóa Hữu nghị Việt Xô, 91 Trần Hưng Đạo, Hà Nội",
        "venue_en": "Vietnam–Soviet Friendship Cultural Palace, 91 Tran Hung Dao, Hanoi",
        "starts_at": datetime(2026, 12, 10, 1, 0, tzinfo=UTC),
        "ends_at": datetime(2026, 12, 12, 10, 0, tzinfo=UTC),
        "status": EventStatus.PUBLISHED,
    },
    {
        "slug": "techmart-hanoi-2026",
        "name_vi": "Techmart Hà Nội 2026",
        "name_en": "Techmart Hanoi 2026",
        "description_vi": "Chợ công nghệ và thiết bị: chào bán công nghệ, đặt hàng giải pháp, kết nối doanh "
                          "nghiệp với viện, trường.",
        "description_en": "Technology and equipment market: technology offers, solution demands, and meetings "
                          "between businesses, institutes and universities.",
        "venue_vi": "Trung tâm Triển lãm Giảng Võ, Hà Nội",
        "venue_en": "Giang Vo Exhibition Centre, Hanoi",
        "starts_at": datetime(2026, 12, 18, 1, 30, tzinfo=UTC),
        "ends_at": datetime(2026, 12, 19, 10, 0, tzinfo=UTC),
        "status": EventStatus.PUBLISHED,
    },
)


def load(session: Session) -> int:
    created = 0
    for data in DEMO_EVENTS:
        if session.scalar(select(Event.id).where(Event.slug == data["slug"])) is None:
            session.add(Event(**data))
            created += 1
    return created
