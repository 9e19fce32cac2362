"""Demo payments, so `make run` shows VietQR codes and reconciliation (PRODUCT.md §4: invented details).

The demo bank account is added only when the organisers have no account yet, so a real one is never replaced.
The demo orders waiting for a bank transfer carry the references the sample statements in `samples/` name, so an
organiser importing `vietcombank.csv` sees a matched, a partial, an excess, a duplicate and an unmatched transfer,
and `vietinbank.csv` three more matched ones and two unmatched. Each is created once, looked up by its reference.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.services import find_user_by_email
from portal.events.models import Event, Order, OrderStatus, Ticket, TicketType
from portal.events.orders import new_order_code, new_ticket_code
from portal.payments.models import BankAccount, Payment, PaymentStatus

#: invented: 970436 is Vietcombank's BIN, the account number belongs to nobody
DEMO_ACCOUNT = {"bank_bin": "970436", "bank_name": "Vietcombank – Hà Nội (demo)", "account_number": "0011009876543",
                "holder_name": "TRUNG TAM DOI MOI SANG TAO HA NOI"}

TECHFEST, TECHMART = "techfest-hanoi-2026", "techmart-hanoi-2026"
INVESTOR, BUSINESS = "Investor pass", "Business delegate pass"
#: reference, event, ticket type (English name), tickets, buyer; what the sample statements do with it
DEMO_TRANSFER_ORDERS = (
    ("VE 7K3Q9Z", TECHFEST, INVESTOR, 1, "startup@demo.dmst-hanoi.vn"),  # paid exactly, then paid again
    ("VE 5RT2N9", TECHMART, BUSINESS, 2, "manager@demo.dmst-hanoi.vn"),  # paid exactly
    ("VE H4MWRG", TECHFEST, INVESTOR, 2, "mentor@demo.dmst-hanoi.vn"),  # a deposit: half of it
    ("VE QZ7HC9", TECHMART, BUSINESS, 1, "reviewer@demo.dmst-hanoi.vn"),  # 100.000 ₫ too much
    ("VE B8XPD4", TECHFEST, INVESTOR, 1, "admin@demo.dmst-hanoi.vn"),  # vietinbank.csv: paid exactly
    ("VE W6KY4Y", TECHMART, BUSINESS, 1, "startup@demo.dmst-hanoi.vn"),  # vietinbank.csv: paid exactly
    ("VE 9VJ3EX", TECHFEST, INVESTOR, 1, "manager@demo.dmst-hanoi.vn"),  # vietinbank.csv: paid exactly
)


def load(session: Session) -> int:
    """Returns how many accounts and orders it created."""
    created = 0
    if session.scalar(select(BankAccount.id).limit(1)) is None:
        session.add(BankAccount(**DEMO_ACCOUNT, active=True))
        created += 1
    existing = set(session.scalars(select(Payment.transfer_reference).where(
        Payment.transfer_reference.in_([spec[0] for spec in DEMO_TRANSFER_ORDERS]))))
    events = {event.slug: event for event in session.scalars(select(Event).where(Event.slug.in_((TECHFEST, TECHMART))))}
    for reference, slug, type_name, tickets, buyer_email in DEMO_TRANSFER_ORDERS:
        # without the demo events (a database of real ones) there is nothing to pay for
        if reference not in existing and slug in events:
            session.add(_transfer_order(session, reference, events[slug], type_name, tickets, buyer_email))
            created += 1
    return created


def _transfer_order(session: Session, reference: str, event: Event, type_name: str, tickets: int,
                    buyer_email: str) -> Payment:
    ticket_type = session.scalar(select(TicketType).where(TicketType.event_id == event.id,
                                                          TicketType.name_en == type_name))
    buyer = find_user_by_email(session, buyer_email)
    total = ticket_type.price * tickets
    # kept until the event starts, so the demo statements still pay them however long after loading they are imported
    order = Order(code=new_order_code(), event=event, buyer=buyer, status=OrderStatus.PENDING, total=total,
                  provider="vietqr", locale=buyer.locale, expires_at=event.starts_at)
    order.tickets = [
        Ticket(ticket_type=ticket_type, price=ticket_type.price, code=new_ticket_code(),
               attendee_name=buyer.full_name if n == 0 else f"{buyer.full_name} ({n + 1})",
               attendee_email=buyer.email, answers={})
        for n in range(tickets)
    ]
    return Payment(order=order, amount=total, currency="VND", provider="vietqr", status=PaymentStatus.PENDING,
                   transfer_reference=reference)
