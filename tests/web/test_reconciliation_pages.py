"""The reconciliation pages: importing a statement, bad files refused with the line named, the review queue's
link and reject forms, who may see them, and the queue's bounded queries."""

from __future__ import annotations

import io
import re
import unicodedata

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Role
from portal.booths.models import BookingStatus, Booth
from portal.events.models import EventOrganiser, Order, OrderStatus
from portal.payments.models import LineStatus, Payment, StatementImport, StatementLine
from tests.support.finance import BOOTH_PRICE, booking_of, lapsed_booth_transfer
from tests.support.payments import PRICE, add_bank_account, create_paid_event, load, open_payment, place_pending_order
from tests.support.reconciliation import name_reconciler, statement_csv
from tests.support.ticketing import expire_order
from tests.support.web import count_queries, csrf_token

INDEX = "/payments/reconciliation/"
QUEUE = "/payments/reconciliation/review"


@pytest.fixture
def organiser(login_as):
    return login_as(Role.ORGANISER, locale="en")


@pytest.fixture
def account_id(db, organiser) -> int:
    """The account payment pages show, which the organiser reconciles."""
    account_id = add_bank_account(db)
    name_reconciler(db, account_id, organiser.user)
    return account_id


@pytest.fixture
def payment(app, db, make_user) -> Payment:
    buyer = make_user(email="binh@example.vn")
    order = place_pending_order(app, db, buyer, create_paid_event(db), provider="vietqr")
    return open_payment(app, db, order, "vietqr")


def upload(app, client, account_id: int, data: bytes, filename: str = "sao-ke.csv"):
    return client.post(INDEX, data={"csrf_token": csrf_token(client, app), "bank_account": str(account_id),
                                    "statement": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def first_id(db, column, *where) -> int:
    """The first id of a table, read in a session closed at once (an open one would hold its tables' locks)."""
    with db.session_factory() as s:
        return s.scalars(select(column).where(*where).order_by(column)).first()


def imported_lines(db) -> int:
    with db.session_factory() as s:
        return s.scalar(select(func.count()).select_from(StatementLine))


def test_an_organiser_imports_a_statement_and_sees_each_line_and_the_counts(app, db, organiser, account_id, payment,
                                                                            mailbox):
    data = statement_csv((PRICE, f"IBFT {payment.transfer_reference} thanh toan"), (300_000, "ung ho"))

    response = upload(app, organiser, account_id, data)

    assert response.status_code == 302
    page = organiser.get(response.headers["Location"], follow_redirects=True).get_data(as_text=True)
    assert "2 new lines, 0 imported before" in page
    assert "Matched: 1" in page and "Unmatched: 1" in page
    assert payment.transfer_reference in page and "ung ho" in page
    assert load(db, Order, payment.order_id).status is OrderStatus.PAID
    mailbox.deliver()
    assert len(mailbox.to("binh@example.vn")) == 1

    again = organiser.get(upload(app, organiser, account_id, data).headers["Location"]).get_data(as_text=True)
    assert "Already imported before (skipped): 2" in again
    assert imported_lines(db) == 2


@pytest.mark.parametrize(("data", "filename", "message", "status"), [
    (unicodedata.normalize("NFD", "Date,Credit,Description\n01/12/2026,250.000,Thanh toán vé\n").encode("cp1258"),
     "a.csv",
     "Line 2 is not UTF-8 text", 400),
    (b"Date,Amount,Description\n01/12/2026,250000,VE 7K3Q9X\n", "a.csv",
     "Line 1 looks like the row of column names, but it has no column for the money received", 400),
    (statement_csv((PRICE, "VE AAAAAA")) + b"9,2026-12-01,X,,100.000,sai ngay\n", "a.csv",
     "Line 6: “2026-12-01” is not a date written day/month/year", 400),
    (statement_csv((PRICE, "VE AAAAAA")) + b'9,01/12/2026 10:00:00,X2,,100.000,"VE BBBBBB chuyen tien\n'
     b'10,01/12/2026 11:00:00,X3,,200.000,VE CCCCCC\n', "a.csv",
     "Line 6 cannot be read as CSV: check its quotation marks.", 400),
    (statement_csv((PRICE, "VE AAAAAA")), "sao-ke.xlsx", "Choose a CSV file", 400),
    (b"x" * (2 * 1024 * 1024 + 1), "big.csv", "larger than 2 MB", 413),
])
def test_a_bad_file_is_refused_with_a_clear_message_and_nothing_is_imported(app, db, organiser, account_id, data,
                                                                           filename, message, status):
    response = upload(app, organiser, account_id, data, filename)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert imported_lines(db) == 0
    with db.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(StatementImport)) == 0


def test_the_queue_links_an_unmatched_transfer_to_the_payment_the_organiser_names(app, db, organiser, account_id,
                                                                                  payment):
    upload(app, organiser, account_id, statement_csv((PRICE, "CHUYEN TIEN VE TECHFEST")))
    line_id = first_id(db, StatementLine.id)
    queue = organiser.get(QUEUE)
    assert "CHUYEN TIEN VE TECHFEST" in queue.get_data(as_text=True)

    refused = organiser.post(f"/payments/reconciliation/lines/{line_id}/link", data={
        f"link-{line_id}-csrf_token": csrf_token(organiser, app), f"link-{line_id}-payment": "VE 222222",
        f"link-{line_id}-note": "đã gọi điện"})
    assert refused.status_code == 404
    body = refused.get_data(as_text=True)
    assert "No bank transfer asked into this line&#39;s account has this reference" in body
    assert "đã gọi điện" in body  # kept as typed

    done = organiser.post(f"/payments/reconciliation/lines/{line_id}/link", data={
        f"link-{line_id}-csrf_token": csrf_token(organiser, app),
        f"link-{line_id}-payment": payment.transfer_reference, f"link-{line_id}-note": ""}, follow_redirects=True)
    assert "its order is paid" in done.get_data(as_text=True)
    assert load(db, StatementLine, line_id).status is LineStatus.LINKED
    assert load(db, Order, payment.order_id).status is OrderStatus.PAID
    assert "CHUYEN TIEN VE TECHFEST" not in organiser.get(QUEUE).get_data(as_text=True)
    assert "CHUYEN TIEN VE TECHFEST" in organiser.get(QUEUE, query_string={"status": "linked"}).get_data(as_text=True)


def test_rejecting_needs_a_note_and_then_leaves_the_queue(app, db, organiser, account_id):
    upload(app, organiser, account_id, statement_csv((120_000, "ung ho quy")))
    line_id = first_id(db, StatementLine.id)
    url = f"/payments/reconciliation/lines/{line_id}/reject"
    token = f"reject-{line_id}-csrf_token"

    empty = organiser.post(url, data={token: csrf_token(organiser, app), f"reject-{line_id}-note": ""})
    assert empty.status_code == 400
    assert "This field is required" in empty.get_data(as_text=True)
    assert load(db, StatementLine, line_id).status is LineStatus.UNMATCHED

    organiser.post(url, data={token: csrf_token(organiser, app), f"reject-{line_id}-note": "not for an order"})
    line = load(db, StatementLine, line_id)
    assert (line.status, line.review_note) == (LineStatus.REJECTED, "not for an order")


@pytest.mark.parametrize("url", [INDEX, QUEUE])
def test_only_organisers_and_admins_reconcile(app, login_as, client, url):
    assert login_as(Role.STARTUP).get(url).status_code == 403
    assert client.get(url).status_code == 302  # to the login page
    assert login_as(Role.ADMIN).get(url).status_code == 200


def test_a_startup_cannot_import_or_review(app, db, login_as, account_id):
    startup = login_as(Role.STARTUP)
    assert upload(app, startup, account_id, statement_csv((PRICE, "x"))).status_code == 403
    assert startup.post("/payments/reconciliation/lines/1/reject", data={}).status_code == 403
    assert imported_lines(db) == 0


def test_the_queue_sends_as_many_queries_for_many_lines_as_for_few(app, db, organiser, account_id, make_user):
    ticket_type_id = create_paid_event(db)

    def add_payments(count: int, first: int) -> list[str]:
        references = []
        for number in range(first, first + count):
            order = place_pending_order(app, db, make_user(email=f"b{number}@example.vn"), ticket_type_id,
                                        provider="vietqr")
            references.append(open_payment(app, db, order, "vietqr").transfer_reference)
        return references

    def queries() -> int:
        with count_queries(db.engine) as counter:
            assert organiser.get(QUEUE).status_code == 200
        return len(counter)

    upload(app, organiser, account_id, statement_csv(*[(1_000, ref) for ref in add_payments(2, 0)], (5, "?")))
    few = queries()
    upload(app, organiser, account_id, statement_csv(*[(2_000, ref) for ref in add_payments(8, 2)],
                                                     *[(n, f"khong ro {n}") for n in range(6, 14)]))
    assert imported_lines(db) == 19
    assert queries() == few


def accept_form(app, client, line_id: int, note: str = "", **kwargs):
    return client.post(f"/payments/reconciliation/lines/{line_id}/accept", data={
        f"accept-{line_id}-csrf_token": csrf_token(client, app), f"accept-{line_id}-note": note}, **kwargs)


def test_an_accepted_excess_is_owed_back_and_marked_as_sent_on_the_finance_page(app, db, organiser, account_id,
                                                                              payment, mailbox):
    with db.transaction() as s:
        event_id = s.get(Order, payment.order_id).event_id
        s.add(EventOrganiser(event_id=event_id, user_id=organiser.user.id))
    upload(app, organiser, account_id, statement_csv((PRICE + 100_000, payment.transfer_reference)))
    line_id = first_id(db, StatementLine.id)
    assert "Accept and owe the excess back" in organiser.get(QUEUE).get_data(as_text=True)

    done = accept_form(app, organiser, line_id, "khách chuyển thừa", follow_redirects=True).get_data(as_text=True)
    assert f"{payment.transfer_reference} is paid, and ₫100,000 is owed back to the payer" in done
    again = accept_form(app, organiser, line_id)
    assert again.status_code == 409 and "no longer waiting for review" in again.get_data(as_text=True)
    assert load(db, Order, payment.order_id).status is OrderStatus.PAID

    finance_page = organiser.get(f"/manage/events/{event_id}/finance").get_data(as_text=True)
    assert re.search(r'id="stat-to-send">₫100,000', finance_page) and "To send back" in finance_page
    assert "every payment matches its order" in finance_page
    refund_id = re.search(r'data-refund="(\d+)"', finance_page).group(1)
    sent_url = f"/manage/events/{event_id}/finance/refunds/{refund_id}/sent"
    sent = organiser.post(sent_url, data={"csrf_token": csrf_token(organiser, app)}, follow_redirects=True)
    assert "recorded as sent and the payer has been told" in sent.get_data(as_text=True)
    twice = organiser.post(sent_url, data={"csrf_token": csrf_token(organiser, app)}, follow_redirects=True)
    assert "already been recorded as sent" in twice.get_data(as_text=True)
    assert load(db, Payment, payment.id).amount_refunded == 100_000
    mailbox.deliver()
    assert len(mailbox.to("binh@example.vn")) == 2  # the tickets, the refund


def test_a_late_transfer_whose_seats_are_gone_says_so_and_offers_a_refund(app, db, organiser, account_id, make_user):
    ticket_type_id = create_paid_event(db, seats=1)
    late = open_payment(app, db, place_pending_order(app, db, make_user(), ticket_type_id, provider="vietqr"),
                        "vietqr")
    expire_order(db, late.order_id)
    place_pending_order(app, db, make_user(), ticket_type_id, provider="vietqr")
    upload(app, organiser, account_id, statement_csv((PRICE, late.transfer_reference)))
    line_id = first_id(db, StatementLine.id)

    refused = accept_form(app, organiser, line_id, "chuyển muộn")
    assert refused.status_code == 409
    body = refused.get_data(as_text=True)
    assert "seats of this order were taken by other buyers" in body and "chuyển muộn" in body
    assert f"/finance/payments/{late.id}/refund" in body and "Refund this payment instead" in body
    assert load(db, StatementLine, line_id).status is LineStatus.UNFULFILLED
    assert load(db, Order, late.order_id).status is OrderStatus.EXPIRED


def test_a_late_booth_transfer_whose_booth_was_blocked_says_so_and_offers_a_refund(app, db, organiser, account_id,
                                                                                   make_user):
    create_paid_event(db)
    late = lapsed_booth_transfer(app, db, make_user(email="gian-hang@example.vn"))
    with db.transaction() as s:
        s.get(Booth, booking_of(db, late).booth_id).blocked = True
    upload(app, organiser, account_id, statement_csv((BOOTH_PRICE, late.transfer_reference)))
    line_id = first_id(db, StatementLine.id)

    refused = accept_form(app, organiser, line_id, "chuyển khoản muộn 3 ngày")

    assert refused.status_code == 409
    body = refused.get_data(as_text=True)
    assert "cannot be reinstated. Refund the transfer to the payer instead." in body
    assert "chuyển khoản muộn 3 ngày" in body and f"/finance/payments/{late.id}/refund" in body
    assert booking_of(db, late).status is BookingStatus.LAPSED


# --- one statement, two accounts --------------------------------------------------------------

def finance_figures(client, event_id: int) -> dict[str, str]:
    page = client.get(f"/manage/events/{event_id}/finance").get_data(as_text=True)
    return dict(re.findall(r'id="stat-([a-z-]+)">([^<]+)<', page))


def test_one_statement_uploaded_under_a_second_account_leaves_the_finance_page_as_it_was(app, db, organiser,
                                                                                       account_id, payment):
    other = add_bank_account(db, active=False, bank_bin="970436", account_number="1088666",
                             bank_name="Vietcombank – Ba Đình")
    name_reconciler(db, other, organiser.user)
    with db.transaction() as s:
        event_id = s.get(Order, payment.order_id).event_id
        s.add(EventOrganiser(event_id=event_id, user_id=organiser.user.id))
    data = statement_csv((PRICE + 100_000, payment.transfer_reference), (300_000, "ung ho"))
    upload(app, organiser, account_id, data)
    before = finance_figures(organiser, event_id)
    assert before["review"] != "0"

    again = upload(app, organiser, other, data)

    page = organiser.get(again.headers["Location"], follow_redirects=True).get_data(as_text=True)
    assert "0 new lines, 2 imported before" in page
    assert "2 of its lines had been imported under another bank account and were skipped" in page
    assert finance_figures(organiser, event_id) == before
    assert load(db, Payment, payment.id).amount_received == PRICE + 100_000
    # the one excess line is accepted once, and only its excess is owed back
    line_id = first_id(db, StatementLine.id, StatementLine.payment_id == payment.id)
    accept_form(app, organiser, line_id)
    after = finance_figures(organiser, event_id)
    assert after["to-send"] == "₫100,000" and after["received"] == "₫350,000"
    with db.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(StatementLine)) == 2


def test_a_statement_of_another_account_is_refused_keeping_the_account_chosen(app, db, organiser, account_id,
                                                                            payment):
    data = "Số tài khoản: 999900002026\r\n".encode() + statement_csv((PRICE, payment.transfer_reference), bom=False)
    response = upload(app, organiser, account_id, data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "This statement is of account 999900002026, not of VietinBank – Hoàn Kiếm – 0011001932418" in page
    assert f'<option selected value="{account_id}">' in page
    assert imported_lines(db) == 0 and load(db, Order, payment.order_id).status is OrderStatus.PENDING


# --- who reconciles -----------------------------------------------------------------------------

def test_an_organiser_named_on_no_account_is_refused_before_anything_is_looked_up(app, db, organiser, account_id,
                                                                                 payment, login_as):
    upload(app, organiser, account_id, statement_csv((PRICE, "CHUYEN TIEN VE TECHFEST")))
    line_id = first_id(db, StatementLine.id)
    import_id = first_id(db, StatementImport.id)
    stranger = login_as(Role.ORGANISER, locale="en")

    for url in (INDEX, QUEUE, f"{INDEX}imports/{import_id}", f"{INDEX}imports/99999"):
        assert stranger.get(url).status_code == 403
    assert upload(app, stranger, account_id, statement_csv((PRICE, "lan 2"))).status_code == 403
    for target in (line_id, 99999):  # a line that exists and one that does not: the same answer
        response = stranger.post(f"/payments/reconciliation/lines/{target}/link", data={
            f"link-{target}-csrf_token": csrf_token(stranger, app), f"link-{target}-payment": str(payment.id)})
        assert response.status_code == 403
        assert "No bank transfer" not in response.get_data(as_text=True)
    assert load(db, StatementLine, line_id).status is LineStatus.UNMATCHED
    assert load(db, Order, payment.order_id).status is OrderStatus.PENDING
    assert imported_lines(db) == 1


def test_an_organiser_named_on_another_account_sees_and_settles_only_that_one(app, db, organiser, account_id,
                                                                             payment, login_as):
    upload(app, organiser, account_id, statement_csv((PRICE, "CHUYEN TIEN VE TECHFEST")))
    line_id = first_id(db, StatementLine.id)
    import_id = first_id(db, StatementImport.id)
    other = add_bank_account(db, active=False, bank_bin="970436", account_number="1088666",
                             bank_name="Vietcombank – Ba Đình")
    elsewhere = login_as(Role.ORGANISER, locale="en")
    name_reconciler(db, other, elsewhere.user)

    index = elsewhere.get(INDEX).get_data(as_text=True)
    assert "1088666" in index and "0011001932418" not in index  # neither offered nor among the recent imports
    assert "CHUYEN TIEN VE TECHFEST" not in elsewhere.get(QUEUE).get_data(as_text=True)
    assert elsewhere.get(f"{INDEX}imports/{import_id}").status_code == 403
    assert elsewhere.get(f"{INDEX}imports/99999").status_code == 403
    refused = upload(app, elsewhere, account_id, statement_csv((PRICE, payment.transfer_reference)))
    assert refused.status_code == 400 and "Not a valid choice" in refused.get_data(as_text=True)
    linked = elsewhere.post(f"/payments/reconciliation/lines/{line_id}/link", data={
        f"link-{line_id}-csrf_token": csrf_token(elsewhere, app), f"link-{line_id}-payment": str(payment.id)})
    assert linked.status_code == 403
    assert load(db, Order, payment.order_id).status is OrderStatus.PENDING
    assert imported_lines(db) == 1


def test_a_statement_over_the_sites_body_limit_shows_the_statement_limit_on_the_form_keeping_the_account(
        app, db, organiser, account_id):
    other = add_bank_account(db, active=False, bank_bin="970436", account_number="1088666",
                             bank_name="Vietcombank – Ba Đình")
    name_reconciler(db, other, organiser.user)
    assert app.config["MAX_CONTENT_LENGTH"] == 10 * 1024 * 1024

    response = upload(app, organiser, other, b"x" * (11 * 1024 * 1024), "sao-ke-ca-nam.csv")

    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "The file is larger than 2 MB: export a shorter period." in page and "10 MB" not in page
    assert f'<option selected value="{other}">' in page  # the account chosen, kept
    assert 'enctype="multipart/form-data"' in page  # the import form, to choose a shorter statement
    assert imported_lines(db) == 0


def test_only_the_statement_upload_answers_an_oversized_body_its_own_way(app, db, organiser, account_id, login_as):
    huge = b"x" * (11 * 1024 * 1024)
    # another of the pages: the site's own answer
    other = organiser.post("/payments/reconciliation/lines/1/reject", data={"reject-1-note": huge.decode()})
    assert other.status_code == 413 and "10 MB" in other.get_data(as_text=True)
    # someone who reconciles nothing learns nothing more than on any other of these pages
    stranger = login_as(Role.ORGANISER, locale="en")
    refused = upload(app, stranger, account_id, huge)
    assert refused.status_code == 403 and "2 MB" not in refused.get_data(as_text=True)
