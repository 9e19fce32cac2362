"""Phone numbers as people in Vietnam write them: a national number (0912 345 678, 024 3826 1234) or an
international one (+84 912 345 678, +33 1 23 45 67 89), with spaces, dots, hyphens or brackets between digits."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

#: what may separate digits; they are kept as typed, never part of the check
_SEPARATORS = re.compile(r"[\s.\-()]")
#: national: 0 and 9 (mobile) or 10 (landline) digits; international: + and 8 to 15 digits (E.164)
_NUMBER = re.compile(r"0\d{9,10}|\+[1-9]\d{7,14}")
PHONE_RULE = _l("Enter a phone number, like 0912 345 678 or +84 912 345 678.")


def is_phone_number(typed: str) -> bool:
    return _NUMBER.fullmatch(_SEPARATORS.sub("", typed)) is not None
