"""Demo payments, so `make run` shows VietQR codes and reconciliation (PRODUCT.md §4: invented details).

The demo bank accounts, the two the sample statements in `portal/payments/samples/` are of, are added only when the
organisers have no account yet, so a real one is never replaced. The demo orders waiting for a bank transfer carry
the references those statements name, each asked into the account of its statement, so an organiser importing
`vietcombank.csv` sees a matched, a partial, an excess, a duplicate and an unmatched transfer, and `vietinbank.csv`
(under the VietinBank account) three more matched ones and two unmatched. The demo organiser is named on both
accounts, so they may import the statements. Each is created once, looked up by its reference.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.services import find_user_by_email
from portal.db import utcnow
from portal.events.models import Event, Order, OrderStatus, Ticket, TicketType
from portal.events.orders import new_order_code, new_ticket_code
from portal.payments.models import BankAccount, BankAccountReconciler, Payment, PaymentStatus
from portal.payments.providers import VIETQR

#: invented: 970436 is Vietcombank's BIN and 970415 VietinBank's; the numbers, the sample statements', belong to
#: nobody. The first is the one payment pages show.
VIETCOMBANK, VIETINBANK = "999900002026", "108866602026"
DEMO_ACCOUNTS = (
    {"bank_bin": "970436", "bank_name": "Vietcombank – Hà Nội (demo)", "account_number": VIETCOMBANK,
     "holder_name": "TRUNG TAM DOI MOI SANG TAO HA NOI", "active": True},
    {"bank_bin": "970415", "bank_name": "VietinBank – Hoàn Kiếm (demo)", "account_number": VIETINBANK,
     "holder_name": "TRUNG TAM DOI MOI SANG TAO HA NOI", "active": False},
)
#: who reconciles the demo accounts, besides the admins
DEMO_RECONCILER = "organiser@demo.dmst-hanoi.vn"

TECHFEST, TECHMART = "techfest-hanoi-2026", "techmart-hanoi-2026"
INVESTOR, BUSINESS = "Investor pass", "Business delegate pass"
#: reference, account, event, ticket type (English name), tickets, buyer; what the sample statements do with it
DEMO_TRANSFER_ORDERS = (
    ("VE 7K3Q9Z", VIETCOMBANK, TECHFEST, INVESTOR, 1, "startup@demo.dmst-hanoi.vn"),  # paid exactly, then again
    ("VE 5RT2N9", VIETCOMBANK, TECHMART, BUSINESS, 2, "manager@demo.dmst-hanoi.vn"),  # paid exactly
    ("VE H4MWRG", VIETCOMBANK, TECHFEST, INVESTOR, 2, "mentor@demo.dmst-hanoi.vn"),  # a deposit: half of it
    ("VE QZ7HC9", VIETCOMBANK, TECHMART, BUSINESS, 1, "reviewer@demo.dmst-hanoi.vn"),  # 100.000 ₫ too much
    ("VE B8XPD4", VIETINBANK, TECHFEST, INVESTOR, 1, "admin@demo.dmst-hanoi.vn"),  # paid exactly
    ("VE W6KY4Y", VIETINBANK, TECHMART, BUSINESS, 1, "startup@demo.dmst-hanoi.vn"),  # paid exactly
    ("VE 9VJ3EX", VIETINBANK, TECHFEST, INVESTOR, 1, "manager@demo.dmst-hanoi.vn"),  # paid exactly
)


def load(session: Session) -> int:
    """Returns how many accounts and orders it created."""
    created = 0
    if session.scalar(select(BankAccount.id).limit(1)) is None:
        reconciler = find_user_by_email(session, DEMO_RECONCILER)
        session.add_all([BankAccount(**account, reconcilers=[BankAccountReconciler(user=reconciler)] if reconciler
                                     else []) for account in DEMO_ACCOUNTS])
        session.flush()
        created += len(DEMO_ACCOUNTS)
    existing = set(session.scalars(select(Payment.transfer_reference).where(
        Payment.transfer_reference.in_([spec[0] for spec in DEMO_TRANSFER_ORDERS]))))
    events = {event.slug: event for event in session.scalars(select(Event).where(Event.slug.in_((TECHFEST, TECHMART))))}
    # beside real accounts the demo orders are asked into the one shown (the sample statements cannot pay them)
    accounts = {account.account_number: account for account in session.scalars(select(BankAccount))}
    shown = next((account for account in accounts.values() if account.active), None)
    now = utcnow()
    for days_ago, (reference, number, slug, type_name, tickets, buyer_email) in enumerate(DEMO_TRANSFER_ORDERS, 1):
        # without the demo events (a database of real ones) there is nothing to pay for
        if reference not in existing and slug in events:
            # placed over the last week, as the organisers' chart shows them
            placed = max(now - timedelta(days=days_ago, hours=3), events[slug].created_at)
            payment = _transfer_order(session, reference, events[slug], type_name, tickets, buyer_email, placed)
            payment.bank_account = accounts.get(number, shown)
            session.add(payment)
            created += 1
    return created


def _transfer_order(session: Session, reference: str, event: Event, type_name: str, tickets: int,
                    buyer_email: str, placed: datetime) -> Payment:
    ticket_type = session.scalar(select(TicketType).where(TicketType.event_id == event.id,
                                                          TicketType.name_en == type_name))
    buyer = find_user_by_email(session, buyer_email)
    total = ticket_type.price * tickets
    # kept until the event starts, so the demo statements still pay them however long after loading they are imported
    order = Order(code=new_order_code(), event=event, buyer=buyer, status=OrderStatus.PENDING, total=total,
                  provider=VIETQR.key, locale=buyer.locale, expires_at=event.starts_at, created_at=placed)
    order.tickets = [
        Ticket(ticket_type=ticket_type, price=ticket_type.price, code=new_ticket_code(),
               attendee_name=buyer.full_name if n == 0 else f"{buyer.full_name} ({n + 1})",
               attendee_email=buyer.email, answers={})
        for n in range(tickets)
    ]
    return Payment(order=order, amount=total, currency="VND", provider=VIETQR.key, status=PaymentStatus.PENDING,
                   transfer_reference=reference, created_at=placed, updated_at=placed)
