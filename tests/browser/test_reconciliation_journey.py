"""Issue 6's transfer journey in Chromium: a buyer orders a paid TechFest pass choosing bank transfer and sees the
VietQR page; an organiser imports the bank's statement carrying that transfer; the ticket mail arrives."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.accounts.models import Role
from portal.payments.models import Payment
from tests.browser.steps import log_in, translated
from tests.support.a11y import assert_accessible
from tests.support.payments import PRICE, SLUG, add_bank_account, create_paid_event
from tests.support.reconciliation import name_reconciler, statement_csv

pytestmark = pytest.mark.browser

BUYER = "lan.nguyen@example.vn"


def test_a_transfer_on_the_imported_statement_sends_the_tickets(page, app, db, mailbox, make_user, new_context,
                                                               tmp_path):
    def vi(message: str, **values) -> str:
        return translated(app, message, "vi") % values if values else translated(app, message, "vi")

    account_id = add_bank_account(db, bank_name="Vietcombank – Hà Nội")
    create_paid_event(db)
    make_user(email=BUYER, name="Nguyễn Thị Lan")
    organiser = make_user(Role.ORGANISER, email="ke.toan@example.vn", name="Lê Văn Kế")
    name_reconciler(db, account_id, organiser)

    log_in(page, BUYER)
    page.goto(f"/events/{SLUG}")
    page.get_by_label(vi("Number of tickets: %(name)s", name="Vé nhà đầu tư")).select_option("1")
    page.get_by_role("button", name=vi("Register")).click()
    page.get_by_label(vi("Bank transfer (VietQR)")).check()
    page.get_by_role("button", name=vi("Place the order")).click()
    expect(page.get_by_role("heading", name=vi("Pay by bank transfer"))).to_be_visible()
    expect(page.locator(".transfer-qr svg")).to_be_visible()
    with db.session_factory() as s:
        reference = s.scalars(select(Payment.transfer_reference)).one()
    expect(page.locator("strong", has_text=reference)).to_be_visible()

    # the bank squeezes the memo and wraps it in its own words, as Vietcombank's exports do
    statement = tmp_path / "sao-ke-vietcombank.csv"
    statement.write_bytes(statement_csv(
        (PRICE, f"MBVCB.5012345678.{reference.replace(' ', '')}.CT tu 0451000123456 NGUYEN THI LAN"),
        (500_000, "CHUYEN TIEN KHONG RO NOI DUNG")))

    books = new_context().new_page()
    log_in(books, organiser.email)
    books.locator("#site-nav").get_by_role("link", name=vi("Events"), exact=True).click()
    books.locator(".section-menu").get_by_role("link", name=vi("Bank transfers")).click()
    expect(books.get_by_role("heading", level=1)).to_have_text(vi("Bank transfers"))
    assert_accessible(books)
    books.get_by_label(vi("Statement (CSV)")).set_input_files(str(statement))
    books.get_by_role("button", name=vi("Import")).click()
    expect(books.locator(".flashes")).to_contain_text(
        vi("The statement has been imported: %(new)s new lines, %(old)s imported before.", new=2, old=0))
    expect(books.get_by_text(f"{vi('Matched')}: 1", exact=True)).to_be_visible()
    expect(books.get_by_role("link", name=f"{vi('Unmatched')}: 1")).to_be_visible()
    assert_accessible(books)

    books.get_by_role("link", name=vi("Go to the review queue")).click()
    expect(books.get_by_text("CHUYEN TIEN KHONG RO NOI DUNG")).to_be_visible()
    assert_accessible(books)

    mailbox.deliver()
    [mail] = mailbox.wait_for(BUYER)
    assert "TechFest" in mail["Subject"]
