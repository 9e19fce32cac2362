"""TechFest Hanoi 2026 and Techmart Hanoi 2026 with programme, tickets, quotas, questions, a team and orders
(PRODUCT.md §4). Each part is added only when missing, so loading twice changes nothing.

The sale opened weeks before the day the demo is loaded, and the orders are spread over those weeks as sales go:
a bump in the first week (the early birds), a quiet middle, and more every day as the event nears, so the
organisers' registrations-per-day chart has a shape."""

from __future__ import annotations

import random
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.demo import DEMO_PASSWORD
from portal.accounts.models import User
from portal.accounts.services import find_user_by_email, hash_password
from portal.db import utcnow
from portal.demo_calendar import demo_moment
from portal.events.models import (
    Eligibility,
    Event,
    EventOrganiser,
    EventStatus,
    Order,
    OrderStatus,
    ProgrammeItem,
    ProgrammeKind,
    Question,
    QuestionKind,
    Quota,
    Ticket,
    TicketType,
)
from portal.i18n import hanoi_date
from portal.payments.providers import FREE, MANUAL

DEMO_ORGANISER = "organiser@demo.dmst-hanoi.vn"
#: when the organisers created the events and opened the sale: about three weeks before any loading day
SALE_OPENS = (10, 29)
#: visitors who registered for TechFest, with the demo password (invented names)
VISITORS = tuple(
    (f"visitor{number:02d}@demo.dmst-hanoi.vn", name) for number, name in enumerate((
        "Bùi Thị Hồng", "Cao Văn Lực", "Dương Minh Khoa", "Hà Thị Ngọc", "Kiều Văn Phong", "La Thị Quyên",
        "Mạc Đình Sang", "Ngô Thị Thảo", "Phan Văn Uy", "Tạ Thị Xuân"), start=1)
)
#: tickets registered per day since the sale opened, from the first day: the early birds' week, then a quiet
#: middle; the last days before loading follow SURGE
EARLY_BIRDS = (4, 7, 9, 6, 3, 2, 1)
QUIET = (0, 1, 1, 0, 2, 1)
#: tickets registered per day up to the loading day, the last one being today's so far
SURGE = (2, 3, 3, 4, 6, 7, 9, 5)


def _hanoi(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of the demo's December 2026, written in Hanoi time, on the loading day's calendar (demo_moment)."""
    return demo_moment(12, day, hour, minute)


#: what the demo organisers tell those who pay them directly
PAYMENT_INSTRUCTIONS = {
    "payment_instructions_vi": "Chuyển khoản tới Vietcombank – Chi nhánh Hà Nội, số tài khoản 0011 0019 32418, chủ "
                               "tài khoản TRUNG TAM HO TRO KHOI NGHIEP HA NOI; hoặc nộp tiền mặt tại bàn tài chính, "
                               "tầng 2, 8 giờ – 17 giờ các ngày làm việc.\nCần hoá đơn giá trị gia tăng: gửi tên "
                               "công ty, mã số thuế và mã đơn tới taichinh@hanoi-innovation.vn.",
    "payment_instructions_en": "Transfer to Vietcombank – Hanoi branch, account 0011 0019 32418, holder TRUNG TAM HO "
                               "TRO KHOI NGHIEP HA NOI; or pay in cash at the finance desk, 2nd floor, 8:00–17:00 on "
                               "working days.\nFor a VAT invoice, send your company's name, tax code and the order "
                               "code to taichinh@hanoi-innovation.vn.",
}


def _demo_events() -> tuple[dict, ...]:
    """Built when loading: their dates follow the loading day's calendar."""
    return (
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
            "starts_at": _hanoi(10, 8),
            "ends_at": _hanoi(12, 17),
            "status": EventStatus.PUBLISHED,
            "attendee_change_deadline": _hanoi(8, 23, 59),
            "created_at": demo_moment(*SALE_OPENS, 9),
            **PAYMENT_INSTRUCTIONS,
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
            "starts_at": _hanoi(18, 8, 30),
            "ends_at": _hanoi(19, 17),
            "status": EventStatus.PUBLISHED,
            "created_at": demo_moment(*SALE_OPENS, 9),
            **PAYMENT_INSTRUCTIONS,
        },
    )


# (day, start, end, kind, stage, title vi, title en, speakers); times in Hanoi
PROGRAMMES = {
    "techfest-hanoi-2026": (
        (10, (8, 30), (9, 30), ProgrammeKind.TALK, "Sân khấu chính",
         "Khai mạc: Hà Nội – thành phố khởi nghiệp", "Opening: Hanoi, a startup city",
         "Lãnh đạo Sở Khoa học và Công nghệ Hà Nội"),
        (10, (9, 30), (17, 0), ProgrammeKind.EXHIBITION, "Sảnh triển lãm A–C",
         "Triển lãm 40 gian hàng khởi nghiệp", "Exhibition: 40 startup booths", ""),
        (10, (10, 0), (12, 0), ProgrammeKind.PITCH, "Sân khấu gọi vốn",
         "Gọi vốn vòng 1: nông nghiệp thông minh", "Pitch round 1: smart agriculture",
         "GreenLeaf AI (demo), Lúa Xanh Tech, Nông Trại Số"),
        (10, (14, 0), (15, 30), ProgrammeKind.TALK, "Sân khấu chính",
         "AI cho dịch vụ công", "AI for public services", "TS. Hoàng Văn Minh, ThS. Lê Thu Trang"),
        (11, (9, 0), (11, 0), ProgrammeKind.THREE_PARTY, "Phòng 201",
         "Gặp gỡ ba nhà: chuyển đổi số trong y tế", "Three-party meeting: digital health",
         "Bệnh viện Đa khoa Demo, Viện Công nghệ Y sinh, MedTech Việt"),
        (11, (13, 30), (16, 0), ProgrammeKind.PITCH, "Sân khấu gọi vốn",
         "Gọi vốn vòng 2: công nghệ xanh", "Pitch round 2: green technology",
         "EcoBattery, Sông Sạch, Năng Lượng Mặt Trời Số"),
        (11, (14, 0), (16, 0), ProgrammeKind.WORKSHOP, "Phòng 203",
         "Hội thảo: sở hữu trí tuệ cho startup", "Workshop: intellectual property for startups",
         "LS. Nguyễn Hải Yến"),
        (12, (9, 0), (11, 0), ProgrammeKind.THREE_PARTY, "Phòng 201",
         "Gặp gỡ ba nhà: đô thị thông minh", "Three-party meeting: smart city",
         "Sở Xây dựng (demo), Đại học Bách khoa Hà Nội, UrbanSense"),
        (12, (14, 0), (16, 0), ProgrammeKind.PITCH, "Sân khấu chính",
         "Chung kết gọi vốn và trao giải", "Pitch final and awards", "Hội đồng giám khảo TechFest"),
    ),
    "techmart-hanoi-2026": (
        (18, (9, 0), (10, 0), ProgrammeKind.TALK, "Hội trường lớn",
         "Khai mạc Techmart: công nghệ cho sản xuất", "Opening: technology for manufacturing",
         "Ban tổ chức Techmart"),
        (18, (10, 0), (17, 0), ProgrammeKind.EXHIBITION, "Nhà triển lãm B",
         "Chào bán công nghệ và thiết bị", "Technology and equipment offers", ""),
        (19, (9, 0), (11, 30), ProgrammeKind.THREE_PARTY, "Phòng hội thảo 2",
         "Kết nối cung – cầu: cơ khí chính xác", "Supply–demand matching: precision engineering",
         "Viện Cơ khí (demo), Công ty Cơ khí Đông Anh, Đại học Công nghiệp"),
    ),
}

# key, names, price, max per order, eligibility, sale ends (Hanoi day or None), quota keys, description
TICKET_TYPES = {
    "techfest-hanoi-2026": (
        ("visitor", "Vé tham quan", "Visitor pass", 0, 5, Eligibility.ANYONE, None, ("hall", "visitors"),
         "Vào cửa cả ba ngày triển lãm và sân khấu chính.", "Entry to the exhibition and main stage, all three days."),
        ("startup", "Vé startup", "Startup pass", 0, 3, Eligibility.STARTUP, 8, ("hall", "startups"),
         "Cho thành viên các startup: gặp nhà đầu tư và chuyên gia.",
         "For startup members: meet investors and mentors."),
        ("investor", "Vé nhà đầu tư", "Investor pass", 1_500_000, 2, Eligibility.APPROVAL, 5, ("hall", "investors"),
         "Khu gặp gỡ riêng với startup; ban tổ chức duyệt từng đơn.",
         "Private meeting area with startups; each order is approved by the organisers."),
        ("three-party", "Gặp gỡ ba nhà ngày thứ hai", "Three-party meeting, day 2", 0, 2, Eligibility.ANYONE, 10,
         ("hall", "room-201-day-2"), "Một chỗ ngồi tại Phòng 201, sáng ngày thứ hai.",
         "A seat in Room 201 on the morning of day 2."),
    ),
    "techmart-hanoi-2026": (
        ("visitor", "Vé tham quan", "Visitor pass", 0, 5, Eligibility.ANYONE, None, ("hall",),
         "Vào cửa hai ngày Techmart.", "Entry to both days of Techmart."),
        ("business", "Vé doanh nghiệp", "Business delegate pass", 500_000, 4, Eligibility.ANYONE, 16,
         ("hall", "business"), "Kèm lịch kết nối cung – cầu và tài liệu.", "Includes matching meetings and materials."),
    ),
}

# key, names, size
QUOTAS = {
    "techfest-hanoi-2026": (
        ("hall", "Cung Văn hóa – sức chứa", 2600), ("visitors", "Khách tham quan", 2000),
        ("startups", "Startup", 300), ("investors", "Nhà đầu tư", 60),
        ("room-201-day-2", "Phòng 201 – ngày thứ hai", 30),
    ),
    "techmart-hanoi-2026": (("hall", "Giảng Võ – sức chứa", 1500), ("business", "Doanh nghiệp", 200)),
}

# label vi, label en, kind, required, options
QUESTIONS = {
    "techfest-hanoi-2026": (
        ("Lĩnh vực bạn quan tâm", "Your field of interest", QuestionKind.TEXT, True, []),
        ("Bạn biết đến TechFest qua đâu?", "How did you hear about TechFest?", QuestionKind.CHOICE, False,
         [{"vi": "Mạng xã hội", "en": "Social media"}, {"vi": "Báo chí", "en": "Press"},
          {"vi": "Bạn bè, đồng nghiệp", "en": "Friends or colleagues"}]),
        ("Tôi cần phiên dịch Việt – Anh", "I need Vietnamese–English interpreting", QuestionKind.CHECKBOX, False, []),
    ),
    "techmart-hanoi-2026": (
        ("Bạn đến Techmart với vai trò", "You come to Techmart as", QuestionKind.CHOICE, True,
         [{"vi": "Bên chào bán công nghệ", "en": "Technology supplier"},
          {"vi": "Bên tìm mua công nghệ", "en": "Technology buyer"},
          {"vi": "Nhà nghiên cứu", "en": "Researcher"}]),
    ),
}

# buyer (a demo account), ticket type key, status, attendees (name, organisation), days after the sale opened;
# e-mails are invented
ORDERS = {
    "techfest-hanoi-2026": (
        ("startup@demo.dmst-hanoi.vn", "startup", OrderStatus.PAID,
         (("Vũ Hoàng Nam", "GreenLeaf AI (demo)"), ("Đặng Thị Mai", "GreenLeaf AI (demo)")), 9),
        ("mentor@demo.dmst-hanoi.vn", "investor", OrderStatus.AWAITING_APPROVAL,
         (("Đỗ Anh Tuấn", "Red River Ventures"),), 15),
        # three groups of nine fill 27 of the 30 seats in Room 201: the type shows as nearly sold out
        *(
            (buyer, "three-party", OrderStatus.PAID,
             tuple((f"Khách mời {group}-{n}", organisation) for n in range(1, 10)), days)
            for group, (buyer, organisation, days) in enumerate((
                ("manager@demo.dmst-hanoi.vn", "Sở Khoa học và Công nghệ (demo)", 1),
                ("reviewer@demo.dmst-hanoi.vn", "Viện Công nghệ Y sinh (demo)", 2),
                ("admin@demo.dmst-hanoi.vn", "Bệnh viện Đa khoa Demo", 4),
            ), start=1)
        ),
    ),
    "techmart-hanoi-2026": (
        ("startup@demo.dmst-hanoi.vn", "visitor", OrderStatus.PAID, (("Vũ Hoàng Nam", "GreenLeaf AI (demo)"),), 11),
    ),
}


def _add_ticketing(event: Event) -> None:
    quotas = {key: Quota(name=name, size=size) for key, name, size in QUOTAS[event.slug]}
    event.quotas = list(quotas.values())
    event.ticket_types = [
        TicketType(name_vi=name_vi, name_en=name_en, price=price, max_per_order=max_per_order, eligibility=eligibility,
                   sale_ends_at=_hanoi(sale_end_day, 23, 59) if sale_end_day else None, position=position,
                   quotas=[quotas[key] for key in quota_keys], description_vi=description_vi,
                   description_en=description_en)
        for position, (_key, name_vi, name_en, price, max_per_order, eligibility, sale_end_day, quota_keys,
                       description_vi, description_en) in enumerate(TICKET_TYPES[event.slug])
    ]


def tickets_per_day(days_open: int) -> list[int]:
    """The visitor passes registered on each day of a sale open `days_open` days, today included."""
    plan = [0] * days_open
    for day, tickets in enumerate(EARLY_BIRDS + QUIET * days_open):
        if day < days_open:
            plan[day] = tickets
    for back, tickets in enumerate(reversed(SURGE)):
        if back < days_open - len(EARLY_BIRDS):
            plan[days_open - 1 - back] = tickets
    return plan


def _visitors(session: Session) -> list[User]:
    password_hash = hash_password(DEMO_PASSWORD)
    people = []
    for email, name in VISITORS:
        person = find_user_by_email(session, email)
        if person is None:
            person = User(email=email, full_name=name, locale="vi", password_hash=password_hash,
                          email_verified_at=utcnow())
            session.add(person)
        people.append(person)
    return people


def _placed(opened: datetime, days: int, now: datetime, rng: random.Random) -> datetime:
    """A moment on the given day of the sale, in Hanoi's waking hours, never after now."""
    return min(opened + timedelta(days=days, hours=rng.randint(0, 13), minutes=rng.randint(0, 59)), now)


def _order(event: Event, buyer: User, ticket_type: TicketType, status: OrderStatus, attendees, placed: datetime,
           rng: random.Random) -> Order:
    paid = status is OrderStatus.PAID
    order = Order(code=secrets.token_hex(6).upper(), event=event, buyer=buyer, status=status,
                  total=ticket_type.price * len(attendees),
                  provider=(FREE if ticket_type.price == 0 else MANUAL).key, locale=buyer.locale, created_at=placed,
                  # a free order is paid when placed; a priced one when the organisers saw the money, within days
                  paid_at=(placed if ticket_type.price == 0 else placed + timedelta(hours=rng.randint(2, 60)))
                  if paid else None)
    order.tickets = [
        Ticket(ticket_type=ticket_type, price=ticket_type.price, code=secrets.token_urlsafe(32),
               attendee_name=name, attendee_organisation=organisation,
               attendee_email=f"demo.attendee.{secrets.token_hex(3)}@example.vn", answers={})
        for name, organisation in attendees
    ]
    return order


def _add_orders(session: Session, event: Event) -> None:
    types = {spec[0]: ticket_type for spec, ticket_type in zip(TICKET_TYPES[event.slug], event.ticket_types,
                                                                strict=True)}
    now, rng = utcnow(), random.Random(event.slug)
    opened = event.created_at
    for buyer_email, type_key, status, attendees, days in ORDERS[event.slug]:
        buyer = find_user_by_email(session, buyer_email)
        session.add(_order(event, buyer, types[type_key], status, attendees, _placed(opened, days, now, rng), rng))
    if event.slug != "techfest-hanoi-2026":
        return
    visitors = _visitors(session)
    days_open = (hanoi_date(now) - hanoi_date(opened)).days + 1
    for day, tickets in enumerate(tickets_per_day(days_open)):
        while tickets:
            size = min(tickets, rng.randint(1, 3))
            tickets -= size
            buyer = rng.choice(visitors)
            attendees = [(buyer.full_name, "")] + [(f"{buyer.full_name} ({n + 1})", "") for n in range(1, size)]
            session.add(_order(event, buyer, types["visitor"], OrderStatus.PAID, attendees,
                               _placed(opened, day, now, rng), rng))


def load(session: Session) -> int:
    """Creates the demo events and fills in whatever part of them is missing; returns how many events it created."""
    created = 0
    organiser = find_user_by_email(session, DEMO_ORGANISER)
    for data in _demo_events():
        event = session.scalar(select(Event).where(Event.slug == data["slug"]))
        if event is None:
            event = Event(**data)
            session.add(event)
            created += 1
        if not event.programme:
            event.programme = [
                ProgrammeItem(kind=kind, stage=stage, title_vi=title_vi, title_en=title_en, speakers=speakers,
                              starts_at=_hanoi(day, *start), ends_at=_hanoi(day, *end))
                for day, start, end, kind, stage, title_vi, title_en, speakers in PROGRAMMES[event.slug]
            ]
        if not event.questions:
            event.questions = [
                Question(label_vi=label_vi, label_en=label_en, kind=kind, required=required, options=options,
                         position=position)
                for position, (label_vi, label_en, kind, required, options) in enumerate(QUESTIONS[event.slug])
            ]
        if not event.ticket_types:
            _add_ticketing(event)
            session.flush()
            _add_orders(session, event)
        if organiser is not None and all(member.user_id != organiser.id for member in event.team):
            event.team.append(EventOrganiser(user=organiser))
    return created
