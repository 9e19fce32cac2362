"""Whether a person has booth bookings, for the menu's "My booths" (portal.navigation asks, booths' pages tell)."""

from __future__ import annotations

from flask import session
from flask_login import current_user, user_logged_in
from sqlalchemy import select

from portal.booths.models import BoothBooking
from portal.db import db_session

#: the session remembers, for one user, whether they have booth bookings: [user id, yes or no]
BOOTH_BOOKINGS_KEY = "booth_bookings"


def _remember_booth_bookings(user_id: int) -> bool:
    found = db_session().scalar(select(BoothBooking.id).where(BoothBooking.exhibitor_id == user_id)
                                .limit(1)) is not None
    session[BOOTH_BOOKINGS_KEY] = [user_id, found]
    return found


@user_logged_in.connect
def _on_login(_app, user, **_extra) -> None:
    # Asked once, at login, rather than on every page: page query counts stay what the pages themselves need.
    _remember_booth_bookings(user.id)


def has_booth_bookings() -> bool:
    """Whether the menu shows "My booths": known since login (a session restored otherwise asks once), and set
    when a booth is chosen (note_booth_booking); a booking made on another device shows at the next login."""
    remembered = session.get(BOOTH_BOOKINGS_KEY)
    if remembered is None or remembered[0] != current_user.id:
        return _remember_booth_bookings(current_user.id)
    return remembered[1]


def note_booth_booking() -> None:
    session[BOOTH_BOOKINGS_KEY] = [current_user.id, True]
