"""Receipts of paid ticket orders and booth bookings (deposit and balance): what was bought, what was paid how and
when, what went back, what is still owed. One `Receipt` feeds the printable page and the PDF, so both say the same.

A receipt is not a Vietnamese e-invoice (hóa đơn điện tử, which only an invoicing provider registered with the tax
office can issue), and says so in both languages whatever the reader's.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from portal.accounts.models import Organisation, OrganisationMember, User
from portal.booths.models import BoothBooking
from portal.booths.payable import BOOTH_BOOKING
from portal.errors import NotFound
from portal.events.models import Event, Order, Ticket
from portal.finance.services import PAYMENT_STATUS_LABELS, SETTLED_ORDER_STATUSES, provider_label
from portal.i18n import format_local_datetime, format_vnd, localized
from portal.payments.models import COLLECTED_STATUSES, Payment, Refund, RefundStatus
from portal.pdf import Document

#: shown in both languages on every receipt, untranslated on purpose
NOT_AN_E_INVOICE = ("Biên nhận này không phải là hóa đơn điện tử hợp lệ theo quy định của pháp luật Việt Nam.",
                    "This receipt is not a legal e-invoice under Vietnamese law.")


@dataclass(frozen=True)
class ReceiptLine:
    description: str
    quantity: int
    unit_price: int

    @property
    def amount(self) -> int:
        return self.quantity * self.unit_price


@dataclass(frozen=True)
class ReceiptPayment:
    method: str
    status: str
    paid_at: datetime | None
    amount: int
    #: what it paid for when it is one of several instalments ("Deposit", "Balance"), else ""
    instalment: str = ""


@dataclass(frozen=True)
class Receipt:
    #: "Receipt for order …", "Receipt for booth …", in the reader's language
    title: str
    #: names the PDF file
    reference: str
    event: Event
    buyer: User
    #: the company and tax code the buyer gave (a booth application), or their organisation's
    company: str
    tax_code: str
    #: "Ordered", "Applied", in the reader's language, and when
    made_label: str
    made_at: datetime
    lines: list[ReceiptLine]
    payments: list[ReceiptPayment]
    refunds: list[Refund]
    #: what is still owed (a booth's balance not yet paid)
    outstanding: int = 0

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.lines)

    @property
    def paid(self) -> int:
        return sum(payment.amount for payment in self.payments)

    @property
    def refunded(self) -> int:
        return sum(refund.amount for refund in self.refunds)

    @property
    def net(self) -> int:
        return self.paid - self.refunded


def _load(session: Session, order_id: int) -> Order:
    return session.scalar(
        select(Order).where(Order.id == order_id)
        .options(joinedload(Order.event), joinedload(Order.buyer),
                 selectinload(Order.tickets).joinedload(Ticket.ticket_type))
    )


def _collected(session: Session, *where) -> list[Payment]:
    return list(session.scalars(
        select(Payment).where(*where, Payment.status.in_(COLLECTED_STATUSES))
        .options(selectinload(Payment.refunds)).order_by(Payment.id)
    ))


def _payment(payment: Payment, instalment: str = "") -> ReceiptPayment:
    return ReceiptPayment(provider_label(payment.provider), str(PAYMENT_STATUS_LABELS[payment.status]),
                          payment.succeeded_at, payment.amount_received, instalment)


def _refunds(collected: list[Payment]) -> list[Refund]:
    return [refund for payment in collected for refund in payment.refunds if refund.status is RefundStatus.SUCCEEDED]


def build(session: Session, order: Order) -> Receipt:
    """The receipt of a paid (or since refunded) order; NotFound for one that took no money."""
    if order.status not in SETTLED_ORDER_STATUSES or order.total <= 0:
        raise NotFound()
    order = _load(session, order.id)
    counts = Counter((ticket.ticket_type_id, ticket.price) for ticket in order.tickets)
    types = {ticket.ticket_type_id: ticket.ticket_type for ticket in order.tickets}
    lines = [ReceiptLine(localized(types[type_id], "name"), count, price)
             for (type_id, price), count in counts.items()]
    collected = _collected(session, Payment.order_id == order.id)
    company, tax_code = session.execute(
        select(Organisation.name, Organisation.tax_code).join(OrganisationMember)
        .where(OrganisationMember.user_id == order.buyer_id).order_by(OrganisationMember.id).limit(1)
    ).first() or ("", "")
    return Receipt(title=_("Receipt for order %(code)s", code=order.code), reference=order.code, event=order.event,
                   buyer=order.buyer, company=company, tax_code=tax_code,
                   made_label=_("Ordered"), made_at=order.created_at, lines=lines,
                   payments=[_payment(p) for p in collected], refunds=_refunds(collected))


def _instalment_names(booking: BoothBooking, collected: list[Payment]) -> list[str]:
    """What each payment, in the order they came, paid for: the deposit until it was in, then the balance."""
    if not 0 < booking.deposit_due < booking.amount_due:
        return [""] * len(collected)
    names, before = [], 0
    for payment in collected:
        after = before + payment.amount_received
        if after <= booking.deposit_due:
            names.append(_("Deposit"))
        elif before >= booking.deposit_due:
            names.append(_("Balance"))
        else:
            names.append(_("Deposit and balance"))
        before = after
    return names


def build_for_booth(session: Session, booking: BoothBooking) -> Receipt:
    """The receipt of a booth booking's payments so far (its deposit, then its balance); NotFound before any money
    arrived."""
    collected = _collected(session, Payment.booth_booking_id == booking.id)
    if not collected:
        raise NotFound()
    booth = booking.booth
    description = _("Booth %(number)s, zone %(zone)s, %(size)s m²", number=booth.number, zone=booth.zone or "—",
                    size=f"{booth.size_m2:g}")
    owed = booking.amount_outstanding if booking.is_active else 0
    reference = f"{BOOTH_BOOKING.reference_prefix}{booking.id}"
    return Receipt(title=_("Receipt for booth %(number)s", number=booth.number), reference=reference,
                   event=booking.event, buyer=booking.exhibitor, company=booking.company_name,
                   tax_code=booking.tax_code, made_label=_("Applied"), made_at=booking.submitted_at,
                   lines=[ReceiptLine(description, 1, booking.amount_due)],
                   payments=[_payment(p, name) for p, name in zip(collected, _instalment_names(booking, collected),
                                                                   strict=True)],
                   refunds=_refunds(collected), outstanding=owed)


def for_buyer(session: Session, buyer: User, code: str) -> Receipt:
    order = session.scalar(select(Order).where(Order.code == code))
    if order is None or order.buyer_id != buyer.id:
        raise NotFound()
    return build(session, order)


def for_event(session: Session, event: Event, order_id: int) -> Receipt:
    order = session.get(Order, order_id)
    if order is None or order.event_id != event.id:
        raise NotFound()
    return build(session, order)


def for_exhibitor(session: Session, exhibitor: User, booking_id: int) -> Receipt:
    booking = session.get(BoothBooking, booking_id)
    if booking is None or booking.exhibitor_id != exhibitor.id:
        raise NotFound()
    return build_for_booth(session, booking)


def booth_for_event(session: Session, event: Event, booking_id: int) -> Receipt:
    booking = session.get(BoothBooking, booking_id)
    if booking is None or booking.event_id != event.id:
        raise NotFound()
    return build_for_booth(session, booking)


# --- PDF ------------------------------------------------------------------------------------

def _when(moment: datetime | None) -> str:
    return format_local_datetime(moment, "short") if moment else ""


def to_pdf(receipt: Receipt) -> bytes:
    """The receipt as an A4 PDF in DejaVu Sans, which has every Vietnamese letter."""
    pdf = Document(receipt.title)
    text = pdf.paragraph
    text(_("Hanoi Innovation Portal"), 9)
    text(receipt.title, 16, "B")
    text(localized(receipt.event, "name"), 12)
    pdf.ln(2)
    text(_("Buyer: %(name)s <%(email)s>", name=receipt.buyer.full_name, email=receipt.buyer.email))
    if receipt.company:
        text(_("Company: %(company)s", company=receipt.company))
    if receipt.tax_code:
        text(_("Tax code: %(code)s", code=receipt.tax_code))
    text(f"{receipt.made_label}: {_when(receipt.made_at)}")
    pdf.ln(2)
    with pdf.table(col_widths=(50, 12, 19, 19), text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT")) as table:
        pdf.set_font("DejaVu", "", 10)
        table.row([_("Item"), _("Quantity"), _("Unit price"), _("Amount")])
        for line in receipt.lines:
            table.row([line.description, str(line.quantity), format_vnd(line.unit_price), format_vnd(line.amount)])
        table.row([_("Total"), "", "", format_vnd(receipt.total)])
    pdf.ln(2)
    text(_("Prices include VAT where it applies."), 9)
    pdf.ln(2)
    text(_("Payments"), 12, "B")
    for payment in receipt.payments:
        instalment = f"{payment.instalment} · " if payment.instalment else ""
        text(f"{instalment}{payment.method} · {_when(payment.paid_at)} · {format_vnd(payment.amount)}")
    if receipt.refunds:
        text(_("Refunds"), 12, "B")
        for refund in receipt.refunds:
            reason = f" · {refund.reason}" if refund.reason else ""
            text(f"{_when(refund.created_at)} · {format_vnd(refund.amount)}{reason}")
    text(_("Paid in the end: %(amount)s", amount=format_vnd(receipt.net)), 11, "B")
    if receipt.outstanding:
        text(_("Still to pay: %(amount)s", amount=format_vnd(receipt.outstanding)), 11, "B")
    pdf.ln(4)
    for line in NOT_AN_E_INVOICE:
        text(line, 10, "B")
    return pdf.to_bytes()
