"""VietQR payloads a banking app accepts (checked against PRODUCT.md's published sample and against payloads and
CRCs worked out here independently), decoded back, every bad input refused; payment references found in memos."""

from __future__ import annotations

import random
import re
import struct

import pytest
import segno

from portal.payments.vietqr import (
    REFERENCE_ALPHABET,
    BankTransfer,
    InvalidTransferDetails,
    InvalidVietQR,
    crc_hex,
    decode_payload,
    find_references,
    new_reference,
    parse_tlv,
    qr_png,
    qr_svg,
    transfer_memo,
    transfer_payload,
)

#: PRODUCT.md §5: bank 970415, account 0011001932418, 120000 ₫, memo "ung ho lu lut"
PUBLISHED_SAMPLE = ("00020101021238570010A00000072701270006970415011300110019324180208QRIBFTTA530370454061200005802VN"
                    "62170813ung ho lu lut6304C15C")


def bitwise_crc(data: bytes) -> int:
    """CRC-16/CCITT-FALSE one bit at a time, straight from its definition: polynomial 0x1021, start 0xFFFF."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def signed(body: str) -> str:
    """A payload with our own CRC field appended, for building codes the module would never write."""
    body += "6304"
    return f"{body}{bitwise_crc(body.encode()):04X}"


# --- CRC ----------------------------------------------------------------------------------------------------------

def test_the_crc_has_the_catalogued_check_value_of_crc16_ccitt_false():
    assert bitwise_crc(b"123456789") == 0x29B1
    assert crc_hex("123456789") == "29B1"


def test_the_crc_agrees_with_the_bitwise_definition_on_random_text():
    rng = random.Random(2026)
    for _ in range(300):
        text = "".join(rng.choice("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ abc") for _ in range(rng.randrange(0, 160)))
        assert crc_hex(text) == f"{bitwise_crc(text.encode()):04X}"


# --- building -----------------------------------------------------------------------------------------------------

def test_the_published_sample_is_reproduced_character_for_character_from_vietnamese_input():
    assert transfer_payload("970415", "0011001932418", 120_000, "ủng hộ lũ lụt") == PUBLISHED_SAMPLE
    assert PUBLISHED_SAMPLE[-4:] == f"{bitwise_crc(PUBLISHED_SAMPLE[:-4].encode()):04X}"


def test_a_dynamic_payload_is_written_field_by_field_as_specified():
    expected = signed(
        "000201"                              # 00 payload format indicator = 01
        "010212"                              # 01 point of initiation = 12, dynamic: it carries an amount
        "3854"                                # 38 merchant account information, 54 characters:
        "0010A000000727"                      # 00 NAPAS application id
        "0124" "0006970436" "01101234567890"  # 01 beneficiary: 00 bank BIN, 01 account number (24 characters)
        "0208QRIBFTTA"                        # 02 service: transfer to an account
        "5303704"                             # 53 currency VND
        "54071500000"                         # 54 amount, 7 characters
        "5802VN"                              # 58 country
        "6215" "0811TF26 7K3Q9Z"              # 62 additional data: 08 purpose = the reference
    )
    assert transfer_payload("970436", "1234567890", 1_500_000, "TF26 7K3Q9Z") == expected


def test_without_an_amount_the_code_is_static_and_without_a_memo_it_has_no_additional_data():
    payload = transfer_payload("970436", "1234567890")
    fields = parse_tlv(payload)
    assert list(fields) == ["00", "01", "38", "53", "58", "63"]
    assert fields["01"] == "11"
    assert payload == signed("000201010211" "3854" "0010A000000727" "01240006970436011012345678900208QRIBFTTA"
                             "5303704" "5802VN")


def test_templates_nest_as_the_specification_says():
    fields = parse_tlv(PUBLISHED_SAMPLE)
    merchant = parse_tlv(fields["38"])
    assert merchant == {"00": "A000000727", "01": "000697041501130011001932418", "02": "QRIBFTTA"}
    assert parse_tlv(merchant["01"]) == {"00": "970415", "01": "0011001932418"}
    assert parse_tlv(fields["62"]) == {"08": "ung ho lu lut"}
    assert (fields["53"], fields["54"], fields["58"], fields["63"]) == ("704", "120000", "VN", "C15C")


@pytest.mark.parametrize("transfer", [
    BankTransfer("970415", "0011001932418", 120_000, "ung ho lu lut"),
    BankTransfer("970436", "1234567890123456789", 1, "TF26 7K3Q9Z"),            # longest account, smallest amount
    BankTransfer("970422", "VQRQ00012345", 499_999_999, "A" * 25),             # letters, NAPAS 247 limit, longest memo
    BankTransfer("970418", "12345678", None, ""),                              # static, no memo
    BankTransfer("546034", "7", 50_000, "TM26 5RT2N9"),                        # a BIN outside 970xxx
])
def test_a_payload_decodes_back_to_the_transfer_it_was_built_from(transfer):
    payload = transfer_payload(transfer.bank_bin, transfer.account_number, transfer.amount, transfer.memo)
    assert decode_payload(payload) == transfer
    assert payload[-4:] == f"{bitwise_crc(payload[:-4].encode()):04X}"


def test_the_memo_loses_vietnamese_marks_and_extra_spaces_but_keeps_its_letters():
    assert transfer_memo("  Ủng hộ   đồng bào ĐBSCL ") == "Ung ho dong bao DBSCL"
    # the same words typed on a keyboard that sends decomposed characters
    assert transfer_memo("Thanh to\u0061\u0301n ve\u0302\u0301") == "Thanh toan ve"


@pytest.mark.parametrize("bank_bin", ["", None, "97041", "9704150", "97041A", " 970415", "９７０４１５"])
def test_a_bin_that_is_not_six_digits_is_refused(bank_bin):
    with pytest.raises(InvalidTransferDetails, match="6 digits"):
        transfer_payload(bank_bin, "0011001932418", 120_000)


@pytest.mark.parametrize("account", ["", None, "1" * 20, "0011-001-932418", "0011 001932418", "tài0011", "00110019#"])
def test_an_account_number_of_other_than_1_to_19_letters_and_digits_is_refused(account):
    with pytest.raises(InvalidTransferDetails, match="1 to 19 letters and digits"):
        transfer_payload("970415", account, 120_000)


@pytest.mark.parametrize("amount", [0, -1, 1.5, 120_000.0, True, "120000"])
def test_an_amount_that_is_not_a_positive_whole_number_of_dong_is_refused(amount):
    with pytest.raises(InvalidTransferDetails, match="whole number of đồng"):
        transfer_payload("970415", "0011001932418", amount)


def test_an_amount_beyond_what_napas_247_carries_is_refused_with_the_limit():
    with pytest.raises(InvalidTransferDetails, match="499.999.999"):
        transfer_payload("970415", "0011001932418", 500_000_000)


@pytest.mark.parametrize("memo", ["A" * 26, "Thanh toán vé TechFest TF26 7K3Q9Z"])
def test_a_memo_longer_than_25_characters_is_refused(memo):
    with pytest.raises(InvalidTransferDetails, match="at most 25 characters"):
        transfer_payload("970415", "0011001932418", 120_000, memo)


@pytest.mark.parametrize("memo", ["TF26-7K3Q9Z", "Ve #12", "50% coc", "thanh toan €", "xin chào 👋"])
def test_a_memo_with_anything_but_letters_digits_and_spaces_is_refused(memo):
    with pytest.raises(InvalidTransferDetails, match="only hold letters, digits and spaces"):
        transfer_payload("970415", "0011001932418", 120_000, memo)


# --- decoding -----------------------------------------------------------------------------------------------------

def test_any_changed_character_breaks_the_checksum():
    tampered = PUBLISHED_SAMPLE.replace("54061200005802", "54069200005802")
    with pytest.raises(InvalidVietQR, match="checksum"):
        decode_payload(tampered)


def test_a_code_cut_short_is_refused():
    with pytest.raises(InvalidVietQR, match="checksum field"):
        decode_payload(PUBLISHED_SAMPLE[:-10])


def test_a_lower_case_checksum_and_surrounding_whitespace_are_accepted():
    decoded = decode_payload(f"  {PUBLISHED_SAMPLE[:-4]}{PUBLISHED_SAMPLE[-4:].lower()}\n")
    assert decoded.amount == 120_000


MERCHANT = "38570010A00000072701270006970415011300110019324180208QRIBFTTA"


@pytest.mark.parametrize(("body", "message"), [
    ("000201010212" + MERCHANT.replace("3857", "385X") + "53037045802VN", "2-digit tag"),
    ("00020101021253037045802VN", "no field 38"),
    ("000202010212" + MERCHANT + "53037045802VN", "format indicator"),
    ("000201010212" + MERCHANT.replace("QRIBFTTA", "QRIBFTTC") + "53037045802VN", "transfer to a bank account"),
    ("000201010212" + MERCHANT.replace("A000000727", "A000000999") + "53037045802VN", "transfer to a bank account"),
    ("000201010212" + MERCHANT + "53038405802US", "Vietnamese đồng"),
    ("000201010213" + MERCHANT + "53037045802VN", "neither 11"),
    ("000201010212" + MERCHANT + "53037045405120.55802VN", "not a whole number"),
    ("000201010212" + MERCHANT + "5303704540105802VN", "not a whole number"),
    ("000201010212" + MERCHANT + "5303704" + "5802VN" + "5802VN", "appears twice"),
    ("000201010212" + MERCHANT + "5303704" + "5X02VN", "2-digit tag"),
    ("000201010212" + MERCHANT + "5303704" + "5899VN", "longer than what follows"),
])
def test_a_well_signed_payload_that_breaks_the_format_is_refused_saying_why(body, message):
    with pytest.raises(InvalidVietQR, match=message):
        decode_payload(signed(body))


def test_an_amount_written_with_a_zero_decimal_part_decodes_as_whole_dong():
    body = "000201010212" + MERCHANT + "5303704" + "540812000.005802VN"
    assert decode_payload(signed(body)).amount == 12_000


# --- drawing ------------------------------------------------------------------------------------------------------

def test_the_svg_announces_its_title_to_screen_readers():
    svg = qr_svg(PUBLISHED_SAMPLE, title="VietQR: 120.000 ₫ to 0011001932418")
    assert svg.startswith("<svg") and "<title>VietQR: 120.000 ₫ to 0011001932418</title>" in svg


def test_the_png_keeps_the_four_module_quiet_zone_banking_apps_expect():
    png = qr_png(PUBLISHED_SAMPLE, scale=5)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])  # the PNG header's image size
    modules = segno.make_qr(PUBLISHED_SAMPLE, error="m").symbol_size(scale=1, border=0)[0]
    assert width == height == (modules + 2 * 4) * 5


# --- payment references -------------------------------------------------------------------------------------------

REFERENCE = re.compile(rf"TF26 [{REFERENCE_ALPHABET}]{{6}}")


def test_a_reference_is_the_prefix_and_six_unambiguous_characters_that_fit_a_memo():
    references = [new_reference("TF26") for _ in range(500)]
    assert len(set(references)) > 490  # random: a clash or two among 33.5 million is possible, a run of them is not
    for reference in references:
        assert REFERENCE.fullmatch(reference)
        assert not set(reference[5:]) & set("0O1I")
        assert transfer_memo(reference) == reference


@pytest.mark.parametrize("prefix", ["", "T", "tf26", "2026", "TF-26", "TOOLONG", "TF 26"])
def test_a_reference_prefix_must_be_2_to_6_capitals_and_digits_starting_with_a_letter(prefix):
    with pytest.raises(InvalidTransferDetails, match="2 to 6 capital letters"):
        new_reference(prefix)


@pytest.mark.parametrize("memo", [
    "TF26 7K3Q9Z",
    "tf26 7k3q9z",
    "MBVCB.5012345678.TF267K3Q9Z.CT tu 0451000123456 CONG TY CP NONG TRAI SO toi 999900002026",
    "IBFT-TF26-7K3Q9Z-Thanh toán vé",
    "Thanh toán vé TF 26 7K 3Q 9Z",
    "CT DEN:633512 0011001932418TF267K3Q9ZNGUYEN VAN A",
])
def test_a_reference_is_found_however_the_bank_mangles_the_memo(memo):
    assert find_references(memo, ["TM26", "TF26"]) == ["TF26 7K3Q9Z"]


def test_every_reference_in_a_memo_is_found_once_in_order():
    memo = "TM26 5RT2N9 va TF26 7K3Q9Z, lan 2: TM26-5RT2N9"
    assert find_references(memo, ["tf26", "TM26"]) == ["TM26 5RT2N9", "TF26 7K3Q9Z"]


def test_a_reference_right_after_a_false_start_is_still_found():
    assert find_references("TF26TF267K3Q9Z", ["TF26"]) == ["TF26 7K3Q9Z"]


@pytest.mark.parametrize(("memo", "prefixes"), [
    ("TF26 7K3Q9Y", ["TF26"]),            # wrong check character
    ("TF26 7K3Q9", ["TF26"]),             # cut short by the bank
    ("TF26 7K3Q9Z", ["TM26"]),            # another event's prefix
    ("TF26 7K3Q9Z", []),
    ("chuyen tien hoi nghi", ["TF26"]),
])
def test_nothing_is_found_where_there_is_no_valid_reference(memo, prefixes):
    assert find_references(memo, prefixes) == []


def test_every_single_mistyped_character_of_a_reference_is_caught_by_its_check_character():
    for _ in range(40):
        reference = new_reference("TF26")
        for position in range(5, len(reference)):
            for wrong in REFERENCE_ALPHABET.replace(reference[position], ""):
                typo = reference[:position] + wrong + reference[position + 1:]
                assert find_references(typo, ["TF26"]) == [], typo
