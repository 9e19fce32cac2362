"""Payments: opening one for a payable, confirming the money whatever the provider, refunds seen at the provider,
bank transfers applied by reconciliation, the provider event log, and the organisers' bank accounts.

Every change to a payment takes its row lock first and reads it afresh, so two notifications about one payment
(two copies of a webhook, a webhook and the demo card's button, a statement imported twice at once) run one
after the other and the second sees what the first did. The order of locks is payment, then its order or booking,
then (for seats given back) the quotas.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session, selectinload

from portal.accounts.models import Role, User
from portal.accounts.services import find_user_by_email
from portal.audit.services import record
from portal.db import InsertIgnoringDuplicates, after_commit
from portal.errors import Conflict, DomainError, Invalid, NotFound
from portal.i18n import format_vnd, money, stored_message, stored_message_of
from portal.payments import vietqr
from portal.payments.models import (
    COLLECTED_STATUSES,
    BankAccount,
    BankAccountReconciler,
    Payment,
    PaymentEvent,
    PaymentStatus,
    Refund,
    RefundStatus,
    ReviewReason,
)
from portal.payments.payables import Payable, PayableKind, kind_of, target_id_of
from portal.payments.providers import DEMO_CARD, HOOKS, PROVIDERS, VIETQR

#: a provider's attempt this close to its expiry is not handed to a buyer any more: they might not finish in time,
#: and Stripe refuses to open a Checkout Session for less than 30 minutes
EXPIRY_MARGIN = timedelta(minutes=30)
#: the payment lifecycle: which status may follow which. The money is the truth: a provider reporting it received
#: after it said the attempt expired or failed (events arrive in any order) still counts.
TRANSITIONS: dict[PaymentStatus, set[PaymentStatus]] = {
    PaymentStatus.PENDING: {PaymentStatus.SUCCEEDED, PaymentStatus.FAILED, PaymentStatus.EXPIRED},
    PaymentStatus.FAILED: {PaymentStatus.SUCCEEDED},
    PaymentStatus.EXPIRED: {PaymentStatus.SUCCEEDED},
    PaymentStatus.SUCCEEDED: {PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED},
    PaymentStatus.PARTIALLY_REFUNDED: {PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED},
    PaymentStatus.REFUNDED: set(),
}


class PaymentClosed(Conflict):
    default_message = _l("This can no longer be paid: it was paid already, cancelled, or its time to pay ran out.")


class PaymentInReview(Conflict):
    default_message = _l("We have received a payment for this that the organisers are checking. They will contact "
                         "you; please do not pay again.")


class Outcome(enum.StrEnum):
    """What a notification about a payment did: kept in the event log and told to tests and benchmarks."""

    FULFILLED = "fulfilled"
    #: the money arrived but an organiser decides what happens (see Payment.review_reason)
    FLAGGED = "flagged"
    #: part of the amount arrived; the rest is still expected
    PARTIAL = "partial"
    FAILED = "failed"
    EXPIRED = "expired"
    REFUNDED = "refunded"
    #: the provider is still working on it (an asynchronous payment method)
    WAITING = "waiting"
    #: this notification was handled before
    DUPLICATE = "duplicate"
    #: it changes nothing given what the payment already went through (an expiry after the money arrived)
    IGNORED = "ignored"
    UNKNOWN_PAYMENT = "unknown payment"


# --- opening a payment ----------------------------------------------------------------------

def open_payment(session: Session, payable: Payable, provider_key: str, now: datetime) -> Payment:
    """The pending payment through `provider_key` for what `payable` asks now, created unless one is still usable:
    a second click, or coming back to the payment page, reuses it (and its transfer reference). The payable's row is
    locked first, so two clicks at once find or create the same one. Refuses what can no longer be paid, an amount
    the provider cannot take (AmountNotAccepted), and a new attempt while money already received waits for an
    organiser's review (the buyer would pay twice). A bank transfer is asked into the account payment pages show now;
    one asked into an account shown before is not reused, its reference belonging to that account."""
    kind = payable.kind
    payable = kind.describe(kind.locked(session, payable.target.id), now)
    if not payable.open or payable.amount_due <= 0:
        raise PaymentClosed()
    # orders and applications are refused beforehand; this stops what was placed before the limits were checked
    provider = PROVIDERS[provider_key]
    provider.check_amount(payable.amount_due)
    account = active_bank_account(session) if provider.pays_into_account else None
    link = getattr(Payment, kind.foreign_key) == payable.target.id
    candidates = session.scalars(
        select(Payment).where(link, Payment.provider == provider_key, Payment.status == PaymentStatus.PENDING,
                              Payment.amount == payable.amount_due,
                              Payment.bank_account_id.is_not_distinct_from(account.id if account else None))
        .order_by(Payment.id.desc())
    ).all()
    for payment in candidates:
        if payment.expires_at is None or payment.expires_at > now + EXPIRY_MARGIN:
            return payment
    in_review = Payment.review_reason.is_not(None) & (Payment.status != PaymentStatus.REFUNDED)
    if session.scalar(select(Payment.id).where(link, in_review).limit(1)) is not None:
        raise PaymentInReview()
    payment = Payment(amount=payable.amount_due, currency=payable.currency, provider=provider_key,
                      status=PaymentStatus.PENDING, created_at=now, updated_at=now, **payable.payment_link)
    if provider.pays_into_account:
        payment.transfer_reference = _unused_reference(session, kind.reference_prefix)
        payment.bank_account = account
    session.add(payment)
    session.flush()
    return payment


class PartlyPaid(Conflict):
    default_message = _l("Part of your payment has arrived, so the way to pay can no longer be changed: pay the rest "
                         "the same way, or contact the organisers.")


def change_method(session: Session, payable: Payable, provider_key: str, now: datetime) -> bool:
    """The payer chooses another way to pay what is still open, and returns whether it changed (choosing the
    way already chosen, a second click, changes nothing). Refused: a way they may not choose now (Invalid on the
    form's `provider` field), one that cannot take the amount (AmountNotAccepted), anything no longer payable, and
    any change once money arrived on a pending payment (PartlyPaid): the rest comes the same way, never twice.

    The pending payments of the way left behind are expired, so their page can no longer be paid (a card page
    still open at Stripe is closed after the commit); money that reaches one anyway still counts (TRANSITIONS) and
    waits for an organiser. Locks the payments first, then the order or booking, as the notifications do."""
    kind = payable.kind
    pending = (select(Payment).where(getattr(Payment, kind.foreign_key) == payable.target.id,
                                     Payment.status == PaymentStatus.PENDING)
               .order_by(Payment.id).with_for_update().execution_options(populate_existing=True))
    session.scalars(pending).all()
    target = kind.locked(session, payable.target.id)
    # read again under the order's lock: a click a moment before may have opened one since (payments are opened
    # under that lock, so none can appear now)
    pending = session.scalars(pending).all()
    payable = kind.describe(target, now)
    if not payable.open or payable.amount_due <= 0:
        raise PaymentClosed()
    provider = PROVIDERS.get(provider_key)
    if provider is None or not provider.offered_to_buyers or not provider.available():
        raise Invalid(_l("Choose one of the offered ways to pay."), "provider")
    provider.check_amount(payable.amount_due)
    if provider_key == payable.provider_key:
        return False
    if any(payment.amount_received or payment.review_reason for payment in pending):
        raise PartlyPaid()
    for payment in pending:
        withdraw = HOOKS.withdraws.get(payment.provider)
        if withdraw is not None and payment.provider_reference:
            after_commit(session, lambda withdraw=withdraw, reference=payment.provider_reference: withdraw(reference))
        expire_payment(session, payment, now)
    kind.choose_provider(target, provider_key)
    record(session, "payment.method_changed", actor_id=payable.buyer_id, object_type=kind.key,
           object_id=target.id, old=payable.provider_key, new=provider_key)
    return True


def received_so_far(session: Session, kind: PayableKind, target_ids) -> dict[int, int]:
    """Money that arrived on payments still pending (a transfer of part of the amount), by order or booking id:
    one query for a whole list page. Rows with none are left out."""
    link = getattr(Payment, kind.foreign_key)
    target_ids = list(target_ids)
    if not target_ids:
        return {}
    return dict(session.execute(
        select(link, func.sum(Payment.amount_received))
        .where(link.in_(target_ids), Payment.status == PaymentStatus.PENDING, Payment.amount_received > 0)
        .group_by(link)).all())


def _unused_reference(session: Session, prefix: str) -> str:
    # 32⁵ references per prefix: a clash is rare, two in a row rarer still; the unique column is the guarantee
    while True:
        reference = vietqr.new_reference(prefix)
        if session.scalar(select(Payment.id).where(Payment.transfer_reference == reference)) is None:
            return reference


def payment_for_buyer(session: Session, buyer: User, payment_id: int, now: datetime) -> tuple[Payment, Payable]:
    """A payment and what it pays for, if `buyer` is the one paying; NotFound otherwise (ids cannot be probed)."""
    payment = session.get(Payment, payment_id)
    if payment is None:
        raise NotFound()
    payable = kind_of(payment).describe(payment.paid_for, now)
    if payable.buyer_id != buyer.id:
        raise NotFound()
    return payment, payable


def locked_payment(session: Session, payment_id: int) -> Payment | None:
    """The payment, locked until the transaction ends and read afresh."""
    return session.scalar(select(Payment).where(Payment.id == payment_id).with_for_update()
                          .execution_options(populate_existing=True))


# --- the event log --------------------------------------------------------------------------

def handle_notification(session: Session, *, provider: str, external_id: str, event_type: str,
                        payment_id: int | None, act: Callable[[Payment], Outcome] | None, now: datetime) -> Outcome:
    """What every provider's notification goes through, in the caller's transaction: log it (a repeat stops
    here), lock its payment, `act` on it, note the outcome in the log. A webhook, the demo card and an imported
    bank transfer all confirm money this way."""
    event_id = record_event(session, provider, external_id, event_type, now)
    if event_id is None:
        return Outcome.DUPLICATE
    payment = locked_payment(session, payment_id) if payment_id is not None else None
    if act is None:
        outcome = Outcome.IGNORED
    elif payment is None:
        outcome = Outcome.UNKNOWN_PAYMENT
    else:
        outcome = act(payment)
    session.execute(_NOTE_OUTCOME, {"event_id": event_id, "event_payment_id": payment.id if payment else None,
                                    "event_outcome": outcome.value})
    return outcome


#: the log is written with statements built once: a webhook storm spends more building and flushing ORM objects
#: than running what they send
_insert_event = InsertIgnoringDuplicates(PaymentEvent.__table__, [PaymentEvent.provider, PaymentEvent.external_id],
                                         PaymentEvent.id)
_NOTE_OUTCOME = (update(PaymentEvent.__table__).where(PaymentEvent.__table__.c.id == bindparam("event_id"))
                 .values(payment_id=bindparam("event_payment_id"), outcome=bindparam("event_outcome")))


def record_event(session: Session, provider: str, external_id: str, event_type: str, now: datetime) -> int | None:
    """Logs a provider's notification in the caller's transaction and returns the log entry's id; None if it was
    logged before, which makes a repeat change nothing (see InsertIgnoringDuplicates for two copies at once)."""
    return _insert_event(session, {"provider": provider, "external_id": external_id, "type": event_type,
                                   "received_at": now})


# --- confirming the money -------------------------------------------------------------------

def _move(payment: Payment, target: PaymentStatus, now: datetime) -> None:
    if target not in TRANSITIONS[payment.status]:
        raise Conflict(_l("This payment cannot change from %(old)s to %(new)s.", old=payment.status.value,
                          new=target.value))
    payment.status = target
    payment.updated_at = now
    if target is PaymentStatus.SUCCEEDED:
        payment.succeeded_at = now


#: the review messages of a payment that received another sum, or another currency, than it asked for
OTHER_AMOUNT = _l("%(asked)s was asked for; %(received)s arrived.")
PART_OF_THE_AMOUNT = _l("%(asked)s was asked for; %(received)s has arrived so far, %(owed)s is still owed.")


def _amounts(payment: Payment, received: int, currency: str) -> dict:
    return stored_message(OTHER_AMOUNT, asked=money(payment.amount, payment.currency),
                          received=money(received, currency))


def _flag(session: Session, payment: Payment, reason: ReviewReason, message: dict) -> Outcome:
    payment.review_reason, payment.review_message = reason, message
    record(session, "payment.flagged", object_type="payment", object_id=payment.id, provider=payment.provider,
           reason=reason.value, message=message)
    return Outcome.FLAGGED


def confirm_payment(session: Session, payment: Payment, *, amount: int, currency: str, now: datetime,
                    provider_payment_id: str | None = None) -> Outcome:
    """The provider says the money arrived: `amount` in `currency`. Checked against what the payment asked; then
    the order or booking is fulfilled, or, when it can no longer take the money, the payment is flagged for an
    organiser. Call with the payment locked (locked_payment) in the transaction that logged the notification."""
    if payment.status in COLLECTED_STATUSES:
        return Outcome.IGNORED
    if provider_payment_id:
        payment.provider_payment_id = provider_payment_id
    _move(payment, PaymentStatus.SUCCEEDED, now)
    if currency.upper() != payment.currency:
        return _flag(session, payment, ReviewReason.CURRENCY_MISMATCH, _amounts(payment, amount, currency))
    payment.amount_received = amount
    if amount != payment.amount:
        return _flag(session, payment, ReviewReason.AMOUNT_MISMATCH, _amounts(payment, amount, currency))
    return _fulfil(session, payment, now)


def _fulfil(session: Session, payment: Payment, now: datetime) -> Outcome:
    kind = kind_of(payment)
    with session.no_autoflush:  # the payment's changes go out with the order's, in one flush at the commit
        target = kind.locked(session, target_id_of(payment))
    try:
        # No savepoint: fulfil refuses before it changes anything (PayableKind.fulfil), and a webhook storm would
        # pay two round trips per event for one.
        kind.fulfil(session, target, payment, now)
    except DomainError as refusal:
        return _flag(session, payment, ReviewReason.NOT_FULFILLED, stored_message_of(refusal.message))
    payment.review_reason, payment.review_message = None, None
    return Outcome.FULFILLED


def fail_payment(session: Session, payment: Payment, now: datetime) -> Outcome:
    """The provider refused the money (a failed bank debit). The order keeps waiting: the buyer may try again."""
    if payment.status is not PaymentStatus.PENDING:
        return Outcome.IGNORED
    _move(payment, PaymentStatus.FAILED, now)
    return Outcome.FAILED


def expire_payment(session: Session, payment: Payment, now: datetime) -> Outcome:
    """The provider's attempt ran out (an abandoned checkout page). The order keeps waiting until its own time."""
    if payment.status is not PaymentStatus.PENDING:
        return Outcome.IGNORED
    _move(payment, PaymentStatus.EXPIRED, now)
    payment.checkout_url = None
    return Outcome.EXPIRED


def count_as_received(payment: Payment, now: datetime) -> None:
    """Money that arrived on a payment still pending (part of its amount, or more, waiting for review) counts as
    received without settling anything: it is about to be refunded."""
    _move(payment, PaymentStatus.SUCCEEDED, now)


def record_refunds(session: Session, payment: Payment, *, refunded_total: int, currency: str,
                   refunds: list[tuple[str, int]], now: datetime) -> Outcome:
    """The provider reports `refunded_total` of the payment given back, listing the refunds it knows by id and
    amount. Refunds started in the portal are confirmed; those done elsewhere (the provider's dashboard) are
    recorded without an organiser. All of it refunded, the order is refunded too."""
    if payment.status not in COLLECTED_STATUSES or currency.upper() != payment.currency:
        return Outcome.IGNORED
    if refunded_total <= payment.amount_refunded:
        return Outcome.IGNORED
    known = {refund.provider_refund_id: refund for refund in payment.refunds if refund.provider_refund_id}
    for refund_id, amount in refunds:
        if refund_id in known:
            known[refund_id].status = RefundStatus.SUCCEEDED
        else:
            payment.refunds.append(Refund(amount=amount, provider_refund_id=refund_id, status=RefundStatus.SUCCEEDED,
                                          created_at=now))
    unexplained = refunded_total - sum(r.amount for r in payment.refunds if r.status is RefundStatus.SUCCEEDED)
    if unexplained > 0:
        payment.refunds.append(Refund(amount=unexplained, status=RefundStatus.SUCCEEDED, created_at=now))
    payment.amount_refunded = refunded_total
    fully = refunded_total >= payment.amount_received
    _move(payment, PaymentStatus.REFUNDED if fully else PaymentStatus.PARTIALLY_REFUNDED, now)
    record(session, "payment.refunded", object_type="payment", object_id=payment.id, provider=payment.provider,
           refunded_total=refunded_total)
    if fully:
        kind = kind_of(payment)
        kind.refunded(session, kind.locked(session, target_id_of(payment)), payment, now)
    return Outcome.REFUNDED


def pay_with_demo_card(session: Session, payment_id: int, now: datetime) -> Outcome:
    """The demo card's "pay" button: the provider confirms the full amount at once, through the same path as a
    Stripe webhook. A second click is a repeated notification and changes nothing."""
    return handle_notification(
        session, provider=DEMO_CARD.key, external_id=f"payment-{payment_id}", event_type="demo_card.paid",
        payment_id=payment_id, now=now,
        act=lambda payment: confirm_payment(session, payment, amount=payment.amount, currency=payment.currency,
                                            now=now, provider_payment_id=f"demo-{payment.id}"),
    )


# --- bank transfers (for reconciliation) ----------------------------------------------------

def find_transfer_payment(session: Session, reference: str, bank_account_id: int) -> Payment | None:
    """The bank-transfer payment a reference (as vietqr.find_references reads it off a memo) belongs to, if it was
    asked into this account: money that reached another account does not pay it."""
    return session.scalar(select(Payment).where(Payment.transfer_reference == reference, Payment.provider == VIETQR.key,
                                                Payment.bank_account_id == bank_account_id))


def apply_bank_transfer(session: Session, payment_id: int, *, amount: int, external_id: str,
                        now: datetime) -> Outcome:
    """Credits a transfer seen on the bank statement to a payment, in the caller's transaction. `external_id`
    identifies the statement line (statements.TransferLine.fingerprint): a line applied before credits nothing.
    Transfers add up; when they reach the amount exactly the order or booking is fulfilled. Less is PARTIAL (the
    rest is still expected, and the payment waits for review), more is FLAGGED."""
    return handle_notification(
        session, provider=VIETQR.key, external_id=external_id, event_type="bank_transfer", payment_id=payment_id,
        act=lambda payment: _credit_transfer(session, payment, amount, now), now=now,
    )


def _credit_transfer(session: Session, payment: Payment, amount: int, now: datetime) -> Outcome:
    received = payment.amount_received + amount
    payment.amount_received = received
    if received > payment.amount or payment.status in COLLECTED_STATUSES:
        return _flag(session, payment, ReviewReason.AMOUNT_MISMATCH, _amounts(payment, received, payment.currency))
    if received < payment.amount:
        _flag(session, payment, ReviewReason.AMOUNT_MISMATCH, stored_message(
            PART_OF_THE_AMOUNT, asked=money(payment.amount, payment.currency),
            received=money(received, payment.currency), owed=money(payment.amount - received, payment.currency)))
        return Outcome.PARTIAL
    _move(payment, PaymentStatus.SUCCEEDED, now)
    return _fulfil(session, payment, now)


# --- an organiser's decision on money received ----------------------------------------------

def accept_payment(session: Session, organiser: User, payment: Payment, *, fulfil: bool, owed_back: int,
                   now: datetime) -> Refund | None:
    """An organiser accepts money that did not settle its payment by itself (more than asked, after the deadline,
    paid twice). The payment counts as received; with `fulfil` its order or booking is confirmed now, an expired
    one reinstated first if what it held is still free (a DomainError, e.g. orders.SeatsGone, says why not, and
    the caller rolls back). `owed_back` of the money is the payer's: a refund the organisers send by hand, pending
    until refunds.confirm_sent records it. Call with the payment locked (locked_payment)."""
    if payment.status is PaymentStatus.PENDING:
        _move(payment, PaymentStatus.SUCCEEDED, now)
    kind = kind_of(payment)
    target = kind.locked(session, target_id_of(payment))
    if fulfil:
        kind.reinstate(session, target, now)
        kind.fulfil(session, target, payment, now)
    payment.review_reason, payment.review_message = None, None
    owed = None
    if owed_back > 0:
        with force_locale(kind.describe(target, now).locale):
            reason = str(_l("You paid %(amount)s more than was due; it is sent back to you.",
                            amount=format_vnd(owed_back)))
        owed = Refund(amount=owed_back, reason=reason, created_by_id=organiser.id, status=RefundStatus.PENDING,
                      created_at=now)
        payment.refunds.append(owed)
        session.flush()
    record(session, "payment.accepted", actor_id=organiser.id, object_type="payment", object_id=payment.id,
           fulfilled=fulfil, owed_back=owed_back, refund_id=owed.id if owed else None)
    return owed


# --- bank accounts --------------------------------------------------------------------------

def active_bank_account(session: Session) -> BankAccount | None:
    return session.scalar(select(BankAccount).where(BankAccount.active.is_(True)))


def list_bank_accounts(session: Session) -> list[BankAccount]:
    """Every account, the active one first, with the organisers named on it."""
    return list(session.scalars(
        select(BankAccount).options(selectinload(BankAccount.reconcilers).joinedload(BankAccountReconciler.user))
        .order_by(BankAccount.active.desc(), BankAccount.id)))


def add_bank_account(session: Session, admin: User, *, bank_bin: str, bank_name: str, account_number: str,
                     holder_name: str, activate: bool) -> BankAccount:
    """A new account buyers may transfer to; the details must fit a VietQR code (checked by building one)."""
    bank_bin, account_number = bank_bin.strip(), account_number.strip()
    vietqr.transfer_payload(bank_bin, account_number)
    account = BankAccount(bank_bin=bank_bin, bank_name=bank_name.strip(), account_number=account_number,
                          holder_name=vietqr.strip_diacritics(holder_name).strip().upper())
    session.add(account)
    session.flush()
    record(session, "bank_account.added", actor_id=admin.id, object_type="bank_account", object_id=account.id,
           bank_bin=account.bank_bin, account_number=account.account_number)
    if activate:
        activate_bank_account(session, admin, account.id)
    return account


def activate_bank_account(session: Session, admin: User, account_id: int) -> BankAccount:
    """Makes this the account payment pages show; the one shown before is no longer shown to new payments."""
    account = session.get(BankAccount, account_id)
    if account is None:
        raise NotFound()
    if not account.active:
        # one statement clears the old one first: the unique index allows one active account at a time
        session.execute(update(BankAccount).where(BankAccount.active.is_(True)).values(active=False))
        account.active = True
        record(session, "bank_account.activated", actor_id=admin.id, object_type="bank_account",
               object_id=account.id, account_number=account.account_number)
    return account


def deactivate_bank_account(session: Session, admin: User, account_id: int) -> BankAccount:
    """No account is shown: buyers can no longer choose bank transfer until another is activated."""
    account = session.get(BankAccount, account_id)
    if account is None:
        raise NotFound()
    if account.active:
        account.active = False
        record(session, "bank_account.deactivated", actor_id=admin.id, object_type="bank_account",
               object_id=account.id, account_number=account.account_number)
    return account


class NotAnOrganiser(DomainError):
    default_message = _l("No organiser uses this e-mail address. An administrator must give them the organiser "
                         "role first.")


def name_reconciler(session: Session, admin: User, account_id: int, email: str) -> User:
    """Names an organiser on the account: from now on they import, review and settle its statements."""
    account = session.get(BankAccount, account_id)
    if account is None:
        raise NotFound()
    user = find_user_by_email(session, email)
    if user is None or not user.has_role(Role.ORGANISER):
        raise NotAnOrganiser()
    if any(named.user_id == user.id for named in account.reconcilers):
        raise Conflict(_l("%(name)s reconciles this account already.", name=user.full_name))
    account.reconcilers.append(BankAccountReconciler(user=user))
    session.flush()
    record(session, "bank_account.reconciler_named", actor_id=admin.id, object_type="bank_account",
           object_id=account.id, user_id=user.id, account_number=account.account_number)
    return user


def remove_reconciler(session: Session, admin: User, account_id: int, user_id: int) -> None:
    named = session.scalar(select(BankAccountReconciler).where(BankAccountReconciler.bank_account_id == account_id,
                                                               BankAccountReconciler.user_id == user_id))
    if named is None:
        raise NotFound()
    session.delete(named)
    session.flush()
    record(session, "bank_account.reconciler_removed", actor_id=admin.id, object_type="bank_account",
           object_id=account_id, user_id=user_id)
