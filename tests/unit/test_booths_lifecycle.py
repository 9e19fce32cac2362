"""From reservation to sale: the application, the organisers' approval or rejection, deposit and balance, moving an
exhibitor, cancelling, and the clock's part (unpaid reservations ending, payment reminders)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEntry
from portal.booths import services
from portal.booths.models import BookingStatus, BoothBooking
from portal.db import utcnow
from portal.errors import Conflict, Invalid, NotFound
from portal.notifications.models import OutboxMessage
from portal.notifications.scheduler import build_scheduler, run_job
from tests.support.booths import as_exhibitor, as_organiser, create_hall
from tests.support.mail import text_body
from tests.support.reminders import default_rules, run_at
from tests.support.ticketing import create_event

APPLICATION = services.Application(
    company_name="  Công ty CP Sao Mai (demo) ", tax_code="0101234567", products="Robot giao hàng",
    contact_name="Lê Thu Hà", contact_email="Ha@SaoMai.example.vn", contact_phone="0912 345 678",
)


def reserve(app, db, exhibitor, booth_id: int, *, now=None) -> BoothBooking:
    held = as_exhibitor(app, db, services.hold_booth, exhibitor, booth_id, now=now)
    return as_exhibitor(app, db, services.submit_application, exhibitor, held.id, APPLICATION, now=now)


def booking(db, booking_id: int) -> BoothBooking:
    with db.session_factory() as s:
        return s.get(BoothBooking, booking_id)


def mails(db, to: str) -> list[OutboxMessage]:
    with db.session_factory() as s:
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.to_address == to).order_by(OutboxMessage.id)))


def test_without_approval_a_submitted_application_waits_for_payment_by_the_deadline(app, db, make_user):
    hall = create_hall(db, make_user, approval_required=False, payment_days=7)
    exhibitor = make_user(locale="en", email="exhibitor@example.vn")
    now = utcnow()
    reserved = reserve(app, db, exhibitor, hall.booths["B-01"], now=now)
    assert reserved.status is BookingStatus.AWAITING_PAYMENT
    assert (reserved.company_name, reserved.contact_email) == ("Công ty CP Sao Mai (demo)", "ha@saomai.example.vn")
    assert (reserved.amount_due, reserved.deposit_due, reserved.amount_paid) == (36_000_000, 36_000_000, 0)
    assert reserved.payment_due_at == now + timedelta(days=7)
    assert reserved.provider == "manual"
    [mail] = mails(db, "exhibitor@example.vn")
    assert mail.subject == "We have received your booth application for TechFest Hanoi 2026"
    assert "Please pay ₫36,000,000 by" in mail.body_text


def test_with_approval_the_organisers_decide_and_the_exhibitor_is_told(app, db, make_user):
    hall = create_hall(db, make_user, approval_required=True)
    first, second = make_user(locale="en", email="first@example.vn"), make_user(email="second@example.vn")
    approved = reserve(app, db, first, hall.booths["A-01"])
    rejected = reserve(app, db, second, hall.booths["A-02"])
    assert approved.status is rejected.status is BookingStatus.AWAITING_APPROVAL

    as_organiser(app, db, services.approve_application, hall, approved.id, message="Welcome to the robot zone!")
    assert booking(db, approved.id).status is BookingStatus.AWAITING_PAYMENT
    assert booking(db, approved.id).payment_due_at is not None
    with pytest.raises(Invalid):
        as_organiser(app, db, services.reject_application, hall, rejected.id, message="  ")
    as_organiser(app, db, services.reject_application, hall, rejected.id, message="Zone A is for hardware.")
    assert booking(db, rejected.id).status is BookingStatus.REJECTED

    approval = mails(db, "first@example.vn")[-1]
    assert approval.subject == "Your booth application for TechFest Hanoi 2026 is approved"
    assert "Welcome to the robot zone!" in approval.body_text and "Please pay ₫20,000,000 by" in approval.body_text
    rejection = mails(db, "second@example.vn")[-1]
    assert rejection.locale == "vi" and "Zone A is for hardware." in rejection.body_text
    # the booth of the rejected application is free again
    assert as_exhibitor(app, db, services.hold_booth, make_user(), hall.booths["A-02"]).status is BookingStatus.HELD


def test_a_second_approval_click_is_refused_and_mails_nothing_more(app, db, make_user):
    hall = create_hall(db, make_user, approval_required=True)
    exhibitor = make_user(email="once@example.vn")
    reserved = reserve(app, db, exhibitor, hall.booths["A-01"])
    as_organiser(app, db, services.approve_application, hall, reserved.id)
    with pytest.raises(Conflict):
        as_organiser(app, db, services.approve_application, hall, reserved.id)
    assert len(mails(db, "once@example.vn")) == 2  # received, approved


def test_a_free_booth_without_approval_is_sold_on_submission(app, db, make_user):
    hall = create_hall(db, make_user, booths=(("S-01", "S", 0, 0, 3, 3, 9.0, 0, False),))
    sold = reserve(app, db, make_user(), hall.booths["S-01"])
    assert sold.status is BookingStatus.SOLD and sold.provider == "free" and sold.paid_at is not None


def test_deposit_then_balance_sells_the_booth(app, db, make_user):
    hall = create_hall(db, make_user, deposit_percent=30, payment_days=5)
    exhibitor = make_user(locale="en", email="payer@example.vn")
    now = utcnow()
    reserved = reserve(app, db, exhibitor, hall.booths["C-01"], now=now)
    assert (reserved.amount_due, reserved.deposit_due) == (70_000_000, 21_000_000)
    assert services.next_instalment(reserved) == 21_000_000

    later = now + timedelta(days=2)
    deposit = as_organiser(app, db, services.record_payment, hall, reserved.id, expected_paid=0, now=later)
    assert (deposit.status, deposit.amount_paid) == (BookingStatus.AWAITING_PAYMENT, 21_000_000)
    assert deposit.payment_due_at == later + timedelta(days=5)  # the balance has a deadline of its own
    assert services.next_instalment(deposit) == 49_000_000

    with pytest.raises(Conflict):  # the same button clicked twice records nothing twice
        as_organiser(app, db, services.record_payment, hall, reserved.id, expected_paid=0, now=later)
    with pytest.raises(Invalid):
        as_organiser(app, db, services.record_payment, hall, reserved.id, amount=50_000_000, now=later)

    sold = as_organiser(app, db, services.record_payment, hall, reserved.id, expected_paid=21_000_000, now=later)
    assert (sold.status, sold.amount_paid, sold.paid_at, sold.payment_due_at) == (
        BookingStatus.SOLD, 70_000_000, later, None)
    with pytest.raises(Conflict):
        as_organiser(app, db, services.record_payment, hall, reserved.id)
    subjects = [m.subject for m in mails(db, "payer@example.vn")]
    assert subjects[-2:] == ["Payment received for your booth at TechFest Hanoi 2026",
                             "Your booth at TechFest Hanoi 2026 is paid"]
    with db.session_factory() as s:
        payments = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "booth.record_payment")
                                  .order_by(AuditEntry.id)))
    assert [(e.details["amount"], e.details["target"]) for e in payments] == [
        (21_000_000, "awaiting_payment"), (49_000_000, "sold")]


def test_an_exhibitor_moved_to_another_booth_keeps_their_booking_and_is_told(app, db, make_user):
    hall = create_hall(db, make_user)
    exhibitor = make_user(locale="en", email="moved@example.vn")
    reserved = reserve(app, db, exhibitor, hall.booths["A-01"])
    as_organiser(app, db, services.record_payment, hall, reserved.id)

    moved = as_organiser(app, db, services.move_booking, hall, reserved.id, hall.booths["A-02"],
                         message="A-01 sits under the new LED screen.")
    assert (moved.booth_id, moved.status, moved.amount_paid) == (hall.booths["A-02"], BookingStatus.SOLD, 20_000_000)
    mail = mails(db, "moved@example.vn")[-1]
    assert mail.subject == "Your booth at TechFest Hanoi 2026 has changed"
    assert "from booth A-01 to booth A-02 (zone A, 9 m²)" in mail.body_text
    assert "A-01 sits under the new LED screen." in mail.body_text
    # the booth left behind is free for someone else
    assert as_exhibitor(app, db, services.hold_booth, make_user(), hall.booths["A-01"]).status is BookingStatus.HELD


def test_a_move_to_a_taken_or_blocked_booth_is_refused_and_changes_nothing(app, db, make_user):
    hall = create_hall(db, make_user)
    mover = reserve(app, db, make_user(locale="en"), hall.booths["A-01"])
    as_exhibitor(app, db, services.hold_booth, make_user(), hall.booths["A-02"])
    as_organiser(app, db, services.block_booth, hall, hall.booths["B-01"])
    with pytest.raises(services.BoothTaken):
        as_organiser(app, db, services.move_booking, hall, mover.id, hall.booths["A-02"])
    with pytest.raises(services.BoothNotForSale):
        as_organiser(app, db, services.move_booking, hall, mover.id, hall.booths["B-01"])
    assert booking(db, mover.id).booth_id == hall.booths["A-01"]


def test_organisers_act_only_on_their_own_events_bookings(app, db, make_user):
    hall = create_hall(db, make_user)
    reserved = reserve(app, db, make_user(), hall.booths["A-01"])
    elsewhere = create_hall(db, make_user, event=create_event(db, slug="techmart-hanoi-2026"))
    with pytest.raises(NotFound):
        as_organiser(app, db, services.cancel_booking, elsewhere, reserved.id)
    with pytest.raises(NotFound):
        as_organiser(app, db, services.move_booking, hall, reserved.id, elsewhere.booths["A-02"])
    with pytest.raises(NotFound):  # nor may another exhibitor touch it
        as_exhibitor(app, db, services.release_hold, make_user(), reserved.id)
    assert booking(db, reserved.id).status is BookingStatus.AWAITING_PAYMENT


def test_cancelling_frees_the_booth_and_tells_the_exhibitor(app, db, make_user):
    hall = create_hall(db, make_user)
    reserved = reserve(app, db, make_user(email="cancelled@example.vn"), hall.booths["A-01"])
    as_organiser(app, db, services.cancel_booking, hall, reserved.id, message="Hồ sơ trùng lặp.")
    assert booking(db, reserved.id).status is BookingStatus.CANCELLED
    assert "Hồ sơ trùng lặp." in mails(db, "cancelled@example.vn")[-1].body_text


def test_a_reservation_unpaid_by_its_deadline_ends_but_one_with_a_deposit_stays(app, db, make_user):
    hall = create_hall(db, make_user, deposit_percent=50, payment_days=3)
    now = utcnow()
    unpaid = reserve(app, db, make_user(locale="en", email="late@example.vn"), hall.booths["A-01"], now=now)
    deposit_paid = reserve(app, db, make_user(), hall.booths["A-02"], now=now)
    as_organiser(app, db, services.record_payment, hall, deposit_paid.id, now=now)
    with app.test_request_context(), db.transaction() as s:
        assert services.lapse_unpaid_reservations(s, now + timedelta(days=3) - timedelta(seconds=1)) == []
    with app.test_request_context(), db.transaction() as s:
        lapsed = services.lapse_unpaid_reservations(s, now + timedelta(days=4))
    assert [b.id for b in lapsed] == [unpaid.id]
    assert booking(db, unpaid.id).status is BookingStatus.LAPSED
    assert booking(db, deposit_paid.id).status is BookingStatus.AWAITING_PAYMENT
    assert mails(db, "late@example.vn")[-1].subject == "Your booth reservation for TechFest Hanoi 2026 has ended"


def test_one_payment_reminder_per_instalment_however_often_the_reminders_run(app, db, make_user, mailbox):
    hall = create_hall(db, make_user, deposit_percent=50, payment_days=7)
    default_rules(db, "event", hall.event_id)
    now = utcnow()
    reserved = reserve(app, db, make_user(locale="en", email="remind@example.vn"), hall.booths["A-01"], now=now)

    def reminders() -> list:
        return [m for m in mailbox.to("remind@example.vn") if m["Subject"].startswith("Payment reminder")]

    run_at(app, mailbox, now + timedelta(days=4))  # more than two days before the deadline
    assert reminders() == []
    for later in (timedelta(days=5, minutes=1), timedelta(days=5, minutes=2), timedelta(days=6)):
        run_at(app, mailbox, now + later)
    [reminder] = reminders()
    assert "₫10,000,000 for booth A-01 at TechFest Hanoi 2026 is due by" in text_body(reminder)

    paid_at = now + timedelta(days=6)
    as_organiser(app, db, services.record_payment, hall, reserved.id, now=paid_at)
    run_at(app, mailbox, paid_at + timedelta(days=5, minutes=1))  # the balance is reminded once too
    run_at(app, mailbox, paid_at + timedelta(days=5, minutes=2))
    assert len(reminders()) == 2


def test_the_booth_sweep_runs_every_minute_and_expires_holds(app, db, make_user):
    scheduler = build_scheduler(app)
    scheduler.start(paused=True)
    try:
        assert scheduler.get_job("sweep_booths").trigger.interval.total_seconds() == 60
    finally:
        scheduler.shutdown(wait=False)
    hall = create_hall(db, make_user)
    held = as_exhibitor(app, db, services.hold_booth, make_user(), hall.booths["A-01"],
                        now=utcnow() - timedelta(minutes=16))
    run_job("sweep_booths")
    assert booking(db, held.id).status is BookingStatus.EXPIRED


def test_a_providers_payment_takes_the_same_step_without_an_organiser(app, db, make_user):
    hall = create_hall(db, make_user, deposit_percent=50)
    reserved = reserve(app, db, make_user(locale="en"), hall.booths["A-01"])

    def provider_pays(amount: int) -> BoothBooking:
        with app.test_request_context(), db.transaction() as s:
            return services.record_provider_payment(s, reserved.id, amount=amount, provider="bank", payment_id=42)

    with pytest.raises(Invalid):  # more than is owed goes to the payments' review list, not onto the booking
        provider_pays(20_000_001)
    deposit = provider_pays(10_000_000)
    assert (deposit.status, deposit.amount_paid, deposit.provider) == (BookingStatus.AWAITING_PAYMENT, 10_000_000,
                                                                        "bank")
    assert provider_pays(10_000_000).status is BookingStatus.SOLD
    with pytest.raises(Conflict):
        provider_pays(1)
    with db.session_factory() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "booth.record_payment")
                          .order_by(AuditEntry.id.desc())).first()
    assert (entry.actor_id, entry.details["payment_id"], entry.details["target"]) == (None, 42, "sold")


# --- the exhibitor withdrawing ----------------------------------------------------------------

def audit_actions(db, booking_id: int) -> list[tuple[str, int | None]]:
    with db.session_factory() as s:
        return [(entry.action, entry.actor_id) for entry in s.scalars(select(AuditEntry).order_by(AuditEntry.id))
                if entry.details.get("booking_id") == booking_id]


@pytest.mark.parametrize("approval_required", [True, False])
def test_an_exhibitor_withdraws_an_unpaid_application_once_and_the_booth_is_free_again(app, db, make_user,
                                                                                     approval_required):
    hall = create_hall(db, make_user, approval_required=approval_required)
    exhibitor, next_one = make_user(), make_user()
    reserved = reserve(app, db, exhibitor, hall.booths["B-01"])

    withdrawn = as_exhibitor(app, db, services.withdraw_booking, exhibitor, reserved.id)
    again = as_exhibitor(app, db, services.withdraw_booking, exhibitor, reserved.id)  # a double click

    assert withdrawn.status is again.status is BookingStatus.WITHDRAWN
    assert booking(db, reserved.id).ended_at is not None
    assert audit_actions(db, reserved.id)[-1] == ("booth.withdraw", exhibitor.id)
    assert [action for action, _actor in audit_actions(db, reserved.id)].count("booth.withdraw") == 1
    assert as_exhibitor(app, db, services.hold_booth, next_one, hall.booths["B-01"]).status is BookingStatus.HELD
    withdrawn_mails = [m for m in mails(db, exhibitor.email) if m.idempotency_key == f"booth:withdrawn:{reserved.id}"]
    assert len(withdrawn_mails) == 1  # told once, whatever the clicks
    assert withdrawn_mails[0].subject == "Bạn đã rút đơn đăng ký gian hàng tại TechFest Hà Nội 2026"
    assert "Bạn đã rút đơn đăng ký gian hàng B-01 tại TechFest Hà Nội 2026" in withdrawn_mails[0].body_text
    with pytest.raises(Conflict):  # nothing is left for the organisers to decide on
        as_organiser(app, db, services.approve_application, hall, reserved.id)


def test_once_money_was_paid_the_exhibitor_cannot_withdraw(app, db, make_user):
    hall = create_hall(db, make_user, deposit_percent=30)
    exhibitor = make_user(locale="en")
    reserved = reserve(app, db, exhibitor, hall.booths["A-01"])
    as_organiser(app, db, services.record_payment, hall, reserved.id)  # the deposit

    with pytest.raises(services.PaidAlready) as refused:
        as_exhibitor(app, db, services.withdraw_booking, exhibitor, reserved.id)

    assert "contact the organisers" in str(refused.value.message)
    assert refused.value.status_code == 409
    stored = booking(db, reserved.id)
    assert (stored.status, stored.amount_paid) == (BookingStatus.AWAITING_PAYMENT, 6_000_000)
    assert not services.may_withdraw(stored)


def test_only_the_exhibitor_may_withdraw_and_only_a_submitted_booking(app, db, make_user):
    hall = create_hall(db, make_user)
    exhibitor, holder = make_user(), make_user()
    reserved = reserve(app, db, exhibitor, hall.booths["A-01"])
    held = as_exhibitor(app, db, services.hold_booth, holder, hall.booths["A-02"])

    with pytest.raises(NotFound):
        as_exhibitor(app, db, services.withdraw_booking, make_user(), reserved.id)
    with pytest.raises(Conflict):  # a hold is let go instead
        as_exhibitor(app, db, services.withdraw_booking, holder, held.id)
    as_organiser(app, db, services.cancel_booking, hall, reserved.id)
    with pytest.raises(Conflict):
        as_exhibitor(app, db, services.withdraw_booking, exhibitor, reserved.id)
    assert booking(db, reserved.id).status is BookingStatus.CANCELLED
    assert booking(db, held.id).status is BookingStatus.HELD


def test_letting_a_hold_go_twice_changes_nothing_the_second_time(app, db, make_user):
    hall = create_hall(db, make_user)
    exhibitor = make_user()
    held = as_exhibitor(app, db, services.hold_booth, exhibitor, hall.booths["A-01"])
    as_exhibitor(app, db, services.release_hold, exhibitor, held.id)
    as_exhibitor(app, db, services.release_hold, exhibitor, held.id)
    assert booking(db, held.id).status is BookingStatus.RELEASED
    assert [action for action, _actor in audit_actions(db, held.id)] == ["booth.hold", "booth.release"]
