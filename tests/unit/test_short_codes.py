"""The short code printed under a ticket's QR code: unambiguous, forgiving when typed, unique in the database."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from portal.events.models import Ticket
from portal.events.short_codes import ALPHABET, LENGTH, formatted, new_short_code, parse_short_code
from tests.support.ticketing import add_ticket, create_event


def test_codes_use_only_letters_and_digits_that_cannot_be_misread():
    codes = {new_short_code() for _ in range(5000)}
    assert len(codes) == 5000
    used = set("".join(codes))
    assert used <= set(ALPHABET) and len(used) == 32
    assert not used & set("ILOU")
    assert all(len(code) == LENGTH for code in codes)


@pytest.mark.parametrize(("typed", "stored"), [
    ("7KQ2-M9XD", "7KQ2M9XD"),
    ("7kq2m9xd", "7KQ2M9XD"),
    (" 7kq2 m9xd ", "7KQ2M9XD"),
    ("7-K-Q-2-M-9-X-D", "7KQ2M9XD"),
    ("oIl0-1234", "01101234"),  # O for 0, I and L for 1
])
def test_typed_codes_are_read_whatever_the_case_separators_and_look_alike_letters(typed, stored):
    assert parse_short_code(typed) == stored


@pytest.mark.parametrize("typed", ["", "7KQ2-M9X", "7KQ2-M9XDA", "7KQ2-M9XU", "7KQ2_M9XD", "Đ7KQ2M9X"])
def test_what_cannot_be_a_short_code_is_not_taken_for_one(typed):
    assert parse_short_code(typed) is None


def test_codes_are_printed_in_two_groups_of_four():
    assert formatted("7KQ2M9XD") == "7KQ2-M9XD"


def test_every_ticket_gets_one_and_the_database_refuses_a_second_ticket_with_the_same(db, make_user):
    buyer = make_user(email="buyer@example.vn")
    event = create_event(db)
    first, second = add_ticket(db, event, buyer, name="An"), add_ticket(db, event, buyer, name="Bình")
    assert parse_short_code(first.short_code) == first.short_code != second.short_code
    with pytest.raises(IntegrityError), db.transaction() as s:
        s.get(Ticket, second.id).short_code = first.short_code
