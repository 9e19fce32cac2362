"""The options of choice questions, each with a key that keeps its meaning while organisers edit the list.

An answer stores the chosen option's key, never its place in the list, so options may be reordered, inserted and
removed without changing what earlier buyers chose. Options saved before keys existed carry none: their key is their
position as text, which is what their answers hold, so older data needs no migration. An option removed while
answers hold its key stays in the list, retired: no longer offered, still spelled out in the attendee export.
"""

from __future__ import annotations

import secrets

from portal.i18n import current_locale


def keyed(options: list[dict]) -> list[dict]:
    """The options with their keys spelled out (an option without one is keyed by its position)."""
    return [{**option, "key": str(option.get("key", index))} for index, option in enumerate(options)]


def offered(options: list[dict]) -> list[dict]:
    """What buyers may choose, keyed, in the organiser's order."""
    return [option for option in keyed(options) if not option.get("retired")]


def localized_option(option: dict) -> str:
    """An option, {"vi": …, "en": …}, in the reader's language."""
    return option.get(current_locale()) or option.get("vi") or option.get("en") or ""


def answer_label(options: list[dict], key: object) -> str:
    """The option an answer chose, retired or not, in the reader's language; empty for a key no option has."""
    chosen = next((option for option in keyed(options) if option["key"] == str(key)), None)
    return localized_option(chosen) if chosen else ""


def _fresh_key(taken: set[str]) -> str:
    # Random rather than counted: a counter would need somewhere to remember keys of options removed unanswered,
    # and a stale registration form may still post one of those.
    while (key := secrets.token_hex(4)) in taken:
        pass
    return key


def revise(current: list[dict], typed: list[dict], answered_keys: set[str]) -> list[dict]:
    """The options once the organiser has typed `typed` ({"vi": …, "en": …} each, in the new order) over `current`.

    A line keeps the key of an option with the same Vietnamese text, failing that of one with the same English text
    (so correcting either language keeps the meaning); other lines get a key the question has not used. Options left
    out follow the typed ones, retired, while answers hold their key, and are dropped otherwise."""
    unmatched = keyed(current)
    keys: list[str | None] = [None] * len(typed)
    for language in ("vi", "en"):
        for index, line in enumerate(typed):
            if keys[index] is None:
                match = next((option for option in unmatched if option[language] == line[language]), None)
                if match is not None:
                    keys[index] = match["key"]
                    unmatched.remove(match)
    taken = {option["key"] for option in keyed(current)} | answered_keys
    revised = []
    for line, key in zip(typed, keys, strict=True):
        if key is None:
            key = _fresh_key(taken)
            taken.add(key)
        revised.append({"key": key, "vi": line["vi"], "en": line["en"]})
    retired = [{"key": option["key"], "vi": option["vi"], "en": option["en"], "retired": True}
               for option in unmatched if option["key"] in answered_keys]
    return revised + retired
