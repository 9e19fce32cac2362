"""The organisers' money pages in Chromium, each checked with axe: the review queue accepting an excess transfer,
the finance page, a partial refund through the refund form reached from the orders list, and the receipt."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.accounts.models import Role
from portal.events.models import Event, EventOrganiser
from tests.browser.steps import log_in
from tests.support.a11y import assert_accessible
from tests.support.finance import pay
from tests.support.payments import PRICE, SLUG, add_bank_account, create_paid_event, open_payment, place_pending_order
from tests.support.reconciliation import name_reconciler, statement_csv

pytestmark = pytest.mark.browser


def test_an_organiser_accepts_an_excess_refunds_part_of_an_order_and_prints_its_receipt(page, app, db, make_user,
                                                                                        tmp_path, mailbox):
    account_id = add_bank_account(db)
    ticket_type_id = create_paid_event(db)
    organiser = make_user(Role.ORGANISER, locale="en", email="ke.toan@example.vn", name="Lê Văn Kế")
    with db.transaction() as s:
        event_id = s.scalar(select(Event.id).where(Event.slug == SLUG))
        s.add(EventOrganiser(event_id=event_id, user_id=organiser.id))
    name_reconciler(db, account_id, organiser)
    buyer = make_user(locale="en", email="lan@example.vn", name="Nguyễn Thị Lan")
    order, _ = pay(app, db, buyer, ticket_type_id, provider="vietqr", tickets=2)
    generous = open_payment(app, db, place_pending_order(app, db, make_user(email="hao.phong@example.vn"),
                                                         ticket_type_id, provider="vietqr"), "vietqr")
    statement = tmp_path / "sao-ke.csv"
    statement.write_bytes(statement_csv((PRICE + 50_000, f"IBFT {generous.transfer_reference}")))
    assert account_id

    log_in(page, organiser.email)
    page.goto("/payments/reconciliation/")
    page.get_by_label("Statement (CSV)").set_input_files(str(statement))
    page.get_by_role("button", name="Import").click()
    page.get_by_role("link", name="Go to the review queue").click()
    assert_accessible(page)
    page.get_by_role("button", name="Accept and owe the excess back").click()
    expect(page.locator(".flashes")).to_contain_text("is owed back to the payer")
    assert_accessible(page)

    page.goto(f"/manage/events/{event_id}/finance")
    expect(page.locator("#stat-to-send")).to_have_text("₫50,000")
    expect(page.locator("#finance-difference")).to_contain_text("every payment matches its order")
    assert_accessible(page)
    page.get_by_role("button", name=re.compile("^Mark the refund of ₫50,000")).click()
    expect(page.locator(".flashes")).to_contain_text("recorded as sent and the payer has been told")

    page.goto(f"/manage/events/{event_id}/orders")
    page.get_by_role("link", name=f"Refund {order.code}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Refund order {order.code}")
    assert_accessible(page)
    page.get_by_label("Amount to refund (VND)").fill("100000")
    page.get_by_label("Reason (the buyer reads it)").fill("One attendee cannot come")
    page.get_by_role("button", name="Refund").click()
    expect(page.locator(".flashes")).to_contain_text("The refund is recorded and the buyer has been told.")
    expect(page.locator("#stat-refunded")).to_have_text("₫150,000")
    expect(page.locator("#refunds")).to_contain_text("One attendee cannot come")
    assert_accessible(page)

    page.locator(f'a[href$="/orders/{order.id}/receipt"]').click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Receipt for order {order.code}")
    expect(page.get_by_text("This receipt is not a legal e-invoice")).to_be_visible()
    assert_accessible(page)
    mailbox.deliver()
    assert len(mailbox.wait_for(buyer.email, count=2)) == 2  # the tickets, the refund
