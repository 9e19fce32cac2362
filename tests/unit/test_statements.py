"""Reading bank statements: each bank layout, the byte order mark, amounts in every notation, debits passed over,
fingerprints that do not change between imports, and a clear message naming the line for every file we cannot read."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

import pytest

from portal.payments.statements import SAMPLES_DIR, Statement, StatementError, TransferLine, parse_statement

VIETCOMBANK = (SAMPLES_DIR / "vietcombank.csv").read_bytes()
VIETINBANK = (SAMPLES_DIR / "vietinbank.csv").read_bytes()
BOM = b"\xef\xbb\xbf"

HEADER = "Ngày giao dịch,Số tham chiếu,Số tiền ghi nợ,Số tiền ghi có,Số dư,Nội dung"


def statement(*lines: str) -> bytes:
    return "\r\n".join(lines).encode() + b"\r\n"


def windows_1258(text: str) -> bytes:
    """Text as Windows writes Vietnamese in code page 1258: letters with their own code (â, ơ, ư, đ…) followed by
    a separate tone mark, since the code page has no room for every toned letter."""
    tones = "\u0300\u0301\u0303\u0309\u0323"
    written = []
    for char in unicodedata.normalize("NFC", text):
        decomposed = unicodedata.normalize("NFD", char)
        written.append(unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in tones))
                       + "".join(c for c in decomposed if c in tones))
    return "".join(written).encode("cp1258")


def parse_error(data: bytes) -> str:
    with pytest.raises(StatementError) as caught:
        parse_statement(data)
    return str(caught.value)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def summary(lines: list[TransferLine]) -> list[tuple]:
    return [(line.line_number, line.booked_at, line.amount, line.bank_transaction_id, line.balance) for line in lines]


# --- the two layouts ----------------------------------------------------------------------------------------------

def test_a_vietcombank_export_gives_its_credits_in_utc_after_its_title_lines():
    lines = parse_statement(VIETCOMBANK).lines
    assert VIETCOMBANK.startswith(BOM)
    # line 10 is a fee (a debit); 7 the opening balance; 15 and 16 the totals and the closing balance
    assert summary(lines) == [
        (8, utc(2026, 12, 1, 2, 14, 22), 1_500_000, "5213.10452", 13_500_000),
        (9, utc(2026, 12, 1, 3, 2, 47), 1_000_000, "5213.11873", 14_500_000),
        (11, utc(2026, 12, 2, 1, 30, 5), 1_500_000, "5214.00317", 15_989_000),
        (12, utc(2026, 12, 2, 7, 45, 10), 600_000, "5214.02268", 16_589_000),
        (13, utc(2026, 12, 3, 0, 5, 33), 2_000_000, "5215.00054", 18_589_000),
        (14, utc(2026, 12, 3, 9, 20, 41), 1_500_000, "5215.03391", 20_089_000),
    ]
    assert lines[1].memo == "Thanh toán vé Techmart VE 5RT2N9 - Công ty Cơ khí Đông Anh (demo)"


def test_a_vietinbank_export_with_bilingual_headers_and_dates_without_time():
    lines = parse_statement(VIETINBANK).lines
    # a date alone is midnight in Hanoi, 17:00 UTC the day before; this layout has no transaction id
    assert summary(lines) == [
        (7, utc(2026, 12, 1, 17), 1_500_000, None, 6_500_000),
        (8, utc(2026, 12, 1, 17), 500_000, None, 7_000_000),
        (10, utc(2026, 12, 2, 17), 1_500_000, None, 8_478_000),
        (11, utc(2026, 12, 3, 17), 200_000, None, 8_678_000),
        (12, utc(2026, 12, 3, 17), 200_000, None, 8_878_000),
    ]
    assert lines[1].memo == "Nguyễn Thị Demo chuyển tiền vé Techmart VEW6KY4Y"


def test_the_byte_order_mark_changes_nothing():
    assert VIETCOMBANK.startswith(BOM) and not VIETINBANK.startswith(BOM)
    assert parse_statement(VIETCOMBANK[len(BOM):]).lines == parse_statement(VIETCOMBANK).lines
    assert parse_statement(BOM + VIETINBANK).lines == parse_statement(VIETINBANK).lines


def test_a_statement_saved_with_semicolons_by_a_vietnamese_excel_is_read_alike():
    semicolons = statement("Ngày giao dịch;Số tiền ghi có;Nội dung", "05/12/2026 10:00;1.500.000;TF26 7K3Q9Z")
    [line] = parse_statement(semicolons).lines
    assert (line.amount, line.memo) == (1_500_000, "TF26 7K3Q9Z")


def test_english_headers_with_units_and_a_memo_spanning_lines_keep_line_numbers_right():
    data = statement(
        "Transaction Date,Reference No.,Debit (VND),Credit (VND),Balance (VND),Transaction Details",
        '05/12/2026 10:00,FT1,,"500,000",,"TM26 5RT2N9',
        'Cong ty Co khi"',
        "06/12/2026,FT2,,not money,,TF26 7K3Q9Z",
    )
    assert "Line 4:" in parse_error(data)
    [first] = parse_statement(data.replace(b"not money", b"1")).lines[:1]
    assert (first.line_number, first.memo, first.bank_transaction_id) == (2, "TM26 5RT2N9 Cong ty Co khi", "FT1")


def test_the_transaction_date_wins_over_the_value_date_whatever_the_column_order():
    [line] = parse_statement(statement("Ngày hiệu lực,Ngày giao dịch,Có,Diễn giải",
                                       "06/12/2026,05/12/2026 23:30,100.000,TF26 7K3Q9Z")).lines
    assert line.booked_at == utc(2026, 12, 5, 16, 30)


# --- amounts and debits -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("written", ["1.500.000", "1,500,000", "1500000", "1,500,000.00", "1.500.000,00",
                                     "1500000.0", "1.500.000 VND", "1.500.000 đ", "₫1,500,000", "+1.500.000",
                                     " 1 500 000 ", "1\u00a0500\u00a0000"])
def test_an_amount_is_read_in_every_notation_banks_write(written):
    [line] = parse_statement(statement(HEADER, f'05/12/2026,FT1,,"{written}",,TF26 7K3Q9Z')).lines
    assert line.amount == 1_500_000


@pytest.mark.parametrize("written", ["1.500,5", "1,50", "1.5.00", "1.500.00.0", "1,500.000", "1.500,000",
                                     "1,500.5", "abc", "1.500.000,-", "1e6", "١٥٠٠"])
def test_an_amount_that_is_not_whole_dong_is_refused_naming_the_line(written):
    message = parse_error(statement(HEADER, "05/12/2026,FT1,,100.000,,ok", f'05/12/2026,FT2,,"{written}",,TF26'))
    assert message.startswith("Line 3:") and written in message


def test_a_negative_credit_is_refused():
    message = parse_error(statement(HEADER, '05/12/2026,FT1,,"(150.000)",,hoan tien'))
    assert "Line 2" in message and "negative" in message


@pytest.mark.parametrize("credit", ["", "0", "-", "0.00"])
def test_debit_lines_are_passed_over(credit):
    lines = parse_statement(statement(HEADER, f"05/12/2026,FT1,22.000,{credit},1.000.000,Phí quản lý tài khoản",
                                      "05/12/2026,FT2,,500.000,1.500.000,TM26 5RT2N9")).lines
    assert [line.bank_transaction_id for line in lines] == ["FT2"]


def test_a_bad_balance_is_refused_like_any_other_amount():
    assert "Line 2" in parse_error(statement(HEADER, "05/12/2026,FT1,,500.000,1.500.0,TM26 5RT2N9"))


# --- dates --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("written", ["31/02/2026", "12/31/2026", "2026-12-05", "05/12/26", "05/12/2026 25:00",
                                     "05/12/2026 10:61", "hôm qua"])
def test_a_bad_date_is_refused_naming_its_line(written):
    message = parse_error(statement("SAO KÊ TÀI KHOẢN", HEADER, "05/12/2026,FT1,,100.000,,ok",
                                    "06/12/2026,FT2,,200.000,,ok", f"{written},FT3,,300.000,,TF26 7K3Q9Z"))
    assert message.startswith("Line 5:") and written in message


def test_a_credit_without_a_date_is_refused():
    assert parse_error(statement(HEADER, ",FT1,,300.000,,TF26 7K3Q9Z")) == "Line 2 has an amount but no date."


@pytest.mark.parametrize("written", ["05/12/2026 9:05", "5/12/2026 09:05:00", "05-12-2026 09:05", "05/12/2026, 09:05"])
def test_dates_are_day_month_year_with_an_optional_time_in_hanoi(written):
    [line] = parse_statement(statement(HEADER, f'"{written}",FT1,,100.000,,ok')).lines
    assert line.booked_at == utc(2026, 12, 5, 2, 5)


# --- files we cannot read -----------------------------------------------------------------------------------------

def test_a_statement_in_windows_1258_is_refused_naming_the_first_line_that_is_not_utf8():
    data = windows_1258("VIETCOMBANK STATEMENT\r\nAccount 999900002026\r\n"
                        f"{HEADER}\r\n05/12/2026,FT1,,100.000,,Phí quản lý tài khoản\r\n")
    message = parse_error(data)
    assert message.startswith("Line 3 is not UTF-8 text") and "CSV UTF-8" in message


def test_a_statement_in_latin_1_is_refused():
    data = "Transaction date,Credit,Description\r\n05/12/2026,100.000,Café\r\n".encode("latin-1")
    assert parse_error(data).startswith("Line 2 is not UTF-8 text")


def test_an_excel_workbook_is_refused_with_how_to_save_it_as_csv():
    assert "save it as “CSV UTF-8”" in parse_error(b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)))


@pytest.mark.parametrize("data", [b"", b"  \r\n", BOM])
def test_an_empty_file_is_refused(data):
    assert parse_error(data) == "The file is empty."


def test_a_header_missing_the_credit_column_is_refused_naming_its_line_and_the_column():
    message = parse_error(statement("SAO KÊ", "", "Ngày giao dịch,Số tiền,Nội dung", "05/12/2026,100.000,ok"))
    assert message.startswith("Line 3 looks like the row of column names") and "Số tiền ghi có" in message


def test_the_message_comes_from_the_separator_that_found_most_of_the_header():
    message = parse_error(statement("Ngày giao dịch;Số tiền;Nội dung", "05/12/2026;100.000;ok"))
    assert message.startswith("Line 1 looks like the row of column names") and "Credit" in message


def test_a_file_without_any_known_column_is_refused_saying_what_a_statement_needs():
    message = parse_error(statement("Name,Email,Phone", "An,an@example.vn,0901234567"))
    assert message.startswith("No row of column names found in the first 20 lines")
    assert all(name in message for name in ("Ngày giao dịch", "Số tiền ghi có", "Nội dung"))


def test_a_header_further_down_than_twenty_lines_is_not_searched_for():
    title = [f"Dòng tiêu đề {number}" for number in range(20)]
    assert parse_error(statement(*title, HEADER, "05/12/2026,FT1,,100.000,,ok")).startswith("No row of column")


def test_nothing_is_returned_when_the_last_line_is_bad():
    good = [f"0{day}/12/2026,FT{day},,100.000,,TF26 7K3Q9Z" for day in range(1, 8)]
    assert "Line 9:" in parse_error(statement(HEADER, *good, "08/12/2026,FT8,,một triệu,,TF26"))


# --- fingerprints -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("data", [VIETCOMBANK, VIETINBANK])
def test_fingerprints_are_the_same_on_every_import_and_differ_between_lines(data):
    first, second = parse_statement(data).lines, parse_statement(bytes(data)).lines
    assert [line.fingerprint for line in first] == [line.fingerprint for line in second]
    assert len({line.fingerprint for line in first}) == len(first)


def test_two_identical_transfers_are_two_lines_with_two_fingerprints():
    lines = parse_statement(VIETINBANK).lines
    twins = [line for line in lines if line.memo == "Ủng hộ quỹ khởi nghiệp sinh viên"]
    assert len(twins) == 2 and twins[0].fingerprint != twins[1].fingerprint


def test_a_later_export_covering_the_same_days_gives_the_shared_lines_the_same_fingerprints():
    rows = ["05/12/2026,,,500.000,,Ủng hộ", "05/12/2026,,,500.000,,Ủng hộ", "06/12/2026,,,300.000,,TF26 7K3Q9Z"]
    early = parse_statement(statement(HEADER, *rows[:2])).lines
    later = parse_statement(statement("SAO KÊ 05/12–06/12", HEADER, *rows)).lines
    assert [line.line_number for line in later[:2]] != [line.line_number for line in early]
    assert [line.fingerprint for line in later[:2]] == [line.fingerprint for line in early]


def test_a_bank_transaction_id_identifies_the_line_even_if_the_bank_rewrites_its_memo():
    [before] = parse_statement(statement(HEADER, "05/12/2026 10:00,FT123,,500.000,,TM26 5RT2N9")).lines
    [after] = parse_statement(statement(HEADER, "05/12/2026 10:00,FT123,,500.000,,TM26 5RT2N9 CONG TY CO KHI")).lines
    [other] = parse_statement(statement(HEADER, "05/12/2026 10:00,FT124,,500.000,,TM26 5RT2N9")).lines
    assert before.fingerprint == after.fingerprint != other.fingerprint


# --- malformed lines: the whole statement is refused, naming the line -----------------------------------------------

def separated(delimiter: str, newline: str, *rows: str) -> bytes:
    """Rows written with "," as the separator, rewritten with `delimiter` (commas inside amounts are not used)."""
    return newline.join(row.replace(",", delimiter) for row in rows).encode() + newline.encode()


FORMATS = pytest.mark.parametrize(("delimiter", "newline"), [(",", "\r\n"), (",", "\n"), (";", "\r\n"), ("\t", "\n")],
                                  ids=["comma-crlf", "comma-lf", "semicolon", "tab"])
GOOD = "05/12/2026 10:00,FT1,,500.000,,TF26 7K3Q9Z"


@FORMATS
@pytest.mark.parametrize("after", [
    ["06/12/2026 11:00,FT3,,700.000,,TM26 5RT2N9"],  # open until the end of the file
    ['06/12/2026 11:00,FT3,,700.000,,"TM26 5RT2N9"'],  # closed by the next quoted cell, text after it
    ['06/12/2026 11:00,FT3,,700.000,,TM26 5RT2N9"', "07/12/2026 12:00,FT4,,800.000,,TF26 7K3Q9Z"],  # closed cleanly
], ids=["to-the-end", "closed-later", "closed-after-a-booking"])
def test_a_quotation_mark_left_open_refuses_the_whole_statement_naming_its_line(delimiter, newline, after):
    data = separated(delimiter, newline, "SAO KÊ", HEADER, GOOD, '06/12/2026 09:00,FT2,,600.000,,"VE 7K3Q9Z thanh toan',
                     *after)
    message = parse_error(data)
    assert message.startswith("Line 4 ") and "quotation mark" in message


@FORMATS
def test_a_description_with_an_unquoted_separator_is_refused_rather_than_shifting_the_amounts(delimiter, newline):
    header = "Ngày giao dịch,Nội dung,Số tiền ghi nợ,Số tiền ghi có,Số dư"
    data = separated(delimiter, newline, header, "05/12/2026,TF26 7K3Q9Z,,500.000,1.000.000",
                     "06/12/2026,Cong ty A, chuyen tien,,600.000,1.600.000")
    message = parse_error(data)
    assert message.startswith("Line 3 has more cells than the row of column names")
    assert f"“{delimiter}”" in message


def test_a_booking_cut_short_is_refused_not_taken_for_a_debit():
    assert parse_error(statement(HEADER, GOOD, "06/12/2026 09:00,FT2")) == (
        "Line 3 has fewer cells than the row of column names.")


def test_trailing_empty_cells_and_a_description_over_two_lines_are_fine():
    [line] = parse_statement(statement(HEADER, '05/12/2026,FT1,,500.000,,"TF26 7K3Q9Z\nCong ty, Ha Noi",,,')).lines
    assert line.memo == "TF26 7K3Q9Z Cong ty, Ha Noi"


# --- the account the statement is of -----------------------------------------------------------------------------

def test_the_samples_name_their_accounts():
    assert parse_statement(VIETCOMBANK).account_number == "999900002026"
    assert parse_statement(VIETINBANK).account_number == "108866602026"


@pytest.mark.parametrize(("title", "number"), [
    ("Số tài khoản: 0011 0019 32418", "0011001932418"),
    ("Số TK,0011-001-932418,Chủ TK: TRUNG TAM", "0011001932418"),
    ("Account No.: 0011****2418", "0011****2418"),
    ("Chủ tài khoản: TRUNG TAM DMST 2026", None),
    ("SAO KÊ TÀI KHOẢN", None),
])
def test_the_account_number_is_read_from_the_title_lines(title, number):
    assert parse_statement(statement(title, HEADER, GOOD)).account_number == number


@pytest.mark.parametrize(("printed", "account", "same"), [
    ("0011001932418", "0011001932418", True), ("0011****2418", "0011001932418", True),
    ("0011****2418", "0011001932419", False), ("999900002026", "0011001932418", False), (None, "123", True),
])
def test_a_statement_is_of_the_account_it_names_or_of_any_when_it_names_none(printed, account, same):
    assert Statement(printed, []).is_of(account) is same
