"""TechFest's demo hall: about forty booths in zones A, B and C, every state on the plan, a drawing, sponsors who
choose first, a named pair of badges, and the payments the organisers recorded by hand; loading it again changes
nothing."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from portal.accounts.models import User
from portal.booths.badges import live_badges
from portal.booths.models import Booth, BoothBooking, FloorPlan
from portal.booths.plan import booth_plan
from portal.booths.uploads import sanitise_svg
from portal.demo import load_demo
from portal.events.models import Event
from portal.finance import services as finance


def test_the_demo_hall_has_every_state_and_loads_once(app, db):
    first = load_demo(app)
    assert first["booths"] == 40
    assert load_demo(app)["booths"] == 0
    with app.test_request_context(), db.session_factory() as s:
        event = s.scalar(select(Event).where(Event.slug == "techfest-hanoi-2026"))
        assert s.scalar(select(func.count(Booth.id)).where(Booth.event_id == event.id)) == 40
        plan = booth_plan(s, event, None)
        assert Counter(b.shown for b in plan.booths) == {"available": 28, "sold": 5, "reserved": 4, "held": 1,
                                                         "blocked": 2}
        assert {b.booth.zone for b in plan.booths} == {"A", "B", "C"}
        sponsor = s.scalar(select(User).where(User.email == "sponsor@demo.dmst-hanoi.vn"))
        assert booth_plan(s, event, sponsor).selection.is_open
        drawing = s.get(FloorPlan, event.id).background
        stored = (Path(app.instance_path) / "uploads" / drawing).read_bytes()
        assert sanitise_svg(stored).count(b"<rect") == stored.count(b"<rect")  # nothing in it needs removing
        sold = s.scalar(select(BoothBooking).join(Booth).where(Booth.number == "A-01", Booth.event_id == event.id))
        assert [t.attendee_name for t in live_badges(sold)] == ["Phạm Quang Huy", "Lý Thảo Vy"]
        # what the organisers recorded by hand is there to refund, and the finance page adds up
        assert finance.payment_to_refund(s, event, booking_id=sold.id).amount_kept == sold.amount_due - sold.deposit_due
        assert finance.summary(s, event).booths_paid == sum(s.scalars(select(BoothBooking.amount_paid).where(
            BoothBooking.event_id == event.id))) > 0
        assert all(finance.summary(s, each).difference == 0 for each in s.scalars(select(Event)))
