"""Tables as files for Excel: CSV and XLSX, readable in Vietnamese and unable to carry formulas. Every export of the
portal (attendees, exhibitors, payments, applications) builds a `Table` and turns it into an `ExportFile` here.

A spreadsheet runs a cell that starts with = + - @ (or a tab or carriage return before one) as a formula,
so an attendee called '=HYPERLINK("http://x")' could plant a link or worse in the organiser's workbook.
Such text is prefixed with a single quote, and XLSX cells are always written as text.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from portal.errors import NotFound
from portal.i18n import HANOI

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
TIME_FORMAT = "%Y-%m-%d %H:%M"

Cell = str | int | datetime | None

#: the Content-Type of every export. Werkzeug adds "; charset=utf-8" to a text/* type itself: written here too, the
#: header would say it twice
MIMETYPES = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def neutralise(text: str) -> str:
    """Text a spreadsheet shows as typed instead of running it."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def spreadsheet_time(moment: datetime | None) -> datetime | None:
    """A moment as a Hanoi wall-clock time without its zone, as spreadsheets want it."""
    return moment.astimezone(HANOI).replace(tzinfo=None) if moment else None


@dataclass(frozen=True)
class Table:
    headers: list[str]
    #: text, whole đồng, or a Hanoi wall-clock time (naive: spreadsheet_time)
    rows: list[list[Cell]]


def to_csv(table: Table) -> bytes:
    """RFC 4180 (quoted where needed, CRLF line ends), UTF-8 with a byte order mark so Excel reads Vietnamese."""

    def text(value: Cell) -> str | int:
        if value is None:
            return ""
        if isinstance(value, datetime):
            return value.strftime(TIME_FORMAT)
        return neutralise(value) if isinstance(value, str) else value

    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, dialect="excel")
    writer.writerow([text(value) for value in table.headers])
    writer.writerows([text(value) for value in row] for row in table.rows)
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(table: Table, sheet_title: str) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title[:31])

    def cell(value: Cell) -> WriteOnlyCell:
        if isinstance(value, str):
            # XML cannot hold most control characters; openpyxl refuses the whole file if one slips in.
            written = WriteOnlyCell(sheet, value=neutralise(ILLEGAL_CHARACTERS_RE.sub("", value)))
            written.data_type = "s"  # text, whatever it looks like
            return written
        written = WriteOnlyCell(sheet, value=value)
        if isinstance(value, datetime):
            written.number_format = "yyyy-mm-dd hh:mm"
        return written

    sheet.append([cell(value) for value in table.headers])
    for row in table.rows:
        sheet.append([cell(value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@dataclass(frozen=True)
class ExportFile:
    filename: str
    mimetype: str
    content: bytes


def check_format(file_format: str) -> None:
    """NotFound for a format the portal does not export: checked before anything is read or audited."""
    if file_format not in MIMETYPES:
        raise NotFound()


def export_file(table: Table, file_format: str, *, name: str, sheet_title: str, now: datetime) -> ExportFile:
    """The table as a CSV or XLSX file called `name` and the Hanoi date, e.g. techfest-attendees-2026-10-02.csv."""
    check_format(file_format)
    content = to_xlsx(table, sheet_title) if file_format == "xlsx" else to_csv(table)
    return ExportFile(f"{name}-{now.astimezone(HANOI):%Y-%m-%d}.{file_format}", MIMETYPES[file_format], content)
