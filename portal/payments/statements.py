"""Bank statements: the money received on the organisers' account, read from the CSV their bank exports.

Banks lay their exports out differently, but every one has a row of column names, after a few title lines
(bank, account, period), and one row per booking. The row of names is found by looking the names up in
HEADER_NAMES; only incoming money (the credit column) becomes a TransferLine, debits are passed over. The title
lines often say whose account the statement is (`ACCOUNT_LABELS`), which reconciliation checks against the account
chosen. Either the whole statement is read or a StatementError names the line that stopped it: reconciliation never
works from half a statement, so a quotation mark left open, or a description whose separator was not quoted, stops
it rather than letting one cell swallow the next bookings or shift the amounts into other columns.

The two files in `samples/` are invented statements in the layout of a Vietcombank and a VietinBank export.
"""

from __future__ import annotations

import contextlib
import csv
import enum
import hashlib
import io
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from operator import attrgetter
from pathlib import Path

from flask_babel import lazy_gettext as _l

from portal.errors import DomainError
from portal.i18n import HANOI

SAMPLES_DIR = Path(__file__).with_name("samples")
#: how far down the file the row of column names may start
HEADER_SEARCH_ROWS = 20
#: Excel saves "CSV" with the list separator of the computer's region: ";" where the decimal mark is a comma
DELIMITERS = (",", ";", "\t")


class Column(enum.Enum):
    DATE = "date"
    CREDIT = "credit"
    MEMO = "memo"
    TRANSACTION_ID = "transaction id"
    BALANCE = "balance"


REQUIRED_COLUMNS = (Column.DATE, Column.CREDIT, Column.MEMO)

#: the names Vietnamese banks' exports (Vietcombank, VietinBank, BIDV, Techcombank, MB…) give these columns, in
#: Vietnamese and English, compared after `_header_key`. When two columns of a file name the same thing, the one
#: listed first here is used (the transaction date before the value date). Diacritics are kept: "Nợ" (debit) is
#: not "No." (number). A single signed "Số tiền"/"Amount" column is deliberately absent: some banks write debits
#: there without a sign.
HEADER_NAMES: dict[str, Column] = {
    "ngày giao dịch": Column.DATE,
    "transaction date": Column.DATE,
    "thời gian giao dịch": Column.DATE,
    "ngày giờ giao dịch": Column.DATE,
    "transaction time": Column.DATE,
    "ngày gd": Column.DATE,
    "txn date": Column.DATE,
    "tnx date": Column.DATE,
    "ngày hạch toán": Column.DATE,
    "posting date": Column.DATE,
    "ngày hiệu lực": Column.DATE,
    "effective date": Column.DATE,
    "value date": Column.DATE,
    "ngày": Column.DATE,
    "date": Column.DATE,
    "số tiền ghi có": Column.CREDIT,
    "ghi có": Column.CREDIT,
    "phát sinh có": Column.CREDIT,
    "có": Column.CREDIT,
    "số tiền vào": Column.CREDIT,
    "tiền vào": Column.CREDIT,
    "credit": Column.CREDIT,
    "credit amount": Column.CREDIT,
    "money in": Column.CREDIT,
    "deposit": Column.CREDIT,
    "nội dung chi tiết": Column.MEMO,
    "nội dung giao dịch": Column.MEMO,
    "nội dung": Column.MEMO,
    "mô tả giao dịch": Column.MEMO,
    "mô tả": Column.MEMO,
    "diễn giải": Column.MEMO,
    "chi tiết giao dịch": Column.MEMO,
    "transaction details": Column.MEMO,
    "transaction description": Column.MEMO,
    "description": Column.MEMO,
    "details": Column.MEMO,
    "narrative": Column.MEMO,
    "remarks": Column.MEMO,
    "số tham chiếu": Column.TRANSACTION_ID,
    "mã giao dịch": Column.TRANSACTION_ID,
    "số giao dịch": Column.TRANSACTION_ID,
    "số bút toán": Column.TRANSACTION_ID,
    "reference": Column.TRANSACTION_ID,
    "reference no": Column.TRANSACTION_ID,
    "reference number": Column.TRANSACTION_ID,
    "ref no": Column.TRANSACTION_ID,
    "transaction id": Column.TRANSACTION_ID,
    "transaction no": Column.TRANSACTION_ID,
    "transaction number": Column.TRANSACTION_ID,
    "số dư": Column.BALANCE,
    "số dư sau giao dịch": Column.BALANCE,
    "số dư cuối": Column.BALANCE,
    "balance": Column.BALANCE,
    "running balance": Column.BALANCE,
}
_HEADER_RANK = {name: rank for rank, name in enumerate(HEADER_NAMES)}

#: what a column is called in messages
COLUMN_LABELS = {
    Column.DATE: _l("the date (“Ngày giao dịch” / “Transaction date”)"),
    Column.CREDIT: _l("the money received (“Số tiền ghi có” / “Credit”)"),
    Column.MEMO: _l("the description (“Nội dung” / “Description”)"),
}

#: what the title lines call the account's number ("Số tài khoản: 0011001932418", "Tài khoản / Account: …"), compared
#: after `_header_key`; "Chủ tài khoản" (the holder) is not one of them
ACCOUNT_LABELS = ("số tài khoản", "tài khoản", "số tk", "stk", "account", "account number", "account no")
#: an account number as statements print it: letters and digits, maybe grouped by spaces, dots or dashes, with the
#: middle masked ("0011****6543") by some banks
ACCOUNT_NUMBER = re.compile(r"[0-9A-Za-z*][0-9A-Za-z*.-]*(?: [0-9*]+)*")

#: first words of the rows of totals and balances that exports put between or after the bookings
SUMMARY_LABELS = ("tổng", "cộng", "total", "số dư đầu", "số dư cuối", "opening balance", "closing balance",
                  "ending balance")

DATE = re.compile(r"(\d{1,2})[/-](\d{1,2})[/-](\d{4})(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?", re.ASCII)
#: "1500000", "1.500.000", "1,500,000", optionally with zeros after a decimal mark ("1,500,000.00")
AMOUNT = re.compile(r"""
    (?P<whole> \d{1,3} (?P<group>[.,]) \d{3} (?:(?P=group)\d{3})*  # grouped in thousands, one separator throughout
             | \d+ )
    (?: (?P<mark>[.,]) (?P<fraction>\d{1,2}) )?                   # a decimal part, which must be zero
""", re.VERBOSE | re.ASCII)
CURRENCY_SIGNS = re.compile(r"vnđ|vnd|đ|₫", re.IGNORECASE)


class StatementError(DomainError):
    """The file cannot be read as a bank statement; nothing of it was taken."""


@dataclass(frozen=True)
class TransferLine:
    """One booking of money received."""

    #: the line of the file the booking starts on, as a text editor counts
    line_number: int
    #: in UTC; a date without a time is taken as midnight in Hanoi
    booked_at: datetime
    #: whole đồng, greater than zero
    amount: int
    #: the bank's description, whitespace collapsed: where the payer's memo and the payment reference are
    memo: str
    bank_transaction_id: str | None
    #: the account balance after the booking, when the export shows it
    balance: int | None
    #: the same for this booking however often the statement is imported; see `_fingerprints`
    fingerprint: str = ""


@dataclass(frozen=True)
class Statement:
    """What a statement file says."""

    #: the account it is of, as its title lines print it (grouping removed; "*" where the bank masks digits); None
    #: when they do not say
    account_number: str | None
    lines: list[TransferLine]

    def is_of(self, account_number: str) -> bool:
        """Whether the statement may be `account_number`'s: it names no account, or names this one."""
        if self.account_number is None:
            return True
        pattern = ".+".join(re.escape(part) for part in re.split(r"\*+", self.account_number.upper()))
        return re.fullmatch(pattern, re.sub(r"[^0-9A-Za-z]", "", account_number).upper()) is not None


@dataclass(frozen=True)
class _Row:
    line_number: int
    cells: list[str]


def parse_statement(data: bytes) -> Statement:
    """The money received in a CSV bank statement (UTF-8, with or without a byte order mark), in the bank's order,
    and the account it is of. Raises StatementError naming the line and the problem."""
    text = _decoded(data)
    failures: list[_NoHeader] = []
    for delimiter in DELIMITERS:
        rows, unreadable_from = _rows(text, delimiter)
        try:
            header_index, columns = _table(rows)
            break
        except _NoHeader as failure:
            failures.append(failure)
    else:
        # the delimiter that came closest explains best what is missing
        raise max(failures, key=attrgetter("recognised"))
    if unreadable_from is not None:
        raise StatementError(_l("Line %(line)s cannot be read as CSV: check its quotation marks.",
                                line=unreadable_from))
    width = len(rows[header_index].cells)
    bookings = [line for line in (_transfer(row, columns, width, delimiter) for row in rows[header_index + 1:])
                if line is not None]
    return Statement(_account_number(rows[:header_index]),
                     [replace(line, fingerprint=fingerprint)
                      for line, fingerprint in zip(bookings, _fingerprints(bookings), strict=True)])


def _decoded(data: bytes) -> str:
    if data.startswith(b"PK\x03\x04"):
        raise StatementError(_l("This is an Excel workbook, not a CSV file: open it in Excel and save it as "
                                "“CSV UTF-8”."))
    try:
        # utf-8-sig drops the byte order mark Excel writes at the start of "CSV UTF-8"
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise StatementError(_l(
            "Line %(line)s is not UTF-8 text: the file was probably saved in an older encoding (such as Windows-1258). "
            "Export it again as CSV in UTF-8, for example with Excel's “Save as → CSV UTF-8”.", line=line)) from None
    if not text.strip():
        raise StatementError(_l("The file is empty."))
    return text


def _rows(text: str, delimiter: str) -> tuple[list[_Row], int | None]:
    """The rows up to the first one that is not CSV, and the line that one starts on (None if all are). Strict:
    a quotation mark still open at the end of the file, or text after a closing one, is an error, not a cell that
    runs on. Whether it is the file's fault or this delimiter's shows once the row of column names is found."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows = []
    first_line = 1
    try:
        for cells in reader:
            rows.append(_Row(first_line, cells))
            first_line = reader.line_num + 1
    except csv.Error:
        return rows, first_line
    return rows, None


class _NoHeader(StatementError):
    def __init__(self, message, recognised: int) -> None:
        super().__init__(message)
        #: how many of the required columns the closest candidate row named
        self.recognised = recognised


def _table(rows: list[_Row]) -> tuple[int, dict[Column, int]]:
    """The index of the row of column names, and the position of each column."""
    closest: tuple[_Row, dict[Column, int]] | None = None
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        columns = _columns(row.cells)
        if all(column in columns for column in REQUIRED_COLUMNS):
            return index, columns
        if columns and (closest is None or len(columns) > len(closest[1])):
            closest = row, columns
    if closest is None:
        raise _NoHeader(_l(
            "No row of column names found in the first %(count)s lines. A statement needs columns for %(date)s, "
            "%(credit)s and %(memo)s: export it as CSV from your bank's online banking.",
            count=HEADER_SEARCH_ROWS, date=COLUMN_LABELS[Column.DATE], credit=COLUMN_LABELS[Column.CREDIT],
            memo=COLUMN_LABELS[Column.MEMO]), recognised=0)
    row, columns = closest
    missing = next(column for column in REQUIRED_COLUMNS if column not in columns)
    raise _NoHeader(_l("Line %(line)s looks like the row of column names, but it has no column for %(missing)s.",
                       line=row.line_number, missing=COLUMN_LABELS[missing]),
                    recognised=sum(column in columns for column in REQUIRED_COLUMNS))


def _columns(cells: list[str]) -> dict[Column, int]:
    """Column → position for the cells of a candidate header row, preferring names listed earlier in HEADER_NAMES."""
    chosen: dict[Column, tuple[int, int]] = {}
    for position, cell in enumerate(cells):
        for name in _header_key(cell):
            column = HEADER_NAMES.get(name)
            if column is not None and (column not in chosen or _HEADER_RANK[name] < chosen[column][0]):
                chosen[column] = _HEADER_RANK[name], position
    return {column: position for column, (_rank, position) in chosen.items()}


def _header_key(cell: str) -> list[str]:
    """The names a header cell may be looked up by: bilingual cells ("Ngày GD/ TNX Date") give one per language;
    case, units in brackets ("(VND)") and punctuation do not count."""
    text = unicodedata.normalize("NFC", cell).casefold()
    text = re.sub(r"\(.*?\)", " ", text)
    names = []
    for part in re.split(r"[/\n]", text):
        name = " ".join(re.sub(r"[.:*#_-]", " ", part).split())
        if name:
            names.append(name)
    return names


def _account_number(title_rows: list[_Row]) -> str | None:
    """The account number the title lines give after one of ACCOUNT_LABELS, in the same cell after a colon or in
    the next cell."""
    for row in title_rows:
        cells = [cell.strip() for cell in row.cells if cell.strip()]
        for position, cell in enumerate(cells):
            label, colon, value = cell.partition(":")
            if not any(name in ACCOUNT_LABELS for name in _header_key(label)):
                continue
            if not colon and position + 1 < len(cells):
                value = cells[position + 1]
            match = ACCOUNT_NUMBER.match(value.strip())
            if match and any(char.isdigit() for char in match[0]):
                return re.sub(r"[ .-]", "", match[0])
    return None


def _check_cells(row: _Row, width: int, delimiter: str) -> None:
    """Refuses a row holding more cells than the row of column names (its amounts would be read from the wrong
    columns), or a cell that swallowed the bookings after it."""
    if any(cell.strip() for cell in row.cells[width:]):
        raise StatementError(_l(
            "Line %(line)s has more cells than the row of column names: a description that contains the separator "
            "“%(separator)s” must be in quotation marks.", line=row.line_number, separator=delimiter))
    for cell in row.cells:
        # a cell may run over several lines (a long description), but a line of it holding a whole row's worth of
        # separators is the next booking, swallowed by a quotation mark that was not closed
        if width > 1 and any(part.count(delimiter) >= width - 1 for part in cell.splitlines()[1:]):
            raise StatementError(_l(
                "Line %(line)s opens a quotation mark that is not closed where the cell ends, so the lines after "
                "it were read into one cell. Close it or remove it.", line=row.line_number))


def _transfer(row: _Row, columns: dict[Column, int], width: int, delimiter: str) -> TransferLine | None:
    def cell(column: Column) -> str:
        position = columns.get(column)
        value = row.cells[position].strip() if position is not None and position < len(row.cells) else ""
        return "" if value == "-" else value  # some exports write "-" in the column a booking leaves empty

    _check_cells(row, width, delimiter)
    date_text, credit_text = cell(Column.DATE), cell(Column.CREDIT)
    if not date_text and not credit_text:
        return None  # blank lines, opening balances, signatures: no booking of money received
    first_cell = next((value.strip() for value in row.cells if value.strip()), "")
    if not DATE.fullmatch(date_text) and unicodedata.normalize("NFC", first_cell).casefold().startswith(
            SUMMARY_LABELS):
        return None  # a row of totals
    if len(row.cells) <= max(columns[column] for column in REQUIRED_COLUMNS):
        raise StatementError(_l("Line %(line)s has fewer cells than the row of column names.",
                                line=row.line_number))
    booked_at = _booked_at(date_text, row.line_number)
    amount = _amount(credit_text, row.line_number) if credit_text else 0
    if amount < 0:
        raise StatementError(_l("Line %(line)s: the money received, %(value)s, is negative.",
                                line=row.line_number, value=credit_text))
    if amount == 0:
        return None  # a debit
    balance_text = cell(Column.BALANCE)
    return TransferLine(
        line_number=row.line_number,
        booked_at=booked_at,
        amount=amount,
        memo=" ".join(cell(Column.MEMO).split()),
        bank_transaction_id=cell(Column.TRANSACTION_ID) or None,
        balance=_amount(balance_text, row.line_number) if balance_text else None,
    )


def _booked_at(text: str, line_number: int) -> datetime:
    if not text:
        raise StatementError(_l("Line %(line)s has an amount but no date.", line=line_number))
    match = DATE.fullmatch(text)
    with contextlib.suppress(ValueError):  # 31/02/2026, 25:00
        if match:
            day, month, year, hour, minute, second = (int(part or 0) for part in match.groups())
            return datetime(year, month, day, hour, minute, second, tzinfo=HANOI).astimezone(UTC)
    raise StatementError(_l("Line %(line)s: “%(value)s” is not a date written day/month/year, such as 31/12/2026 "
                            "or 31/12/2026 14:05.", line=line_number, value=text))


def _amount(text: str, line_number: int) -> int:
    """Whole đồng from "1.500.000", "1,500,000", "1500000", "1,500,000.00", "+1.500.000 VND" or "(150.000)"."""
    cleaned = CURRENCY_SIGNS.sub("", text).replace("\u00a0", "").replace(" ", "")
    negative = cleaned.startswith("-") or (cleaned.startswith("(") and cleaned.endswith(")"))
    match = AMOUNT.fullmatch(cleaned.strip("()+-"))
    if (not match or (match["fraction"] and int(match["fraction"]))
            or (match["group"] and match["group"] == match["mark"])):
        raise StatementError(_l("Line %(line)s: “%(value)s” is not an amount in whole đồng, such as 1.500.000 or "
                                "1,500,000.", line=line_number, value=text))
    amount = int(re.sub(r"[.,]", "", match["whole"]))
    return -amount if negative else amount


def _fingerprints(lines: list[TransferLine]) -> list[str]:
    """A key per booking that is the same every time this statement, or another export covering the same days, is
    read, and differs between bookings: the bank's transaction id where the export has one, otherwise the time,
    amount and memo. Two identical bookings (the same payer paying twice within the minute) are told apart by their
    order among the bookings that look the same, so both are credited, once each."""
    seen: Counter[str] = Counter()
    fingerprints = []
    for line in lines:
        if line.bank_transaction_id:
            identity = f"id\x1f{line.bank_transaction_id}"
        else:
            identity = f"line\x1f{line.booked_at.isoformat()}\x1f{line.amount}\x1f{line.memo}"
        fingerprints.append(hashlib.sha256(f"{identity}\x1f{seen[identity]}".encode()).hexdigest())
        seen[identity] += 1
    return fingerprints
