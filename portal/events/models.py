"""Events and their registration: programme, ticket types, quotas, questions, orders, tickets, check-ins."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.db import Base, UTCDateTime, str_enum, utcnow
from portal.events.short_codes import formatted, new_short_code
from portal.i18n import hanoi_date
from portal.payments.models import Payment
from portal.search import Searchable


class EventStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CLOSED = "closed"


class Event(Base):
    """TechFest Hanoi, Techmart and the like."""

    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("pending_order_minutes > 0", name="pending_order_minutes_positive"),
        CheckConstraint("waitlist_offer_hours > 0", name="waitlist_offer_hours_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    description_vi: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    venue_vi: Mapped[str] = mapped_column(String(255), default="")
    venue_en: Mapped[str] = mapped_column(String(255), default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[EventStatus] = mapped_column(str_enum(EventStatus, "event_status"), default=EventStatus.DRAFT)
    #: file name under the uploads folder, or None
    cover_image: Mapped[str | None] = mapped_column(String(120))
    #: how long an unpaid order keeps its seats
    pending_order_minutes: Mapped[int] = mapped_column(Integer, default=3 * 24 * 60, server_default="4320")
    #: how long a waiting-list offer reserves its seat
    waitlist_offer_hours: Mapped[int] = mapped_column(Integer, default=48, server_default="48")
    #: until when ticket holders may change the attendee name (None: until the event starts)
    attendee_change_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: how to pay the organisers themselves (their bank account, their desk, how to ask for an invoice): what the
    #: "pay the organiser" way to pay shows buyers and exhibitors
    payment_instructions_vi: Mapped[str] = mapped_column(Text, server_default="")
    payment_instructions_en: Mapped[str] = mapped_column(Text, server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    team: Mapped[list[EventOrganiser]] = relationship(back_populates="event", cascade="all, delete-orphan")
    programme: Mapped[list[ProgrammeItem]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="ProgrammeItem.starts_at"
    )
    #: the types on sale to the public; exhibitors' badge types are left out, so the registration form,
    #: availability and orders never reach them (portal/booths issues badges)
    ticket_types: Mapped[list[TicketType]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="TicketType.position",
        primaryjoin=lambda: and_(Event.id == TicketType.event_id, TicketType.kind == TicketKind.PUBLIC),
    )
    quotas: Mapped[list[Quota]] = relationship(back_populates="event", cascade="all, delete-orphan",
                                               order_by="Quota.id")
    questions: Mapped[list[Question]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="Question.position"
    )

    @property
    def attendee_changes_until(self) -> datetime:
        """Until when ticket holders may change the attendee: the deadline the organisers set, or the start."""
        return self.attendee_change_deadline or self.starts_at


class EventOrganiser(Base):
    """A member of an event's organiser team: they may manage the event and check people in."""

    __tablename__ = "event_organisers"
    __table_args__ = (UniqueConstraint("event_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)

    event: Mapped[Event] = relationship(back_populates="team")
    user: Mapped[User] = relationship()


class ProgrammeKind(enum.StrEnum):
    TALK = "talk"
    PITCH = "pitch"
    THREE_PARTY = "three_party"
    WORKSHOP = "workshop"
    EXHIBITION = "exhibition"


class ProgrammeItem(Base):
    """A slot on a stage: a talk, a pitch session or a three-party (manager–scientist–business) meeting."""

    __tablename__ = "programme_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ProgrammeKind] = mapped_column(str_enum(ProgrammeKind, "programme_kind"))
    title_vi: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    #: the stage or room in Vietnamese (its name from before rooms had an English one), and in English
    stage: Mapped[str] = mapped_column(String(80), default="")
    stage_en: Mapped[str] = mapped_column(String(80), default="", server_default="")
    speakers: Mapped[str] = mapped_column(String(500), default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())

    event: Mapped[Event] = relationship(back_populates="programme")


class Eligibility(enum.StrEnum):
    ANYONE = "anyone"
    #: the buyer belongs to a startup organisation
    STARTUP = "startup"
    #: an organiser approves each order before it is confirmed
    APPROVAL = "approval"


quota_ticket_types = Table(
    "quota_ticket_types",
    Base.metadata,
    Column("quota_id", ForeignKey("quotas.id", ondelete="CASCADE"), primary_key=True),
    Column("ticket_type_id", ForeignKey("ticket_types.id", ondelete="CASCADE"), primary_key=True),
)


class TicketKind(enum.StrEnum):
    #: sold on the event's registration form
    PUBLIC = "public"
    #: an exhibitor's staff badge, issued with a booth and never sold
    EXHIBITOR_BADGE = "exhibitor_badge"


class TicketType(Base):
    __tablename__ = "ticket_types"
    __table_args__ = (
        # One badge type per event, so two exhibitors naming their first badges at once share it.
        Index("uq_ticket_types_badge_type", "event_id", unique=True,
              postgresql_where=text("kind = 'exhibitor_badge'"), sqlite_where=text("kind = 'exhibitor_badge'")),
        CheckConstraint("price >= 0", name="price_not_negative"),
        # an order of this type holds at least one ticket (the form asks for 1 to 100)
        CheckConstraint("max_per_order >= 1", name="max_per_order_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    name_vi: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    description_vi: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    #: integer đồng; 0 is a free ticket
    price: Mapped[int] = mapped_column(Integer, default=0)
    sale_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sale_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    max_per_order: Mapped[int] = mapped_column(Integer, default=10)
    eligibility: Mapped[Eligibility] = mapped_column(str_enum(Eligibility, "eligibility"), default=Eligibility.ANYONE)
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[TicketKind] = mapped_column(str_enum(TicketKind, "ticket_kind"), default=TicketKind.PUBLIC,
                                             server_default=TicketKind.PUBLIC.value)

    event: Mapped[Event] = relationship(back_populates="ticket_types")
    quotas: Mapped[list[Quota]] = relationship(secondary=quota_ticket_types, back_populates="ticket_types",
                                               order_by="Quota.id")

    def sale_starts_later(self, now: datetime) -> bool:
        return self.sale_starts_at is not None and now < self.sale_starts_at

    def sale_has_ended(self, now: datetime) -> bool:
        """Its own sale end has passed, or the event is over."""
        return (self.sale_ends_at is not None and now >= self.sale_ends_at) or now >= self.event.ends_at

    def is_on_sale(self, now: datetime) -> bool:
        return not self.sale_starts_later(now) and not self.sale_has_ended(now)


class Quota(Base):
    """A number of seats shared by one or more ticket types (a day, a hall); a type may count against several."""

    __tablename__ = "quotas"
    __table_args__ = (
        CheckConstraint("size >= 0", name="size_not_negative"),
        CheckConstraint("held >= 0", name="held_not_negative"),
        CheckConstraint("held <= size", name="held_within_size"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    #: the name in Vietnamese (from before quotas had an English one), and in English
    name: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120), default="", server_default="")
    size: Mapped[int] = mapped_column(Integer)
    #: seats given away: live tickets of orders that hold seats (a pending one until it is released, even past its
    #: time) and open waiting-list offers. Changed in the transaction that takes or frees them, under this row's
    #: lock, so an order reads it instead of counting tickets (orders.py); `flask quotas repair` recounts it.
    held: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    event: Mapped[Event] = relationship(back_populates="quotas")
    ticket_types: Mapped[list[TicketType]] = relationship(secondary=quota_ticket_types, back_populates="quotas")


class QuestionKind(enum.StrEnum):
    TEXT = "text"
    CHOICE = "choice"
    CHECKBOX = "checkbox"


class Question(Base):
    """A custom registration question, asked for every attendee."""

    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    label_vi: Mapped[str] = mapped_column(String(255))
    label_en: Mapped[str] = mapped_column(String(255))
    kind: Mapped[QuestionKind] = mapped_column(str_enum(QuestionKind, "question_kind"))
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    #: for choice questions: the options, each {"key": …, "vi": …, "en": …}, "retired": true once no longer
    #: offered; answers hold the key (see options.py)
    options: Mapped[list] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)

    event: Mapped[Event] = relationship(back_populates="questions")


class OrderStatus(enum.StrEnum):
    #: waiting for an organiser's approval (holds its seats)
    AWAITING_APPROVAL = "awaiting_approval"
    #: waiting for payment until expires_at (holds its seats)
    PENDING = "pending"
    PAID = "paid"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


#: orders whose tickets occupy seats (a PENDING one only until it expires)
HOLDING_STATUSES = (OrderStatus.AWAITING_APPROVAL, OrderStatus.PENDING, OrderStatus.PAID)


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_event_status", "event_id", "status"),
        # the few pending orders, by when they run out: finding those past their time costs the same however many
        # orders an event has sold
        Index("ix_orders_pending_expiry", "expires_at", postgresql_where=text("status = 'pending'"),
              sqlite_where=text("status = 'pending'")),
        CheckConstraint("total >= 0", name="total_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the reference shown to people and carried in transfer memos
    code: Mapped[str] = mapped_column(String(16), unique=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[OrderStatus] = mapped_column(str_enum(OrderStatus, "order_status"))
    #: integer đồng, computed on the server from the ticket types' prices
    total: Mapped[int] = mapped_column(Integer)
    #: which payment provider settles it: a key of portal.payments.providers.PROVIDERS
    provider: Mapped[str] = mapped_column(String(20))
    locale: Mapped[str] = mapped_column(String(5), default="vi")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    event: Mapped[Event] = relationship()
    buyer: Mapped[User] = relationship()
    tickets: Mapped[list[Ticket]] = relationship(back_populates="order", cascade="all, delete-orphan",
                                                 order_by="Ticket.id")

    def is_lapsed(self, now: datetime) -> bool:
        """Waiting for payment past its time: it can no longer be paid and its seats are free, whether or not the
        minute's sweep has marked it expired yet."""
        return self.status is OrderStatus.PENDING and self.expires_at is not None and self.expires_at <= now

    def awaits_payment(self, now: datetime) -> bool:
        """Waiting for payment, and still in time."""
        return self.status is OrderStatus.PENDING and not self.is_lapsed(now)


class Ticket(Searchable, Base):
    """One seat for one attendee. The code is the QR content: unguessable and unique; the short code is printed
    under it for typing at the door (short_codes.py)."""

    __tablename__ = "tickets"
    __search_fields__ = ("attendee_name", "attendee_email", "attendee_organisation", "short_code")
    __table_args__ = (CheckConstraint("price >= 0", name="price_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    ticket_type_id: Mapped[int] = mapped_column(ForeignKey("ticket_types.id"), index=True)
    #: the price charged for this ticket, in đồng
    price: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(43), unique=True)
    #: unique across all events, so a code typed at another event's door is recognised as that event's
    short_code: Mapped[str] = mapped_column(String(8), unique=True, default=new_short_code)
    attendee_name: Mapped[str] = mapped_column(String(120))
    attendee_email: Mapped[str] = mapped_column(String(254))
    attendee_organisation: Mapped[str] = mapped_column(String(200), default="")
    #: question id (as text) → answer
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    order: Mapped[Order] = relationship(back_populates="tickets")
    ticket_type: Mapped[TicketType] = relationship()
    #: one entry per event day the ticket was let in, earliest first; test check-ins are no entries
    check_ins: Mapped[list[CheckIn]] = relationship(
        primaryjoin="and_(Ticket.id == CheckIn.ticket_id, CheckIn.is_test.is_(False))", order_by="CheckIn.day",
        viewonly=True)

    def __init__(self, **values) -> None:
        # Given now, not only by the column's default at INSERT (bulk inserts), so the search text holds it.
        values.setdefault("short_code", new_short_code())
        super().__init__(**values)

    @property
    def printed_code(self) -> str:
        """The short code as printed under the QR code."""
        return formatted(self.short_code)

    @property
    def first_check_in(self) -> CheckIn | None:
        return self.check_ins[0] if self.check_ins else None

    @property
    def is_valid(self) -> bool:
        """Not cancelled, of an order that holds its seats (awaiting approval or payment, or paid)."""
        return self.cancelled_at is None and self.order.status in HOLDING_STATUSES

    @property
    def is_confirmed(self) -> bool:
        """Valid and paid for: its QR code lets its holder in."""
        return self.cancelled_at is None and self.order.status is OrderStatus.PAID

    @property
    def may_cancel(self) -> bool:
        """Whether its holder may give it back themselves: a free ticket, valid and not used to enter yet (paid
        tickets are cancelled by the organisers, as a refund may apply)."""
        return self.price == 0 and self.is_valid and not self.check_ins

    def may_change_attendee(self, now: datetime) -> bool:
        """Whether its holder may still change whose ticket it is."""
        return self.is_valid and now < self.order.event.attendee_changes_until


def _hanoi_day_of_check_in(context) -> date:
    return hanoi_date(context.get_current_parameters()["checked_in_at"])


class CheckIn(Base):
    """A ticket let in on one event day. One per ticket and day, enforced by the database, so two scans the same
    day record one entry while a multi-day pass comes in again the next day.

    A test check-in, made before the event's days to try the door's phones, is recorded the same way but marked:
    no count, list or export counts it, and the organisers delete them when they are done."""

    __tablename__ = "check_ins"
    __table_args__ = (UniqueConstraint("ticket_id", "day"), Index("ix_check_ins_day_area", "day", "area"))

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    checked_in_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: the Asia/Ho_Chi_Minh calendar date of checked_in_at: the event day this entry admits the ticket for
    day: Mapped[date] = mapped_column(Date, default=_hanoi_day_of_check_in)
    checked_in_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: the check-in list (an area: a hall, a gate) it was recorded on
    area: Mapped[str] = mapped_column(String(80), default="")
    is_test: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    ticket: Mapped[Ticket] = relationship()
    checked_in_by: Mapped[User | None] = relationship()


class WaitingListStatus(enum.StrEnum):
    WAITING = "waiting"
    #: offered a seat, reserved until offer_expires_at
    OFFERED = "offered"
    #: used the offer to buy a ticket
    CONVERTED = "converted"
    #: the offer ran out unused
    LAPSED = "lapsed"
    REMOVED = "removed"
    #: took themselves off the list
    LEFT = "left"


class WaitingListEntry(Base):
    __tablename__ = "waiting_list_entries"
    __table_args__ = (
        UniqueConstraint("ticket_type_id", "email"),
        # open offers by when they run out (see Order's ix_orders_pending_expiry)
        Index("ix_waiting_list_entries_offer_expiry", "offer_expires_at", postgresql_where=text("status = 'offered'"),
              sqlite_where=text("status = 'offered'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_type_id: Mapped[int] = mapped_column(ForeignKey("ticket_types.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(120))
    locale: Mapped[str] = mapped_column(String(5), default="vi")
    status: Mapped[WaitingListStatus] = mapped_column(str_enum(WaitingListStatus, "waiting_list_status"),
                                                      default=WaitingListStatus.WAITING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: hash of the personal link's token while an offer is open
    offer_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    ticket_type: Mapped[TicketType] = relationship()

    @property
    def is_in_line(self) -> bool:
        """Waiting, or holding an offer: what its person may leave."""
        return self.status in (WaitingListStatus.WAITING, WaitingListStatus.OFFERED)

    @property
    def may_offer_by_hand(self) -> bool:
        """Whether an organiser may offer this person a seat out of turn: they wait, or their offer ran out."""
        return self.status in (WaitingListStatus.WAITING, WaitingListStatus.LAPSED)

    @property
    def may_remove(self) -> bool:
        """Whether an organiser may take this person off the list: not once they booked or were removed."""
        return self.status in (WaitingListStatus.WAITING, WaitingListStatus.OFFERED, WaitingListStatus.LAPSED)


#: the order a payment pays for. Payments sit below events and know nothing of orders (payables.PayableKind), so the
#: relationship is declared here, beside the class it points to; the column, payments.order_id, is the payments'.
Payment.order = relationship(Order)
