"""Bank statements in tests: a CSV in the layout of a Vietcombank export, written for the transfers a test needs."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import datetime

from portal.accounts.models import User
from portal.i18n import HANOI
from portal.payments.models import BankAccountReconciler

HEADER = ["STT", "Ngày giao dịch", "Số tham chiếu", "Số tiền ghi nợ", "Số tiền ghi có", "Nội dung chi tiết"]


def statement_csv(*transfers: tuple[int, str], booked_at: datetime | None = None, bom: bool = True) -> bytes:
    """A statement of `transfers` (amount in đồng, memo) received, with a debit among them as banks show fees."""
    when = (booked_at or datetime(2026, 12, 1, 9, 0, tzinfo=HANOI)).astimezone(HANOI)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["NGÂN HÀNG TMCP NGOẠI THƯƠNG VIỆT NAM - SAO KÊ TÀI KHOẢN"])
    writer.writerow([])
    writer.writerow(HEADER)
    writer.writerow(["0", when.strftime("%d/%m/%Y %H:%M:%S"), "FEE.1", "11.000", "", "Phí SMS Banking"])
    for number, (amount, memo) in enumerate(transfers, start=1):
        # the bank's transaction id: the same for the same transfer, so a re-import is recognised
        transaction_id = hashlib.sha256(f"{number}|{amount}|{memo}".encode()).hexdigest()[:10]
        writer.writerow([str(number), when.strftime("%d/%m/%Y %H:%M:%S"), transaction_id, "",
                         f"{amount:,}".replace(",", "."), memo])
    return ("\ufeff" if bom else "").encode() + buffer.getvalue().encode()


def name_reconciler(db, account_id: int, user: User) -> None:
    """`user`, an organiser, named on the bank account as the admins' page does: they reconcile its statements."""
    with db.transaction() as s:
        s.add(BankAccountReconciler(bank_account_id=account_id, user_id=user.id))
