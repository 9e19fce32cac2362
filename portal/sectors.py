"""The sectors startups work in: one list for the incubation forms, reviewers' and mentors' expertise, and filters."""

from __future__ import annotations

from portal.i18n import current_locale

SECTORS = (
    ("agritech", "Nông nghiệp công nghệ cao", "Agritech"),
    ("fintech", "Công nghệ tài chính", "Fintech"),
    ("edtech", "Công nghệ giáo dục", "Edtech"),
    ("healthtech", "Công nghệ y tế", "Healthtech"),
    ("cleantech", "Năng lượng và môi trường", "Cleantech"),
    ("smart-city", "Đô thị thông minh", "Smart city"),
    ("manufacturing", "Sản xuất thông minh", "Smart manufacturing"),
    ("culture-tourism", "Văn hóa và du lịch", "Culture and tourism"),
)


def sector_labels() -> dict[str, str]:
    """Sector key → its name in the reader's language."""
    vietnamese = current_locale() == "vi"
    return {key: vi if vietnamese else en for key, vi, en in SECTORS}
