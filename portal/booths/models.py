"""Exhibition booths: an event's floor plan, its booths, the rules of their sale, and exhibitors' bookings.

A booth's state is derived, never stored: blocked (a flag on the booth), or the status of its one active booking
(held, awaiting approval, awaiting payment, sold), or available. The database keeps the promise that matters: at
most one active booking per booth (a partial unique index), whatever the pages or the number of web workers do.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Organisation, User
from portal.db import Base, UTCDateTime, str_enum, utcnow
from portal.events.models import Event, Order
from portal.payments.models import Payment


def with_defaults(model: type[Base], **values) -> Base:
    """A new, unsaved row with its columns' defaults filled in, as if stored: what an event reads before the
    organisers save a row of their own."""
    row = model(**values)
    for column in model.__table__.columns:
        if column.key not in values and column.default is not None:
            default = column.default
            setattr(row, column.key, default.arg(None) if default.is_callable else default.arg)
    return row


class PlanImageKind(enum.StrEnum):
    PNG = "png"
    JPEG = "jpeg"
    SVG = "svg"


class FloorPlan(Base):
    """The hall of one event, measured in grid units: booths snap to whole units."""

    __tablename__ = "booth_floor_plans"
    __table_args__ = (
        CheckConstraint("width >= 1 AND height >= 1 AND grid_size >= 1 AND metres_per_unit > 0",
                        name="dimensions_positive"),
    )

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    #: file name of the background drawing under the uploads folder, or None
    background: Mapped[str | None] = mapped_column(String(120))
    background_kind: Mapped[PlanImageKind | None] = mapped_column(str_enum(PlanImageKind, "plan_image_kind"))
    #: the hall's size in grid units
    width: Mapped[int] = mapped_column(Integer, default=60)
    height: Mapped[int] = mapped_column(Integer, default=40)
    #: how many screen pixels one grid unit takes when the plan is drawn at 100 %
    grid_size: Mapped[int] = mapped_column(Integer, default=16)
    #: the length one grid unit stands for in the hall
    metres_per_unit: Mapped[float] = mapped_column(Float, default=1.0)

    event: Mapped[Event] = relationship()


class Booth(Base):
    __tablename__ = "booths"
    __table_args__ = (
        UniqueConstraint("event_id", "number"),
        CheckConstraint("price >= 0", name="price_not_negative"),
        CheckConstraint("w >= 1 AND h >= 1 AND size_m2 > 0", name="size_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    #: what exhibitors and signs call it, e.g. A-01; unique within the event
    number: Mapped[str] = mapped_column(String(12))
    zone: Mapped[str] = mapped_column(String(40), default="")
    #: position and size on the floor plan, in grid units
    x: Mapped[int] = mapped_column(Integer)
    y: Mapped[int] = mapped_column(Integer)
    w: Mapped[int] = mapped_column(Integer)
    h: Mapped[int] = mapped_column(Integer)
    size_m2: Mapped[float] = mapped_column(Float)
    #: integer đồng
    price: Mapped[int] = mapped_column(Integer)
    corner: Mapped[bool] = mapped_column(Boolean, default=False)
    power: Mapped[bool] = mapped_column(Boolean, default=False)
    water: Mapped[bool] = mapped_column(Boolean, default=False)
    #: kept off the market by the organisers (an emergency exit, a pillar, the organisers' own stand)
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)

    event: Mapped[Event] = relationship()


def default_badge_rules() -> list[dict]:
    """Up to 9 m² → 2 badges, up to 18 m² → 4, larger → 8 (None: no upper bound)."""
    return [{"up_to_m2": 9, "badges": 2}, {"up_to_m2": 18, "badges": 4}, {"up_to_m2": None, "badges": 8}]


class BoothSaleSettings(Base):
    """How an event sells its booths. An event without a row sells with the defaults once selection opens."""

    __tablename__ = "booth_sale_settings"
    __table_args__ = (
        CheckConstraint("deposit_percent BETWEEN 0 AND 100", name="deposit_percent"),
        CheckConstraint("hold_minutes >= 1 AND payment_days >= 1", name="periods_positive"),
        CheckConstraint("balance_days_before_event >= 0", name="balance_days_not_negative"),
    )

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    #: how long choosing a booth keeps it for the exhibitor while they fill in the application
    hold_minutes: Mapped[int] = mapped_column(Integer, default=15)
    #: whether organisers approve each application before it may be paid
    approval_required: Mapped[bool] = mapped_column(Boolean, default=True)
    #: the share of the price paid first; 0 and 100 both mean one payment of the full amount
    deposit_percent: Mapped[int] = mapped_column(Integer, default=100)
    #: days an exhibitor has for each payment, counted from the reservation (or the approval, or the deposit)
    payment_days: Mapped[int] = mapped_column(Integer, default=7)
    #: the balance after a deposit is due this many days before the event starts; None: `payment_days` after the
    #: deposit arrives, like every instalment
    balance_days_before_event: Mapped[int | None] = mapped_column(Integer)
    #: when everyone may choose (priority windows open earlier for their organisations); None: not announced
    selection_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: no new holds from this moment; None: until the event starts
    selection_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: badges per booth by size, smallest bound first: [{"up_to_m2": 9, "badges": 2}, …, {"up_to_m2": None, …}]
    badge_rules: Mapped[list] = mapped_column(JSON, default=default_badge_rules)

    event: Mapped[Event] = relationship()


priority_window_organisations = Table(
    "booth_priority_window_organisations",
    Base.metadata,
    Column("window_id", ForeignKey("booth_priority_windows.id", ondelete="CASCADE"), primary_key=True),
    Column("organisation_id", ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True),
)


class PriorityWindow(Base):
    """Some organisations (sponsors, partners) may choose a booth from `opens_at`, before everyone else."""

    __tablename__ = "booth_priority_windows"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    #: who it is for, as exhibitors read it: "nhà tài trợ" / "sponsors"
    name_vi: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())

    organisations: Mapped[list[Organisation]] = relationship(secondary=priority_window_organisations,
                                                             order_by="Organisation.name")


class BookingStatus(enum.StrEnum):
    #: chosen on the plan, kept for the exhibitor until hold_expires_at
    HELD = "held"
    #: the application is in; an organiser decides
    AWAITING_APPROVAL = "awaiting_approval"
    #: approved (or no approval needed); waiting for the money until payment_due_at
    AWAITING_PAYMENT = "awaiting_payment"
    #: fully paid
    SOLD = "sold"
    #: the exhibitor let go of the hold
    RELEASED = "released"
    #: the hold ran out before the application was submitted
    EXPIRED = "expired"
    REJECTED = "rejected"
    #: nothing was paid by the payment deadline
    LAPSED = "lapsed"
    CANCELLED = "cancelled"
    #: the exhibitor took back their application or reservation before paying anything
    WITHDRAWN = "withdrawn"


#: bookings that occupy their booth (a HELD one only until its hold expires)
ACTIVE_STATUSES = (BookingStatus.HELD, BookingStatus.AWAITING_APPROVAL, BookingStatus.AWAITING_PAYMENT,
                   BookingStatus.SOLD)


class BoothState(enum.StrEnum):
    """What a booth is: derived from its blocked flag and its active booking, whose status names it."""

    AVAILABLE = "available"
    HELD = "held"
    AWAITING_APPROVAL = "awaiting_approval"
    AWAITING_PAYMENT = "awaiting_payment"
    SOLD = "sold"
    BLOCKED = "blocked"

    @property
    def shown(self) -> str:
        """The plan's five colours: both kinds of reservation are 'reserved'."""
        return _SHOWN[self]


#: looked up rather than compared: a plan page asks it of every booth, and enum member lookups are slow
_SHOWN = {state: "reserved" if state in (BoothState.AWAITING_APPROVAL, BoothState.AWAITING_PAYMENT) else state.value
          for state in BoothState}
_ACTIVE_SQL = "status IN ({})".format(", ".join(f"'{status.value}'" for status in ACTIVE_STATUSES))


class BoothBooking(Base):
    """One exhibitor's claim on one booth, from the hold to the sale (or its end)."""

    __tablename__ = "booth_bookings"
    __table_args__ = (
        # The guarantee against double booking: two active bookings of one booth cannot both be written.
        Index("uq_booth_bookings_active_booth", "booth_id", unique=True,
              postgresql_where=text(_ACTIVE_SQL), sqlite_where=text(_ACTIVE_SQL)),
        Index("ix_booth_bookings_event_status", "event_id", "status"),
        CheckConstraint("amount_due >= 0", name="amount_due_not_negative"),
        # never more paid than is due: record_payment refuses more, and excess transfers stay on their payment
        CheckConstraint("amount_paid BETWEEN 0 AND amount_due", name="paid_within_due"),
        CheckConstraint("deposit_due BETWEEN 0 AND amount_due", name="deposit_within_due"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    booth_id: Mapped[int] = mapped_column(ForeignKey("booths.id"))
    exhibitor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: the exhibitor's organisation the booth is for (it decides priority windows), if any
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="SET NULL"))
    status: Mapped[BookingStatus] = mapped_column(str_enum(BookingStatus, "booth_booking_status"))
    held_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    hold_expires_at: Mapped[datetime] = mapped_column(UTCDateTime())

    # the application
    company_name: Mapped[str] = mapped_column(String(200), default="")
    #: mã số thuế: 10 digits, or 13 with a branch suffix (0101234567-001)
    tax_code: Mapped[str] = mapped_column(String(14), default="")
    products: Mapped[str] = mapped_column(Text, default="")
    contact_name: Mapped[str] = mapped_column(String(120), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    contact_phone: Mapped[str] = mapped_column(String(32), default="")
    #: file name of the company logo under the uploads folder, or None
    logo: Mapped[str | None] = mapped_column(String(120))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # the decision and the money, in đồng
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: what the organiser wrote to the exhibitor with an approval, a rejection or a cancellation
    decision_message: Mapped[str] = mapped_column(Text, default="")
    #: the booth's price when the application came in
    amount_due: Mapped[int] = mapped_column(Integer, default=0)
    #: the first instalment (the deposit, or amount_due when it is paid at once)
    deposit_due: Mapped[int] = mapped_column(Integer, default=0)
    amount_paid: Mapped[int] = mapped_column(Integer, default=0)
    #: a key of portal.payments.providers.PROVIDERS
    provider: Mapped[str | None] = mapped_column(String(20))
    #: when the next instalment must have arrived
    payment_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: when it stopped occupying its booth (released, expired, rejected, lapsed, cancelled or withdrawn)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: the free order holding the staff badges (tickets of the event's exhibitor-badge type)
    badge_order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))

    event: Mapped[Event] = relationship()
    booth: Mapped[Booth] = relationship()
    exhibitor: Mapped[User] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    badge_order: Mapped[Order | None] = relationship()

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def amount_outstanding(self) -> int:
        return self.amount_due - self.amount_paid

    def hold_is_live(self, now: datetime) -> bool:
        """A hold still keeping its booth for the exhibitor's application."""
        return self.status is BookingStatus.HELD and self.hold_expires_at > now

    def hold_ran_out(self, now: datetime) -> bool:
        """A hold past its time: its booth is free again, whether or not the sweep has expired it yet."""
        return self.status is BookingStatus.HELD and self.hold_expires_at <= now

    def awaits_payment(self, now: datetime) -> bool:
        """Reserved and waiting for money, before its payment deadline."""
        return self.status is BookingStatus.AWAITING_PAYMENT and (
            self.payment_due_at is None or self.payment_due_at > now)


#: the booking a payment pays for, declared beside its class as events declare Payment.order
Payment.booth_booking = relationship(BoothBooking)
