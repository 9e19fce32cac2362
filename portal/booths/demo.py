"""TechFest Hanoi 2026's exhibition hall: 40 booths in zones A (3 × 3 m), B (3 × 6 m) and C (6 × 6 m) in every state,
a drawn floor plan, sponsors who choose first, and a few exhibitors (invented) with bookings and badges
(PRODUCT.md §4). Added only when the event has no booths yet, so loading twice changes nothing."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.demo import DEMO_PASSWORD
from portal.accounts.models import Organisation, OrganisationKind, OrganisationMember, User
from portal.accounts.services import find_user_by_email, hash_password
from portal.booths.badges import badge_ticket_type
from portal.booths.models import (
    BookingStatus,
    Booth,
    BoothBooking,
    BoothSaleSettings,
    FloorPlan,
    PlanImageKind,
    PriorityWindow,
)
from portal.booths.services import first_instalment
from portal.db import utcnow
from portal.demo_calendar import demo_moment
from portal.events.models import Event, Order, OrderStatus, Ticket
from portal.events.orders import new_order_code, new_ticket_code
from portal.payments.models import Payment
from portal.payments.providers import FREE, MANUAL

EVENT = "techfest-hanoi-2026"
HALL_WIDTH, HALL_HEIGHT = 60, 40
DEPOSIT_PERCENT = 30
#: zone → (booth width, depth, price in đồng, booth positions (x, y) in metres)
ZONES = {
    "A": (3, 3, 20_000_000, [(4 + 3 * i, y) for y in (8, 11) for i in range(8)]),
    "B": (3, 6, 36_000_000, [(4 + 3 * i, y) for y in (18, 24) for i in range(7)]),
    "C": (6, 6, 70_000_000, [(36 + 6 * i, y) for y in (8, 14, 20) for i in range(3)] + [(36, 26)]),
}
CORNERS = {"A-01", "A-08", "A-09", "A-16", "B-01", "B-07", "B-08", "B-14", "C-01", "C-03", "C-07", "C-09", "C-10"}
WATER = {"C-01", "C-05"}
#: a pillar stands in A-16; the organisers' own stand is C-10
BLOCKED = {"A-16", "C-10"}


# e-mail, name, organisation, is a sponsor
EXHIBITORS = (
    ("exhibitor@demo.dmst-hanoi.vn", "Phạm Quang Huy", "Công ty CP Công nghệ Sao Mai (demo)", False),
    ("sponsor@demo.dmst-hanoi.vn", "Nguyễn Thị Thu", "Ngân hàng TMCP Sông Hồng (demo)", True),
    ("robotics@demo.dmst-hanoi.vn", "Hoàng Đức Anh", "Viettech Robotics (demo)", True),
    ("medtech@demo.dmst-hanoi.vn", "Trịnh Mai Linh", "Hanoi MedTech (demo)", False),
    ("ecobattery@demo.dmst-hanoi.vn", "Đinh Văn Sơn", "EcoBattery (demo)", False),
)
STARTUP = "startup@demo.dmst-hanoi.vn"
# booth, exhibitor, status, products; "deposit" = awaiting payment with the deposit paid
BOOKINGS = (
    ("A-01", "exhibitor@demo.dmst-hanoi.vn", BookingStatus.SOLD, "Robot giao hàng trong nhà máy"),
    ("A-07", "exhibitor@demo.dmst-hanoi.vn", BookingStatus.AWAITING_APPROVAL, "Cảm biến IoT cho kho lạnh"),
    ("C-01", "sponsor@demo.dmst-hanoi.vn", BookingStatus.SOLD, "Ngân hàng số cho doanh nghiệp khởi nghiệp"),
    ("C-02", "sponsor@demo.dmst-hanoi.vn", BookingStatus.SOLD, "Khu tư vấn vốn vay đổi mới sáng tạo"),
    ("C-03", "robotics@demo.dmst-hanoi.vn", "deposit", "Cánh tay robot cho dây chuyền lắp ráp"),
    ("B-01", "medtech@demo.dmst-hanoi.vn", BookingStatus.SOLD, "Thiết bị theo dõi sức khỏe từ xa"),
    ("B-08", "medtech@demo.dmst-hanoi.vn", BookingStatus.AWAITING_APPROVAL, "Phần mềm quản lý phòng khám"),
    ("A-02", "ecobattery@demo.dmst-hanoi.vn", BookingStatus.SOLD, "Pin lưu trữ năng lượng mặt trời"),
    ("A-10", "ecobattery@demo.dmst-hanoi.vn", BookingStatus.HELD, ""),
    ("B-05", STARTUP, BookingStatus.AWAITING_PAYMENT, "Phát hiện sâu bệnh trên lúa bằng thị giác máy tính"),
)
#: the staff named for the sold booth of the main demo exhibitor
BADGES = {"A-01": (("Phạm Quang Huy", "huy.pham@saomai.example.vn"), ("Lý Thảo Vy", "vy.ly@saomai.example.vn"))}


def hall_svg() -> bytes:
    """The drawing under the booths: walls, the main stage, the entrance and the fire exits, 1 unit = 1 m."""
    label = 'font-family="sans-serif" font-size="1.4" fill="#555" text-anchor="middle"'
    return f"""<?xml version="1.0" encoding="utf-8"?>
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {HALL_WIDTH} {HALL_HEIGHT}" width="{HALL_WIDTH * 16}"
     height="{HALL_HEIGHT * 16}">
  <rect x="0.2" y="0.2" width="{HALL_WIDTH - 0.4}" height="{HALL_HEIGHT - 0.4}" fill="#fafaf7" stroke="#333"
        stroke-width="0.4"/>
  <rect x="20" y="1" width="20" height="4.5" fill="#e3e8f0" stroke="#6b7a90" stroke-width="0.2"/>
  <text x="30" y="3.7" {label}>Sân khấu chính / Main stage</text>
  <rect x="26" y="{HALL_HEIGHT - 1}" width="8" height="1" fill="#4a8f3c"/>
  <text x="30" y="{HALL_HEIGHT - 1.8}" {label}>Lối vào / Entrance</text>
  <rect x="0" y="34" width="1" height="4" fill="#c0392b"/>
  <rect x="{HALL_WIDTH - 1}" y="34" width="1" height="4" fill="#c0392b"/>
  <text x="6" y="37" {label}>Lối thoát hiểm / Fire exit</text>
  <text x="54" y="37" {label}>Lối thoát hiểm / Fire exit</text>
  <text x="16" y="7.3" {label}>Khu A / Zone A</text>
  <text x="14.5" y="17.3" {label}>Khu B / Zone B</text>
  <text x="45" y="7.3" {label}>Khu C / Zone C</text>
</svg>
""".encode()


def _save_drawing() -> str:
    """Writes the hall's drawing into the uploads folder under a name made from its content."""
    data = hall_svg()
    name = hashlib.sha256(data).hexdigest()[:32] + ".svg"
    folder = Path(current_app.instance_path) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    return name


def _booths(event: Event) -> dict[str, Booth]:
    booths = {}
    for zone, (w, h, price, positions) in ZONES.items():
        for n, (x, y) in enumerate(positions, start=1):
            number = f"{zone}-{n:02d}"
            booths[number] = Booth(event_id=event.id, number=number, zone=zone, x=x, y=y, w=w, h=h,
                                   size_m2=float(w * h), price=price, corner=number in CORNERS,
                                   power=zone != "A", water=number in WATER, blocked=number in BLOCKED)
    return booths


def _exhibitors(session: Session) -> dict[str, tuple[User, Organisation | None]]:
    """The demo exhibitors with their organisations (created when missing) and the demo startup founder."""
    found: dict[str, tuple[User, Organisation | None]] = {}
    password_hash = None
    for email, name, organisation_name, _sponsor in EXHIBITORS:
        user = find_user_by_email(session, email)
        if user is None:
            password_hash = password_hash or hash_password(DEMO_PASSWORD)
            user = User(email=email, full_name=name, locale="vi", password_hash=password_hash,
                        email_verified_at=utcnow())
            organisation = Organisation(name=organisation_name, kind=OrganisationKind.COMPANY)
            organisation.members.append(OrganisationMember(user=user, is_owner=True))
            session.add_all([user, organisation])
        found[email] = (user, user.memberships[0].organisation if user.memberships else None)
    founder = find_user_by_email(session, STARTUP)
    if founder is not None:
        found[STARTUP] = (founder, founder.memberships[0].organisation if founder.memberships else None)
    return found


def _booking(booth: Booth, user: User, organisation: Organisation | None, status, products: str,
             now: datetime) -> BoothBooking:
    """A booking as the services would have left it, days ago for everything but the hold."""
    deposit_only = status == "deposit"
    status = BookingStatus.AWAITING_PAYMENT if deposit_only else status
    booking = BoothBooking(event_id=booth.event_id, booth=booth, exhibitor=user, organisation=organisation,
                           status=status, held_at=now - timedelta(days=12),
                           hold_expires_at=now - timedelta(days=12) + timedelta(minutes=15))
    if status is BookingStatus.HELD:
        # long enough to be seen while trying the demo
        booking.held_at, booking.hold_expires_at = now, now + timedelta(hours=6)
        return booking
    company = organisation.name if organisation else user.full_name
    booking.company_name, booking.products, booking.tax_code = company, products, "0109" + f"{booth.id:06d}"
    booking.contact_name, booking.contact_email, booking.contact_phone = user.full_name, user.email, "0243 555 0199"
    booking.submitted_at, booking.provider = now - timedelta(days=12), MANUAL.key
    booking.amount_due = booth.price
    booking.deposit_due = first_instalment(booth.price, DEPOSIT_PERCENT)
    if status is BookingStatus.AWAITING_APPROVAL:
        return booking
    booking.decided_at = now - timedelta(days=10)
    if status is BookingStatus.SOLD:
        booking.amount_paid, booking.paid_at = booth.price, now - timedelta(days=3)
    elif deposit_only:
        booking.amount_paid, booking.payment_due_at = booking.deposit_due, now + timedelta(days=8)
    else:
        booking.payment_due_at = now + timedelta(days=5)
    return booking


def _paid_by_hand(booking: BoothBooking) -> list[Payment]:
    """The instalments the organisers recorded by hand: the deposit when the application was approved, the balance
    when the booth was sold."""
    total = booking.amount_paid or 0  # unset (0 once written) on an application not yet paid
    deposit = min(booking.deposit_due or 0, total)
    paid = [Payment.received_by_hand(deposit, booking.decided_at, booth_booking=booking)] if deposit else []
    if total > deposit:
        paid.append(Payment.received_by_hand(total - deposit, booking.paid_at, booth_booking=booking))
    return paid


def _add_badges(session: Session, event: Event, booking: BoothBooking, staff, now: datetime) -> None:
    badge_type = badge_ticket_type(session, event)
    order = Order(code=new_order_code(), event_id=event.id, buyer=booking.exhibitor, status=OrderStatus.PAID, total=0,
                  provider=FREE.key, locale=booking.exhibitor.locale, paid_at=now)
    order.tickets = [Ticket(ticket_type_id=badge_type.id, price=0, code=new_ticket_code(), attendee_name=name,
                            attendee_email=email, attendee_organisation=booking.company_name, answers={})
                     for name, email in staff]
    booking.badge_order = order


def load(session: Session) -> int:
    """Fills TechFest's hall; returns how many booths it created (0 when the hall was already there)."""
    event = session.scalar(select(Event).where(Event.slug == EVENT))
    if event is None or session.scalar(select(Booth.id).where(Booth.event_id == event.id).limit(1)) is not None:
        return 0
    now = utcnow()
    session.add(FloorPlan(event_id=event.id, width=HALL_WIDTH, height=HALL_HEIGHT, grid_size=16, metres_per_unit=1.0,
                          background=_save_drawing(), background_kind=PlanImageKind.SVG))
    session.add(BoothSaleSettings(event_id=event.id, hold_minutes=15, approval_required=True,
                                  deposit_percent=DEPOSIT_PERCENT, payment_days=10,
                                  selection_opens_at=demo_moment(10, 15, 9),
                                  selection_closes_at=demo_moment(12, 5, 17)))
    booths = _booths(event)
    session.add_all(booths.values())
    exhibitors = _exhibitors(session)
    session.add(PriorityWindow(event_id=event.id, name_vi="nhà tài trợ", name_en="sponsors",
                               opens_at=demo_moment(10, 1, 9),
                               organisations=[exhibitors[email][1] for email, *_rest, sponsor in EXHIBITORS
                                              if sponsor]))
    session.flush()
    for number, email, status, products in BOOKINGS:
        if email not in exhibitors:  # the startup founder comes with the accounts' demo data
            continue
        user, organisation = exhibitors[email]
        booking = _booking(booths[number], user, organisation, status, products, now)
        session.add(booking)
        session.add_all(_paid_by_hand(booking))
        if number in BADGES:
            _add_badges(session, event, booking, BADGES[number], now)
    return len(booths)
