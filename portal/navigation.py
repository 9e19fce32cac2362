"""The navigation a person sees: the header's menu (one entry per place they work in) and the section menus, the
tabs of every management area, written here once as data and drawn by templates/_section_menu.html."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import g, has_request_context, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from portal.accounts.forms import ROLE_LABELS
from portal.accounts.models import DASHBOARD_ORDER, Role
from portal.booths.menu import has_booth_bookings


@dataclass(frozen=True)
class Page:
    """One tab: an endpoint, and the endpoints of the pages under it (their names start with one of `under`; an
    endpoint's own "_new"/"_edit" pages count as under it), which show the tab as the current one."""
    endpoint: str
    label: object
    under: tuple[str, ...] = ()

    def closeness(self, endpoint: str) -> int:
        """How closely this tab names `endpoint`: its own endpoint beats the longest prefix; 0 when not at all."""
        if endpoint == self.endpoint:
            return len(endpoint) + 1
        return max((len(prefix) for prefix in (f"{self.endpoint}_", *self.under) if endpoint.startswith(prefix)),
                   default=0)


@dataclass(frozen=True)
class Group:
    label: object
    pages: tuple[Page, ...]


@dataclass(frozen=True)
class Section:
    """A management area's tabs: groups of pages (one unnamed group draws a single row of tabs) and where their
    URL values come from."""
    label: object
    groups: tuple[Group, ...]
    values: Callable[[], dict] = dict


def _event_values() -> dict:
    return {"event_id": g.event.id}


def _call_values() -> dict:
    return {"call_id": request.view_args["call_id"]}


SECTIONS: dict[str, Section] = {
    # the pages of one event (every blueprint behind portal/events/gate.py), grouped by the job they do
    "event": Section(_l("Event management"), (
        Group(_l("Overview"), (Page("manage.show", _l("Event summary")),
                               Page("event_dashboard.dashboard", _l("Figures and charts")))),
        Group(_l("Sales"), (Page("manage.orders", _l("Orders")), Page("manage.ticket_types", _l("Ticket types")),
                            Page("manage.quotas", _l("Quotas")), Page("waitlist_manage.entries", _l("Waiting list")))),
        Group(_l("People"), (Page("event_dashboard.attendees", _l("Attendees")),
                             Page("checkin.page", _l("Check-in"), under=("checkin.",)))),
        Group(_l("Exhibition"), (Page("booth_manage.plan_page", _l("Floor plan"), under=("booth_manage.edit_booth",)),
                                 Page("booth_manage.settings", _l("Sale settings"), under=("booth_manage.new_window",
                                                                                          "booth_manage.edit_window")),
                                 Page("booth_manage.bookings", _l("Applications and bookings"),
                                      under=("booth_manage.booking",)),
                                 Page("booth_manage.report", _l("Occupancy and revenue")))),
        Group(_l("Money"), (Page("finance.page", _l("Finance"), under=("finance.",)),)),
        Group(_l("Settings"), (Page("manage.edit", _l("Details")), Page("manage.programme", _l("Programme")),
                               Page("manage.questions", _l("Registration questions")),
                               Page("manage.event_reminder_rules", _l("Reminders"),
                                    under=("manage.event_reminder_rule",)))),
    ), _event_values),
    "events": Section(_l("Events"), (Group(None, (
        Page("manage.index", _l("All events"), under=("manage.create",)),
        Page("reconciliation.index", _l("Bank transfers"), under=("reconciliation.",)),
    )),)),
    # the incubator manager's work: the calls and the mentor network
    "incubator": Section(_l("Incubator"), (
        Group(_l("Calls"), (Page("incubator.index", _l("Calls"), under=("incubator.call_new",)),
                            Page("incubator.programme_dashboard", _l("Programme figures")))),
        Group(_l("Mentor network"), (Page("mentoring_manage.index", _l("Mentors")),
                                     Page("mentoring_manage.matching_page", _l("Matching"),
                                          under=("mentoring_manage.matching_",)),
                                     Page("mentoring_manage.weights", _l("Weights")),
                                     Page("mentoring_manage.report", _l("Sessions and hours")),
                                     Page("mentoring_manage.mentoring_reminder_rules", _l("Reminders"),
                                          under=("mentoring_manage.mentoring_reminder_rule",)))),
    )),
    # the pages of one call for applications
    "call": Section(_l("This call"), (
        Group(_l("Overview"), (Page("incubator.call", _l("Call summary")),)),
        Group(_l("Selection"), (Page("incubator.applications", _l("Applications"), under=("incubator.application",)),
                                Page("incubator.reviewers", _l("Reviewers")),
                                Page("incubator.ranking", _l("Ranking")))),
        Group(_l("Results"), (Page("incubator.letters", _l("Letters")), Page("incubator.cohort", _l("Cohort")))),
        Group(_l("Settings"), (Page("incubator.form_builder", _l("Application form"),
                                    under=("incubator.form_", "incubator.field_", "incubator.section_")),
                               Page("incubator.rubric", _l("Rubric")), Page("incubator.call_edit", _l("Details")),
                               Page("incubator.call_reminder_rules", _l("Reminders"),
                                    under=("incubator.call_reminder_rule",)))),
    ), _call_values),
    "admin": Section(_l("Administration"), (Group(None, (
        Page("admin.users", _l("Users"), under=("admin.user_detail",)), Page("admin.audit", _l("Audit log")),
        Page("admin.mail", _l("Mail"), under=("admin.mail_detail",)),
        Page("admin.scheduler", _l("Scheduler")),
        Page("bank_accounts.index", _l("Bank accounts"), under=("bank_accounts.",)),
        Page("styleguide.page", _l("Style guide")),
    )),)),
}


@dataclass(frozen=True)
class MenuLink:
    href: str
    label: object
    current: bool


@dataclass(frozen=True)
class MenuGroup:
    label: object
    href: str
    current: bool
    pages: list[MenuLink]


def _dashboards_section() -> Section:
    """The dashboards of a person holding several roles, as tabs of the dashboard pages."""
    return Section(_l("Your dashboards"), (Group(None, tuple(
        Page(f"core.role_dashboard/{role.value}", ROLE_LABELS[role])
        for role in DASHBOARD_ORDER if current_user.has_role(role))),))


def _href(endpoint: str, values: dict) -> str:
    if "/" in endpoint:  # a role's dashboard: one endpoint, the role in its URL
        endpoint, role = endpoint.split("/")
        return url_for(endpoint, role=role)
    return url_for(endpoint, **values)


def _current_page(section: Section) -> Page | None:
    """The tab of the page being drawn: the one naming its endpoint most closely (a role's dashboard: its path)."""
    pages = [page for group in section.groups for page in group.pages]
    if any("/" in page.endpoint for page in pages):
        return next((page for page in pages if request.path == _href(page.endpoint, {})), None)
    closeness, page = max(((page.closeness(request.endpoint or ""), page) for page in pages), key=lambda pair: pair[0])
    return page if closeness else None


def _section(key: str) -> Section:
    return _dashboards_section() if key == "dashboards" else SECTIONS[key]


def section_menu_groups(section: Section) -> list[MenuGroup]:
    """The groups of `section` with their links, the current page's group marked."""
    values = section.values()
    current = _current_page(section)
    groups = []
    for group in section.groups:
        pages = [MenuLink(_href(page.endpoint, values), page.label, page is current) for page in group.pages]
        groups.append(MenuGroup(group.label, pages[0].href, any(page.current for page in pages), pages))
    return groups


def section_menu(key: str) -> Markup:
    """The tabs of section `key` ("event", "events", "call", "incubator", "admin", "dashboards")
    drawn on a management page: `{{ section_menu("admin") }}`. A section of fewer than two pages (a person's
    single dashboard) has no tabs."""
    section = _section(key)
    if sum(len(group.pages) for group in section.groups) < 2:
        return Markup("")
    drawn = render_template("_section_menu.html", label=section.label, groups=section_menu_groups(section))
    return Markup(drawn)  # noqa: S704 - drawn by an autoescaping template


@dataclass(frozen=True)
class Area:
    """An entry of the header's menu: the pages under it (by endpoint prefix) mark it as the current one."""
    endpoint: str
    label: object
    roles: tuple[Role, ...]
    under: tuple[str, ...]


#: the management areas, after the person's own things; each one's tabs are a section above
AREAS = (
    Area("manage.index", _l("Events"), (Role.ORGANISER, Role.ADMIN),
         ("manage.", "event_dashboard.", "finance.", "checkin.", "booth_manage.", "waitlist_manage.",
          "reconciliation.")),
    Area("incubator.index", _l("Incubator"), (Role.INCUBATOR_MANAGER, Role.ADMIN), ("incubator.", "mentoring_manage.")),
    Area("admin.users", _l("Administration"), (Role.ADMIN,), ("admin.", "bank_accounts.", "styleguide.")),
)


def _has_any(*roles: Role) -> bool:
    return any(current_user.has_role(role) for role in roles)


def navigation_for() -> list[MenuLink]:
    """The current visitor's main menu: their dashboard, their own things, then the areas they manage."""
    # Mail rendered by the scheduler has no request, hence no visitor and no menu.
    if not has_request_context() or not current_user.is_authenticated:
        return []
    endpoint = request.endpoint or ""
    first_role = next((role for role in DASHBOARD_ORDER if current_user.has_role(role)), None)
    dashboard = url_for("core.role_dashboard", role=first_role.value) if first_role else url_for("core.dashboard")
    items = [MenuLink(dashboard, _l("Dashboard"), endpoint.startswith("core.") and "dashboard" in endpoint)]
    own = [("events.my_tickets", _l("My tickets"), True, "events.my_tickets"),
           ("orgs.index", _l("Organisations"), True, "orgs."),
           ("incubation.my_applications", _l("My applications"), _has_any(Role.STARTUP), "incubation.my_"),
           ("mentoring.my_sessions", _l("Mentoring"), _has_any(Role.STARTUP, Role.MENTOR), "mentoring.my_"),
           ("reviewing.home", _l("My reviews"), _has_any(Role.REVIEWER), "reviewing."),
           ("booths.my_bookings", _l("My booths"), has_booth_bookings(), "booths.my_")]
    items += [MenuLink(url_for(target), label, endpoint.startswith(under))
              for target, label, shown, under in own if shown]
    items += [MenuLink(url_for(area.endpoint), area.label, endpoint.startswith(area.under))
              for area in AREAS if _has_any(*area.roles)]
    return items
