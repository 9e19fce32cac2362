"""Who may apply to a call: rules a manager sets per call without code, stated on the call page and checked when an
application is submitted.

The rules read the answers to the form's well-known questions (their keys): `founded_on` (a date), `province` (a
choice whose Hanoi option has the key `ha-noi`), `sector` (a choice) and `team` (the founders' table).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l

from portal.errors import Invalid

HANOI = "ha-noi"
#: the rules a call can set, and the type of each
RULES = {"max_age_years": int, "in_hanoi": bool, "sectors": list, "team_min": int, "team_max": int}


@dataclass(frozen=True)
class Facts:
    """What the rules look at, from one application's answers."""

    founded_on: date | None
    province: str | None
    sector: str | None
    team_size: int


def clean_rules(rules: dict) -> dict:
    """The rules a manager saved, keeping only known ones of the right type; refuses contradictions."""
    cleaned = {}
    for name, kind in RULES.items():
        value = rules.get(name)
        if value in (None, "", [], False):
            continue
        if kind is int and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise Invalid(_l("Eligibility limits must be whole numbers of at least 1."), name)
        if kind is list:
            value = sorted({str(v) for v in value})
        cleaned[name] = bool(value) if kind is bool else value
    if cleaned.get("team_min", 0) > cleaned.get("team_max", 10**6):
        raise Invalid(_l("The smallest team cannot be larger than the largest."), "team_min")
    return cleaned


def describe(rules: dict, sector_labels: dict[str, str]) -> list[str]:
    """The rules as sentences for the call page, in the reader's language."""
    lines = []
    if rules.get("max_age_years"):
        lines.append(_l("The company was founded less than %(years)d years ago.", years=rules["max_age_years"]))
    if rules.get("in_hanoi"):
        lines.append(_l("The company is registered in Hanoi."))
    if rules.get("sectors"):
        names = ", ".join(sector_labels.get(key, key) for key in rules["sectors"])
        lines.append(_l("It works in one of these sectors: %(sectors)s.", sectors=names))
    if rules.get("team_min") and rules.get("team_max"):
        lines.append(_l("The founding team has %(min)d to %(max)d people.", min=rules["team_min"],
                        max=rules["team_max"]))
    elif rules.get("team_min"):
        lines.append(_l("The founding team has at least %(min)d people.", min=rules["team_min"]))
    elif rules.get("team_max"):
        lines.append(_l("The founding team has at most %(max)d people.", max=rules["team_max"]))
    return [str(line) for line in lines]


def failures(rules: dict, facts: Facts, today: date) -> list[str]:
    """Each rule the application does not meet, as a sentence saying why; empty when it is eligible."""
    found = []
    if years := rules.get("max_age_years"):
        if facts.founded_on is None:
            found.append(_l("Please give the date the company was founded."))
        elif _years_between(facts.founded_on, today) >= years:
            found.append(_l("This call is for companies founded less than %(years)d years ago.", years=years))
    if rules.get("in_hanoi") and facts.province != HANOI:
        found.append(_l("This call is for companies registered in Hanoi."))
    if rules.get("sectors") and facts.sector not in rules["sectors"]:
        found.append(_l("This call is not open to your sector."))
    if rules.get("team_min") and facts.team_size < rules["team_min"]:
        found.append(_l("This call asks for a founding team of at least %(min)d people.", min=rules["team_min"]))
    if rules.get("team_max") and facts.team_size > rules["team_max"]:
        found.append(_l("This call asks for a founding team of at most %(max)d people.", max=rules["team_max"]))
    return [str(line) for line in found]


def _years_between(start: date, end: date) -> int:
    return end.year - start.year - ((end.month, end.day) < (start.month, start.day))
