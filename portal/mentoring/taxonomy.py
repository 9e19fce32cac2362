"""What mentors know and startups need: the sectors of the incubation form, and the functions of a company."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

FUNCTIONS = {
    "fundraising": _l("Fundraising"),
    "go_to_market": _l("Go-to-market and sales"),
    "product": _l("Product"),
    "technology": _l("Technology"),
    "legal_ip": _l("Legal and IP"),
    "finance": _l("Finance"),
    "international": _l("International expansion"),
    "team": _l("Team and hiring"),
}
LANGUAGES = {
    "vi": "Tiếng Việt", "en": "English", "fr": "Français", "de": "Deutsch", "ja": "日本語", "ko": "한국어",
    "zh": "中文",
}
