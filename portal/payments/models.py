"""Payments: money asked for a ticket order or a booth booking, its refunds, the providers' event log, and the
organisation's bank accounts that transfers go to.

A payment points at what it pays for through one column per kind of payable (order_id, booth_booking_id: the
tables are named, not imported); the relationships to those rows are declared by the packages that own them
(Payment.order in events, Payment.booth_booking in booths), and payments reach them through payables.PayableKind.

A payment is one attempt to collect one amount through one provider (a Stripe Checkout Session, a bank transfer
with its own reference, a demo card). An order whose card payment expired gets a second payment, not a reset one,
so the history of what the buyer tried stays readable.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.db import Base, UTCDateTime, str_enum, utcnow
from portal.payments.payables import kind_of
from portal.payments.providers import MANUAL, PROVIDERS, PaymentProvider


class PaymentStatus(enum.StrEnum):
    #: asked for, not (yet) received
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    #: the provider refused it (a declined card, a failed bank debit)
    FAILED = "failed"
    #: the provider's time for it ran out (an abandoned Checkout Session)
    EXPIRED = "expired"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"


#: payments whose money arrived (some of it may have gone back since)
COLLECTED_STATUSES = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)


class ReviewReason(enum.StrEnum):
    """Why a payment waits for an organiser instead of fulfilling its order or booking by itself."""

    #: the provider reports another amount than the payment asked for
    AMOUNT_MISMATCH = "amount_mismatch"
    #: the provider reports another currency than VND
    CURRENCY_MISMATCH = "currency_mismatch"
    #: the money arrived but the order or booking could no longer take it (expired, cancelled, paid already)
    NOT_FULFILLED = "not_fulfilled"


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (
        # a payment is for exactly one thing: a ticket order or a booth booking
        CheckConstraint("(order_id IS NULL) <> (booth_booking_id IS NULL)", name="one_payable"),
        CheckConstraint("amount > 0", name="amount_positive"),
        # more than `amount` may arrive (an overpaid transfer waits for review), but never less than nothing, and no
        # more can go back than arrived
        CheckConstraint("amount_received >= 0", name="amount_received_not_negative"),
        CheckConstraint("amount_refunded BETWEEN 0 AND amount_received", name="refunded_within_received"),
        Index("ix_payments_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    booth_booking_id: Mapped[int | None] = mapped_column(ForeignKey("booth_bookings.id", ondelete="CASCADE"),
                                                         index=True)
    #: what is asked for, in whole units of `currency` (đồng: VND has no minor unit)
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="VND")
    #: a key of portal.payments.providers.PROVIDERS
    provider: Mapped[str] = mapped_column(String(20))
    status: Mapped[PaymentStatus] = mapped_column(str_enum(PaymentStatus, "payment_status"),
                                                  default=PaymentStatus.PENDING)
    #: the provider's id of the attempt: a Stripe Checkout Session id (cs_…)
    provider_reference: Mapped[str | None] = mapped_column(String(255), unique=True)
    #: the provider's id of the money itself: a Stripe PaymentIntent id (pi_…), which refunds refer to
    provider_payment_id: Mapped[str | None] = mapped_column(String(255), index=True)
    #: where the buyer pays, while the attempt is open (a Stripe Checkout page)
    checkout_url: Mapped[str | None] = mapped_column(Text)
    #: the short reference a bank transfer carries in its memo ("VE 7K3Q9X"), see vietqr.new_reference
    transfer_reference: Mapped[str | None] = mapped_column(String(16), unique=True)
    #: the organisers' account a bank transfer was asked into (the one its transfer page shows): only that account's
    #: statement lines may pay it. Not a foreign key: adding one to payments on SQLite rebuilds the table, and
    #: dropping the old table there deletes its refunds by cascade; bank accounts are never deleted.
    bank_account_id: Mapped[int | None] = mapped_column(Integer, index=True)
    #: what the provider reported receiving, in the payment's currency (0 until then)
    amount_received: Mapped[int] = mapped_column(Integer, default=0)
    amount_refunded: Mapped[int] = mapped_column(Integer, default=0)
    #: set when the payment waits for an organiser's decision instead of fulfilling by itself; it stays on a payment
    #: refunded in full, which so settled nothing (finance counts it as returned)
    review_reason: Mapped[ReviewReason | None] = mapped_column(str_enum(ReviewReason, "payment_review_reason"))
    #: what the provider said, for the organiser reviewing it (amounts, currency, the refusal): a stored message
    #: (i18n.stored_message), shown in the reader's language, since webhooks that write it have none
    review_message: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    #: when the provider stops accepting this attempt (a Checkout Session's expires_at), if it says
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    succeeded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    refunds: Mapped[list[Refund]] = relationship(back_populates="payment", order_by="Refund.id")
    bank_account: Mapped[BankAccount | None] = relationship(
        primaryjoin="foreign(Payment.bank_account_id) == BankAccount.id")

    @classmethod
    def received_by_hand(cls, amount: int, now: datetime, **payable) -> Payment:
        """Money an organiser received themselves (at their desk, by invoice, a transfer they checked): a payment of
        the manual provider, received in full at once, so that it is counted, exported and refunded like any other
        (its refunds are recorded by hand). `payable`: order=, order_id=, booth_booking= or booth_booking_id=."""
        return cls(amount=amount, provider=MANUAL.key, status=PaymentStatus.SUCCEEDED, amount_received=amount,
                   created_at=now, updated_at=now, succeeded_at=now, **payable)

    @property
    def method(self) -> PaymentProvider:
        """The provider it goes through, which knows how its money arrives and goes back."""
        return PROVIDERS[self.provider]

    @property
    def paid_for(self):
        """The row it pays for: a ticket order or a booth booking (both have event_id)."""
        return kind_of(self).target_of(self)

    @property
    def amount_kept(self) -> int:
        """What the organisers hold of it: received minus refunded."""
        return self.amount_received - self.amount_refunded


class RefundStatus(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Refund(Base):
    """Money given back from a payment: by an organiser through the portal, or seen in the provider's dashboard."""

    __tablename__ = "refunds"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id", ondelete="CASCADE"), index=True)
    amount: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text, default="")
    #: the organiser who refunded; None when it was done outside the portal (Stripe's dashboard)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: Stripe's refund id (re_…); None for a transfer refunded by hand
    provider_refund_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    status: Mapped[RefundStatus] = mapped_column(str_enum(RefundStatus, "refund_status"),
                                                 default=RefundStatus.PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    payment: Mapped[Payment] = relationship(back_populates="refunds")
    created_by: Mapped[User | None] = relationship()


class PaymentEvent(Base):
    """Every notification a provider sent (a Stripe webhook event, an imported bank transfer), once: the unique
    key is what makes a repeated delivery change nothing. Written in the transaction that acts on it."""

    __tablename__ = "payment_events"
    __table_args__ = (UniqueConstraint("provider", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    #: the provider's id of the notification (evt_…), or a bank statement line's fingerprint
    external_id: Mapped[str] = mapped_column(String(255))
    #: e.g. checkout.session.completed
    type: Mapped[str] = mapped_column(String(80))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: what it did, e.g. 'fulfilled', 'ignored: already succeeded', 'flagged: amount_mismatch'
    outcome: Mapped[str] = mapped_column(String(200), default="")
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id", ondelete="SET NULL"), index=True)


_ACTIVE = "active"


class BankAccount(Base):
    """An account of the organisers that buyers transfer to. One is active: the one payment pages show."""

    __tablename__ = "bank_accounts"
    __table_args__ = (
        Index("uq_bank_accounts_active", "active", unique=True,
              postgresql_where=text(_ACTIVE), sqlite_where=text(_ACTIVE)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the 6 digits NAPAS assigns to the bank (970436 is Vietcombank)
    bank_bin: Mapped[str] = mapped_column(String(6))
    #: what buyers read, e.g. "Vietcombank – Sở Giao dịch"
    bank_name: Mapped[str] = mapped_column(String(120))
    account_number: Mapped[str] = mapped_column(String(19))
    #: the name the bank shows the payer before they confirm, in capitals without marks as banks print it
    holder_name: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    #: the organisers who reconcile its statements, besides the admins
    reconcilers: Mapped[list[BankAccountReconciler]] = relationship(
        back_populates="bank_account", cascade="all, delete-orphan", order_by="BankAccountReconciler.id")


class BankAccountReconciler(Base):
    """An organiser an admin named on a bank account: they import, review and settle its statements."""

    __tablename__ = "bank_account_reconcilers"
    __table_args__ = (UniqueConstraint("bank_account_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    bank_account: Mapped[BankAccount] = relationship(back_populates="reconcilers")
    user: Mapped[User] = relationship()


class LineStatus(enum.StrEnum):
    """What became of a bank statement line (reconciliation.py)."""

    #: reference and amount matched a payment: its order or booking is paid
    MATCHED = "matched"
    #: credited to its payment, which still waits for the rest
    PARTIAL = "partial"
    #: credited to its payment, but more than it asked for: not fulfilled, an organiser decides
    EXCESS = "excess"
    #: credited to a payment that had been paid before: the payer paid twice
    DUPLICATE = "duplicate"
    #: the right amount, but the order or booking could no longer take it (expired, cancelled)
    UNFULFILLED = "unfulfilled"
    #: no known payment reference in the memo: not credited to anything
    UNMATCHED = "unmatched"
    #: an organiser credited it to a payment from the review queue
    LINKED = "linked"
    #: an organiser accepted the money it brought beyond what was due, late, or twice (reconciliation.accept_line)
    ACCEPTED = "accepted"
    #: an organiser closed it without crediting it (further), saying why
    REJECTED = "rejected"


#: lines waiting in the review queue
REVIEW_STATUSES = (LineStatus.PARTIAL, LineStatus.EXCESS, LineStatus.DUPLICATE, LineStatus.UNFULFILLED,
                   LineStatus.UNMATCHED)


class StatementImport(Base):
    """One upload of a bank statement by an organiser."""

    __tablename__ = "statement_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    #: bookings of money received the file holds
    lines_read: Mapped[int] = mapped_column(Integer, default=0)
    #: of those, how many an earlier import had taken already (and were skipped)
    lines_already_imported: Mapped[int] = mapped_column(Integer, default=0)

    bank_account: Mapped[BankAccount] = relationship()
    imported_by: Mapped[User | None] = relationship()
    lines: Mapped[list[StatementLine]] = relationship(back_populates="statement_import",
                                                      order_by="StatementLine.line_number")


class StatementLine(Base):
    """A booking of money received, imported once (the fingerprint is what makes a second import of the same
    statement, or of an overlapping one, under this account or another, credit nothing twice)."""

    __tablename__ = "statement_lines"
    __table_args__ = (
        UniqueConstraint("bank_account_id", "fingerprint"),
        # reconciliation looks a line up under every account; not unique, as lines imported under two accounts
        # before the lookup existed may share one
        Index("ix_statement_lines_fingerprint", "fingerprint"),
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_statement_lines_status_booked", "status", "booked_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("statement_imports.id", ondelete="CASCADE"), index=True)
    bank_account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id", ondelete="CASCADE"))
    #: statements.TransferLine.fingerprint
    fingerprint: Mapped[str] = mapped_column(String(64))
    line_number: Mapped[int] = mapped_column(Integer)
    booked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    amount: Mapped[int] = mapped_column(Integer)
    memo: Mapped[str] = mapped_column(Text, default="")
    bank_transaction_id: Mapped[str | None] = mapped_column(String(100))
    #: the payment reference found in the memo, if any ("VE 7K3Q9X")
    reference: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[LineStatus] = mapped_column(str_enum(LineStatus, "statement_line_status"))
    #: the payment the money was credited to
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id", ondelete="SET NULL"), index=True)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    review_note: Mapped[str] = mapped_column(Text, default="")

    statement_import: Mapped[StatementImport] = relationship(back_populates="lines")
    payment: Mapped[Payment | None] = relationship()
    reviewed_by: Mapped[User | None] = relationship()
