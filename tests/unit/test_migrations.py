"""Alembic's revisions and the models describe the same schema, on the database under test."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, inspect, select
from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.booths.models import BookingStatus, Booth, BoothBooking
from portal.db import make_engine, utcnow
from portal.events.models import Event, EventStatus, Order, OrderStatus
from portal.migrate import alembic_config, include_object, upgrade
from portal.models import metadata
from portal.payments import finance, refunds
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
from tests.conftest import fresh_database_url


def _differences(url: str) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"include_object": include_object, "compare_type": True})
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()


def test_upgrading_an_empty_database_gives_exactly_the_models_schema(tmp_path_factory):
    url = fresh_database_url(tmp_path_factory, "migrations")
    assert any(diff[0] == "add_table" for diff in _differences(url))  # the comparison does see a missing schema
    upgrade(url)
    assert _differences(url) == []


def test_downgrade_to_nothing_and_upgrade_again(tmp_path_factory):
    url = fresh_database_url(tmp_path_factory, "roundtrip")
    upgrade(url)
    command.downgrade(alembic_config(url), "base")
    engine = make_engine(url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    upgrade(url)
    assert _differences(url) == []


def test_the_schedulers_job_table_is_not_part_of_the_models(tmp_path_factory, app):
    """APScheduler creates apscheduler_jobs itself; autogenerate must neither drop nor want it."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    url = fresh_database_url(tmp_path_factory, "jobstore")
    upgrade(url)
    engine = make_engine(url)
    SQLAlchemyJobStore(engine=engine).start(None, "default")
    assert "apscheduler_jobs" in inspect(engine).get_table_names()
    engine.dispose()
    assert _differences(url) == []


def test_money_recorded_by_hand_before_0009_becomes_payments_that_refunds_can_give_back(tmp_path_factory, app):
    """An order marked paid and booth instalments recorded by hand had no payment: the upgrade writes the manual
    provider's, and the finance page's totals still add up; downgrading takes back only those never refunded."""
    url = fresh_database_url(tmp_path_factory, "by_hand")
    upgrade(url, "0008_organisation_tax_code")
    engine = make_engine(url)
    now = utcnow()
    with Session(engine, expire_on_commit=False) as s, s.begin():
        buyer = User(email="mua@example.vn", full_name="Phạm Thu Hà", password_hash="x")
        event = Event(slug="techfest", name_vi="Techfest", name_en="Techfest", status=EventStatus.PUBLISHED,
                      starts_at=now, ends_at=now)
        by_hand, by_card, unpaid = (Order(code=code, event=event, buyer=buyer, status=status, total=total,
                                          provider=provider, locale="vi", paid_at=now)
                                    for code, status, total, provider in (
                                        ("TAY", OrderStatus.PAID, 500_000, "manual"),
                                        ("THE", OrderStatus.PAID, 250_000, "stripe"),
                                        ("CHO", OrderStatus.PENDING, 250_000, "manual")))
        s.add_all([by_hand, by_card, unpaid])
        # a deposit of 6 000 000 ₫ paid by transfer, then 14 000 000 ₫ recorded by hand
        booking = BoothBooking(event=event, booth=Booth(event=event, number="A-01", x=0, y=0, w=3, h=3, size_m2=9,
                                                        price=20_000_000),
                               exhibitor=buyer, status=BookingStatus.SOLD, hold_expires_at=now, paid_at=now,
                               amount_due=20_000_000, deposit_due=6_000_000, amount_paid=20_000_000)
        s.add(booking)
        s.flush()
        # written column by column: the payments table of 0008 lacks the columns later revisions add
        s.execute(insert(Payment.__table__), [
            {"order_id": by_card.id, "booth_booking_id": None, "amount": 250_000, "provider": "stripe",
             "status": PaymentStatus.SUCCEEDED, "amount_received": 250_000, "succeeded_at": now},
            {"order_id": None, "booth_booking_id": booking.id, "amount": 6_000_000, "provider": "vietqr",
             "status": PaymentStatus.SUCCEEDED, "amount_received": 6_000_000, "succeeded_at": now}])
    upgrade(url)
    with app.test_request_context(), Session(engine) as s:
        event = s.scalar(select(Event))
        written = s.execute(select(Payment.order_id, Payment.booth_booking_id, Payment.amount, Payment.status)
                            .where(Payment.provider == "manual")).all()
        summary = finance.summary(s, event)
        assert sorted(written, key=str) == sorted([(by_hand.id, None, 500_000, PaymentStatus.SUCCEEDED),
                                                   (None, booking.id, 14_000_000, PaymentStatus.SUCCEEDED)], key=str)
        assert (summary.received, summary.orders_paid, summary.booths_paid) == (20_750_000, 750_000, 20_000_000)
        assert summary.difference == 0
        s.add(Refund(payment=refunds.payment_to_refund(s, event, order_id=by_hand.id), amount=100_000,
                     status=RefundStatus.SUCCEEDED))
        s.commit()
    command.downgrade(alembic_config(url), "0008_organisation_tax_code")
    with Session(engine) as s:
        assert s.execute(select(Payment.order_id, Payment.amount).where(Payment.provider == "manual")).all() == [
            (by_hand.id, 500_000)]
    engine.dispose()


def test_0010_gives_each_earlier_bank_transfer_the_account_it_was_most_likely_asked_into(tmp_path_factory, app):
    """A transfer a statement line paid gets that line's account, any other the account shown now; refunds and
    everything else of the payments stay (the column is added in place, not by rebuilding the table)."""
    url = fresh_database_url(tmp_path_factory, "transfer_accounts")
    upgrade(url, "0009_payments_received_by_hand")
    engine = make_engine(url)
    now = utcnow()
    with Session(engine) as s, s.begin():
        buyer = User(email="mua@example.vn", full_name="Phạm Thu Hà", password_hash="x")
        event = Event(slug="techfest", name_vi="Techfest", name_en="Techfest", status=EventStatus.PUBLISHED,
                      starts_at=now, ends_at=now)
        orders = [Order(code=f"DON{n}", event=event, buyer=buyer, status=OrderStatus.PAID, total=250_000,
                        provider="vietqr", locale="vi", paid_at=now) for n in range(3)]
        s.add_all(orders)
        s.flush()
        accounts = s.execute(insert(BankAccount.__table__).returning(BankAccount.__table__.c.id), [
            {"bank_bin": "970436", "bank_name": "Cũ", "account_number": "111", "holder_name": "A", "active": False},
            {"bank_bin": "970415", "bank_name": "Mới", "account_number": "222", "holder_name": "A", "active": True},
        ]).scalars().all()
        payments = s.execute(insert(Payment.__table__).returning(Payment.__table__.c.id), [
            {"order_id": order.id, "booth_booking_id": None, "amount": 250_000, "provider": provider,
             "status": PaymentStatus.SUCCEEDED, "amount_received": 250_000, "succeeded_at": now,
             "transfer_reference": f"VE 00000{n}" if provider == "vietqr" else None}
            for n, (order, provider) in enumerate(zip(orders, ("vietqr", "vietqr", "stripe"), strict=True))
        ]).scalars().all()
        imported = s.execute(insert(StatementImport.__table__).returning(StatementImport.__table__.c.id), [
            {"bank_account_id": accounts[0], "filename": "a.csv", "imported_at": now, "lines_read": 1,
             "lines_already_imported": 0}]).scalar_one()
        s.execute(insert(StatementLine.__table__), [
            {"import_id": imported, "bank_account_id": accounts[0], "fingerprint": "f", "line_number": 5,
             "booked_at": now, "amount": 250_000, "memo": "VE 000000", "status": LineStatus.MATCHED,
             "payment_id": payments[0], "review_note": ""}])
        s.execute(insert(Refund.__table__), [{"payment_id": payments[0], "amount": 1_000, "reason": "",
                                             "status": RefundStatus.SUCCEEDED, "created_at": now}])
    upgrade(url)
    with Session(engine) as s:
        assert s.execute(select(Payment.id, Payment.bank_account_id).order_by(Payment.id)).all() == [
            (payments[0], accounts[0]), (payments[1], accounts[1]), (payments[2], None)]
        assert s.scalar(select(Refund.payment_id)) == payments[0]
    command.downgrade(alembic_config(url), "0009_payments_received_by_hand")
    with Session(engine) as s:
        assert s.scalar(select(Refund.payment_id)) == payments[0]
    engine.dispose()
