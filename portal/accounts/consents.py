"""Consent per purpose (Law 91/2025/QH15): never pre-ticked, versioned wording, withdrawn as easily as given."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import ConsentRecord, User
from portal.audit.services import record


@dataclass(frozen=True)
class Purpose:
    key: str
    version: str
    label: LazyString
    wording: LazyString
    #: needed to have an account at all; withdrawing it means closing the account
    required: bool = False


PURPOSES: tuple[Purpose, ...] = (
    Purpose(
        "account",
        "2026-01",
        _l("Processing my personal data to run my account"),
        _l("The Hanoi Innovation Portal processes my name, e-mail address, organisation and the information I "
           "submit in order to run my account, registrations, applications and bookings. Data is kept in "
           "Vietnam and is not sold."),
        required=True,
    ),
    Purpose(
        "newsletter",
        "2026-01",
        _l("News about events, calls and programmes by e-mail"),
        _l("I would like to receive e-mail about upcoming events, calls for applications and programmes of the "
           "Hanoi innovation ecosystem. I can unsubscribe at any time."),
    ),
    Purpose(
        "analytics",
        "2026-01",
        _l("Anonymous usage statistics"),
        _l("The portal may count how I use its pages, without identifying me, to improve the service and report "
           "the city's innovation indicators."),
    ),
)
PURPOSES_BY_KEY = {p.key: p for p in PURPOSES}


def record_consents(
    session: Session, user: User, decisions: dict[str, bool], *, ip_address: str | None = None
) -> None:
    for key, granted in decisions.items():
        purpose = PURPOSES_BY_KEY[key]
        session.add(ConsentRecord(user_id=user.id, purpose=key, wording_version=purpose.version,
                                  granted=bool(granted), ip_address=ip_address))


def current_consents(session: Session, user: User) -> dict[str, ConsentRecord | None]:
    """The decision in force for each purpose (the newest record), or None if never asked."""
    records = session.scalars(
        select(ConsentRecord).where(ConsentRecord.user_id == user.id).order_by(ConsentRecord.id)
    ).all()
    latest: dict[str, ConsentRecord | None] = {p.key: None for p in PURPOSES}
    for rec in records:
        latest[rec.purpose] = rec
    return latest


def set_consent(session: Session, user: User, key: str, granted: bool, *, ip_address: str | None = None) -> None:
    purpose = PURPOSES_BY_KEY[key]
    if purpose.required and not granted:
        raise ValueError("the account purpose is withdrawn by closing the account")
    record_consents(session, user, {key: granted}, ip_address=ip_address)
    record(session, "consent.granted" if granted else "consent.withdrawn", actor_id=user.id,
           object_type="user", object_id=user.id, purpose=key, version=purpose.version)
