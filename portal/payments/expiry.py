"""Pending payments closed once what they pay for can no longer be paid.

The order or booking itself expires elsewhere (events.orders.expire_pending_orders, booths' sweeps), and the buyer
is reminded to pay by the reminder rules (events.reminders); this module only tidies the payments left
behind, so a finance page never shows money as still expected for an order that is gone. A transfer that arrives
anyway is still matched by its reference and lands in the review queue (reconciliation.py), because an expired
payment may still succeed (services.TRANSITIONS).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from portal.payments import services
from portal.payments.models import Payment, PaymentStatus
from portal.payments.payables import payable_kinds


def expire_abandoned_payments(session: Session, now: datetime) -> int:
    """Pending payments of whatever can no longer be paid (payables.PayableKind.no_longer_payable) become expired."""
    gone = [getattr(Payment, kind.foreign_key).in_(kind.no_longer_payable()) for kind in payable_kinds()]
    abandoned = session.scalars(
        select(Payment).where(Payment.status == PaymentStatus.PENDING, or_(*gone)).with_for_update(of=Payment)
    ).all()
    for payment in abandoned:
        services.expire_payment(session, payment, now)
    return len(abandoned)
