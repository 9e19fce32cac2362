"""The money adds up: whatever orders and booth bookings (deposit and balance) are paid by card, by transfer or to the
organisers (recorded by hand) and however they are refunded, in full, in part or beyond what is left, the finance
page's totals are what came in minus what went back, and never negative."""

from __future__ import annotations

import itertools
import threading
import time

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from portal.accounts.models import User
from portal.booths.models import BoothBooking
from portal.db import utcnow
from portal.errors import DomainError
from portal.events.models import Event, EventStatus, Quota, TicketType
from portal.finance import services as finance
from portal.payments import refunds, services
from portal.payments.models import Payment
from tests.support.finance import (
    BOOTH_PRICE,
    FakeStripeRefunds,
    pay,
    pay_booth,
    pay_booth_by_hand,
    pay_by_hand,
    reserve_booth,
)
from tests.support.payments import PRICE, SLUG, enable_stripe

_slugs = itertools.count(1)
#: "manual": money paid to the organisers, who record it by hand
PROVIDERS = ["stripe", "vietqr", "manual"]

order_plans = st.lists(
    st.tuples(
        st.sampled_from(PROVIDERS),
        st.integers(min_value=1, max_value=3),
        # refunds asked for, as amounts that may exceed what is left
        st.lists(st.integers(min_value=1, max_value=3 * PRICE + 10), max_size=3),
    ),
    min_size=1, max_size=5,
)
BOOTH_DEPOSIT = PRICE
booth_plans = st.lists(
    st.tuples(
        # the deposit's and the balance's provider; None: the balance is not paid (yet)
        st.sampled_from(PROVIDERS),
        st.sampled_from([*PROVIDERS, None]),
        # refunds asked for from the last payment
        st.lists(st.integers(min_value=1, max_value=BOOTH_PRICE), max_size=3),
    ),
    max_size=3,
)


@pytest.fixture
def setup(app, db, make_user, monkeypatch):
    enable_stripe(app, monkeypatch)
    monkeypatch.setattr(refunds, "create_stripe_refund", FakeStripeRefunds())
    return make_user(email="ke-toan@example.vn", locale="vi"), make_user(email="mua@example.vn", locale="en")


def _fresh_event(db) -> tuple[int, int]:
    """A new event per example (the database is not emptied between them); pay() finds it by the shared slug,
    so the previous example's event gives the slug up first."""
    start = utcnow()
    with db.transaction() as s:
        for old in s.scalars(select(Event).where(Event.slug == SLUG)):
            old.slug = f"done-{next(_slugs)}"
        event = Event(slug=SLUG, name_vi="Hội thảo", name_en="Conference", status=EventStatus.PUBLISHED,
                      starts_at=start.replace(year=start.year + 1), ends_at=start.replace(year=start.year + 1))
        ticket_type = TicketType(name_vi="Vé", name_en="Pass", price=PRICE, max_per_order=5)
        event.ticket_types.append(ticket_type)
        event.quotas.append(Quota(name="Hội trường", size=1000, ticket_types=[ticket_type]))
        s.add(event)
        s.flush()
        return event.id, ticket_type.id


def _pay_booth(app, db, organiser: User, booking_id: int, provider: str) -> Payment:
    if provider == "manual":
        return pay_booth_by_hand(app, db, organiser, booking_id)
    return pay_booth(app, db, booking_id, provider)


def _refund_some(app, db, organiser: User, event_id: int, payment: Payment, asked_refunds: list[int]) -> int:
    """Asks for each refund in turn; returns how much was refunded (those beyond what is left are refused)."""
    refunded, left = 0, payment.amount
    for amount in asked_refunds:
        try:
            # a refusal rolls its transaction back, as the refund page does; the same request may come again
            with app.test_request_context(), db.transaction() as s:
                finance.refund(s, s.get(User, organiser.id), s.get(Event, event_id), payment.id, amount=amount,
                               reason="", request_token=f"t-{payment.id}-{left}-{amount}", now=utcnow())
        except DomainError:
            assert amount > left
            continue
        assert amount <= left
        left -= amount
        refunded += amount
    return refunded


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plans=order_plans, booths=booth_plans)
# the same too-large refund asked twice: refused both times, counted never
@example(plans=[("stripe", 1, [])], booths=[("stripe", "stripe", [BOOTH_PRICE - BOOTH_DEPOSIT + 1] * 2)])
# money recorded by hand refunded in part, beyond what is left, then in full
@example(plans=[("manual", 2, [PRICE, 2 * PRICE, PRICE])], booths=[("manual", "manual", [BOOTH_PRICE - BOOTH_DEPOSIT])])
def test_the_finance_totals_are_payments_minus_refunds_and_never_negative(app, db, setup, plans, booths):
    organiser, buyer = setup
    event_id, ticket_type_id = _fresh_event(db)
    received = refunded = 0
    for provider, tickets, asked_refunds in plans:
        if provider == "manual":
            _, payment = pay_by_hand(app, db, organiser, buyer, ticket_type_id, tickets=tickets)
        else:
            _, payment = pay(app, db, buyer, ticket_type_id, provider=provider, tickets=tickets)
        received += payment.amount
        refunded += _refund_some(app, db, organiser, event_id, payment, asked_refunds)
    for number, (deposit_by, balance_by, asked_refunds) in enumerate(booths):
        booking_id = reserve_booth(db, buyer, event_id, number=f"A-{number}", price=BOOTH_PRICE,
                                   deposit=BOOTH_DEPOSIT)
        payment = _pay_booth(app, db, organiser, booking_id, deposit_by)
        received += payment.amount
        if balance_by:
            payment = _pay_booth(app, db, organiser, booking_id, balance_by)
            received += payment.amount
        refunded += _refund_some(app, db, organiser, event_id, payment, asked_refunds)

    with app.test_request_context(), db.session_factory() as s:
        summary = finance.summary(s, s.get(Event, event_id))
        kept = sum(p.amount_kept for p in s.scalars(select(Payment).where(
            Payment.order.has(event_id=event_id) | Payment.booth_booking.has(event_id=event_id))))
        booths_paid = sum(s.scalars(select(BoothBooking.amount_paid).where(BoothBooking.event_id == event_id)))
    assert (summary.received, summary.refunded) == (received, refunded)
    assert summary.net == received - refunded == kept
    assert summary.net >= 0 and all(line.received - line.refunded >= 0 for line in summary.lines)
    assert summary.booths_paid == booths_paid
    assert {line.kind for line in summary.lines} == {"order"} | ({"booth_booking"} if booths else set())
    assert summary.difference == 0


def test_two_organisers_refunding_at_once_give_back_no_more_than_was_paid(app, db, setup, monkeypatch):
    """Two tabs, two request tokens, each asking for the whole amount of a card payment while Stripe is slow: the
    second waits for the first's lock, sees its refund in progress and is refused."""
    organiser, buyer = setup
    event_id, ticket_type_id = _fresh_event(db)
    _, payment = pay(app, db, buyer, ticket_type_id, tickets=2)
    stripe_api = FakeStripeRefunds(during=lambda *_: time.sleep(0.2))
    monkeypatch.setattr(refunds, "create_stripe_refund", stripe_api)
    barrier = threading.Barrier(2)
    results: list[object] = []

    def refund_everything(token: str) -> None:
        barrier.wait()
        try:
            with app.test_request_context(), db.transaction() as s:
                results.append(finance.refund(s, s.get(User, organiser.id), s.get(Event, event_id), payment.id,
                                              amount=2 * PRICE, reason="", request_token=token, now=utcnow()))
        except DomainError as refusal:
            results.append(type(refusal))

    threads = [threading.Thread(target=refund_everything, args=(token,)) for token in ("tab-one", "tab-two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(map(str, results)) == sorted(map(str, [services.Outcome.REFUNDED, refunds.RefundTooLarge]))
    assert len(stripe_api.calls) == 1
    with db.session_factory() as s:
        assert s.get(Payment, payment.id).amount_refunded == 2 * PRICE
