"""What a new call starts with: the usual application form and the usual rubric (PRODUCT.md §5), both editable."""

from __future__ import annotations

from portal.incubation.models import Call, Criterion, FieldKind, FormField, FormSection
from portal.sectors import SECTORS

PROVINCES = (("ha-noi", "Hà Nội", "Hanoi"), ("other", "Tỉnh, thành khác", "Another province"))

#: key, vi, en, weight (the weights add up to 100)
RUBRIC = (
    ("team", "Đội ngũ", "Team", 25),
    ("innovation", "Đổi mới sáng tạo và sở hữu trí tuệ", "Innovation and IP", 20),
    ("market", "Thị trường", "Market", 20),
    ("business_model", "Mô hình kinh doanh", "Business model", 15),
    ("traction", "Kết quả đạt được", "Traction", 10),
    ("impact", "Tác động và phù hợp với Hà Nội", "Impact and fit with Hanoi", 10),
)


def _options(rows) -> list[dict]:
    return [{"key": key, "label_vi": vi, "label_en": en} for key, vi, en in rows]


#: sections: (title vi, title en, fields: (key, kind, label vi, label en, required, extra))
FORM = (
    ("Thông tin doanh nghiệp", "The company", (
        ("company_name", FieldKind.SHORT_TEXT, "Tên doanh nghiệp hoặc dự án", "Company or project name", True, {}),
        ("founded_on", FieldKind.DATE, "Ngày thành lập", "Date founded", True, {}),
        ("province", FieldKind.SINGLE_CHOICE, "Nơi đăng ký kinh doanh", "Where the company is registered", True,
         {"options": _options(PROVINCES)}),
        ("sector", FieldKind.SINGLE_CHOICE, "Lĩnh vực", "Sector", True, {"options": _options(SECTORS)}),
        ("website", FieldKind.URL, "Trang web", "Website", False, {}),
    )),
    ("Đội ngũ sáng lập", "The founding team", (
        ("team", FieldKind.TEAM, "Thành viên sáng lập", "Founders", True, {}),
    )),
    ("Sản phẩm và thị trường", "Product and market", (
        ("problem", FieldKind.LONG_TEXT, "Vấn đề bạn giải quyết", "The problem you solve", True, {"word_limit": 300}),
        ("solution", FieldKind.LONG_TEXT, "Giải pháp và điểm đổi mới", "Your solution and what is new in it", True,
         {"word_limit": 300}),
        ("revenue_last_year", FieldKind.NUMBER, "Doanh thu năm gần nhất (đồng)", "Revenue last year (VND)", False,
         {"min_value": 0}),
    )),
    ("Hồ sơ đính kèm", "Documents", (
        ("pitch_deck", FieldKind.FILE, "Bài thuyết trình (PDF)", "Pitch deck (PDF)", True, {"max_file_mb": 10}),
    )),
)


def add_default_form(call: Call) -> None:
    for position, (title_vi, title_en, fields) in enumerate(FORM):
        section = FormSection(position=position, title_vi=title_vi, title_en=title_en)
        for field_position, (key, kind, label_vi, label_en, required, extra) in enumerate(fields):
            section.fields.append(FormField(
                call=call, key=key, kind=kind, position=field_position, label_vi=label_vi, label_en=label_en,
                required=required, **extra))
        call.sections.append(section)


def add_default_rubric(call: Call) -> None:
    for position, (key, name_vi, name_en, weight) in enumerate(RUBRIC):
        call.criteria.append(Criterion(key=key, position=position, name_vi=name_vi, name_en=name_en, weight=weight,
                                       scale_max=10))
