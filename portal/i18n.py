"""Languages, money and dates: Vietnamese first, English one click away, times in Hanoi."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.numbers import format_currency
from flask import request
from flask_babel import format_date, format_datetime, get_locale, get_timezone, gettext
from flask_babel.speaklater import LazyString
from flask_login import current_user

SUPPORTED_LOCALES = ("vi", "en")
DEFAULT_LOCALE = "vi"
LOCALE_COOKIE = "lang"
LOCALE_NAMES = {"vi": "Tiếng Việt", "en": "English"}
#: where every event happens; also the app's display time zone (BABEL_DEFAULT_TIMEZONE)
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


def hanoi_date(moment: datetime) -> date:
    """The calendar day a UTC moment falls on in Hanoi."""
    return moment.astimezone(HANOI).date()


def normalise_locale(value: str | None) -> str | None:
    return value if value in SUPPORTED_LOCALES else None


def select_locale() -> str:
    """The account's language; else the one the visitor chose (the cookie); else, on a first visit, the browser's
    Accept-Language among ours, Vietnamese first, so a browser asking only for French or for anything (`*`), or
    asking nothing, gets Vietnamese."""
    if current_user and current_user.is_authenticated:
        return current_user.locale
    chosen = normalise_locale(request.cookies.get(LOCALE_COOKIE))
    return chosen or request.accept_languages.best_match(SUPPORTED_LOCALES) or DEFAULT_LOCALE


def current_locale() -> str:
    return str(get_locale() or DEFAULT_LOCALE)


def format_vnd(amount: int, locale: str | None = None) -> str:
    """Integer đồng as people read them: '1.500.000 ₫' in Vietnamese, '₫1,500,000' in English."""
    return format_currency(amount, "VND", locale=locale or current_locale())


def localized(obj: object, field: str) -> str:
    """The vi or en variant of a bilingual field, falling back to the other when one is empty. A field that had
    only a Vietnamese value before it got an English one (a quota's `name`, `name_en`) keeps its bare name for the
    Vietnamese."""
    locale = current_locale()
    other = "en" if locale == "vi" else "vi"
    return _variant(obj, field, locale) or _variant(obj, field, other) or ""


def _variant(obj: object, field: str, locale: str) -> str:
    if locale == DEFAULT_LOCALE and not hasattr(obj, f"{field}_{locale}"):
        return getattr(obj, field)
    return getattr(obj, f"{field}_{locale}")


def lazy_localized(obj: object, field: str) -> LazyString:
    """localized(obj, field) in the language of whoever reads it: a message's parameter that is shown later."""
    return LazyString(localized, obj, field)


def money(amount: int, currency: str = "VND") -> dict:
    """An amount kept in a stored message (stored_message): shown as money in the reader's language."""
    return {"amount": amount, "currency": currency.upper()}


def stored_message(message: LazyString, **params) -> dict:
    """A message kept in the database and shown later, in the language of whoever reads it: the English text of a
    message made with lazy_gettext (the catalogue's msgid) and its parameters, amounts given as money()."""
    return {"message": _msgid(message), "params": {name: _storable(value) for name, value in params.items()}}


def stored_message_of(text) -> dict:
    """A stored message from a message made with lazy_gettext with its parameters (a DomainError's)."""
    return stored_message(text, **(text._kwargs if isinstance(text, LazyString) else {}))  # noqa: SLF001


def _msgid(message) -> str:
    # Flask-Babel's lazy string keeps the function's arguments: the msgid first
    return message._args[0] if isinstance(message, LazyString) and message._args else str(message)  # noqa: SLF001


def _storable(value):
    return value if isinstance(value, (int, float, dict)) or value is None else str(value)


def render_stored_message(stored: dict | None) -> str:
    """A stored message in the current language, its amounts formatted as money."""
    if not stored:
        return ""
    msgid, params = stored["message"], stored["params"]
    shown = {name: format_currency(value["amount"], value["currency"], locale=current_locale())
             if isinstance(value, dict) else value for name, value in params.items()}
    return gettext(msgid, **shown)


def format_local_datetime(value: datetime | None, style: str = "medium") -> str:
    return _formatted(format_datetime, value, style, current_locale(), get_timezone()) if value else ""


def format_local_date(value, style: str = "medium") -> str:
    return _formatted(format_date, value, style, current_locale(), get_timezone()) if value else ""


@lru_cache(maxsize=4096)
def _formatted(formatter, value, style: str, _locale: str, _timezone) -> str:
    """Babel's formatting is the costliest part of rendering a list of events, and the same dates come back on
    every page: each (date, style, language, time zone) is formatted once per process. The formatter reads the
    language and time zone from the request, which is why both are part of the key."""
    return formatter(value, style)


def register_template_helpers(app) -> None:
    app.jinja_env.filters.update(
        vnd=format_vnd, localized=localized, datetime=format_local_datetime, date=format_local_date,
        stored_message=render_stored_message,
    )
    app.jinja_env.globals.update(
        current_locale=current_locale, locale_names=LOCALE_NAMES, supported_locales=SUPPORTED_LOCALES
    )
