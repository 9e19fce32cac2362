"""The navigation a person sees: one entry per role they hold, in a fixed order."""

from __future__ import annotations

from flask import has_request_context
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.accounts.models import Role
from portal.booths.menu import has_booth_bookings

ROLE_NAV = (
    (Role.STARTUP, _l("Startup")),
    (Role.MENTOR, _l("Mentor")),
    (Role.REVIEWER, _l("Reviewer")),
    (Role.ORGANISER, _l("Organiser")),
    (Role.INCUBATOR_MANAGER, _l("Incubator")),
    (Role.ADMIN, _l("Admin")),
)


def navigation_for() -> list[tuple[str, dict, object]]:
    """(endpoint, url values, label) for the current visitor's main menu."""
    # Mail rendered by the scheduler has no request, hence no visitor and no menu.
    if not has_request_context() or not current_user.is_authenticated:
        return []
    items = [("core.role_dashboard", {"role": role.value}, label)
             for role, label in ROLE_NAV if current_user.has_role(role)]
    if not items:
        items.append(("core.dashboard", {}, _l("Dashboard")))
    items += [("events.my_tickets", {}, _l("My tickets")), ("orgs.index", {}, _l("Organisations"))]
    if current_user.has_role(Role.STARTUP):
        items.append(("incubation.my_applications", {}, _l("My applications")))
    if current_user.has_role(Role.STARTUP) or current_user.has_role(Role.MENTOR):
        items.append(("mentoring.my_sessions", {}, _l("Mentoring")))
    if current_user.has_role(Role.REVIEWER):
        items.append(("reviewing.home", {}, _l("My reviews")))
    if current_user.has_role(Role.INCUBATOR_MANAGER) or current_user.has_role(Role.ADMIN):
        items += [("incubator.index", {}, _l("Calls")), ("mentoring_manage.index", {}, _l("Mentors"))]
    if has_booth_bookings():
        items.append(("booths.my_bookings", {}, _l("My booths")))
    if current_user.has_role(Role.ORGANISER) or current_user.has_role(Role.ADMIN):
        items += [("manage.index", {}, _l("Events")), ("reconciliation.index", {}, _l("Bank transfers"))]
    if current_user.has_role(Role.ADMIN):
        items += [("admin.users", {}, _l("Users")), ("admin.audit", {}, _l("Audit log")),
                  ("admin.mail", {}, _l("Mail")), ("admin.scheduler", {}, _l("Scheduler")),
                  ("bank_accounts.index", {}, _l("Bank accounts"))]
    return items
