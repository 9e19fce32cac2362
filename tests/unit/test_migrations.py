"""Alembic's revisions and the models describe the same schema, on the database under test."""

from datetime import timedelta

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_babel import force_locale
from sqlalchemy import Column, MetaData, Table, Text, func, insert, inspect, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import create_app
from portal.accounts import services as accounts
from portal.accounts.models import TokenPurpose, User
from portal.booths.models import BookingStatus, Booth, BoothBooking
from portal.db import make_engine, utcnow
from portal.demo import load_demo
from portal.events import orders
from portal.events.models import (
    Event,
    EventStatus,
    Order,
    OrderStatus,
    Quota,
    TicketType,
    WaitingListEntry,
    WaitingListStatus,
)
from portal.finance import services as finance
from portal.i18n import render_stored_message
from portal.migrate import alembic_config, include_object, upgrade
from portal.models import metadata
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
from portal.security import token_digest
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


def _old_user(s) -> int:
    """A buyer written column by column, as the users table of a revision before 0016 has no search_text."""
    return s.execute(text("INSERT INTO users (email, full_name, password_hash, locale, is_active, created_at) "
                          "VALUES ('mua@example.vn', 'Phạm Thu Hà', 'x', 'vi', true, :now) RETURNING id"),
                     {"now": utcnow().replace(tzinfo=None)}).scalar_one()


def old_event(s: Session, now) -> int:
    """An event written column by column: the events table of an earlier revision lacks the columns later ones add."""
    return s.execute(insert(Event.__table__).values(slug="techfest", name_vi="Techfest", name_en="Techfest",
                                                    status=EventStatus.PUBLISHED, starts_at=now, ends_at=now)
                     .returning(Event.__table__.c.id)).scalar_one()


def payments_before_0020() -> Table:
    """The payments table as revisions before 0020 have it: a review note, written empty."""
    table = Payment.__table__.to_metadata(MetaData())
    table.append_column(Column("review_note", Text, default=""))
    return table


def test_money_recorded_by_hand_before_0009_becomes_payments_that_refunds_can_give_back(tmp_path_factory, app):
    """An order marked paid and booth instalments recorded by hand had no payment: the upgrade writes the manual
    provider's, and the finance page's totals still add up; downgrading takes back only those never refunded."""
    url = fresh_database_url(tmp_path_factory, "by_hand")
    upgrade(url, "0008_organisation_tax_code")
    engine = make_engine(url)
    now = utcnow()
    with Session(engine, expire_on_commit=False) as s, s.begin():
        buyer = _old_user(s)
        event_id = old_event(s, now)
        by_hand, by_card, unpaid = (Order(code=code, event_id=event_id, buyer_id=buyer, status=status, total=total,
                                          provider=provider, locale="vi", paid_at=now)
                                    for code, status, total, provider in (
                                        ("TAY", OrderStatus.PAID, 500_000, "manual"),
                                        ("THE", OrderStatus.PAID, 250_000, "stripe"),
                                        ("CHO", OrderStatus.PENDING, 250_000, "manual")))
        s.add_all([by_hand, by_card, unpaid])
        # a deposit of 6 000 000 ₫ paid by transfer, then 14 000 000 ₫ recorded by hand
        booth = Booth(event_id=event_id, number="A-01", x=0, y=0, w=3, h=3, size_m2=9, price=20_000_000)
        booking = BoothBooking(event_id=event_id, booth=booth,
                               exhibitor_id=buyer, status=BookingStatus.SOLD, hold_expires_at=now, paid_at=now,
                               amount_due=20_000_000, deposit_due=6_000_000, amount_paid=20_000_000)
        s.add(booking)
        s.flush()
        # written column by column: the payments table of 0008 lacks the columns later revisions add
        s.execute(insert(payments_before_0020()), [
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
        s.add(Refund(payment=finance.payment_to_refund(s, event, order_id=by_hand.id), amount=100_000,
                     status=RefundStatus.SUCCEEDED))
        s.commit()
    command.downgrade(alembic_config(url), "0008_organisation_tax_code")
    with Session(engine) as s:
        assert s.execute(select(Payment.order_id, Payment.amount).where(Payment.provider == "manual")).all() == [
            (by_hand.id, 500_000)]
    engine.dispose()


def test_links_mailed_before_0011_keep_working_until_the_password_changes(tmp_path_factory, app):
    """0011 binds each mailed link to the account's password and address; links sent before it get the account's
    current fingerprint, so they work after the upgrade and end with the next new password."""
    url = fresh_database_url(tmp_path_factory, "links")
    upgrade(url, "0010_bank_account_reconcilers")
    engine = make_engine(url)
    now = utcnow().replace(tzinfo=None)
    with engine.begin() as conn:
        user_id = conn.execute(text(
            "INSERT INTO users (email, full_name, password_hash, locale, is_active, created_at) "
            "VALUES ('lan@example.vn', 'Lan', 'old-hash', 'vi', :yes, :now) RETURNING id"),
            {"yes": True, "now": now}).scalar()
        conn.execute(text(
            "INSERT INTO auth_tokens (user_id, purpose, token_hash, created_at, expires_at) "
            "VALUES (:user_id, 'reset_password', :digest, :now, :later)"),
            {"user_id": user_id, "digest": token_digest("mailed-before"), "now": now,
             "later": now + timedelta(hours=1)})
    upgrade(url)
    with app.test_request_context(), Session(engine) as s:
        assert accounts.peek_token(s, "mailed-before", TokenPurpose.RESET_PASSWORD).user_id == user_id
        s.get(User, user_id).password_hash = "new-hash"
        with pytest.raises(accounts.InvalidLink):
            accounts.peek_token(s, "mailed-before", TokenPurpose.RESET_PASSWORD)
    command.downgrade(alembic_config(url), "0010_bank_account_reconcilers")
    assert "organisation_invitations" not in inspect(engine).get_table_names()
    assert "credentials" not in {column["name"] for column in inspect(engine).get_columns("auth_tokens")}
    engine.dispose()


#: the check constraints 0012 adds, by table
CHECKS_0012 = {
    "events": {"ck_events_pending_order_minutes_positive", "ck_events_waitlist_offer_hours_positive"},
    "ticket_types": {"ck_ticket_types_price_not_negative", "ck_ticket_types_max_per_order_positive"},
    "quotas": {"ck_quotas_size_not_negative"},
    "orders": {"ck_orders_total_not_negative"},
    "tickets": {"ck_tickets_price_not_negative"},
    "booth_floor_plans": {"ck_booth_floor_plans_dimensions_positive"},
    "booths": {"ck_booths_price_not_negative", "ck_booths_size_positive"},
    "booth_sale_settings": {"ck_booth_sale_settings_periods_positive"},
    "booth_bookings": {"ck_booth_bookings_amount_due_not_negative", "ck_booth_bookings_paid_within_due",
                       "ck_booth_bookings_deposit_within_due"},
    "payments": {"ck_payments_amount_received_not_negative", "ck_payments_refunded_within_received"},
}


def _checks(engine) -> dict[str, set[str]]:
    inspector = inspect(engine)
    return {table: {check["name"] for check in inspector.get_check_constraints(table)} for table in CHECKS_0012}


def _row_counts(engine) -> dict[str, int]:
    """Rows in each of the models' tables that the database has at its current revision."""
    present = set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        return {table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for table in metadata.sorted_tables if table.name in present}


def test_0012_adds_its_check_constraints_keeps_every_demo_row_and_takes_them_back(tmp_path_factory, tmp_path):
    """The demo data (loaded by today's code, then taken back to the revision before 0012) meets every new
    constraint; rebuilding the tables (SQLite's batch mode) loses no row, not even those referring to a rebuilt table,
    and the older constraints stay."""
    url = fresh_database_url(tmp_path_factory, "checks")
    upgrade(url)
    demo_app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test-secret-key", "DEMO_CARD": False},
                          instance_path=tmp_path)
    try:
        assert load_demo(demo_app)["booths"]
    finally:
        demo_app.extensions["portal.db"].dispose()
    before_0012 = "0011_organisation_invitations"
    command.downgrade(alembic_config(url), before_0012)
    engine = make_engine(url)
    try:
        before, checks_before = _row_counts(engine), _checks(engine)
        assert before["tickets"] and before["booth_bookings"] and before["payments"]
        upgrade(url, "0012_check_constraints")
        assert _row_counts(engine) == before
        assert _checks(engine) == {table: checks_before[table] | names for table, names in CHECKS_0012.items()}
        command.downgrade(alembic_config(url), before_0012)
        assert (_row_counts(engine), _checks(engine)) == (before, checks_before)
    finally:
        engine.dispose()


def test_0010_gives_each_earlier_bank_transfer_the_account_it_was_most_likely_asked_into(tmp_path_factory, app):
    """A transfer a statement line paid gets that line's account, any other the account shown now; refunds and
    everything else of the payments stay (the column is added in place, not by rebuilding the table)."""
    url = fresh_database_url(tmp_path_factory, "transfer_accounts")
    upgrade(url, "0009_payments_received_by_hand")
    engine = make_engine(url)
    now = utcnow()
    with Session(engine) as s, s.begin():
        buyer = _old_user(s)
        event_id = old_event(s, now)
        orders = [Order(code=f"DON{n}", event_id=event_id, buyer_id=buyer, status=OrderStatus.PAID, total=250_000,
                        provider="vietqr", locale="vi", paid_at=now) for n in range(3)]
        s.add_all(orders)
        s.flush()
        accounts = s.execute(insert(BankAccount.__table__).returning(BankAccount.__table__.c.id), [
            {"bank_bin": "970436", "bank_name": "Cũ", "account_number": "111", "holder_name": "A", "active": False},
            {"bank_bin": "970415", "bank_name": "Mới", "account_number": "222", "holder_name": "A", "active": True},
        ]).scalars().all()
        old_payments = payments_before_0020()
        payments = s.execute(insert(old_payments).returning(old_payments.c.id), [
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


def test_0014_fills_each_quotas_counter_from_its_tickets_and_offers(tmp_path_factory, tmp_path):
    """The demo's quotas (orders of every status, an offer added by hand) taken back before 0014 and brought forward:
    each counter says what its live tickets and open offers hold, and the checks keep it within 0…size."""
    url = fresh_database_url(tmp_path_factory, "counters")
    upgrade(url)
    demo_app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test-secret-key", "DEMO_CARD": False},
                          instance_path=tmp_path)
    db = demo_app.extensions["portal.db"]
    try:
        load_demo(demo_app)
        with db.transaction() as s:
            ticket_type = s.scalars(select(TicketType).where(TicketType.quotas.any())).first()
            s.add(WaitingListEntry(ticket_type_id=ticket_type.id, email="cho@example.vn", name="Vũ Chờ",
                                   status=WaitingListStatus.OFFERED, offer_expires_at=utcnow() + timedelta(hours=1)))
            s.flush()
            orders.recount_quotas(s, s.scalars(select(Quota)).all())
            expected = {quota.id: quota.held for quota in s.scalars(select(Quota))}
        assert sum(expected.values()) > 0
        command.downgrade(alembic_config(url), "0013_incubation")
        upgrade(url, "0014_quota_counters")
        with db.transaction() as s:  # columns, not Quota objects: the schema of 0014 lacks later columns
            assert dict(s.execute(select(Quota.id, Quota.held)).all()) == expected
        upgrade(url)
        with db.transaction() as s:
            assert orders.repair_quotas(s) == []
        with pytest.raises(IntegrityError), db.transaction() as s:
            s.execute(update(Quota).values(held=Quota.size + 1))
    finally:
        db.dispose()


def test_0016_gives_existing_tickets_distinct_short_codes_and_folds_what_staff_search(tmp_path_factory):
    """Tickets sold before 0016 get a short code each (unique, of the printed alphabet) and every searched row its
    folded text; downgrading takes the columns away again."""
    url = fresh_database_url(tmp_path_factory, "short_codes")
    upgrade(url, "0015_mentoring")
    engine = make_engine(url)
    now = utcnow().replace(tzinfo=None)
    with engine.begin() as conn:
        buyer = _old_user(conn)
        conn.execute(text("INSERT INTO organisations (name, kind, tax_code, created_at) "
                          "VALUES ('Công ty Đổi Mới', 'startup', '', :now)"), {"now": now})
        event = conn.execute(text(
            "INSERT INTO events (slug, name_vi, name_en, description_vi, description_en, venue_vi, venue_en, starts_at,"
            " ends_at, status, pending_order_minutes, waitlist_offer_hours, created_at) VALUES ('techfest', 'T', 'T',"
            " '', '', '', '', :now, :now, 'published', 60, 48, :now) RETURNING id"), {"now": now}).scalar_one()
        ticket_type = conn.execute(text(
            "INSERT INTO ticket_types (event_id, name_vi, name_en, description_vi, description_en, price,"
            " max_per_order, eligibility, position, kind) VALUES (:event, 'V', 'V', '', '', 0, 10, 'anyone', 0,"
            " 'public') RETURNING id"), {"event": event}).scalar_one()
        order = conn.execute(text(
            "INSERT INTO orders (code, event_id, buyer_id, status, total, provider, locale, created_at) VALUES"
            " ('DON1', :event, :buyer, 'paid', 0, 'free', 'vi', :now) RETURNING id"),
            {"event": event, "buyer": buyer, "now": now}).scalar_one()
        conn.execute(text(
            "INSERT INTO tickets (order_id, ticket_type_id, price, code, attendee_name, attendee_email,"
            " attendee_organisation, answers) VALUES (:order, :type, 0, :code, :name, 'a@example.vn', '', '{}')"),
            [{"order": order, "type": ticket_type, "code": f"{n:043d}", "name": f"Nguyễn Văn {n}"} for n in range(30)])
    upgrade(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT short_code, search_text FROM tickets ORDER BY id")).all()
        assert len({code for code, _ in rows}) == 30
        assert all(len(code) == 8 and set(code) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ") for code, _ in rows)
        assert rows[7].search_text == f"nguyen van 7 a@example.vn {rows[7].short_code.lower()}"
        assert conn.execute(text("SELECT search_text FROM users")).scalar_one() == "pham thu ha mua@example.vn"
        assert conn.execute(text("SELECT search_text FROM organisations")).scalar_one() == "cong ty doi moi"
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("UPDATE tickets SET short_code = :code"), {"code": rows[0].short_code})
    command.downgrade(alembic_config(url), "0015_mentoring")
    with engine.connect() as conn:
        assert "short_code" not in {c["name"] for c in inspect(conn).get_columns("tickets")}


def test_0020_turns_old_review_notes_into_messages_read_in_each_language(tmp_path_factory, app):
    """Notes written in English before 0020 (amounts as bare digits) become stored messages: the amounts as money,
    a refusal as its message, both shown in the reader's language."""
    url = fresh_database_url(tmp_path_factory, "review_messages")
    upgrade(url, "0019_booth_balance_deadline")
    engine = make_engine(url)
    now = utcnow()
    notes = ("asked 250000 VND, received 100000 VND so far", "asked 250000 VND, received 300000 VND",
             "This order expired before it was paid; its seats may have been sold.")
    with Session(engine) as s, s.begin():
        buyer = User(email="mua@example.vn", full_name="Phạm Thu Hà", password_hash="x")
        event = Event(slug="techfest", name_vi="Techfest", name_en="Techfest", status=EventStatus.PUBLISHED,
                      starts_at=now, ends_at=now)
        unpaid = [Order(code=f"DON{n}", event=event, buyer=buyer, status=OrderStatus.PENDING, total=250_000,
                         provider="vietqr", locale="vi") for n in range(len(notes))]
        s.add_all(unpaid)
        s.flush()
        s.execute(insert(payments_before_0020()), [
            {"order_id": order.id, "amount": 250_000, "provider": "vietqr", "status": PaymentStatus.SUCCEEDED,
             "amount_received": 0, "review_note": note} for order, note in zip(unpaid, notes, strict=True)])
    upgrade(url)
    with Session(engine) as s:
        messages = s.scalars(select(Payment.review_message).order_by(Payment.id)).all()
    shown = {}
    for locale in ("vi", "en"):
        with app.test_request_context(), force_locale(locale):
            shown[locale] = [render_stored_message(message) for message in messages]
    assert shown["en"] == ["₫250,000 was asked for; ₫100,000 has arrived so far, ₫150,000 is still owed.",
                           "₫250,000 was asked for; ₫300,000 arrived.", notes[2]]
    assert shown["vi"][0] == ("Số tiền cần thanh toán là 250.000\xa0₫; đến nay đã nhận 100.000\xa0₫, "
                              "còn thiếu 150.000\xa0₫.")
    assert "250.000\xa0₫" in shown["vi"][1] and notes[2] not in shown["vi"]
    command.downgrade(alembic_config(url), "0019_booth_balance_deadline")
    with Session(engine) as s:
        assert s.scalars(text("SELECT review_note FROM payments ORDER BY id")).all()[2] == notes[2]
    engine.dispose()
