"""The navigation a person sees: one entry per role they hold, in a fixed order."""

from __future__ import annotations

from flask import has_request_context, session
from flask_babel import lazy_gettext as _l
from flask_login import current_user, user_logged_in
from sqlalchemy import select

from portal.accounts.models import Role
from portal.booths.models import BoothBooking
from portal.db import db_session

ROLE_NAV = (
    (Role.STARTUP, _l("Startup")),
    (Role.MENTOR, _l("Mentor")),
    (Role.REVIEWER, _l("Reviewer")),
    (Role.ORGANISER, _l("Organiser")),
    (Role.INCUBATOR_MANAGER, _l("Incubator")),
    (Role.ADMIN, _l("Admin")),
)


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


def _has_booth_bookings() -> bool:
    """Whether the menu shows "My booths": known since login (a session restored otherwise asks once), and set
    when a booth is chosen (note_booth_booking); a booking made on another device shows at the next login."""
    remembered = session.get(BOOTH_BOOKINGS_KEY)
    if remembered is None or remembered[0] != current_user.id:
        return _remember_booth_bookings(current_user.id)
    return remembered[1]


def note_booth_booking() -> None:
    session[BOOTH_BOOKINGS_KEY] = [current_user.id, True]


def navigation_for() -> list[tuple[str, dict, object]]:
    """(endpoint, url values, label) for the current visitor's main menu."""
    # Mail rendered by the scheduler has no request, hence no visitor and no menu.
    if not has_request_context() or not current_user.is_authenticated:
        return []
    items = [("core.role_dashboard", {"role": role.value}, label)
             for role, label in ROLE_NAV if current_user.has_role(role)]
    if not items:
        items.append(("core.dashboard", {}, _l("Dashboard")))
    items.append(("orgs.index", {}, _l("Organisations")))
    if current_user.has_role(Role.STARTUP):
        items.append(("incubation.my_applications", {}, _l("My applications")))
    if current_user.has_role(Role.STARTUP) or current_user.has_role(Role.MENTOR):
        items.append(("mentoring.my_sessions", {}, _l("Mentoring")))
    if current_user.has_role(Role.REVIEWER):
        items.append(("reviewing.home", {}, _l("My reviews")))
    if current_user.has_role(Role.INCUBATOR_MANAGER) or current_user.has_role(Role.ADMIN):
        items += [("incubator.index", {}, _l("Calls")), ("mentoring_manage.index", {}, _l("Mentors"))]
    if _has_booth_bookings():
        items.append(("booths.my_bookings", {}, _l("My booths")))
    if current_user.has_role(Role.ORGANISER) or current_user.has_role(Role.ADMIN):
        items += [("manage.index", {}, _l("Events")), ("reconciliation.index", {}, _l("Bank transfers"))]
    if current_user.has_role(Role.ADMIN):
        items += [("admin.users", {}, _l("Users")), ("admin.audit", {}, _l("Audit log")),
                  ("admin.mail", {}, _l("Mail")), ("payments.bank_accounts", {}, _l("Bank accounts"))]
    return items
