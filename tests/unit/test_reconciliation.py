"""Reconciliation: statement lines matched to bank-transfer payments by reference and amount, what goes to the
review queue, re-imports that credit nothing twice, and the organiser's link and reject."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select

from portal.accounts.models import Role, User, UserRole
from portal.audit.models import AuditEntry
from portal.booths import services as booth_services
from portal.booths.models import BookingStatus, BoothBooking
from portal.db import utcnow
from portal.demo import load_demo
from portal.errors import NotFound
from portal.events.models import Event, Order, OrderStatus
from portal.events.orders import SeatsGone, availability
from portal.finance import services as finance
from portal.payments import reconciliation, refunds
from portal.payments.models import (
    BankAccount,
    LineStatus,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    StatementImport,
    StatementLine,
)
from portal.payments.services import Outcome
from portal.payments.statements import SAMPLES_DIR, StatementError, parse_statement
from tests.support.finance import BOOTH_PRICE, booking_of, lapsed_booth_transfer
from tests.support.payments import (
    PRICE,
    SLUG,
    add_bank_account,
    create_paid_event,
    load,
    open_payment,
    place_pending_order,
)
from tests.support.reconciliation import name_reconciler, statement_csv
from tests.support.ticketing import expire_order


@pytest.fixture
def organiser(make_user) -> User:
    return make_user(Role.ORGANISER, email="to-chuc@example.vn")


@pytest.fixture
def account_id(db, organiser) -> int:
    """The account payment pages show, which the organiser reconciles."""
    account_id = add_bank_account(db)
    name_reconciler(db, account_id, organiser)
    return account_id


@pytest.fixture
def ticket_type_id(db) -> int:
    return create_paid_event(db)


@pytest.fixture
def pay_by_transfer(app, db, make_user, ticket_type_id):
    """A buyer's order of one paid pass and its bank-transfer payment."""
    def factory(email: str = "binh@example.vn") -> Payment:
        buyer = make_user(email=email)
        order = place_pending_order(app, db, buyer, ticket_type_id, provider="vietqr")
        return open_payment(app, db, order, "vietqr")
    return factory


def run_import(app, db, organiser, account_id, data: bytes, filename: str = "sao-ke.csv"
               ) -> reconciliation.ImportResult:
    with app.test_request_context(), db.transaction() as s:
        return reconciliation.import_statement(s, s.get(User, organiser.id), s.get(BankAccount, account_id),
                                               filename, data, utcnow())


def lines(db) -> dict[str, StatementLine]:
    """Lines by memo."""
    with db.session_factory() as s:
        return {line.memo: line for line in s.scalars(select(StatementLine))}


def order_status(db, payment: Payment) -> OrderStatus:
    return load(db, Order, payment.order_id).status


def test_each_kind_of_transfer_gets_its_status_and_only_the_exact_one_pays(app, db, organiser, account_id,
                                                                            pay_by_transfer, mailbox):
    exact, partial, excess, twice = (pay_by_transfer(f"buyer{n}@example.vn") for n in range(4))
    data = statement_csv(
        (PRICE, f"MBVCB.5012345678.{exact.transfer_reference.replace(' ', '')}.CT tu 0451000123456"),
        (PRICE - 50_000, f"{partial.transfer_reference} thanh toan ve"),
        (PRICE + 100_000, f"IBFT {excess.transfer_reference}"),
        (PRICE, f"{twice.transfer_reference} lan 1"),
        (PRICE, f"{twice.transfer_reference} lan 2"),
        (2_000_000, "CHUYEN TIEN HOI NGHI TECHFEST"),
    )

    result = run_import(app, db, organiser, account_id, data)

    assert result.counts == {LineStatus.MATCHED: 2, LineStatus.PARTIAL: 1, LineStatus.EXCESS: 1,
                             LineStatus.DUPLICATE: 1, LineStatus.UNMATCHED: 1}
    assert result.statement_import.lines_read == 6
    by_memo = lines(db)
    assert by_memo["CHUYEN TIEN HOI NGHI TECHFEST"].payment_id is None
    assert by_memo[f"{twice.transfer_reference} lan 2"].status is LineStatus.DUPLICATE
    assert order_status(db, exact) is OrderStatus.PAID
    assert order_status(db, twice) is OrderStatus.PAID
    assert order_status(db, partial) is OrderStatus.PENDING
    assert order_status(db, excess) is OrderStatus.PENDING
    assert load(db, Payment, partial.id).amount_received == PRICE - 50_000
    assert load(db, Payment, twice.id).amount_received == 2 * PRICE
    mailbox.deliver()
    assert len(mailbox.to("buyer0@example.vn")) == 1  # the ticket mail, through the order's fulfilment
    assert mailbox.to("buyer1@example.vn") == []


def test_importing_the_same_statement_again_credits_nothing_twice(app, db, organiser, account_id, pay_by_transfer):
    partial = pay_by_transfer()
    data = statement_csv((100_000, f"{partial.transfer_reference}"), (5_000, "khong ro"))
    run_import(app, db, organiser, account_id, data)

    again = run_import(app, db, organiser, account_id, data, filename="sao-ke (1).csv")

    assert again.counts == {}
    assert again.statement_import.lines_already_imported == 2
    assert load(db, Payment, partial.id).amount_received == 100_000
    with db.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(StatementLine)) == 2
        assert s.scalar(select(func.count()).select_from(StatementImport)) == 2


def test_the_rest_of_a_partial_payment_on_a_later_statement_pays_the_order(app, db, organiser, account_id,
                                                                           pay_by_transfer):
    payment = pay_by_transfer()
    run_import(app, db, organiser, account_id, statement_csv((100_000, payment.transfer_reference)))
    later = run_import(app, db, organiser, account_id, statement_csv((PRICE - 100_000, payment.transfer_reference),
                                                                     bom=False))
    assert later.counts == {LineStatus.MATCHED: 1}
    assert order_status(db, payment) is OrderStatus.PAID
    # together they paid it: the first part leaves the review queue
    assert {line.status for line in lines(db).values()} == {LineStatus.MATCHED}


def test_an_exact_transfer_for_an_expired_order_waits_for_review(app, db, organiser, account_id, pay_by_transfer):
    payment = pay_by_transfer()
    expire_order(db, payment.order_id)
    result = run_import(app, db, organiser, account_id, statement_csv((PRICE, payment.transfer_reference)))
    assert result.counts == {LineStatus.UNFULFILLED: 1}
    assert load(db, Payment, payment.id).review_reason is not None


def test_a_statement_with_a_bad_line_imports_nothing(app, db, organiser, account_id, pay_by_transfer):
    payment = pay_by_transfer()
    data = statement_csv((PRICE, payment.transfer_reference)) + b"9,31/02/2026,X,,100.000,sai ngay\n"
    with (pytest.raises(StatementError, match=r"^\w+ 6: .*31/02/2026"), app.test_request_context(),
          db.transaction() as s):
        reconciliation.import_statement(s, s.get(User, organiser.id), s.get(BankAccount, account_id), "x.csv",
                                        data, utcnow())
    assert order_status(db, payment) is OrderStatus.PENDING
    with db.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(StatementImport)) == 0


# --- one statement, two accounts --------------------------------------------------------------

@pytest.fixture
def other_account(db, organiser) -> int:
    """A second account of the organisers, not shown on payment pages, which the organiser reconciles too."""
    other = add_bank_account(db, active=False, bank_bin="970436", account_number="1088666",
                             bank_name="Vietcombank – Ba Đình")
    name_reconciler(db, other, organiser)
    return other


def test_the_same_statement_imported_under_a_second_account_credits_nothing_again(
        app, db, organiser, account_id, other_account, pay_by_transfer):
    exact, excess = pay_by_transfer("mot@example.vn"), pay_by_transfer("hai@example.vn")
    data = statement_csv((PRICE, exact.transfer_reference), (PRICE + 100_000, excess.transfer_reference),
                         (9_000, "khong ro"))
    run_import(app, db, organiser, account_id, data)
    before = event_summary(app, db)

    again = run_import(app, db, organiser, other_account, data)

    assert (again.counts, again.statement_import.lines_already_imported, again.lines_under_other_accounts) == (
        {}, 3, 3)
    assert event_summary(app, db) == before
    assert [load(db, Payment, p.id).amount_received for p in (exact, excess)] == [PRICE, PRICE + 100_000]
    assert order_status(db, exact) is OrderStatus.PAID
    with db.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(StatementLine)) == 3
        assert s.scalar(select(func.count()).select_from(Refund)) == 0


def test_a_statement_imported_under_the_wrong_account_first_pays_once_its_account_imports_it(
        app, db, organiser, account_id, other_account, pay_by_transfer):
    payment = pay_by_transfer()
    data = statement_csv((PRICE, f"IBFT {payment.transfer_reference}"), (9_000, "khong ro"))
    wrong = run_import(app, db, organiser, other_account, data)
    assert wrong.counts == {LineStatus.UNMATCHED: 2}

    right = run_import(app, db, organiser, account_id, data)

    # the transfer naming this account's payment comes over and pays it; the line naming nothing stays where it was
    assert (right.counts, right.lines_under_other_accounts) == ({LineStatus.MATCHED: 1}, 1)
    assert order_status(db, payment) is OrderStatus.PAID
    assert load(db, Payment, payment.id).amount_received == PRICE
    by_memo = lines(db)
    assert by_memo[f"IBFT {payment.transfer_reference}"].bank_account_id == account_id
    assert by_memo["khong ro"].bank_account_id == other_account
    assert len(by_memo) == 2
    with db.session_factory() as s:
        assert s.scalar(select(AuditEntry.details).where(AuditEntry.action == "statement_line.moved")) == {
            "from_bank_account_id": other_account, "to_bank_account_id": account_id}
    # and a third import, under either, changes nothing
    assert run_import(app, db, organiser, other_account, data).counts == {}
    assert run_import(app, db, organiser, account_id, data).counts == {}
    assert load(db, Payment, payment.id).amount_received == PRICE


def test_a_line_pays_only_a_payment_asked_into_its_account(app, db, organiser, account_id, other_account,
                                                             pay_by_transfer):
    payment = pay_by_transfer()  # asked into the account payment pages show
    result = run_import(app, db, organiser, other_account, statement_csv((PRICE, payment.transfer_reference)))

    assert result.counts == {LineStatus.UNMATCHED: 1}
    line = only_line(db)
    assert (line.payment_id, load(db, Payment, payment.id).amount_received) == (None, 0)
    # nor can it be linked to it, by reference or by number
    for typed in (payment.transfer_reference, str(payment.id)):
        with pytest.raises(reconciliation.PaymentNotFound):
            review(app, db, lambda s, typed=typed: reconciliation.link_line(s, s.get(User, organiser.id), line.id,
                                                                            typed, "", utcnow()))
    assert order_status(db, payment) is OrderStatus.PENDING
    assert event_summary(app, db).received == 0


def test_a_statement_naming_another_account_is_refused_and_one_naming_the_chosen_account_is_imported(
        app, db, organiser, account_id, other_account, pay_by_transfer):
    payment = pay_by_transfer()
    data = "Số tài khoản: 1088666\r\n".encode() + statement_csv((PRICE, payment.transfer_reference), bom=False)
    with pytest.raises(reconciliation.WrongAccount, match="1088666.*VietinBank – Hoàn Kiếm – 0011001932418"):
        run_import(app, db, organiser, account_id, data)
    with db.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(StatementImport)) == 0

    data = "Số tài khoản: 0011001932418\r\n".encode() + statement_csv((PRICE, payment.transfer_reference), bom=False)
    assert run_import(app, db, organiser, account_id, data).counts == {LineStatus.MATCHED: 1}


def test_one_statement_imported_under_two_accounts_at_once_credits_it_once(app, db, organiser, account_id,
                                                                           other_account, pay_by_transfer):
    if db.is_sqlite:
        pytest.skip("SQLite lets one writer in at a time; the race needs PostgreSQL")
    payment = pay_by_transfer()
    data = statement_csv((PRICE + 100_000, payment.transfer_reference), (7_000, "khac"))
    barrier = threading.Barrier(2)
    errors = []

    def importer(into: int):
        barrier.wait()
        try:
            run_import(app, db, organiser, into, data)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=importer, args=(into,)) for into in (account_id, other_account)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert load(db, Payment, payment.id).amount_received == PRICE + 100_000
    with db.session_factory() as s:
        credited = s.scalars(select(StatementLine.status).where(StatementLine.payment_id == payment.id)).all()
        assert credited == [LineStatus.EXCESS]
    assert event_summary(app, db).in_review == 1


# --- the review queue -----------------------------------------------------------------------

def review(app, db, action):
    with app.test_request_context(), db.transaction() as s:
        return action(s)


def test_an_unmatched_transfer_linked_by_reference_pays_the_order_and_is_audited(app, db, organiser, account_id,
                                                                                pay_by_transfer, mailbox):
    payment = pay_by_transfer()
    run_import(app, db, organiser, account_id, statement_csv((PRICE, "chuyen tien ve techfest cong ty ABC")))
    line = next(iter(lines(db).values()))
    typed = payment.transfer_reference.lower().replace(" ", "")

    review(app, db, lambda s: reconciliation.link_line(s, s.get(User, organiser.id), line.id, typed,
                                                       "payer forgot the memo", utcnow()))

    line = load(db, StatementLine, line.id)
    assert (line.status, line.payment_id, line.reviewed_by_id) == (LineStatus.LINKED, payment.id, organiser.id)
    assert order_status(db, payment) is OrderStatus.PAID
    with db.session_factory() as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "statement_line.linked"))
        assert (entry.actor_id, entry.details["payment_id"], entry.details["note"]) == (
            organiser.id, payment.id, "payer forgot the memo")
    mailbox.deliver()
    assert len(mailbox.to("binh@example.vn")) == 1
    # a second link of the same line is refused: it left the queue
    with pytest.raises(reconciliation.LineAlreadyReviewed):
        review(app, db, lambda s: reconciliation.link_line(s, s.get(User, organiser.id), line.id, str(payment.id),
                                                           "", utcnow()))
    assert load(db, Payment, payment.id).amount_received == PRICE


def test_linking_to_a_payment_that_does_not_exist_changes_nothing(app, db, organiser, account_id):
    run_import(app, db, organiser, account_id, statement_csv((PRICE, "khong co ma")))
    line = next(iter(lines(db).values()))
    with pytest.raises(reconciliation.PaymentNotFound):
        review(app, db, lambda s: reconciliation.link_line(s, s.get(User, organiser.id), line.id, "VE 222222", "",
                                                           utcnow()))
    assert load(db, StatementLine, line.id).status is LineStatus.UNMATCHED


def test_a_credited_line_cannot_be_linked_again_but_can_be_rejected_with_a_note(app, db, organiser, account_id,
                                                                              pay_by_transfer):
    payment = pay_by_transfer()
    run_import(app, db, organiser, account_id, statement_csv((PRICE + 100_000, payment.transfer_reference)))
    line = next(iter(lines(db).values()))
    with pytest.raises(reconciliation.LineAlreadyCredited):
        review(app, db, lambda s: reconciliation.link_line(s, s.get(User, organiser.id), line.id, str(payment.id),
                                                           "", utcnow()))
    review(app, db, lambda s: reconciliation.reject_line(s, s.get(User, organiser.id), line.id,
                                                         "excess returned to the payer", utcnow()))
    line = load(db, StatementLine, line.id)
    assert (line.status, line.review_note) == (LineStatus.REJECTED, "excess returned to the payer")
    assert load(db, Payment, payment.id).status is PaymentStatus.PENDING
    with db.session_factory() as s:
        assert s.scalar(select(AuditEntry.details).where(AuditEntry.action == "statement_line.rejected"))[
            "note"] == "excess returned to the payer"


def test_two_imports_of_one_statement_at_once_credit_it_once(app, db, organiser, account_id, pay_by_transfer):
    if db.is_sqlite:
        pytest.skip("SQLite lets one writer in at a time; the race needs PostgreSQL")
    payment = pay_by_transfer()
    data = statement_csv((100_000, payment.transfer_reference), (7_000, "khac"))
    barrier = threading.Barrier(2)
    errors = []

    def importer():
        barrier.wait()
        try:
            run_import(app, db, organiser, account_id, data)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=importer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert load(db, Payment, payment.id).amount_received == 100_000
    with db.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(StatementLine)) == 2
        assert sorted(s.scalars(select(StatementImport.lines_already_imported))) == [0, 2]


# --- the demo -------------------------------------------------------------------------------

@pytest.mark.parametrize(("sample", "expected"), [
    ("vietcombank.csv", {LineStatus.MATCHED: 2, LineStatus.PARTIAL: 1, LineStatus.EXCESS: 1, LineStatus.DUPLICATE: 1,
                         LineStatus.UNMATCHED: 1}),
    ("vietinbank.csv", {LineStatus.MATCHED: 3, LineStatus.UNMATCHED: 2}),
])
def test_the_sample_statements_reconcile_against_the_demo_orders(app, db, sample, expected):
    load_demo(app)
    with db.session_factory() as s:
        # the account the statement is of, on which the demo names the demo organiser
        account_id = s.scalar(select(BankAccount.id).where(
            BankAccount.account_number == parse_statement((SAMPLES_DIR / sample).read_bytes()).account_number))
        organiser = s.scalar(select(User).where(User.email == "organiser@demo.dmst-hanoi.vn"))
    result = run_import(app, db, organiser, account_id, (SAMPLES_DIR / sample).read_bytes(), sample)
    assert result.counts == expected
    assert load_demo(app)["payments"] == 0


# --- accepting an excess, a late or a repeated transfer ---------------------------------------

def accept(app, db, organiser, line_id: int, note: str = ""):
    return review(app, db, lambda s: reconciliation.accept_line(s, s.get(User, organiser.id), line_id, note, utcnow()))


def only_line(db) -> StatementLine:
    return next(iter(lines(db).values()))


def event_summary(app, db) -> finance.FinanceSummary:
    with app.test_request_context(), db.session_factory() as s:
        return finance.summary(s, s.scalar(select(Event).where(Event.slug == SLUG)))


def owed_refunds(db, payment: Payment) -> list[Refund]:
    with db.session_factory() as s:
        return list(s.scalars(select(Refund).where(Refund.payment_id == payment.id)))


def test_accepting_an_excess_pays_the_order_and_owes_the_excess_back_until_it_is_sent(app, db, organiser, account_id,
                                                                                      pay_by_transfer, mailbox):
    payment = pay_by_transfer()
    run_import(app, db, organiser, account_id, statement_csv((PRICE + 100_000, payment.transfer_reference)))
    line = only_line(db)
    assert event_summary(app, db).in_review == 1

    _, owed = accept(app, db, organiser, line.id, "keeps the tip for the next event? no: send it back")

    assert owed == 100_000
    assert order_status(db, payment) is OrderStatus.PAID
    assert load(db, StatementLine, line.id).status is LineStatus.ACCEPTED
    [refund] = owed_refunds(db, payment)
    assert (refund.amount, refund.status, refund.created_by_id) == (100_000, RefundStatus.PENDING, organiser.id)
    saved = load(db, Payment, payment.id)
    assert (saved.status, saved.review_reason, saved.amount_received) == (PaymentStatus.SUCCEEDED, None,
                                                                          PRICE + 100_000)
    summary = event_summary(app, db)
    assert (summary.in_review, summary.overpaid, summary.to_send, summary.difference) == (0, 100_000, 100_000, 0)
    with db.session_factory() as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "statement_line.accepted"))
        assert (entry.actor_id, entry.details["owed_back"], entry.details["payment_id"]) == (
            organiser.id, 100_000, payment.id)
    # a double click: the line has left the queue, nothing more is owed
    with pytest.raises(reconciliation.LineAlreadyReviewed):
        accept(app, db, organiser, line.id)
    assert len(owed_refunds(db, payment)) == 1
    mailbox.deliver()
    assert len(mailbox.to("binh@example.vn")) == 1  # the tickets

    def sent(s):
        event = s.scalar(select(Event).where(Event.slug == SLUG))
        return finance.confirm_sent(s, s.get(User, organiser.id), event, refund.id, utcnow())

    review(app, db, sent)
    with pytest.raises(refunds.AlreadySent):
        review(app, db, sent)
    saved = load(db, Payment, payment.id)
    assert (saved.status, saved.amount_refunded, saved.amount_kept) == (PaymentStatus.PARTIALLY_REFUNDED, 100_000,
                                                                        PRICE)
    summary = event_summary(app, db)
    assert (summary.to_send, summary.net, summary.difference) == (0, PRICE, 0)
    mailbox.deliver()
    assert len(mailbox.to("binh@example.vn")) == 2  # and the refund, once
    assert order_status(db, payment) is OrderStatus.PAID


@pytest.mark.parametrize("swept", [True, False], ids=["expired", "past-its-time"])
def test_accepting_a_late_transfer_reinstates_the_order_while_its_seats_are_free(app, db, organiser, account_id,
                                                                                 pay_by_transfer, mailbox, swept):
    payment = pay_by_transfer()
    if swept:
        expire_order(db, payment.order_id)
    else:
        with db.transaction() as s:
            s.get(Order, payment.order_id).expires_at = utcnow() - timedelta(minutes=5)
    run_import(app, db, organiser, account_id, statement_csv((PRICE, payment.transfer_reference)))
    line = only_line(db)
    assert line.status is LineStatus.UNFULFILLED

    assert accept(app, db, organiser, line.id)[1] == 0

    assert order_status(db, payment) is OrderStatus.PAID
    assert owed_refunds(db, payment) == []
    assert event_summary(app, db).difference == 0
    with db.session_factory() as s:
        assert s.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "order.reinstated")) == 1
    mailbox.deliver()
    assert len(mailbox.to("binh@example.vn")) == 1


def expired_order_whose_seat_went(app, db, make_user, *, amount_over: int = 0) -> Payment:
    """The only seat: a first buyer's transfer order expires, a second buyer takes the seat, then the first buyer's
    transfer arrives (with `amount_over` too much)."""
    ticket_type_id = create_paid_event(db, seats=1)
    late = open_payment(app, db, place_pending_order(app, db, make_user(email="tre@example.vn"), ticket_type_id,
                                                     provider="vietqr"), "vietqr")
    expire_order(db, late.order_id)
    place_pending_order(app, db, make_user(email="som@example.vn"), ticket_type_id, provider="vietqr")
    return late


@pytest.mark.parametrize("amount_over", [0, 50_000], ids=["exact", "excess"])
def test_a_late_transfer_whose_seats_are_gone_changes_nothing_and_can_be_refunded(app, db, organiser, account_id,
                                                                                  make_user, mailbox, amount_over):
    late = expired_order_whose_seat_went(app, db, make_user)
    run_import(app, db, organiser, account_id, statement_csv((PRICE + amount_over, late.transfer_reference)))
    line = only_line(db)

    with pytest.raises(SeatsGone):
        accept(app, db, organiser, line.id)

    assert load(db, StatementLine, line.id).status in (LineStatus.UNFULFILLED, LineStatus.EXCESS)
    assert order_status(db, late) is OrderStatus.EXPIRED
    assert owed_refunds(db, late) == []
    with app.test_request_context(), db.session_factory() as s:
        event = s.scalar(select(Event).where(Event.slug == SLUG))
        assert availability(s, event) == {event.ticket_types[0].id: 0}
    # the organiser gives the money back instead
    with app.test_request_context(), db.transaction() as s:
        event = s.scalar(select(Event).where(Event.slug == SLUG))
        assert finance.refund(s, s.get(User, organiser.id), event, late.id, amount=PRICE + amount_over,
                              reason="Hết chỗ", request_token="seats-gone", now=utcnow()) is Outcome.REFUNDED
    saved = load(db, Payment, late.id)
    assert (saved.status, saved.amount_kept) == (PaymentStatus.REFUNDED, 0)
    summary = event_summary(app, db)
    assert (summary.in_review, summary.returned, summary.difference) == (0, PRICE + amount_over, 0)
    mailbox.deliver()
    assert len(mailbox.to("tre@example.vn")) == 1  # the refund, no tickets


def test_accepting_a_transfer_paid_twice_owes_the_whole_line_back(app, db, organiser, account_id, pay_by_transfer):
    payment = pay_by_transfer()
    data = statement_csv((PRICE, f"{payment.transfer_reference} lan 1"), (PRICE, f"{payment.transfer_reference} lan 2"))
    run_import(app, db, organiser, account_id, data)
    twice = lines(db)[f"{payment.transfer_reference} lan 2"]

    assert accept(app, db, organiser, twice.id)[1] == PRICE

    assert [(r.amount, r.status) for r in owed_refunds(db, payment)] == [(PRICE, RefundStatus.PENDING)]
    assert order_status(db, payment) is OrderStatus.PAID
    assert event_summary(app, db).difference == 0


def test_only_excess_late_or_repeated_lines_can_be_accepted(app, db, organiser, account_id, pay_by_transfer):
    payment = pay_by_transfer()
    run_import(app, db, organiser, account_id, statement_csv((100_000, payment.transfer_reference),
                                                             (5_000, "khong ro")))
    for line in lines(db).values():
        with pytest.raises(reconciliation.NotAcceptable):
            accept(app, db, organiser, line.id)
    assert load(db, Payment, payment.id).status is PaymentStatus.PENDING


def accept_every_line_at_once(app, db, organiser, refusal: type[Exception]) -> list[str]:
    """Every imported line accepted by its own thread, all at the same moment; the sorted outcomes ("accepted", or
    "refused" with `refusal`)."""
    barrier = threading.Barrier(len(lines(db)))
    results = []

    def accepter(line_id: int) -> None:
        barrier.wait()
        try:
            accept(app, db, organiser, line_id)
            results.append("accepted")
        except refusal:
            results.append("refused")

    threads = [threading.Thread(target=accepter, args=(line.id,)) for line in lines(db).values()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(results)


def test_two_late_orders_accepted_at_once_for_the_last_seat_reinstate_one(app, db, organiser, account_id, make_user):
    if db.is_sqlite:
        pytest.skip("SQLite lets one writer in at a time; the race needs PostgreSQL")
    ticket_type_id = create_paid_event(db, seats=1)
    payments = []
    for n in range(2):
        order = place_pending_order(app, db, make_user(email=f"tre{n}@example.vn"), ticket_type_id, provider="vietqr")
        payments.append(open_payment(app, db, order, "vietqr"))
        expire_order(db, order.id)
    run_import(app, db, organiser, account_id, statement_csv(*((PRICE, p.transfer_reference) for p in payments)))
    assert accept_every_line_at_once(app, db, organiser, SeatsGone) == ["accepted", "refused"]
    assert sorted(order_status(db, p).value for p in payments) == ["expired", "paid"]


# --- a late transfer for a booth reservation that lapsed --------------------------------------

def test_accepting_a_late_transfer_reinstates_the_lapsed_booth_reservation_while_its_booth_is_free(
        app, db, organiser, account_id, ticket_type_id, make_user, mailbox):
    payment = lapsed_booth_transfer(app, db, make_user(email="gian-hang@example.vn"))
    run_import(app, db, organiser, account_id, statement_csv((BOOTH_PRICE, payment.transfer_reference)))
    line = only_line(db)
    assert line.status is LineStatus.UNFULFILLED
    assert booking_of(db, payment).status is BookingStatus.LAPSED

    assert accept(app, db, organiser, line.id)[1] == 0

    booking = booking_of(db, payment)
    assert (booking.status, booking.amount_paid, booking.ended_at) == (BookingStatus.SOLD, BOOTH_PRICE, None)
    assert owed_refunds(db, payment) == []
    assert event_summary(app, db).difference == 0
    with db.session_factory() as s:
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "booth")
                            .order_by(AuditEntry.id)).all()
        assert actions[-3:] == ["booth.lapse", "booth.reinstate", "booth.record_payment"]
    # a double click finds the line reviewed and changes nothing more
    with pytest.raises(reconciliation.LineAlreadyReviewed):
        accept(app, db, organiser, line.id)
    mailbox.deliver()
    subjects = [message["Subject"] for message in mailbox.to("gian-hang@example.vn")]
    assert len(subjects) == 2  # the reservation ended, then the booth is paid: once each


def test_a_late_booth_transfer_whose_booth_was_taken_changes_nothing_and_can_be_refunded(
        app, db, organiser, account_id, ticket_type_id, make_user, mailbox):
    late = lapsed_booth_transfer(app, db, make_user(email="gian-hang@example.vn"))
    booth_id = booking_of(db, late).booth_id
    lapsed_booth_transfer(app, db, make_user(email="den-sau@example.vn"), booth_id=booth_id)
    with db.transaction() as s:  # the second exhibitor's reservation holds the booth now
        taken = s.scalar(select(BoothBooking).where(BoothBooking.exhibitor.has(email="den-sau@example.vn")))
        taken.status, taken.ended_at = BookingStatus.AWAITING_PAYMENT, None
    run_import(app, db, organiser, account_id, statement_csv((BOOTH_PRICE, late.transfer_reference)))
    line = only_line(db)

    with pytest.raises(booth_services.BoothGone) as refused:
        accept(app, db, organiser, line.id)

    assert refused.value.status_code == 409
    assert load(db, StatementLine, line.id).status is LineStatus.UNFULFILLED
    assert booking_of(db, late).status is BookingStatus.LAPSED
    with app.test_request_context(), db.transaction() as s:
        event = s.scalar(select(Event).where(Event.slug == SLUG))
        assert finance.refund(s, s.get(User, organiser.id), event, late.id, amount=BOOTH_PRICE, reason="Hết gian",
                              request_token="booth-gone", now=utcnow()) is Outcome.REFUNDED
    assert load(db, Payment, late.id).amount_kept == 0
    assert event_summary(app, db).difference == 0


def test_two_late_transfers_accepted_at_once_for_one_booth_reinstate_one(app, db, organiser, account_id,
                                                                         ticket_type_id, make_user):
    if db.is_sqlite:
        pytest.skip("SQLite lets one writer in at a time; the race needs PostgreSQL")
    first = lapsed_booth_transfer(app, db, make_user(email="mot@example.vn"))
    second = lapsed_booth_transfer(app, db, make_user(email="hai@example.vn"),
                                   booth_id=booking_of(db, first).booth_id)
    run_import(app, db, organiser, account_id, statement_csv(*((BOOTH_PRICE, p.transfer_reference)
                                                               for p in (first, second))))
    assert accept_every_line_at_once(app, db, organiser, booth_services.BoothGone) == ["accepted", "refused"]
    assert sorted(booking_of(db, p).status.value for p in (first, second)) == ["lapsed", "sold"]


# --- who reconciles -------------------------------------------------------------------------------

def test_only_admins_and_organisers_named_on_the_account_reconcile_it(app, db, make_user, organiser, account_id,
                                                                     other_account, pay_by_transfer):
    payment = pay_by_transfer()
    run_import(app, db, organiser, account_id, statement_csv((PRICE + 1_000, payment.transfer_reference),
                                                             (5_000, "khong ro")))
    by_memo = lines(db)
    excess, unmatched = by_memo[payment.transfer_reference], by_memo["khong ro"]
    stranger = make_user(Role.ORGANISER, email="nguoi-la@example.vn")  # an organiser named on no account
    elsewhere = make_user(Role.ORGANISER, email="tai-khoan-khac@example.vn")
    name_reconciler(db, other_account, elsewhere)
    admin = make_user(Role.ADMIN, email="quan-tri@example.vn")

    for outsider in (stranger, elsewhere):
        with pytest.raises(reconciliation.NotReconciler):
            run_import(app, db, outsider, account_id, statement_csv((PRICE, "lan 2")))
        # nothing is looked up for them: a line of another account and one that does not exist answer alike
        for line_id in (unmatched.id, excess.id, 99_999):
            for act in (lambda s, u=outsider, i=line_id: reconciliation.link_line(s, s.get(User, u.id), i,
                                                                                    str(payment.id), "", utcnow()),
                        lambda s, u=outsider, i=line_id: reconciliation.accept_line(s, s.get(User, u.id), i, "",
                                                                                      utcnow()),
                        lambda s, u=outsider, i=line_id: reconciliation.reject_line(s, s.get(User, u.id), i, "x",
                                                                                      utcnow())):
                with pytest.raises(reconciliation.NotReconciler):
                    review(app, db, act)
        with db.session_factory() as s:
            user = s.get(User, outsider.id)
            assert reconciliation.review_queue(s, user) == [] and reconciliation.status_counts(s, user) == {}
            assert reconciliation.recent_imports(s, user) == []
            with pytest.raises(reconciliation.NotReconciler):
                reconciliation.get_import(s, user, excess.import_id)
    assert [line.status for line in lines(db).values()] == [LineStatus.EXCESS, LineStatus.UNMATCHED]
    assert order_status(db, payment) is OrderStatus.PENDING

    with db.session_factory() as s:
        assert [line.id for line in reconciliation.review_queue(s, s.get(User, admin.id))] == [excess.id,
                                                                                               unmatched.id]
        with pytest.raises(NotFound):  # an admin sees every account: a missing line is simply missing
            review(app, db, lambda s: reconciliation.reject_line(s, s.get(User, admin.id), 99_999, "x", utcnow()))
    assert accept(app, db, admin, excess.id)[1] == 1_000
    # an organiser who is no longer one reconciles nothing, even while still named
    with db.transaction() as s:
        s.execute(delete(UserRole).where(UserRole.user_id == organiser.id))
    with pytest.raises(reconciliation.NotReconciler):
        review(app, db, lambda s: reconciliation.reject_line(s, s.get(User, organiser.id), unmatched.id, "x",
                                                             utcnow()))
