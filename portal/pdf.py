"""PDF documents (receipts, applications) in DejaVu Sans, which has every Vietnamese letter."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

FONT_DIR = Path(__file__).resolve().parent.parent / "static" / "fonts"


class Document(FPDF):
    """An A4 page in DejaVu Sans, with one way to write a paragraph."""

    def __init__(self, title: str) -> None:
        super().__init__(format="A4")
        self.set_title(title)
        self.add_font("DejaVu", "", FONT_DIR / "DejaVuSans.ttf")
        self.add_font("DejaVu", "B", FONT_DIR / "DejaVuSans-Bold.ttf")
        self.add_page()

    def paragraph(self, value: str, size: int = 10, style: str = "") -> None:
        self.set_font("DejaVu", style, size)
        self.multi_cell(self.epw, 6, value, new_x="LMARGIN", new_y="NEXT")

    def to_bytes(self) -> bytes:
        return bytes(self.output())
