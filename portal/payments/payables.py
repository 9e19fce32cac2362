"""What a payment pays for, seen through one interface, and the registry of the kinds of things that are paid for.

Payments know nothing of tickets or booths: a package that sells something (events' orders, booths' bookings)
defines a `PayableKind` in its own package and registers it here. The kind knows how to describe its rows as a
`Payable` (the amount due now, who pays, in which language, until when), how to lock one for the fulfilment, and
what happens when the money arrived, went back, or can no longer come. Payments, providers and their pages work on
Payables only, so a new kind of thing (an incubation programme's fee) is paid the way ticket orders are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask import url_for
from sqlalchemy import Select
from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.notifications.services import absolute_url

if TYPE_CHECKING:
    from flask_babel.speaklater import LazyString

    from portal.payments.models import Payment, Refund

CURRENCY = "VND"


@dataclass(frozen=True)
class Payable:
    kind: PayableKind
    #: the row paid for (an order, a booking)
    target: Any
    buyer_id: int
    #: the provider the buyer chose (a key of providers.PROVIDERS)
    provider_key: str
    #: what to pay now, in đồng (a booking's next instalment)
    amount_due: int
    #: what the buyer paid for, in their language, e.g. "TechFest Hanoi 2026 – order 7K3Q…": what providers are
    #: told, the same on every attempt
    description: str
    #: the same in the language of whoever reads the page
    title: LazyString
    buyer_email: str
    locale: str
    #: whether money is still expected: waiting for payment and before its deadline
    open: bool
    pay_before: datetime | None
    currency: str = CURRENCY

    @property
    def page_url(self) -> str:
        """The buyer's page of the order or booking: what they come back to after paying."""
        endpoint, values = self.kind.page_endpoint(self.target)
        return url_for(endpoint, **values)

    @property
    def absolute_page_url(self) -> str:
        """The same, for a provider sending the buyer back (built from BASE_URL)."""
        endpoint, values = self.kind.page_endpoint(self.target)
        return absolute_url(endpoint, **values)

    @property
    def payment_link(self) -> dict[str, int]:
        """The Payment columns that point at it."""
        return {self.kind.foreign_key: self.target.id}


class PayableKind:
    key: str
    #: the Payment column pointing at this kind of row
    foreign_key: str
    #: the Payment relationship to the row (declared by the kind's package, which owns the row's class)
    relationship: str
    #: how this kind's transfer references start (vietqr.new_reference)
    reference_prefix: str

    def target_of(self, payment: Payment):
        return getattr(payment, self.relationship)

    def describe(self, target, now: datetime) -> Payable:
        raise NotImplementedError

    def for_buyer(self, session: Session, buyer: User, key: str, now: datetime) -> Payable:
        """The payable `buyer` may pay, by the key its URLs use; NotFound for anybody else's."""
        raise NotImplementedError

    def choose_provider(self, target, provider_key: str) -> None:
        """Notes the way the payer now pays it (services.change_method has checked it); locked `target`."""
        target.provider = provider_key

    def locked(self, session: Session, target_id: int):
        """The row, locked until the transaction ends, and read afresh: the fulfilment decides on it."""
        raise NotImplementedError

    def page_endpoint(self, target) -> tuple[str, dict]:
        """The endpoint and URL values of the buyer's page of the order or booking."""
        raise NotImplementedError

    def metadata(self, target) -> dict[str, str]:
        """What a provider keeps with the payment so that people reading its dashboard know what was bought."""
        raise NotImplementedError

    def loader_options(self, payment_path) -> list:
        """Loader options, from `payment_path` (a joinedload of a Payment), for what a payment's row shows of its
        target: lists of payments (the review queue) load them with the payments."""
        return []

    def no_longer_payable(self) -> Select:
        """The ids of rows that can no longer be paid (expired, cancelled): their pending payments are closed."""
        raise NotImplementedError

    def fulfil(self, session: Session, target, payment: Payment, now: datetime) -> None:
        """The payment's money arrived: confirm the order or booking. A DomainError means it can no longer take
        the money (expired, cancelled, already paid); nothing is changed then."""
        raise NotImplementedError

    def refunded(self, session: Session, target, payment: Payment, now: datetime) -> None:
        """All of the payment went back to the buyer (through the portal or the provider's dashboard)."""

    def refund_given(self, session: Session, organiser: User, payment: Payment, reason: str, now: datetime) -> None:
        """An organiser's refund of the payment went through (all or part of it): what the kind's policy does next."""

    def tell_refund(self, session: Session, payment: Payment, refund: Refund, **mail) -> None:
        """The payer's mail about a refund; `mail` holds what every refund mail says (key, amount, reason, fully,
        card)."""
        raise NotImplementedError

    def reinstate(self, session: Session, target, now: datetime) -> None:
        """Money that arrived after the deadline is accepted by an organiser: give the expired order or reservation
        back what it held, so that `fulfil` can confirm it; a DomainError says why it cannot be. Locked `target`."""


_KINDS: dict[str, PayableKind] = {}


def register(kind: PayableKind) -> PayableKind:
    """Adds a kind of payable; its package calls this when it is imported (the app imports every package)."""
    _KINDS[kind.key] = kind
    return kind


def payable_kinds() -> list[PayableKind]:
    return list(_KINDS.values())


def kind_of(payment: Payment) -> PayableKind:
    """The kind of what `payment` pays for: the one whose column is set (the database allows exactly one)."""
    return next(kind for kind in _KINDS.values() if getattr(payment, kind.foreign_key) is not None)


def target_id_of(payment: Payment) -> int:
    return getattr(payment, kind_of(payment).foreign_key)


def reference_prefixes() -> tuple[str, ...]:
    """How transfer references of every kind start ("VE", "GH"): what reconciliation looks for in memos."""
    return tuple(kind.reference_prefix for kind in _KINDS.values())
