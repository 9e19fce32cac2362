"""The check-in service: two staff scanning one ticket at the same moment record one entry."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from portal.accounts.models import Role, User
from portal.events.checkin import InvalidTicketCode, Outcome, check_in, normalise_area
from portal.events.models import CheckIn, Event
from tests.support.ticketing import add_ticket, create_event

SCANNERS = 8


def test_eight_staff_scanning_one_ticket_at_once_record_one_entry(db, make_user):
    staff = [make_user(Role.ORGANISER, email=f"door{n}@example.vn") for n in range(SCANNERS)]
    event = create_event(db, team=tuple(staff))
    ticket = add_ticket(db, event, make_user(email="buyer@example.vn"))
    start_together = threading.Barrier(SCANNERS)

    def scan(scanner: User) -> tuple[Outcome, int]:
        start_together.wait()
        with db.transaction() as s:
            result = check_in(s, s.get(User, scanner.id), s.get(Event, event.id), ticket.code, area="Gate A")
            return result.outcome, result.entry.checked_in_by_id

    with ThreadPoolExecutor(SCANNERS) as pool:
        answers = list(pool.map(scan, staff))

    assert Counter(outcome for outcome, _ in answers) == {Outcome.VALID: 1, Outcome.ALREADY: SCANNERS - 1}
    with db.session_factory() as s:
        [entry] = s.scalars(select(CheckIn)).all()
    winner = next(by for outcome, by in answers if outcome is Outcome.VALID)
    assert entry.checked_in_by_id == winner
    assert {by for _, by in answers} == {winner}  # every ALREADY names the one who let the attendee in


@pytest.mark.parametrize("code", ["", "short", "x" * 44, "a" * 42 + "!", "https://innovation.hanoi/t/abc"])
def test_anything_but_a_43_character_url_safe_code_is_not_a_ticket_code(db, make_user, code):
    staff = make_user(Role.ORGANISER)
    event = create_event(db, team=(staff,))
    with db.transaction() as s, pytest.raises(InvalidTicketCode):
        check_in(s, s.get(User, staff.id), s.get(Event, event.id), code)


def test_an_area_is_kept_short_and_single_spaced():
    assert normalise_area("  Hội trường \n  A ") == "Hội trường A"
    assert len(normalise_area("x" * 200)) == 80
