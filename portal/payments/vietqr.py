"""VietQR: the bank-transfer QR code every Vietnamese banking app scans (NAPAS 247, EMVCo merchant-presented).

A payload is a string of fields written `ID(2) LENGTH(2) VALUE`, some of whose values are themselves such strings
(templates). What we write, in this order (PRODUCT.md §5):

    00 = 01                       payload format indicator
    01 = 12 | 11                  point of initiation: 12 dynamic (this amount, this time), 11 static (reusable)
    38 = { 00 = A000000727        NAPAS's application id
           01 = { 00 = bank BIN, 01 = account number }
           02 = QRIBFTTA }        service: transfer to an account
    53 = 704                      currency, VND
    54 = amount                   whole đồng, only in a dynamic code
    58 = VN                       country
    62 = { 08 = memo }            purpose of transaction: carries the payment reference for reconciliation
    63 = CRC                      CRC-16/CCITT-FALSE over everything before it, "6304" included, 4 upper-case hex digits

Lengths count characters; every value we write is ASCII, so characters and bytes agree.

Payment references ("TF26 7K3Q9X") live here too: they are what the memo carries and what a bank statement line is
searched for (`find_references`).
"""

from __future__ import annotations

import binascii
import io
import re
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import segno
from flask_babel import lazy_gettext as _l

from portal.errors import DomainError
from portal.i18n import format_vnd

NAPAS_GUID = "A000000727"
TRANSFER_TO_ACCOUNT = "QRIBFTTA"
PAYLOAD_FORMAT = "01"
DYNAMIC, STATIC = "12", "11"
CURRENCY_VND = "704"
COUNTRY_VIETNAM = "VN"

BANK_BIN = re.compile(r"[0-9]{6}")
#: NAPAS's limit for the beneficiary account (letters occur in some banks' virtual accounts)
ACCOUNT_NUMBER = re.compile(r"[0-9A-Za-z]{1,19}")
MEMO_MAX_CHARS = 25
#: banks pass the memo on through NAPAS as plain unaccented text and drop or refuse anything else
MEMO_CHARACTERS = re.compile(r"[A-Za-z0-9 ]*")
#: NAPAS 247 (the instant transfers a VietQR code starts) carries at most this much per transfer; banks send larger
#: sums through the slower interbank system, which a QR code cannot start, and their apps refuse such a code.
NAPAS_247_MAX_AMOUNT = 499_999_999

CRC_FIELD_HEADER = "6304"
TLV_HEADER = re.compile(r"[0-9]{4}")

#: no 0/O or 1/I: a reference is read off a screen and typed into a banking app
REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
REFERENCE_PREFIX = re.compile(r"[A-Z][A-Z0-9]{1,5}")
#: random characters after the prefix; one check character follows them
REFERENCE_RANDOM_CHARS = 5


class InvalidTransferDetails(DomainError):
    """The bank account, amount or memo cannot be put into a VietQR code."""


class InvalidVietQR(DomainError):
    """A string that is not a well-formed VietQR bank-transfer payload."""


@dataclass(frozen=True)
class BankTransfer:
    """What a VietQR code asks the payer's bank to do."""

    bank_bin: str
    account_number: str
    #: whole đồng; None in a static code, where the payer types the amount
    amount: int | None = None
    #: ASCII letters, digits and spaces; "" for none
    memo: str = ""


# --- building ---------------------------------------------------------------------------------------------------

def transfer_payload(bank_bin: str, account_number: str, amount: int | None = None, memo: str = "") -> str:
    """The VietQR payload for a transfer of `amount` đồng to an account, with `memo` as the transfer's purpose.

    With an amount the code is dynamic (meant for this one payment); without, static. The memo is made ASCII
    first (`transfer_memo`). Anything that cannot go into the code raises InvalidTransferDetails."""
    transfer = _validated_transfer(bank_bin, account_number, amount, memo)
    account = _field("00", transfer.bank_bin) + _field("01", transfer.account_number)
    payload = "".join((
        _field("00", PAYLOAD_FORMAT),
        _field("01", STATIC if transfer.amount is None else DYNAMIC),
        _field("38", _field("00", NAPAS_GUID) + _field("01", account) + _field("02", TRANSFER_TO_ACCOUNT)),
        _field("53", CURRENCY_VND),
        _field("54", str(transfer.amount)) if transfer.amount is not None else "",
        _field("58", COUNTRY_VIETNAM),
        _field("62", _field("08", transfer.memo)) if transfer.memo else "",
        CRC_FIELD_HEADER,
    ))
    return payload + crc_hex(payload)


def _validated_transfer(bank_bin: str, account_number: str, amount: int | None, memo: str) -> BankTransfer:
    if not BANK_BIN.fullmatch(bank_bin or ""):
        raise InvalidTransferDetails(_l("A bank BIN is the 6 digits NAPAS assigns to the bank, for example 970436 "
                                        "for Vietcombank."))
    if not ACCOUNT_NUMBER.fullmatch(account_number or ""):
        raise InvalidTransferDetails(_l("An account number is 1 to 19 letters and digits, without spaces or dashes."))
    if amount is not None:
        # bool is an int in Python, and a float would put a decimal point into the code
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise InvalidTransferDetails(_l("The amount must be a whole number of đồng greater than zero."))
        if amount > NAPAS_247_MAX_AMOUNT:
            raise InvalidTransferDetails(_l(
                "A VietQR transfer carries at most %(limit)s; pay a larger amount by an ordinary bank transfer "
                "or in several payments.", limit=format_vnd(NAPAS_247_MAX_AMOUNT)))
    return BankTransfer(bank_bin, account_number, amount, transfer_memo(memo))


def transfer_memo(text: str) -> str:
    """`text` as a transfer memo: Vietnamese letters without their marks ("Ủng hộ đồng bào" → "Ung ho dong bao"),
    spaces collapsed. The memo travels through NAPAS as plain ASCII, so banks drop, garble or refuse accented
    letters and punctuation; we send what arrives intact rather than let the reference be mangled on the way."""
    memo = " ".join(strip_diacritics(text or "").split())
    if not MEMO_CHARACTERS.fullmatch(memo):
        raise InvalidTransferDetails(_l("A transfer memo may only hold letters, digits and spaces."))
    if len(memo) > MEMO_MAX_CHARS:
        raise InvalidTransferDetails(_l("A transfer memo holds at most %(count)s characters.", count=MEMO_MAX_CHARS))
    return memo


def strip_diacritics(text: str) -> str:
    # NFKD splits "ư" into "u" + a combining mark but leaves "đ" whole, so it is spelled out first
    decomposed = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _field(tag: str, value: str) -> str:
    # the validated parts keep every value far below the 99 characters a length can say
    return f"{tag}{len(value):02d}{value}"


def crc_hex(text: str) -> str:
    """CRC-16/CCITT-FALSE (polynomial 0x1021, initial value 0xFFFF, no reflection, no final XOR) of the UTF-8
    text as 4 upper-case hex digits. binascii.crc_hqx is exactly this CRC when started at 0xFFFF."""
    return f"{binascii.crc_hqx(text.encode(), 0xFFFF):04X}"


# --- reading ----------------------------------------------------------------------------------------------------

def decode_payload(payload: str) -> BankTransfer:
    """The transfer a VietQR payload asks for, after checking its CRC and every field we rely on; for tests and
    for support staff looking at a code a buyer sends in. Raises InvalidVietQR saying what is wrong."""
    payload = (payload or "").strip()
    if len(payload) < 8 or payload[-8:-4] != CRC_FIELD_HEADER:
        raise InvalidVietQR(_l("This is not a VietQR code: it does not end with its checksum field (6304…)."))
    if payload[-4:].upper() != crc_hex(payload[:-4]):
        raise InvalidVietQR(_l("The checksum of this VietQR code does not match: it was changed or cut short."))
    fields = parse_tlv(payload)
    if fields.get("00") != PAYLOAD_FORMAT:
        raise InvalidVietQR(_l("This is not a VietQR code: its payload format indicator is not 01."))
    merchant = parse_tlv(_required(fields, "38"))
    account = parse_tlv(_required(merchant, "01"))
    if merchant.get("00") != NAPAS_GUID or merchant.get("02") != TRANSFER_TO_ACCOUNT:
        raise InvalidVietQR(_l("This QR code is not a NAPAS transfer to a bank account."))
    if fields.get("53") != CURRENCY_VND or fields.get("58") != COUNTRY_VIETNAM:
        raise InvalidVietQR(_l("This QR code is not a payment in Vietnamese đồng to a bank in Vietnam."))
    if fields.get("01") not in (DYNAMIC, STATIC, None):
        raise InvalidVietQR(_l("This VietQR code's point of initiation is neither 11 (static) nor 12 (dynamic)."))
    return BankTransfer(
        bank_bin=_required(account, "00"),
        account_number=_required(account, "01"),
        amount=_amount(fields["54"]) if "54" in fields else None,
        memo=parse_tlv(fields["62"]).get("08", "") if "62" in fields else "",
    )


def parse_tlv(text: str) -> dict[str, str]:
    """The fields of one level of a payload or template, tag → value, in the order they appear; a template's
    value is parsed by calling this again."""
    fields: dict[str, str] = {}
    position = 0
    while position < len(text):
        tag, length = text[position:position + 2], text[position + 2:position + 4]
        if not TLV_HEADER.fullmatch(tag + length):
            raise InvalidVietQR(_l("This VietQR code is malformed near character %(position)s: a field must start "
                                   "with a 2-digit tag and a 2-digit length.", position=position + 1))
        end = position + 4 + int(length)
        if end > len(text):
            raise InvalidVietQR(_l("Field %(tag)s of this VietQR code is longer than what follows it.", tag=tag))
        if tag in fields:
            raise InvalidVietQR(_l("Field %(tag)s appears twice in this VietQR code.", tag=tag))
        fields[tag] = text[position + 4:end]
        position = end
    return fields


def _required(fields: dict[str, str], tag: str) -> str:
    if not fields.get(tag):
        raise InvalidVietQR(_l("This VietQR code has no field %(tag)s.", tag=tag))
    return fields[tag]


def _amount(value: str) -> int:
    # EMVCo allows a decimal point; đồng have no minor unit, so only zeros may follow it
    match = re.fullmatch(r"([0-9]+)(?:\.0*)?", value)
    if not match or int(match[1]) == 0:
        raise InvalidVietQR(_l("The amount in this VietQR code, %(value)s, is not a whole number of đồng.",
                               value=value))
    return int(match[1])


# --- drawing ----------------------------------------------------------------------------------------------------

def qr_svg(payload: str, title: str) -> str:
    """The code as inline SVG for the payment page; `title` is what a screen reader announces."""
    buffer = io.BytesIO()
    _qr(payload).save(buffer, kind="svg", scale=4, border=4, xmldecl=False, svgns=True, title=title,
                      svgclass="vietqr")
    return buffer.getvalue().decode()


def qr_png(payload: str, scale: int = 6) -> bytes:
    buffer = io.BytesIO()
    _qr(payload).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def _qr(payload: str) -> segno.QRCode:
    # The full 4-module quiet zone of the QR standard (ticket codes use 2): banking apps scanning a laptop screen
    # are fussier than our door scanner.
    return segno.make_qr(payload, error="m")


# --- payment references -----------------------------------------------------------------------------------------

def new_reference(prefix: str) -> str:
    """A fresh payment reference such as "TF26 7K3Q9X": the prefix, a space, 5 random characters and a check
    character, from an alphabet without 0/O and 1/I. Random, not derived from the order id, so it tells nobody how
    many orders exist; whoever stores it keeps it unique (32⁵ ≈ 33.5 million per prefix) and draws again on a clash."""
    if not REFERENCE_PREFIX.fullmatch(prefix or ""):
        raise InvalidTransferDetails(_l("A payment reference prefix is 2 to 6 capital letters and digits, starting "
                                        "with a letter, for example TF26."))
    body = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_RANDOM_CHARS))
    return f"{prefix} {body}{_check_character(body)}"


def find_references(memo: str, prefixes: Iterable[str]) -> list[str]:
    """The payment references with one of `prefixes` in a bank memo, in the order they appear, written as
    `new_reference` writes them. Banks upper-case the memo, drop its spaces and punctuation and wrap it in their
    own text ("MBVCB.5012345678.TF267K3Q9X.CT tu 0451000123456 …"), so the memo is squeezed to capital letters and
    digits before searching; the check character keeps a stray run of letters from passing for a reference."""
    squeezed = re.sub(r"[^A-Z0-9]", "", strip_diacritics(memo or "").upper())
    alternatives = "|".join(sorted((re.escape(prefix.upper()) for prefix in prefixes), key=len, reverse=True))
    if not alternatives:
        return []
    body_chars = REFERENCE_RANDOM_CHARS + 1
    # the lookahead lets matches overlap, so a false start cannot hide a real reference right behind it
    pattern = re.compile(rf"(?=({alternatives})([{REFERENCE_ALPHABET}]{{{body_chars}}}))")
    found: list[str] = []
    for match in pattern.finditer(squeezed):
        prefix, body = match.groups()
        reference = f"{prefix} {body}"
        if _check_character(body[:-1]) == body[-1] and reference not in found:
            found.append(reference)
    return found


def _check_character(body: str) -> str:
    """Luhn mod 32 over the alphabet: catches every single mistyped character and most swapped neighbours."""
    base = len(REFERENCE_ALPHABET)
    total = 0
    for position, char in enumerate(reversed(body)):
        weighted = REFERENCE_ALPHABET.index(char) * (2 if position % 2 == 0 else 1)
        total += weighted // base + weighted % base
    return REFERENCE_ALPHABET[-total % base]
