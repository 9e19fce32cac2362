"""The payment pages in a real browser: the transfer details with their copy buttons, and the card payment's return
page, which turns from "processing" to "received" by itself when Stripe's webhook arrives."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.payments import stripe_checkout
from portal.payments.models import Payment
from tests.browser.steps import log_in
from tests.support.a11y import assert_accessible
from tests.support.payments import (
    FakeStripe,
    add_bank_account,
    checkout_event,
    create_paid_event,
    enable_stripe,
    place_pending_order,
    post_webhook,
)

pytestmark = pytest.mark.browser


def only_payment(db) -> Payment:
    with db.session_factory() as s:
        return s.scalars(select(Payment)).one()


def test_the_transfer_page_shows_the_code_and_copies_the_memo(page, app, db, make_user):
    add_bank_account(db)
    buyer = make_user(locale="en", email="lan@example.vn")
    order = place_pending_order(app, db, buyer, create_paid_event(db), provider="vietqr")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    log_in(page, buyer.email)
    page.goto(f"/orders/{order.code}")
    page.get_by_role("button", name="Show the transfer details").click()

    expect(page.get_by_role("heading", name="Pay by bank transfer")).to_be_visible()
    expect(page.locator(".transfer-qr svg")).to_be_visible()
    memo = page.get_by_role("button", name="Copy the memo")
    memo.click()
    expect(memo).to_have_text("Copied")
    reference = only_payment(db).transfer_reference
    assert page.evaluate("navigator.clipboard.readText()") == reference
    assert_accessible(page)


def test_the_card_return_page_waits_for_the_webhook(page, app, db, make_user, monkeypatch):
    enable_stripe(app, monkeypatch)
    monkeypatch.setattr(stripe_checkout, "create_checkout_session", FakeStripe())
    buyer = make_user(locale="en", email="minh@example.vn")
    order = place_pending_order(app, db, buyer, create_paid_event(db))
    log_in(page, buyer.email)
    page.goto(f"/orders/{order.code}")
    # Stripe's page is elsewhere: stop there and come back as Stripe would send the buyer back
    page.route("https://checkout.stripe.com/**", lambda route: route.fulfill(status=200, body="Stripe Checkout"))
    page.get_by_role("button", name="Pay by card").click()
    expect(page.get_by_text("Stripe Checkout")).to_be_visible()
    payment = only_payment(db)
    page.goto(f"/payments/{payment.id}/card?session_id={payment.provider_reference}")
    expect(page.get_by_text("Your payment is being processed.")).to_be_visible()
    assert_accessible(page)

    assert post_webhook(app.test_client(), checkout_event("checkout.session.completed", payment)).status_code == 200
    expect(page.get_by_text("Your payment has been received.")).to_be_visible(timeout=15_000)
