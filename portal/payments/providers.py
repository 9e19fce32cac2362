"""Payment providers: how money for a payable (a ticket order, a booth booking) arrives.

Every provider answers three questions: may buyers choose it now (`available`: its keys are configured, there is an
account to transfer to), can one payment through it ask this much (`accepts`), and, once chosen, where does the buyer
go to pay (`start`). It also says how its money arrives and goes back (`pays_into_account`, `refunds_online`), so
no other module asks which provider a payment went through by its key. Whatever the provider, the money is confirmed
through one function, `portal.payments.services.confirm_payment`, which fulfils the payable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from flask import current_app
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portal.db import INTEGER_MAX
from portal.errors import DomainError
from portal.i18n import format_vnd
from portal.payments import vietqr

if TYPE_CHECKING:
    from portal.payments.payables import Payable

#: the most any payment may ask: what the amount columns hold
MAX_AMOUNT = INTEGER_MAX


class AmountNotAccepted(DomainError):
    """The chosen way to pay cannot carry the amount; the form shows it on the payment choice."""

    field = "provider"


@dataclass(frozen=True)
class PaymentProvider:
    key: str
    label: LazyString
    #: what the buyer reads on the order page while it waits for payment
    instructions: LazyString
    #: whether buyers may choose it (organisers may still settle an order through it)
    offered_to_buyers: bool = True
    #: what the button that sends the buyer to pay says (None: nothing to do online)
    pay_button: LazyString | None = None
    #: the most one payment through it may ask, in đồng
    max_amount: int = MAX_AMOUNT
    #: the money goes to the organisers' bank account that payment pages show, with a reference in the memo that
    #: reconciliation matches: each payment is asked into one account and gets its own reference
    pays_into_account: bool = False
    #: its refunds go back through the provider's API (the money returns by itself, confirmed later); the organisers
    #: send back anybody else's money themselves and the portal records it
    refunds_online: bool = False

    def available(self) -> bool:
        """Whether buyers may choose it now."""
        return True

    def accepts(self, amount: int) -> bool:
        """Whether one payment of `amount` đồng can go through it."""
        return 0 <= amount <= self.max_amount

    def check_amount(self, amount: int) -> None:
        """AmountNotAccepted, saying the limit, unless one payment of `amount` can go through it."""
        if not self.accepts(amount):
            raise AmountNotAccepted(_l(
                "%(method)s takes at most %(limit)s in one payment, and this comes to %(amount)s. Choose another "
                "way to pay.", method=self.label, limit=format_vnd(self.max_amount), amount=format_vnd(amount)))

    def start(self, session: Session, payable: Payable, now: datetime) -> str:
        """Begins paying `payable` in the caller's transaction and returns where to send the buyer: the provider's
        own start when it has one (a card page, a transfer's page), else the payable's page, whose instructions say
        what to do."""
        start = HOOKS.starts.get(self.key)
        return start(session, payable, now) if start else payable.page_url


class _StripeCheckout(PaymentProvider):
    def available(self) -> bool:
        config = current_app.config
        return bool(config.get("STRIPE_SECRET_KEY") and config.get("STRIPE_WEBHOOK_SECRET"))


class _DemoCard(PaymentProvider):
    def available(self) -> bool:
        return bool(current_app.config.get("DEMO_CARD"))


class _BankTransfer(PaymentProvider):
    def available(self) -> bool:
        return HOOKS.has_bank_account()


@dataclass
class _Hooks:
    """What providers need of the modules that open payments (payments.services, payments.stripe_checkout), which
    build on this one and so register it here at import instead of being imported."""

    #: provider key → start(session, payable, now) → where the buyer goes; without one, the payable's own page
    starts: dict[str, Callable[[Session, Payable, datetime], str]] = field(default_factory=dict)
    #: provider key → withdraw(provider_reference): closes at the provider a payment the payer left for another way
    #: to pay (a card page still open), after the commit; without one, expiring it in the portal is enough
    withdraws: dict[str, Callable[[str], None]] = field(default_factory=dict)
    #: whether payment pages have a bank account to show
    has_bank_account: Callable[[], bool] = lambda: False


HOOKS = _Hooks()


FREE = PaymentProvider("free", _l("Free"), _l("No payment is needed."), offered_to_buyers=False, max_amount=0)
MANUAL = PaymentProvider(
    "manual",
    _l("Pay the organiser"),
    _l("Pay as agreed with the organisers (for example at their desk or by invoice). Your seats are held until "
       "the time shown; the organisers confirm the order when they receive the money."),
)
STRIPE = _StripeCheckout(
    "stripe",
    _l("Card (Visa, Mastercard, JCB)"),
    _l("Pay by card on Stripe's secure payment page. Your order is confirmed as soon as the payment goes through."),
    pay_button=_l("Pay by card"),
    # Stripe takes at most 8 digits in an amount, whatever the currency: 99,999,999 ₫ (about 4,000 US dollars)
    max_amount=99_999_999,
    refunds_online=True,
)
DEMO_CARD = _DemoCard(
    "demo_card",
    _l("Demo card (no real money)"),
    _l("For trying out the portal: a pretend card payment that completes at once. No money moves."),
    pay_button=_l("Pay with the demo card"),
)
VIETQR = _BankTransfer(
    "vietqr",
    _l("Bank transfer (VietQR)"),
    _l("Scan the VietQR code with your banking app, or transfer the exact amount with the payment reference in the "
       "memo. Your order is confirmed once the transfer reaches the organisers' account."),
    pay_button=_l("Show the transfer details"),
    max_amount=vietqr.NAPAS_247_MAX_AMOUNT,
    pays_into_account=True,
)

PROVIDERS: dict[str, PaymentProvider] = {p.key: p for p in (FREE, MANUAL, STRIPE, DEMO_CARD, VIETQR)}
#: the providers whose refunds the organisers send themselves (for queries: a refund of theirs may wait to be sent)
REFUNDED_BY_HAND = tuple(p.key for p in PROVIDERS.values() if not p.refunds_online)


def buyer_providers() -> list[PaymentProvider]:
    return [p for p in PROVIDERS.values() if p.offered_to_buyers and p.available()]
