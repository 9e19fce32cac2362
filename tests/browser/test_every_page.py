"""Every page each demo role reaches by following links, at 375 px and 1280 px, in Vietnamese (and a sample in
English): the page does not scroll sideways, figures and cells hold their text, every control is on the screen and
big enough to tap (WCAG 2.2 target size), axe finds nothing serious, and the page speaks one language.

The crawl follows same-site links only (GET, never the language switch or a link from a mail that changes
something, never a download), and visits each URL pattern once: /events/1 and /events/2 count as one page. Every
problem found is listed, not only the first.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from babel.messages.pofile import read_po
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from portal.accounts.demo import DEMO_PASSWORD
from portal.demo import load_demo
from portal.events import demo as events_demo
from tests.browser.steps import log_in
from tests.support.a11y import AXE_SCRIPT

pytestmark = pytest.mark.browser

DEMO_ROLES = {
    "anonymous": None,
    "admin": "admin@demo.dmst-hanoi.vn",
    "organiser": "organiser@demo.dmst-hanoi.vn",
    "manager": "manager@demo.dmst-hanoi.vn",
    "reviewer": "reviewer@demo.dmst-hanoi.vn",
    "mentor": "mentor@demo.dmst-hanoi.vn",
    "startup": "startup@demo.dmst-hanoi.vn",
    "exhibitor": "exhibitor@demo.dmst-hanoi.vn",
}
PHONE, DESKTOP = 375, 1280
#: a role reaches fewer pages than this; the bound keeps a link that makes new URLs forever from running on
MOST_PAGES = 150
#: of the pages visited in Vietnamese, every n-th is visited again in English
ENGLISH_SAMPLE_EVERY = 5
#: files, pictures and JSON, which are not pages
NOT_PAGES = re.compile(r"\.(pdf|png|svg|csv|xlsx|ics)$|/files/|/logo$|/background$|/covers/|^/static/|^/healthz$"
                       r"|/counts$|/status$")
#: the axe rules whose answer changes with the width; the others run once, at 1280 px
LAYOUT_AXE_RULES = ["scrollable-region-focusable"]
PAGE_CHECKS = (Path(__file__).parent / "page_checks.js").read_text(encoding="utf-8")

#: what organisers typed in one language, with no field for the other (item 11 may add one): user data
ONE_LANGUAGE_DATA = frozenset(name for quotas in events_demo.QUOTAS.values() for _key, name, _size in quotas)


@dataclass(frozen=True)
class Problem:
    page: str
    check: str
    detail: str


@dataclass
class Crawl:
    """What the roles found, each problem once, and the pages (URL pattern, language) read by any role."""

    app: object
    problems: dict[tuple[str, str, str], Problem] = field(default_factory=dict)
    read: set[tuple] = field(default_factory=set)

    def pattern(self, url: str) -> tuple | None:
        """The URL rule (with the arguments that choose what a page is, such as a dashboard's role) and query keys
        of a same-site page worth visiting; None for anything else."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or parts.netloc != urlsplit(self.app.config["BASE_URL"]).netloc:
            return None
        if NOT_PAGES.search(parts.path):
            return None
        try:
            rule, args = self.app.url_map.bind("localhost").match(parts.path, method="GET", return_rule=True)
        except RequestRedirect as redirect:
            return self.pattern(redirect.new_url)
        except (NotFound, MethodNotAllowed):
            return ("broken link", parts.path)
        except HTTPException:
            return None
        if getattr(self.app.view_functions[rule.endpoint], "writes", False):
            return None  # a link from a mail that confirms or changes something, or the language switch
        keys = frozenset(key for key, _value in parse_qsl(parts.query) if key != "next")
        return rule.rule, args.get("role"), keys

    def add(self, page: str, check: str, detail: str) -> None:
        self.problems.setdefault((page, check, detail), Problem(page, check, detail))

    def add_all(self, page: str, problems: list[dict], where: str) -> None:
        for problem in problems:
            self.add(page, problem["check"], f"{problem['detail']} ({where})")

    def report(self, problems: list[Problem]) -> str:
        """One line per page and check: how often, and the first few details."""
        grouped: dict[tuple[str, str], list[str]] = {}
        for problem in problems:
            grouped.setdefault((problem.page, problem.check), []).append(problem.detail)
        return "\n".join(f"{page} · {check} ×{len(details)}: " + " | ".join(details[:3])
                         for (page, check), details in sorted(grouped.items()))


def _catalogue_patterns() -> tuple[re.Pattern, re.Pattern]:
    """Whole texts that are an English message with a different Vietnamese translation, and those translations."""
    with open("translations/vi/LC_MESSAGES/messages.po", "rb") as po:
        catalogue = read_po(po, locale="vi")
    english, vietnamese, every_id, every_string = set(), set(), set(), set()
    for message in catalogue:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        every_id.update(ids)
        every_string.update(strings)
        for msgid in ids:
            # an untranslated message shows its English to Vietnamese readers
            english.update(msgid for msgstr in strings if msgstr != msgid)
            vietnamese.update(msgstr for msgstr in strings if msgstr and msgstr != msgid)
    # a word both languages use ("Check-in" translates "Check in" and is a message of its own) tells nothing
    return _whole_text_pattern(english - every_string), _whole_text_pattern(vietnamese - every_id)


def _whole_text_pattern(messages: set[str]) -> re.Pattern:
    """One message as a whole visible text; its %(placeholders)s stand for any text. Messages with markup, and
    those with fewer than four letters of their own, are too short to tell one language from the other."""
    patterns = []
    for message in messages:
        literal = re.sub(r"%\(\w+\)[sd]|%%", "", message)
        if "<" in message or "\n" in message or sum(c.isalpha() for c in literal) < 4:
            continue
        escaped = re.escape(message.replace("%%", "%"))
        patterns.append(re.sub(r"%\\\(\w+\\\)[sd]", ".+?", escaped))
    return re.compile("|".join(sorted(patterns, key=len, reverse=True)))


ENGLISH_MESSAGE, VIETNAMESE_MESSAGE = _catalogue_patterns()


#: English words no Vietnamese sentence uses: a text of plain letters with two of them is English
ENGLISH_WORDS = frozenset({"the", "and", "of", "for", "your", "you", "is", "are", "with", "this", "that", "not",
                           "has", "have", "will", "or", "by", "from", "yet", "was", "were"})


def _reads_as_english(text: str) -> bool:
    """English the catalogue does not know (a string left out of Babel): plain letters, and English words."""
    words = re.findall(r"[a-z']+", text.lower())
    return text.isascii() and len(words) >= 3 and sum(word in ENGLISH_WORDS for word in words) >= 2


def _check_language(crawl: Crawl, page: str, role: str, language: str, texts: list[str]) -> None:
    foreign = ENGLISH_MESSAGE if language == "vi" else VIETNAMESE_MESSAGE
    for text in set(texts) - ONE_LANGUAGE_DATA:
        if foreign.fullmatch(text) or (language == "vi" and _reads_as_english(text)):
            crawl.add(page, "English on a Vietnamese page" if language == "vi" else "Vietnamese on an English page",
                      f"{text[:80]!r} ({role})")


def _visit(page, crawl: Crawl, role: str, url: str, language: str) -> list[str]:
    """Checks one page; returns the links on it. Every role's page is checked at 1280 px, where menus differ by
    role; the first role to reach a page (a URL pattern) in a language also checks it at 375 px, where the menu
    is folded, and in Vietnamese runs axe (every rule at 1280 px; at 375 px those that depend on the layout)."""
    response = page.goto(url)
    key = crawl.pattern(page.url)
    label = key[0] if key else urlsplit(page.url).path
    if response is None or "text/html" not in (response.headers.get("content-type") or ""):
        return []
    if response.status >= 400:
        crawl.add(label, f"HTTP {response.status}", f"{url} ({role})")
        return []
    first_reading = (key, language) not in crawl.read
    crawl.read.add((key, language))
    read_by_axe = first_reading and language == "vi"
    if read_by_axe:
        page.evaluate(AXE_SCRIPT)
    found = page.evaluate(PAGE_CHECKS, {"axeRules": [] if read_by_axe else None})
    crawl.add_all(label, found["problems"], f"{role}, {language}, {DESKTOP}px")
    _check_language(crawl, label, role, language, found["texts"])
    if first_reading:
        page.set_viewport_size({"width": PHONE, "height": 900})
        on_phone = page.evaluate(PAGE_CHECKS, {"axeRules": LAYOUT_AXE_RULES if read_by_axe else None})
        crawl.add_all(label, on_phone["problems"], f"{role}, {language}, {PHONE}px")
        page.set_viewport_size({"width": DESKTOP, "height": 900})
    return found["links"]


def _crawl(page, crawl: Crawl, role: str, start: list[str]) -> list[str]:
    """Breadth first from `start` in Vietnamese; returns one URL of each pattern visited."""
    queue = deque(start)
    seen: set[tuple] = set()
    visited: list[str] = []
    while queue and len(visited) < MOST_PAGES:
        url = queue.popleft().split("#")[0]
        key = crawl.pattern(url)
        if key is None or key in seen:
            continue
        seen.add(key)
        if key[0] == "broken link":
            crawl.add(key[1], "broken link", f"no page answers this address ({role})")
            continue
        visited.append(url)
        queue.extend(_visit(page, crawl, role, url, "vi"))
    return visited


@pytest.fixture
def demo(app):
    load_demo(app)


def _walk_as(browser, live_server: str, crawl: Crawl, role: str) -> int:
    """One role's crawl in its own browser context: every page in Vietnamese, a sample again in English."""
    context = browser.new_context(base_url=live_server, locale="vi-VN", viewport={"width": DESKTOP, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        if DEMO_ROLES[role]:
            log_in(page, DEMO_ROLES[role], DEMO_PASSWORD)
        page.goto("/language/vi")  # the demo mentor reads English
        visited = _crawl(page, crawl, role, [live_server + "/", live_server + "/dashboard"])
        page.goto("/language/en")
        for url in visited[::ENGLISH_SAMPLE_EVERY]:
            _visit(page, crawl, role, url, "en")
    finally:
        context.close()
    return len(visited)


def test_every_page_each_demo_role_reaches_fits_both_screens_and_speaks_one_language(browser, live_server, app,
                                                                                     demo):
    crawl = Crawl(app)
    pages = {role: _walk_as(browser, live_server, crawl, role) for role in DEMO_ROLES}

    assert all(count > 5 for count in pages.values()), f"some role reached almost nothing: {pages}"
    found = list(crawl.problems.values())
    assert not found, f"problems on the pages each role reaches ({pages}):\n{crawl.report(found)}"


BROKEN_PAGE = """<!doctype html><html lang="vi"><head><title>Thử</title></head><body><main>
<h1>Trang thử</h1>
<div style="width: 500px"><button style="margin-left: 400px">Ngoài màn hình</button></div>
<table><tr><td style="max-width: 60px; overflow: hidden; white-space: nowrap">244.600.000.000 ₫</td></tr></table>
<div style="display: flex; gap: 2px"><button>A</button><button style="padding: 0; width: 14px">x</button></div>
<p>Xem <a href="https://example.vn/privacy">chính sách</a> trước khi đăng ký.</p>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<p>Your tickets are ready</p>
</main></body></html>"""


def test_the_checks_find_each_problem_on_a_page_made_to_have_them(browser, app):
    """The crawl's checks can fail: a page with one problem of each kind shows all of them, and nothing on its
    inline link in a sentence."""
    context = browser.new_context(viewport={"width": PHONE, "height": 900})
    page = context.new_page()
    try:
        page.set_content(BROKEN_PAGE)
        page.evaluate(AXE_SCRIPT)
        found = page.evaluate(PAGE_CHECKS, {"axeRules": []})
    finally:
        context.close()
    checks = {problem["check"]: problem["detail"] for problem in found["problems"]}
    expected = {"page overflow", "text overflow", "tap target", "control outside the screen", "axe image-alt"}
    assert expected <= set(checks), checks
    assert "chính sách" not in str(found["problems"])
    crawl = Crawl(app)
    _check_language(crawl, "/test", "visitor", "vi", found["texts"])
    assert [(p.check, p.detail) for p in crawl.problems.values()] == [
        ("English on a Vietnamese page", "'Your tickets are ready' (visitor)")]
