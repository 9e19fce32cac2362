"""The booth state machine, every (action, state, state) triple: what is allowed moves the booth and its booking and
is audited; everything else is refused and changes nothing."""

from __future__ import annotations

from datetime import timedelta
from itertools import product

import pytest

from portal.booths.models import ACTIVE_STATUSES, BookingStatus, Booth, BoothBooking, BoothState
from portal.booths.services import CLAIMS, TRANSITIONS, Action, BoothNotForSale, BoothTaken, step
from portal.db import utcnow
from portal.errors import Conflict

S = BoothState
RESERVED_OR_SOLD = (S.AWAITING_APPROVAL, S.AWAITING_PAYMENT, S.SOLD)
#: written out independently of TRANSITIONS, from the issue's rules
ALLOWED = {
    (Action.HOLD, S.AVAILABLE, S.HELD),
    (Action.RELEASE, S.HELD, S.AVAILABLE),
    (Action.EXPIRE_HOLD, S.HELD, S.AVAILABLE),
    (Action.SUBMIT, S.HELD, S.AWAITING_APPROVAL),
    (Action.SUBMIT, S.HELD, S.AWAITING_PAYMENT),
    (Action.SUBMIT, S.HELD, S.SOLD),
    (Action.APPROVE, S.AWAITING_APPROVAL, S.AWAITING_PAYMENT),
    (Action.APPROVE, S.AWAITING_APPROVAL, S.SOLD),
    (Action.REJECT, S.AWAITING_APPROVAL, S.AVAILABLE),
    (Action.RECORD_PAYMENT, S.AWAITING_PAYMENT, S.AWAITING_PAYMENT),
    (Action.RECORD_PAYMENT, S.AWAITING_PAYMENT, S.SOLD),
    (Action.LAPSE, S.AWAITING_PAYMENT, S.AVAILABLE),
    (Action.CANCEL, S.HELD, S.AVAILABLE),
    *((Action.CANCEL, state, S.AVAILABLE) for state in RESERVED_OR_SOLD),
    # the exhibitor takes back an application or reservation (sold: a free booth; the service refuses paid ones)
    *((Action.WITHDRAW, state, S.AVAILABLE) for state in RESERVED_OR_SOLD),
    *((Action.MOVE_OUT, state, S.AVAILABLE) for state in RESERVED_OR_SOLD),
    *((Action.MOVE_IN, S.AVAILABLE, state) for state in RESERVED_OR_SOLD),
    # a late transfer accepted for a lapsed reservation whose booth is still free
    (Action.REINSTATE, S.AVAILABLE, S.AWAITING_PAYMENT),
    (Action.BLOCK, S.AVAILABLE, S.BLOCKED),
    (Action.UNBLOCK, S.BLOCKED, S.AVAILABLE),
}
EVERY_TRIPLE = list(product(Action, BoothState, BoothState))
ENDS_WITH = {Action.RELEASE: BookingStatus.RELEASED, Action.EXPIRE_HOLD: BookingStatus.EXPIRED,
             Action.REJECT: BookingStatus.REJECTED, Action.LAPSE: BookingStatus.LAPSED,
             Action.CANCEL: BookingStatus.CANCELLED, Action.WITHDRAW: BookingStatus.WITHDRAWN}


def test_the_table_is_exactly_the_allowed_transitions():
    table = {(action, source, target) for action, moves in TRANSITIONS.items()
             for source, targets in moves.items() for target in targets}
    assert table == ALLOWED


def _booth_in(state: BoothState) -> tuple[Booth, BoothBooking | None]:
    """A booth (not stored) in `state`: blocked, free, or occupied by a booking of that status."""
    now = utcnow()
    booth = Booth(id=7, event_id=3, number="A-01", blocked=state is S.BLOCKED)
    if state in (S.AVAILABLE, S.BLOCKED):
        return booth, None
    return booth, BoothBooking(id=11, booth_id=7, status=BookingStatus(state.value),
                               hold_expires_at=now + timedelta(minutes=5))


class AuditSink:
    """Stands in for the session: step() only writes audit entries through it when no booth is claimed."""

    def __init__(self) -> None:
        self.entries: list[dict] = []

    def execute(self, _insert, entry: dict) -> None:
        self.entries.append(entry)


@pytest.mark.parametrize(("action", "source", "target"),
                         sorted(t for t in ALLOWED if t[0] not in CLAIMS))
def test_an_allowed_transition_moves_the_booth_and_is_audited(action, source, target):
    booth, occupant = _booth_in(source)
    now, audit = utcnow(), AuditSink()
    step(audit, action, booth, occupant, target, actor_id=None, now=now)
    assert booth.blocked is (target is S.BLOCKED)
    if occupant is not None:
        if action in ENDS_WITH:
            assert (occupant.status, occupant.ended_at) == (ENDS_WITH[action], now)
        elif action is Action.MOVE_OUT:
            assert occupant.status is BookingStatus(source.value)  # it keeps its status on its new booth
        else:
            assert occupant.status is BookingStatus(target.value)
    [entry] = audit.entries
    assert entry["action"] == f"booth.{action.value}"
    assert (entry["details"]["source"], entry["details"]["target"]) == (source.value, target.value)


@pytest.mark.parametrize(("action", "source", "target"), [t for t in EVERY_TRIPLE if t not in ALLOWED])
def test_anything_else_is_refused_and_changes_nothing(action, source, target):
    booth, occupant = _booth_in(source)
    booking = BoothBooking(id=12, status=BookingStatus.AWAITING_PAYMENT) if action is Action.MOVE_IN else None
    before = (booth.blocked, occupant.status if occupant else None, booking.status if booking else None)
    audit = AuditSink()
    with pytest.raises(Conflict) as refused:
        step(audit, action, booth, occupant, target, actor_id=None, now=utcnow(), booking=booking)
    assert (booth.blocked, occupant.status if occupant else None, booking.status if booking else None) == before
    assert refused.value.status_code == 409
    assert audit.entries == []
    if source is S.BLOCKED:
        assert isinstance(refused.value, BoothNotForSale)
    elif action in CLAIMS:
        assert isinstance(refused.value, BoothTaken)


@pytest.mark.parametrize("status", [status for status in BookingStatus if status not in ACTIVE_STATUSES])
def test_a_booking_that_has_ended_cannot_change(status):
    booth, _ = _booth_in(S.AVAILABLE)
    ended, audit = BoothBooking(id=13, status=status), AuditSink()
    for action in Action:
        with pytest.raises(Conflict):
            step(audit, action, booth, ended, S.AVAILABLE, actor_id=None, now=utcnow())
        assert ended.status is status
    assert audit.entries == []
