"""Opting out of a kind of reminder: from the account page, or by the signed link in every reminder, which needs no
login (a ticket holder may have no account) and never expires (an old mail's link should still work)."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.db import InsertIgnoringDuplicates
from portal.errors import PermissionDenied
from portal.notifications.services import absolute_url
from portal.reminders.kinds import KINDS
from portal.reminders.models import ReminderOptOut

SALT = "reminder-opt-out"

_insert_opt_out = InsertIgnoringDuplicates(ReminderOptOut.__table__, [ReminderOptOut.email, ReminderOptOut.kind],
                                           ReminderOptOut.id)


class InvalidOptOutLink(PermissionDenied):
    default_message = _l("This link is not valid: it is incomplete or was changed. Use the link in the latest "
                         "reminder, or choose your reminders on your account page.")


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=SALT)


def opt_out_token(email: str, kind: str) -> str:
    return _serializer().dumps({"email": email.lower(), "kind": kind})


def opt_out_link(email: str, kind: str) -> str:
    return absolute_url("reminders.opt_out", token=opt_out_token(email, kind))


def read_opt_out_token(token: str) -> tuple[str, str]:
    """The address and kind a link names; refused when tampered with."""
    try:
        data = _serializer().loads(token)
    except BadSignature as refused:
        raise InvalidOptOutLink() from refused
    if not isinstance(data, dict) or data.get("kind") not in KINDS or not isinstance(data.get("email"), str):
        raise InvalidOptOutLink()
    return data["email"], data["kind"]


def opted_out_kinds(session: Session, email: str) -> set[str]:
    return set(session.scalars(select(ReminderOptOut.kind).where(ReminderOptOut.email == email.lower())))


def set_opt_outs(session: Session, email: str, kinds: set[str]) -> None:
    """Exactly `kinds` (of the registered ones) opted out for `email`."""
    email = email.lower()
    session.execute(delete(ReminderOptOut).where(ReminderOptOut.email == email,
                                                 ReminderOptOut.kind.not_in(list(kinds))))
    for kind in kinds & set(KINDS):
        opt_out(session, email, kind)


def opt_out(session: Session, email: str, kind: str) -> None:
    _insert_opt_out(session, {"email": email.lower(), "kind": kind})
