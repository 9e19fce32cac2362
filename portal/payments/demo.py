"""The demo bank account, so `make run` shows VietQR codes (PRODUCT.md §4: invented details). Added only when
the organisers have no account yet, so loading twice changes nothing and a real account is never replaced."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.payments.models import BankAccount

#: invented: 970436 is Vietcombank's BIN, the account number belongs to nobody
DEMO_ACCOUNT = {"bank_bin": "970436", "bank_name": "Vietcombank – Hà Nội (demo)", "account_number": "0011009876543",
                "holder_name": "TRUNG TAM DOI MOI SANG TAO HA NOI"}


def load(session: Session) -> int:
    """Returns how many accounts it created."""
    if session.scalar(select(BankAccount.id).limit(1)) is not None:
        return 0
    session.add(BankAccount(**DEMO_ACCOUNT, active=True))
    return 1
