"""Reconciling bank transfers: an organiser imports the bank's statement; each booking of money received is matched to
the payment whose reference its memo carries, and credited to it through services.apply_bank_transfer (the
order is fulfilled, the ticket mail goes out). What does not fit exactly waits in a review queue, where an
organiser links a line to a payment, accepts money that came in excess, late or twice (what is beyond the amount
is owed back to the payer: a refund to send), or rejects it with a note; all go to the audit log.

A statement line pays only a payment asked into the account the statement is of (Payment.bank_account_id), and
a statement naming its account (in its title lines) is imported only under that account. A line is imported once,
under whichever account (its fingerprint), so importing the same statement twice, two overlapping ones, or the
same one under a second account credits nothing twice: the repeated lines are counted as already imported (a line
misplaced under the wrong account first moves to the right one, see _moved).

Who reconciles: an account's statements are imported, reviewed, linked, accepted and rejected by admins and by the
organisers an admin named on that account (BankAccountReconciler). Every function here checks it, whoever calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from portal.accounts.models import Role, User
from portal.audit.services import record
from portal.errors import Conflict, DomainError, NotFound, PermissionDenied
from portal.payments import services, statements, vietqr
from portal.payments.models import (
    COLLECTED_STATUSES,
    REVIEW_STATUSES,
    BankAccount,
    BankAccountReconciler,
    LineStatus,
    Payment,
    PaymentStatus,
    StatementImport,
    StatementLine,
)
from portal.payments.payables import payable_kinds, reference_prefixes

#: what a line becomes, from what crediting it did (services.Outcome) and whether its payment had been paid before
_STATUS_BY_OUTCOME = {
    services.Outcome.FULFILLED: LineStatus.MATCHED,
    services.Outcome.PARTIAL: LineStatus.PARTIAL,
}
#: lines an organiser may accept: credited to a payment already, but more than it asked, after its deadline, or again
ACCEPTABLE_STATUSES = (LineStatus.EXCESS, LineStatus.UNFULFILLED, LineStatus.DUPLICATE)
#: a review queue page
QUEUE_PAGE_SIZE = 100
#: a month of a busy account's bookings is far smaller; anything bigger is not a statement
MAX_STATEMENT_BYTES = 2 * 1024 * 1024


class StatementTooLarge(statements.StatementError):
    status_code = 413
    default_message = _l("The file is larger than %(size)s MB: export a shorter period.",
                         size=MAX_STATEMENT_BYTES // (1024 * 1024))


class PaymentNotFound(DomainError):
    status_code = 404
    default_message = _l("No bank transfer asked into this line's account has this reference or number.")


class NotReconciler(PermissionDenied):
    default_message = _l("Only admins and the organisers an admin named on a bank account reconcile its statements.")


class WrongAccount(statements.StatementError):
    """The statement names another account than the one chosen."""


class LineAlreadyReviewed(Conflict):
    default_message = _l("This line is no longer waiting for review: someone dealt with it already.")


class NotAcceptable(Conflict):
    default_message = _l("Only a transfer that paid too much, too late or twice can be accepted; link or reject "
                         "this one.")


class LineAlreadyCredited(Conflict):
    default_message = _l("This line's money has been credited to a payment already; reject it with a note saying "
                         "what was done instead (for example, that the excess was refunded).")


@dataclass(frozen=True)
class ImportResult:
    statement_import: StatementImport
    counts: dict[LineStatus, int]
    #: of the lines imported before, how many under another account (the statement may be in the wrong place)
    lines_under_other_accounts: int = 0

    @property
    def lines_new(self) -> int:
        return sum(self.counts.values())


# --- who reconciles -------------------------------------------------------------------------

def reconciled_account_ids(session: Session, user: User) -> list[int] | None:
    """The bank accounts whose statements `user` reconciles: None for every one (an admin), otherwise those an
    admin named them on, while they are an organiser."""
    if user.has_role(Role.ADMIN):
        return None
    if not user.has_role(Role.ORGANISER):
        return []
    return list(session.scalars(select(BankAccountReconciler.bank_account_id)
                                .where(BankAccountReconciler.user_id == user.id)))


def reconciled_accounts(session: Session, user: User) -> list[BankAccount]:
    accounts = reconciled_account_ids(session, user)
    return [account for account in services.list_bank_accounts(session) if accounts is None or account.id in accounts]


def _of_reconciled_accounts(column, accounts: list[int] | None):
    return true() if accounts is None else column.in_(accounts)


def _check_reconciler(session: Session, user: User, bank_account_id: int | None) -> None:
    """Refuses what `user` does not reconcile (`bank_account_id` None: it does not exist). Only someone who sees
    every account learns that something does not exist, so ids cannot be probed."""
    accounts = reconciled_account_ids(session, user)
    if accounts is None:
        if bank_account_id is None:
            raise NotFound()
    elif bank_account_id not in accounts:
        raise NotReconciler()


# --- importing ------------------------------------------------------------------------------

def read_upload(filename: str, stream: BinaryIO) -> bytes:
    """The bytes of an uploaded statement, refused unless it is a CSV file of at most MAX_STATEMENT_BYTES."""
    if not filename.lower().endswith((".csv", ".txt")):
        raise statements.StatementError(_l("Choose a CSV file (.csv), as your bank's online banking exports it."))
    data = stream.read(MAX_STATEMENT_BYTES + 1)
    if len(data) > MAX_STATEMENT_BYTES:
        raise StatementTooLarge()
    return data


def import_statement(session: Session, actor: User, bank_account: BankAccount, filename: str, data: bytes,
                     now: datetime) -> ImportResult:
    """Reads the whole statement first (a StatementError, naming the line, imports nothing; WrongAccount when it
    names another account), then credits each line not imported before under any account, in the bank's order,
    in the caller's transaction. A line imported before under another account is skipped, unless it was misplaced
    there (see _moved)."""
    _check_reconciler(session, actor, bank_account.id)
    statement = statements.parse_statement(data)
    if not statement.is_of(bank_account.account_number):
        raise WrongAccount(_l("This statement is of account %(printed)s, not of %(chosen)s: choose the account it "
                              "is of.", printed=statement.account_number,
                              chosen=f"{bank_account.bank_name} – {bank_account.account_number}"))
    lines = statement.lines
    statement_import = StatementImport(bank_account_id=bank_account.id, filename=filename[:255],
                                       imported_by_id=actor.id, imported_at=now, lines_read=len(lines))
    session.add(statement_import)
    session.flush()
    here, elsewhere = set(), {}
    for fingerprint, account_id, line_id in session.execute(
            select(StatementLine.fingerprint, StatementLine.bank_account_id, StatementLine.id)
            .where(StatementLine.fingerprint.in_([line.fingerprint for line in lines]))):
        if account_id == bank_account.id:
            here.add(fingerprint)
        else:
            elsewhere.setdefault(fingerprint, line_id)
    counts = {status: 0 for status in LineStatus}
    skipped_elsewhere = moved = 0
    for line in lines:
        if line.fingerprint in here:
            row = None
        elif line.fingerprint in elsewhere:
            row = _moved(session, actor, statement_import, line, elsewhere[line.fingerprint])
            moved += row is not None
            skipped_elsewhere += row is None
        else:
            row = _claimed(session, statement_import, line)
        if row is None:
            statement_import.lines_already_imported += 1
            continue
        row.status = _credit(session, row, now)
        counts[row.status] += 1
    record(session, "statement.imported", actor_id=actor.id, object_type="statement_import",
           object_id=statement_import.id, bank_account_id=bank_account.id, filename=statement_import.filename,
           lines_read=statement_import.lines_read, already_imported=statement_import.lines_already_imported,
           moved_here=moved, **{status.value: count for status, count in counts.items() if count})
    return ImportResult(statement_import, {status: count for status, count in counts.items() if count},
                        skipped_elsewhere)


def _claimed(session: Session, statement_import: StatementImport, line: statements.TransferLine
             ) -> StatementLine | None:
    """The line's row, inserted now; None when an import into the same account running at the same time took it
    first (the unique fingerprint: PostgreSQL makes this insert wait for the other transaction, then refuses it).
    An import of the same file into another account at the same time inserts its own row, but that one can only
    pay payments asked into its account: nothing is credited twice."""
    row = StatementLine(import_id=statement_import.id, bank_account_id=statement_import.bank_account_id,
                        fingerprint=line.fingerprint, line_number=line.line_number, booked_at=line.booked_at,
                        amount=line.amount, memo=line.memo, bank_transaction_id=line.bank_transaction_id,
                        status=LineStatus.UNMATCHED)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    return row


def _moved(session: Session, actor: User, statement_import: StatementImport, line: statements.TransferLine,
           row_id: int) -> StatementLine | None:
    """The row of a line imported before under another account, moved to this import's account when it was
    misplaced there: untouched (nothing credited, nobody reviewed it) while its memo names a payment asked into this
    account, so the statement had first been imported under the wrong account. None otherwise: the line counts as
    imported before."""
    row = session.scalar(select(StatementLine).where(StatementLine.id == row_id).with_for_update()
                         .execution_options(populate_existing=True))
    if (row is None or row.status is not LineStatus.UNMATCHED or row.payment_id is not None
            or row.reviewed_at is not None
            or _named_payment(session, row.memo, statement_import.bank_account_id)[1] is None):
        return None
    moved_from = row.bank_account_id
    try:
        with session.begin_nested():  # an import into this account at the same time may have taken the line
            row.bank_account_id, row.import_id = statement_import.bank_account_id, statement_import.id
            row.line_number = line.line_number
    except IntegrityError:
        return None
    record(session, "statement_line.moved", actor_id=actor.id, object_type="statement_line", object_id=row.id,
           from_bank_account_id=moved_from, to_bank_account_id=row.bank_account_id)
    return row


def _named_payment(session: Session, memo: str, bank_account_id: int) -> tuple[str | None, Payment | None]:
    """The first reference in the memo that names a payment asked into the account, and that payment; otherwise
    the first reference the memo carries (if any) and None."""
    references = vietqr.find_references(memo, reference_prefixes())
    for reference in references:
        payment = services.find_transfer_payment(session, reference, bank_account_id)
        if payment is not None:
            return reference, payment
    return (references[0] if references else None), None


def _credit(session: Session, row: StatementLine, now: datetime) -> LineStatus:
    """Credits the line to the first payment asked into its account that a reference in its memo names; UNMATCHED
    when none does."""
    row.reference, payment = _named_payment(session, row.memo, row.bank_account_id)
    return _apply(session, row, payment, now) if payment is not None else LineStatus.UNMATCHED


def _apply(session: Session, row: StatementLine, payment: Payment, now: datetime) -> LineStatus:
    paid_before = payment.status in COLLECTED_STATUSES
    outcome = services.apply_bank_transfer(session, payment.id, amount=row.amount, now=now,
                                           external_id=f"statement:{row.bank_account_id}:{row.fingerprint}")
    row.payment_id = payment.id
    if outcome is services.Outcome.FULFILLED:
        _settle_partials(session, payment.id)
    if outcome in _STATUS_BY_OUTCOME:
        return _STATUS_BY_OUTCOME[outcome]
    if paid_before:
        return LineStatus.DUPLICATE
    # locked and read afresh by apply_bank_transfer: amount_received includes this line
    return LineStatus.EXCESS if payment.amount_received > payment.amount else LineStatus.UNFULFILLED


def _settle_partials(session: Session, payment_id: int) -> None:
    """The earlier part-payments of a payment now complete leave the review queue: together they paid it."""
    session.execute(update(StatementLine).where(StatementLine.payment_id == payment_id,
                                                StatementLine.status == LineStatus.PARTIAL)
                    .values(status=LineStatus.MATCHED))


# --- reading --------------------------------------------------------------------------------

def status_counts(session: Session, user: User, import_id: int | None = None) -> dict[LineStatus, int]:
    """Lines per status, of one import or of all the accounts `user` reconciles."""
    query = (select(StatementLine.status, func.count()).group_by(StatementLine.status)
             .where(_of_reconciled_accounts(StatementLine.bank_account_id, reconciled_account_ids(session, user))))
    if import_id is not None:
        query = query.where(StatementLine.import_id == import_id)
    return dict(session.execute(query).all())


def _with_payment():
    payment = joinedload(StatementLine.payment)
    return (*(option for kind in payable_kinds() for option in kind.loader_options(payment)),
            payment.selectinload(Payment.refunds), joinedload(StatementLine.reviewed_by))


def get_import(session: Session, user: User, import_id: int) -> StatementImport:
    statement_import = session.scalar(
        select(StatementImport).where(StatementImport.id == import_id)
        .options(joinedload(StatementImport.bank_account), joinedload(StatementImport.imported_by),
                 selectinload(StatementImport.lines).options(*_with_payment()))
    )
    _check_reconciler(session, user, statement_import.bank_account_id if statement_import else None)
    return statement_import


def recent_imports(session: Session, user: User, limit: int = 20) -> list[StatementImport]:
    """The latest imports into the accounts `user` reconciles."""
    return list(session.scalars(
        select(StatementImport)
        .where(_of_reconciled_accounts(StatementImport.bank_account_id, reconciled_account_ids(session, user)))
        .options(joinedload(StatementImport.bank_account), joinedload(StatementImport.imported_by))
        .order_by(StatementImport.imported_at.desc(), StatementImport.id.desc()).limit(limit)))


def review_queue(session: Session, user: User, statuses: tuple[LineStatus, ...] = REVIEW_STATUSES
                 ) -> list[StatementLine]:
    """Lines in `statuses` of the accounts `user` reconciles, oldest booking first, one page."""
    return list(session.scalars(
        select(StatementLine)
        .where(StatementLine.status.in_(statuses),
               _of_reconciled_accounts(StatementLine.bank_account_id, reconciled_account_ids(session, user)))
        .options(*_with_payment()).order_by(StatementLine.booked_at, StatementLine.id).limit(QUEUE_PAGE_SIZE)))


# --- reviewing ------------------------------------------------------------------------------

def _line_for_review(session: Session, reviewer: User, line_id: int) -> StatementLine:
    line = session.scalar(select(StatementLine).where(StatementLine.id == line_id).with_for_update()
                          .execution_options(populate_existing=True))
    _check_reconciler(session, reviewer, line.bank_account_id if line else None)
    if line.status not in REVIEW_STATUSES:
        raise LineAlreadyReviewed()
    return line


def find_payment(session: Session, reference_or_id: str, bank_account_id: int) -> Payment:
    """A bank-transfer payment asked into the account, by its reference as typed ("VE 7K3Q9X", "ve7k3q9x") or by
    its number. Any other payment is not found, as one that does not exist is: nothing tells what another account's
    payments are."""
    text = reference_or_id.strip().lstrip("#")
    payment = None
    if text.isdigit():
        payment = session.get(Payment, int(text))
    else:
        references = vietqr.find_references(text, reference_prefixes())
        payment = services.find_transfer_payment(session, references[0], bank_account_id) if references else None
    if payment is None or payment.transfer_reference is None or payment.bank_account_id != bank_account_id:
        raise PaymentNotFound()
    return payment


def link_line(session: Session, reviewer: User, line_id: int, reference_or_id: str, note: str,
              now: datetime) -> tuple[StatementLine, services.Outcome]:
    """Credits an unmatched line to the payment the organiser names (the payer mistyped the reference, or wrote
    none), which must have been asked into the line's account; its order is fulfilled when the amount is now
    complete."""
    line = _line_for_review(session, reviewer, line_id)
    if line.payment_id is not None:
        raise LineAlreadyCredited()
    payment = find_payment(session, reference_or_id, line.bank_account_id)
    outcome = services.apply_bank_transfer(session, payment.id, amount=line.amount, now=now,
                                           external_id=f"statement:{line.bank_account_id}:{line.fingerprint}")
    line.payment_id, line.reference = payment.id, payment.transfer_reference
    if outcome is services.Outcome.FULFILLED:
        _settle_partials(session, payment.id)
    _reviewed(line, reviewer, LineStatus.LINKED, note, now)
    record(session, "statement_line.linked", actor_id=reviewer.id, object_type="statement_line", object_id=line.id,
           payment_id=payment.id, amount=line.amount, outcome=outcome.value, note=line.review_note)
    return line, outcome


def accept_line(session: Session, reviewer: User, line_id: int, note: str, now: datetime) -> tuple[StatementLine, int]:
    """Accepts a transfer credited to a payment that could not settle it by itself; returns the line and what is
    owed back to the payer.

    Excess (the first transfer that went beyond the amount): the order or booking is paid, and what was paid
    beyond its amount, by this line and any other still waiting, is owed back. Too late: the order is paid if its
    seats are still free, the lapsed booth reservation if its booth is (orders.SeatsGone or booths' BoothGone
    otherwise, and nothing changes). Paid twice: the order stays as it is and the whole line is owed back. A
    second click finds the line reviewed (LineAlreadyReviewed)."""
    line = _line_for_review(session, reviewer, line_id)
    if line.status not in ACCEPTABLE_STATUSES or line.payment_id is None:
        raise NotAcceptable()
    payment = services.locked_payment(session, line.payment_id)
    first_excess = line.status is LineStatus.EXCESS and payment.status is PaymentStatus.PENDING
    fulfil = first_excess or line.status is LineStatus.UNFULFILLED
    owed_back = payment.amount_received - payment.amount if first_excess else (
        line.amount if line.status is not LineStatus.UNFULFILLED else 0)
    services.accept_payment(session, reviewer, payment, fulfil=fulfil, owed_back=owed_back, now=now)
    if first_excess:
        # the earlier part-payments and any further excess of this payment are settled with this one
        _settle_partials(session, payment.id)
        for other in session.scalars(select(StatementLine).where(
                StatementLine.payment_id == payment.id, StatementLine.id != line.id,
                StatementLine.status == LineStatus.EXCESS)):
            _reviewed(other, reviewer, LineStatus.ACCEPTED, note, now)
    _reviewed(line, reviewer, LineStatus.ACCEPTED, note, now)
    record(session, "statement_line.accepted", actor_id=reviewer.id, object_type="statement_line", object_id=line.id,
           payment_id=payment.id, amount=line.amount, fulfilled=fulfil, owed_back=owed_back, note=line.review_note)
    return line, owed_back


def reject_line(session: Session, reviewer: User, line_id: int, note: str, now: datetime) -> StatementLine:
    """Closes a line without crediting it further: money that is not for us, or returned to the payer. Money
    already credited to a payment stays recorded there (it did arrive); the note says what was done about it."""
    line = _line_for_review(session, reviewer, line_id)
    if not note.strip():
        raise DomainError(_l("Say why the line is rejected: the note is kept in the audit log."))
    _reviewed(line, reviewer, LineStatus.REJECTED, note, now)
    record(session, "statement_line.rejected", actor_id=reviewer.id, object_type="statement_line",
           object_id=line.id, payment_id=line.payment_id, amount=line.amount, note=line.review_note)
    return line


def _reviewed(line: StatementLine, reviewer: User, status: LineStatus, note: str, now: datetime) -> None:
    line.status, line.reviewed_by_id, line.reviewed_at, line.review_note = status, reviewer.id, now, note.strip()
