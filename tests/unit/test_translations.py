"""Every message in the sources has a Vietnamese translation with the same placeholders, and the portal speaks it."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
VIETNAMESE_PO = ROOT / "translations" / "vi" / "LC_MESSAGES" / "messages.po"
# The same keywords as `make messages` (pybabel extract -k _l -k lazy_gettext adds them to Babel's defaults).
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
PLACEHOLDER = re.compile(r"%\(\w+\)[#0 +-]*\d*(?:\.\d+)?[a-zA-Z]")


def _forms(value: str | tuple) -> tuple:
    """A message's id or string as a tuple: plural messages have several forms, others one."""
    return value if isinstance(value, tuple) else (value,)


def _source_msgids() -> set:
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    return {msgid for _file, _line, msgid, _comments, _context
            in extract_from_dir(str(ROOT), method_map, options_map, keywords=KEYWORDS)}


def _vietnamese_catalog():
    with VIETNAMESE_PO.open("rb") as po:
        return read_po(po)


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def test_every_message_in_the_sources_has_a_vietnamese_translation():
    catalog = _vietnamese_catalog()
    missing = []
    for msgid in sorted(_source_msgids(), key=str):
        message = catalog.get(msgid)
        if message is None or message.fuzzy or not all(_forms(message.string)):
            missing.append(msgid)
    assert not missing, "untranslated or fuzzy in messages.po (run `make messages`, then translate):\n" + "\n".join(
        map(str, missing))


def test_translations_keep_the_placeholders_of_their_message():
    mismatched = []
    for message in _vietnamese_catalog():
        if not message.id:
            continue  # the header
        expected = set().union(*map(_placeholders, _forms(message.id)))
        for translation in filter(None, _forms(message.string)):
            if _placeholders(translation) != expected:
                mismatched.append(f"{message.id!r} -> {translation!r}")
    assert not mismatched, "placeholders differ:\n" + "\n".join(mismatched)


def test_pages_are_in_vietnamese_by_default_and_in_english_on_request(client):
    vietnamese = client.get("/").get_data(as_text=True)
    assert 'lang="vi"' in vietnamese
    assert "Đăng nhập" in vietnamese and "Cổng Đổi mới sáng tạo Hà Nội" in vietnamese
    assert "Log in" not in vietnamese

    english = client.get("/language/en?next=/", follow_redirects=True).get_data(as_text=True)
    assert 'lang="en"' in english
    assert "Log in" in english and "Hanoi Innovation Portal" in english
    assert "Đăng nhập" not in english
