"""The admins' bank accounts page: the account buyers transfer to, checked against what a VietQR code can carry."""

from __future__ import annotations

from sqlalchemy import select

from portal.accounts.models import Role
from portal.audit.models import AuditEntry
from portal.payments.models import BankAccount

PAGE = "/admin/bank-accounts"
VALID = {"bank_name": "Vietcombank – Hà Nội", "bank_bin": "970436", "account_number": "0011009876543",
         "holder_name": "Trung tâm Đổi mới sáng tạo", "activate": "y"}


def accounts(db) -> list[tuple[str, bool]]:
    with db.session_factory() as s:
        return [(a.account_number, a.active) for a in s.scalars(select(BankAccount).order_by(BankAccount.id))]


def test_an_admin_adds_the_account_buyers_transfer_to(db, form, login_as):
    admin = login_as(Role.ADMIN, locale="en")
    assert "Bank accounts" in admin.get("/admin/users").get_data(as_text=True)  # in the admin's menu
    response = form(admin, PAGE, VALID)
    assert response.status_code == 302
    page = admin.get(PAGE).get_data(as_text=True)
    assert "The bank account has been added." in page
    assert "TRUNG TAM DOI MOI SANG TAO" in page and "Active" in page
    assert accounts(db) == [("0011009876543", True)]
    with db.session_factory() as s:
        assert s.scalar(select(AuditEntry.action).where(AuditEntry.action == "bank_account.activated"))


def test_an_account_a_vietqr_code_cannot_carry_is_refused_keeping_what_was_typed(db, form, login_as):
    admin = login_as(Role.ADMIN, locale="en")
    response = form(admin, PAGE, VALID | {"bank_bin": "97043"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "A bank BIN is the 6 digits NAPAS assigns to the bank" in page
    assert 'value="0011009876543"' in page and 'value="97043"' in page
    response = form(admin, PAGE, VALID | {"account_number": "0011-0098"})
    assert "An account number is 1 to 19 letters and digits" in response.get_data(as_text=True)
    assert accounts(db) == []


def test_activating_another_account_retires_the_first_and_stopping_shows_none(db, form, login_as):
    admin = login_as(Role.ADMIN, locale="en")
    form(admin, PAGE, VALID)
    form(admin, PAGE, VALID | {"account_number": "1020304050", "activate": ""})
    assert accounts(db) == [("0011009876543", True), ("1020304050", False)]
    with db.session_factory() as s:
        second_id = s.scalar(select(BankAccount.id).where(BankAccount.account_number == "1020304050"))
    form(admin, f"{PAGE}/{second_id}/activate")
    assert accounts(db) == [("0011009876543", False), ("1020304050", True)]
    response = form(admin, f"{PAGE}/{second_id}/deactivate")
    assert "buyers cannot choose bank transfer" in admin.get(response.location).get_data(as_text=True)
    assert accounts(db) == [("0011009876543", False), ("1020304050", False)]
    assert form(admin, f"{PAGE}/9999/activate").status_code == 404


def test_only_admins_manage_bank_accounts(db, form, login_as, client):
    organiser = login_as(Role.ORGANISER)
    assert organiser.get(PAGE).status_code == 403
    assert form(organiser, PAGE, VALID).status_code == 403
    assert client.get(PAGE).status_code == 302  # visitors are sent to log in
    assert accounts(db) == []
