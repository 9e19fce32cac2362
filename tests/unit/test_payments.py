"""The payment services: the lifecycle table, what the database refuses, opening payments, bank transfers applied by
reconciliation, refunds, the bank accounts, booth bookings as payables, configuration and demo data."""

from __future__ import annotations

from datetime import timedelta
from itertools import product

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app import create_app
from portal.accounts.models import Role, User
from portal.booths import services as booth_services
from portal.booths.models import BookingStatus, BoothBooking
from portal.booths.payable import BOOTH_BOOKING
from portal.config import ConfigError, load_settings
from portal.db import utcnow
from portal.events.models import Event, Order, OrderStatus
from portal.events.payable import ORDER
from portal.finance import demo
from portal.i18n import render_stored_message
from portal.payments import services, vietqr
from portal.payments.models import (
    BankAccount,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    ReviewReason,
)
from portal.payments.payables import reference_prefixes
from portal.payments.providers import PROVIDERS, STRIPE
from portal.payments.services import Outcome, PaymentClosed
from tests.support.booths import as_exhibitor, create_hall
from tests.support.mail import text_body
from tests.support.payments import add_bank_account, create_paid_event, load, open_payment, place_pending_order


@pytest.fixture
def order(app, db, make_user) -> Order:
    buyer = make_user(email="binh@example.vn", locale="vi")
    return place_pending_order(app, db, buyer, create_paid_event(db), provider="vietqr")


def in_transaction(app, db, action):
    """Runs action(session) in a write transaction of its own, as one request or one statement import would."""
    with app.test_request_context(), db.transaction() as s:
        return action(s)


def shown(app, review_message: dict, locale: str) -> str:
    """A payment's review message as an organiser reading in `locale` sees it."""
    with app.test_request_context(), force_locale(locale):
        return render_stored_message(review_message)


def apply_transfer(app, db, payment: Payment, amount: int, line: str) -> Outcome:
    return in_transaction(app, db, lambda s: services.apply_bank_transfer(
        s, payment.id, amount=amount, external_id=line, now=utcnow()))


# --- the lifecycle ----------------------------------------------------------------------------

P = PaymentStatus
#: written out by hand from the payment rules, independently of services.TRANSITIONS: money may still arrive on an
#: attempt that failed or expired; refunds follow collected money, several partial ones in a row; a full refund is final
ALLOWED = {
    (P.PENDING, P.SUCCEEDED),
    (P.PENDING, P.FAILED),
    (P.PENDING, P.EXPIRED),
    (P.FAILED, P.SUCCEEDED),
    (P.EXPIRED, P.SUCCEEDED),
    (P.SUCCEEDED, P.PARTIALLY_REFUNDED),
    (P.SUCCEEDED, P.REFUNDED),
    (P.PARTIALLY_REFUNDED, P.PARTIALLY_REFUNDED),
    (P.PARTIALLY_REFUNDED, P.REFUNDED),
}


@pytest.mark.parametrize(("source", "target"), sorted(ALLOWED))
def test_an_allowed_payment_transition_moves_it_and_stamps_it(source, target):
    now = utcnow()
    payment = Payment(status=source, amount=1)
    services._move(payment, target, now)
    assert (payment.status, payment.updated_at) == (target, now)
    assert payment.succeeded_at == (now if target is P.SUCCEEDED else None)


@pytest.mark.parametrize(("source", "target"), [pair for pair in product(P, P) if pair not in ALLOWED])
def test_a_forbidden_payment_transition_is_refused_and_changes_nothing(app, source, target):
    payment = Payment(status=source, amount=1)
    with app.test_request_context(), pytest.raises(services.Conflict) as refused:
        services._move(payment, target, utcnow())
    assert (payment.status, payment.updated_at, payment.succeeded_at) == (source, None, None)
    assert refused.value.status_code == 409


# --- what the database refuses ----------------------------------------------------------------

def test_a_payment_is_for_exactly_one_order_or_booking(app, db, order, make_user):
    with pytest.raises(IntegrityError), db.transaction() as s:
        s.add(Payment(amount=1000, provider="vietqr"))
    hall = create_hall(db, make_user, event=load(db, Event, order.event_id))
    exhibitor = make_user(Role.STARTUP)
    booking = as_exhibitor(app, db, booth_services.hold_booth, exhibitor, hall.booths["A-01"])
    with pytest.raises(IntegrityError), db.transaction() as s:
        s.add(Payment(order_id=order.id, booth_booking_id=booking.id, amount=1000, provider="vietqr"))
    with pytest.raises(IntegrityError), db.transaction() as s:
        s.add(Payment(order_id=order.id, amount=0, provider="vietqr"))
    with db.session_factory() as s:
        assert s.scalar(select(func.count(Payment.id))) == 0


def test_only_one_bank_account_is_active_at_a_time(db):
    with db.transaction() as s:
        s.add(BankAccount(bank_bin="970436", bank_name="A", account_number="1", holder_name="A", active=True))
    with pytest.raises(IntegrityError), db.transaction() as s:
        s.add(BankAccount(bank_bin="970415", bank_name="B", account_number="2", holder_name="B", active=True))


# --- opening a payment ------------------------------------------------------------------------

def test_opening_a_payment_twice_gives_the_same_one_and_reference(app, db, order):
    first, second = open_payment(app, db, order, "vietqr"), open_payment(app, db, order, "vietqr")
    assert first.id == second.id and first.transfer_reference == second.transfer_reference
    assert (first.amount, first.currency, first.status) == (250_000, "VND", PaymentStatus.PENDING)
    assert first.transfer_reference.startswith("VE ")


def test_a_stripe_attempt_about_to_expire_is_not_handed_out_again(app, db, order):
    first = open_payment(app, db, order, "stripe")
    with db.transaction() as s:
        s.execute(update(Payment).values(expires_at=utcnow() + timedelta(minutes=10)))
    assert open_payment(app, db, order, "stripe").id != first.id


def test_an_order_that_is_not_waiting_for_money_cannot_be_paid(app, db, order):
    with db.transaction() as s:
        s.execute(update(Order).values(expires_at=utcnow() - timedelta(seconds=1)))
    with pytest.raises(PaymentClosed):
        open_payment(app, db, order, "vietqr")
    with db.transaction() as s:
        s.execute(update(Order).values(status=OrderStatus.PAID, expires_at=None))
    with pytest.raises(PaymentClosed):
        open_payment(app, db, order, "vietqr")


# --- bank transfers, as reconciliation applies them -------------------------------------------

def test_a_reference_read_off_a_bank_memo_finds_its_payment_in_the_account_it_was_asked_into(app, db, order):
    shown = add_bank_account(db)
    payment = open_payment(app, db, order, "vietqr")
    other = add_bank_account(db, active=False, account_number="1088666")
    squeezed = payment.transfer_reference.replace(" ", "")
    memo = f"MBVCB.5012345678.{squeezed}.CT tu 0451000123456 NGUYEN VAN BINH toi 0011001932418"
    [reference] = vietqr.find_references(memo, reference_prefixes())
    with db.session_factory() as s:
        assert services.find_transfer_payment(s, reference, shown).id == payment.id
        assert services.find_transfer_payment(s, reference, other) is None


def test_a_transfer_is_asked_into_the_account_shown_and_a_new_one_after_the_account_changes(app, db, order):
    first_account = add_bank_account(db)
    first = open_payment(app, db, order, "vietqr")
    assert (first.bank_account_id, open_payment(app, db, order, "vietqr").id) == (first_account, first.id)
    second_account = add_bank_account(db, active=False, account_number="1088666")
    with db.transaction() as s:
        s.get(BankAccount, first_account).active = False
        s.get(BankAccount, second_account).active = True
    second = open_payment(app, db, order, "vietqr")
    assert second.id != first.id and second.bank_account_id == second_account
    assert second.transfer_reference != first.transfer_reference


def test_an_exact_transfer_confirms_the_order_and_sends_the_tickets(app, db, order, mailbox):
    payment = open_payment(app, db, order, "vietqr")
    assert apply_transfer(app, db, payment, 250_000, "line-1") is Outcome.FULFILLED
    assert load(db, Order, order.id).status is OrderStatus.PAID
    saved = load(db, Payment, payment.id)
    assert (saved.status, saved.amount_received, saved.review_reason) == (PaymentStatus.SUCCEEDED, 250_000, None)
    mailbox.deliver()
    [message] = mailbox.wait_for("binh@example.vn")
    assert "Vé nhà đầu tư" in text_body(message)


def test_the_same_statement_line_applied_twice_credits_once(app, db, order):
    payment = open_payment(app, db, order, "vietqr")
    assert apply_transfer(app, db, payment, 100_000, "line-1") is Outcome.PARTIAL
    assert apply_transfer(app, db, payment, 100_000, "line-1") is Outcome.DUPLICATE
    assert load(db, Payment, payment.id).amount_received == 100_000


def test_partial_transfers_wait_for_review_until_they_add_up(app, db, order):
    payment = open_payment(app, db, order, "vietqr")
    assert apply_transfer(app, db, payment, 100_000, "line-1") is Outcome.PARTIAL
    saved = load(db, Payment, payment.id)
    assert (saved.status, saved.review_reason) == (PaymentStatus.PENDING, ReviewReason.AMOUNT_MISMATCH)
    assert shown(app, saved.review_message, "vi") == ("Số tiền cần thanh toán là 250.000\xa0₫; đến nay đã nhận "
                                                      "100.000\xa0₫, còn thiếu 150.000\xa0₫.")
    assert shown(app, saved.review_message, "en") == ("₫250,000 was asked for; ₫100,000 has arrived so far, "
                                                      "₫150,000 is still owed.")
    assert load(db, Order, order.id).status is OrderStatus.PENDING

    assert apply_transfer(app, db, payment, 150_000, "line-2") is Outcome.FULFILLED
    saved = load(db, Payment, payment.id)
    assert (saved.status, saved.review_reason, saved.amount_received) == (PaymentStatus.SUCCEEDED, None, 250_000)
    assert load(db, Order, order.id).status is OrderStatus.PAID


def test_too_much_money_is_flagged_and_not_fulfilled(app, db, order):
    payment = open_payment(app, db, order, "vietqr")
    assert apply_transfer(app, db, payment, 300_000, "line-1") is Outcome.FLAGGED
    assert shown(app, load(db, Payment, payment.id).review_message, "en") == ("₫250,000 was asked for; ₫300,000 "
                                                                             "arrived.")
    assert load(db, Order, order.id).status is OrderStatus.PENDING


def test_a_transfer_arriving_after_the_order_expired_is_flagged(app, db, order):
    payment = open_payment(app, db, order, "vietqr")
    with db.transaction() as s:
        s.execute(update(Order).values(expires_at=utcnow() - timedelta(minutes=1)))
    assert apply_transfer(app, db, payment, 250_000, "line-1") is Outcome.FLAGGED
    saved = load(db, Payment, payment.id)
    assert (saved.status, saved.review_reason) == (PaymentStatus.SUCCEEDED, ReviewReason.NOT_FULFILLED)
    assert load(db, Order, order.id).status is OrderStatus.PENDING


# --- refunds ----------------------------------------------------------------------------------

def test_a_refund_started_in_the_portal_is_confirmed_not_counted_twice(app, db, order):
    payment = open_payment(app, db, order, "vietqr")
    apply_transfer(app, db, payment, 250_000, "line-1")
    with db.transaction() as s:
        s.add(Refund(payment_id=payment.id, amount=50_000, provider_refund_id="re_1", reason="Giảm giá"))

    def refunded(s):
        return services.record_refunds(s, services.locked_payment(s, payment.id), refunded_total=50_000,
                                       currency="vnd", refunds=[("re_1", 50_000)], now=utcnow())

    assert in_transaction(app, db, refunded) is Outcome.REFUNDED
    assert in_transaction(app, db, refunded) is Outcome.IGNORED
    with db.session_factory() as s:
        [refund] = s.scalars(select(Refund)).all()
        assert (refund.status, refund.reason) == (RefundStatus.SUCCEEDED, "Giảm giá")
    saved = load(db, Payment, payment.id)
    assert (saved.status, saved.amount_kept) == (PaymentStatus.PARTIALLY_REFUNDED, 200_000)


# --- booth bookings are payables too ----------------------------------------------------------

def test_a_booth_booking_asks_for_its_next_instalment(app, db, make_user):
    hall = create_hall(db, make_user, deposit_percent=30)
    exhibitor = make_user(Role.STARTUP, locale="en")
    booking = as_exhibitor(app, db, booth_services.hold_booth, exhibitor, hall.booths["A-01"])
    application = booth_services.Application("Sen Vàng AI", "0101234567", "AI", "Lan", "lan@example.vn", "0901 234 567")
    as_exhibitor(app, db, booth_services.submit_application, exhibitor, booking.id, application,
                 provider_key="vietqr")
    with app.test_request_context(), force_locale("en"), db.transaction() as s:
        payable = BOOTH_BOOKING.for_buyer(s, s.get(User, exhibitor.id), str(booking.id), utcnow())
        assert (payable.amount_due, payable.open, payable.provider_key) == (6_000_000, True, "vietqr")
        assert payable.description == "TechFest Hanoi 2026 – booth A-01"
        payment = services.open_payment(s, payable, "vietqr", utcnow())
        assert payment.booth_booking_id == booking.id and payment.transfer_reference.startswith("GH ")
        with pytest.raises(services.NotFound):
            BOOTH_BOOKING.for_buyer(s, s.get(User, hall.organiser.id), str(booking.id), utcnow())
    assert apply_transfer(app, db, payment, 6_000_000, "line-1") is Outcome.FULFILLED
    saved = load(db, BoothBooking, booking.id)
    assert (saved.amount_paid, saved.status) == (6_000_000, BookingStatus.AWAITING_PAYMENT)
    with app.test_request_context(), db.transaction() as s:
        balance = BOOTH_BOOKING.describe(s.get(BoothBooking, booking.id), utcnow())
        assert balance.amount_due == 14_000_000
        assert services.open_payment(s, balance, "vietqr", utcnow()).id != payment.id


def test_an_order_payable_describes_what_is_bought_in_the_buyers_language(app, db, make_user):
    order = place_pending_order(app, db, make_user(locale="en"), create_paid_event(db, price=90_000), tickets=3)
    with app.test_request_context(), db.session_factory() as s:
        payable = ORDER.describe(s.get(Order, order.id), utcnow())
    assert payable.description == f"TechFest Hanoi 2026 – order {order.code}"
    assert (payable.amount_due, payable.currency, payable.locale, payable.open) == (270_000, "VND", "en", True)


# --- bank accounts ----------------------------------------------------------------------------

def test_activating_an_account_retires_the_one_shown_before(app, db, make_user):
    admin = make_user(Role.ADMIN)

    def add(s, number: str):
        return services.add_bank_account(s, s.get(User, admin.id), bank_bin="970436", bank_name="Vietcombank",
                                         account_number=number, holder_name="Trung tâm Đổi mới", activate=True)

    first = in_transaction(app, db, lambda s: add(s, "0011009876543"))
    second = in_transaction(app, db, lambda s: add(s, "0011001111111"))
    assert load(db, BankAccount, first.id).active is False
    assert load(db, BankAccount, second.id).active is True
    assert second.holder_name == "TRUNG TAM DOI MOI"  # as banks print it


def test_an_account_that_cannot_go_into_a_vietqr_code_is_refused(app, db, make_user):
    admin = make_user(Role.ADMIN)
    with pytest.raises(vietqr.InvalidTransferDetails):
        in_transaction(app, db, lambda s: services.add_bank_account(
            s, s.get(User, admin.id), bank_bin="9704", bank_name="X", account_number="1", holder_name="X",
            activate=True))


# --- configuration and demo data --------------------------------------------------------------

def test_the_demo_card_is_on_in_development_and_refused_in_production(tmp_path):
    assert load_settings(tmp_path, {}).demo_card is True
    production = {"PORTAL_ENV": "production", "SECRET_KEY": "s" * 40, "DATABASE_URL": "sqlite:///x.db"}
    assert load_settings(tmp_path, production).demo_card is False
    with pytest.raises(ConfigError, match="DEMO_CARD"):
        load_settings(tmp_path, production | {"DEMO_CARD": "true"})


def test_stripe_keys_come_from_the_environment(tmp_path):
    settings = load_settings(tmp_path, {"STRIPE_SECRET_KEY": "sk_live_x", "STRIPE_WEBHOOK_SECRET": "whsec_x"})
    config = settings.flask_config()
    assert (config["STRIPE_SECRET_KEY"], config["STRIPE_WEBHOOK_SECRET"]) == ("sk_live_x", "whsec_x")
    assert load_settings(tmp_path, {}).flask_config()["STRIPE_SECRET_KEY"] is None
    app = create_app({"STRIPE_SECRET_KEY": "sk_test_x", "STRIPE_WEBHOOK_SECRET": "whsec_x"}, instance_path=tmp_path)
    with app.app_context():
        assert STRIPE.available()


def test_the_demo_bank_accounts_are_added_once_and_never_over_a_real_one(db):
    with db.transaction() as s:
        assert demo.load(s) == 2
    with db.transaction() as s:
        assert demo.load(s) == 0
        shown, other = s.scalars(select(BankAccount).order_by(BankAccount.id)).all()
        assert shown.active and not other.active
        assert all(vietqr.transfer_payload(account.bank_bin, account.account_number, 1000)
                   for account in (shown, other))


def test_each_provider_says_how_its_money_arrives_and_goes_back():
    """Written independently of providers.py: only bank transfers go to the organisers' account with a reference,
    only card payments are refunded through the provider; everything else is sent back by the organisers."""
    how = {key: (provider.pays_into_account, provider.refunds_online) for key, provider in PROVIDERS.items()}
    assert how == {"free": (False, False), "manual": (False, False), "stripe": (False, True),
                   "demo_card": (False, False), "vietqr": (True, False)}
