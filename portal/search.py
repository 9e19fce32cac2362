"""Searching staff lists the way people type: without caring for case or Vietnamese accents.

"nguyen" must find "Nguyễn" and "drjdjx" must find "DRJDJX" on SQLite and PostgreSQL alike, and neither database
folds accents on its own (PostgreSQL's unaccent is an extension). So each searchable row stores its searched text
already folded (`fold`) in a `search_text` column, rewritten by the model whenever the row is written
(`Searchable`), and a search folds the typed term the same way and looks for it in that column (`matches`).
"""

from __future__ import annotations

import unicodedata
from typing import ClassVar

from sqlalchemy import String, event
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

SEARCH_TEXT_CHARS = 1000
#: letters that Unicode does not decompose into a base letter and a mark
_LETTERS_WITHOUT_MARKS = str.maketrans({"đ": "d", "Đ": "d", "ø": "o", "Ø": "o", "ł": "l", "Ł": "l"})


def fold(value: str) -> str:
    """`value` lower-cased, accents dropped ("Đặng Thị Ánh" → "dang thi anh"), runs of spaces made one."""
    decomposed = unicodedata.normalize("NFKD", (value or "").translate(_LETTERS_WITHOUT_MARKS))
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.casefold().split())


class Searchable:
    """A model whose `__search_fields__` (attribute names) are searched: its folded text, kept in `search_text`."""

    __search_fields__: ClassVar[tuple[str, ...]] = ()

    @declared_attr
    def search_text(cls) -> Mapped[str]:  # noqa: N805 - declared_attr is called with the class
        return mapped_column(String(SEARCH_TEXT_CHARS), default="", server_default="")

    def refresh_search_text(self) -> None:
        parts = (str(getattr(self, name) or "") for name in self.__search_fields__)
        self.search_text = fold(" ".join(parts))[:SEARCH_TEXT_CHARS]


@event.listens_for(Searchable, "before_insert", propagate=True)
@event.listens_for(Searchable, "before_update", propagate=True)
def _refresh_before_write(_mapper, _connection, target: Searchable) -> None:
    target.refresh_search_text()


def matches(column, term: str):
    """The condition "the folded `column` contains the folded `term`"; `%` and `_` typed are characters."""
    return column.contains(fold(term), autoescape=True)
