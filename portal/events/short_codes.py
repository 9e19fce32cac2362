"""The short code printed under a ticket's QR code, for the door to type when the QR code cannot be scanned.

Eight characters of Crockford's base32: digits and capitals without I, L, O and U, so nothing reads as something
else, shown as two groups of four ("7KQ2-M9XD"). Typing is forgiving: any case, hyphens and spaces anywhere, and
I or L for 1, O for 0. 32⁸ ≈ 1.1 × 10¹² codes; the database keeps them unique. The QR code keeps the long secret.
"""

from __future__ import annotations

import secrets

from sqlalchemy import false

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 8
#: what people type for the letters Crockford's alphabet leaves out
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0"})
_SEPARATORS = str.maketrans("", "", " -\t\u00a0")


def new_short_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def parse_short_code(typed: str) -> str | None:
    """The stored form of a typed short code ("7kq2-m9xd" → "7KQ2M9XD"), or None when it cannot be one."""
    cleaned = (typed or "").translate(_SEPARATORS).upper().translate(_READ_AS)
    if len(cleaned) == LENGTH and all(char in ALPHABET for char in cleaned):
        return cleaned
    return None


def is_short_code(column, typed: str):
    """The condition "`column` holds the short code `typed` stands for"; never true when it cannot be one."""
    short_code = parse_short_code(typed)
    return column == short_code if short_code else false()


def formatted(code: str) -> str:
    """How a short code is printed: two groups of four."""
    return f"{code[:4]}-{code[4:]}"
