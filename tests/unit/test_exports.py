"""The attendee export's file formats: no cell can become a formula, Excel reads the text, answers are words."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from flask_babel import force_locale
from openpyxl import load_workbook

from portal.events.exports import attendee_table
from portal.events.models import CheckIn, Order, OrderStatus, Question, QuestionKind, Ticket, TicketType
from portal.exports import Table, neutralise, to_csv, to_xlsx

FORMULAS = ['=HYPERLINK("http://x","click")', "+1+1", "-2+3", "@SUM(1)", "\t=1+1", "\r=1+1"]


@pytest.mark.parametrize("text", FORMULAS)
def test_text_a_spreadsheet_would_run_is_quoted(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("text", ["Nguyễn Văn An", "an@example.vn", "a=b", " =1", "", "'quoted"])
def test_ordinary_text_is_left_alone(text):
    assert neutralise(text) == text


def table_of(*values) -> Table:
    return Table(headers=["Họ và tên", "Giá"], rows=[[value, 1_500_000] for value in values])


def test_the_csv_is_utf8_with_a_byte_order_mark_and_rfc_4180_quoting():
    data = to_csv(table_of('Lê "Bình", Hà Nội', "Trần\nĐức", *FORMULAS))

    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text.splitlines(keepends=True)[0] == "Họ và tên,Giá\r\n"
    assert '"Lê ""Bình"", Hà Nội",1500000\r\n' in text
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert [row[0] for row in rows[1:]] == ['Lê "Bình", Hà Nội', "Trần\nĐức", *("'" + f for f in FORMULAS)]


def test_the_xlsx_keeps_every_text_cell_as_text():
    sheet = load_workbook(io.BytesIO(to_xlsx(table_of(*FORMULAS, "Nguyễn Thị Hương\x07"), "Người tham dự"))).active

    assert sheet.title == "Người tham dự"
    names = [row[0] for row in sheet.iter_rows(min_row=2)]
    # XML reads a carriage return back as a line feed
    assert [c.value for c in names] == [*("'" + f.replace("\r", "\n") for f in FORMULAS), "Nguyễn Thị Hương"]
    assert {c.data_type for c in names} == {"s"}
    assert {row[1].value for row in sheet.iter_rows(min_row=2)} == {1_500_000}


def test_the_table_spells_out_answers_and_shows_hanoi_time(app):
    choice = Question(id=1, label_vi="Lĩnh vực", label_en="Field", kind=QuestionKind.CHOICE,
                      options=[{"vi": "Nông nghiệp", "en": "Farming"}, {"vi": "Y tế", "en": "Health"}])
    checkbox = Question(id=2, label_vi="Cần phiên dịch", label_en="Interpreter", kind=QuestionKind.CHECKBOX)
    text = Question(id=3, label_vi="Ghi chú", label_en="Notes", kind=QuestionKind.TEXT)
    ticket = Ticket(
        price=0, attendee_name="Nguyễn Văn An", attendee_email="an@example.vn", attendee_organisation="",
        answers={"1": 1, "2": False, "3": None},
        order=Order(code="ABC123", status=OrderStatus.PAID),
        ticket_type=TicketType(name_vi="Vé tham quan", name_en="Visitor pass"),
        check_ins=[CheckIn(checked_in_at=datetime(2026, 12, 10, 1, 30, tzinfo=UTC), day=date(2026, 12, 10)),
                   CheckIn(checked_in_at=datetime(2026, 12, 11, 2, 0, tzinfo=UTC), day=date(2026, 12, 11))],
    )

    with app.test_request_context():
        with force_locale("en"):
            english = attendee_table([choice, checkbox, text], [ticket])
        with force_locale("vi"):
            vietnamese = attendee_table([choice, checkbox, text], [ticket])

    assert english.headers[-3:] == ["Field", "Interpreter", "Notes"]
    assert english.rows[0][-3:] == ["Health", "No", ""]
    assert vietnamese.headers[-3:] == ["Lĩnh vực", "Cần phiên dịch", "Ghi chú"]
    assert vietnamese.rows[0][-3] == "Y tế"
    assert english.rows[0][:4] == ["ABC123", "Paid", "Visitor pass", "Nguyễn Văn An"]
    assert datetime(2026, 12, 10, 8, 30) in english.rows[0]  # the first day's entry
    assert "2026-12-10, 2026-12-11" in english.rows[0]
