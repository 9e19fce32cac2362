"""The gate of every page of one event's management: events, booths, the dashboard, finance, check-in and the
waiting list's organiser pages."""

from __future__ import annotations

from collections.abc import Collection

from flask import Blueprint, g
from flask_login import current_user

from portal.accounts.models import Role
from portal.db import db_session
from portal.events.permissions import managed_event
from portal.web import PAGE_EXPIRED, staff_only


def event_management_blueprint(name: str, import_name: str, url_prefix: str, *,
                               public_endpoints: Collection[str] = (), json_endpoints: Collection[str] = (),
                               expired=PAGE_EXPIRED) -> Blueprint:
    """A blueprint for pages of one event's management: its URLs carry <int:event_id>, and every request goes
    through one gate (web.staff_only) before its view: an organiser or admin, then a POST's CSRF token, then the
    event, which the person must manage (managed_event), put on `g.event`. Views take no event_id: they cannot
    use one the gate has not checked. Pages of the blueprint without an event (the list, a new event) get the role
    and token checks only. Endpoint names are given without the blueprint's name."""
    blueprint = Blueprint(name, import_name, url_prefix=url_prefix)

    @blueprint.url_value_preprocessor
    def _take_event_id(_endpoint, values) -> None:
        g.event_id = values.pop("event_id", None) if values else None

    def load() -> None:
        if g.event_id is not None:
            g.event = managed_event(db_session(), current_user, g.event_id)

    blueprint.before_request(staff_only(
        Role.ORGANISER, Role.ADMIN, public_endpoints={f"{name}.{e}" for e in public_endpoints},
        json_endpoints={f"{name}.{e}" for e in json_endpoints}, load=load, expired=expired))
    return blueprint
