"""Payment providers: how an order's money arrives. Stripe and VietQR (issue 6) plug in behind the same interface."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class PaymentProvider:
    key: str
    label: LazyString
    #: what the buyer reads on the order page while it waits for payment
    instructions: LazyString
    #: whether buyers may choose it (organisers may still settle an order through it)
    offered_to_buyers: bool = True


FREE = PaymentProvider("free", _l("Free"), _l("No payment is needed."), offered_to_buyers=False)
MANUAL = PaymentProvider(
    "manual",
    _l("Pay the organiser"),
    _l("Pay as agreed with the organisers (for example at their desk or by invoice). Your seats are held until "
       "the time shown; the organisers confirm the order when they receive the money."),
)

PROVIDERS: dict[str, PaymentProvider] = {p.key: p for p in (FREE, MANUAL)}


def buyer_providers() -> list[PaymentProvider]:
    return [p for p in PROVIDERS.values() if p.offered_to_buyers]
