"""The admins' bank accounts page: the account buyers transfer to, checked against what a VietQR code can carry."""

from __future__ import annotations

from sqlalchemy import select

from portal.accounts.models import Role
from portal.audit.models import AuditEntry
from portal.payments.models import BankAccount
from tests.support.web import csrf_token

PAGE = "/admin/bank-accounts"
RECONCILIATION = "/payments/reconciliation/"
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


def name_reconciler(app, client, account_id: int, email: str):
    """The account's "name this organiser" form, whose fields (its token too) carry the account in their names."""
    return client.post(f"{PAGE}/{account_id}/reconcilers", data={
        f"reconciler-{account_id}-csrf_token": csrf_token(client, app), f"reconciler-{account_id}-email": email})


def test_an_admin_names_the_organisers_who_reconcile_an_account_and_removes_them(app, db, form, login_as):
    admin = login_as(Role.ADMIN, locale="en")
    form(admin, PAGE, VALID)
    with db.session_factory() as s:
        account_id = s.scalar(select(BankAccount.id))
    organiser = login_as(Role.ORGANISER, email="ke-toan@example.vn", name="Lê Kế Toán", locale="en")
    assert organiser.get(RECONCILIATION).status_code == 403  # named on no account yet
    login_as(Role.STARTUP, email="startup@example.vn")

    refused = name_reconciler(app, admin, account_id, "startup@example.vn")
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "No organiser uses this e-mail address" in page and 'value="startup@example.vn"' in page

    done = name_reconciler(app, admin, account_id, " Ke-Toan@example.vn ")
    assert done.status_code == 302
    page = admin.get(PAGE).get_data(as_text=True)
    assert "Lê Kế Toán now reconciles this account" in page and 'data-reconciler="ke-toan@example.vn"' in page
    assert organiser.get(RECONCILIATION).status_code == 200
    twice = name_reconciler(app, admin, account_id, "ke-toan@example.vn")
    assert twice.status_code == 409 and "reconciles this account already" in twice.get_data(as_text=True)

    removed = form(admin, f"{PAGE}/{account_id}/reconcilers/{organiser.user.id}/remove")
    assert "no longer reconcile" in admin.get(removed.location).get_data(as_text=True)
    assert organiser.get(RECONCILIATION).status_code == 403
    assert form(admin, f"{PAGE}/{account_id}/reconcilers/{organiser.user.id}/remove").status_code == 404
    assert name_reconciler(app, admin, 9999, "ke-toan@example.vn").status_code == 404
    with db.session_factory() as s:
        entries = s.execute(select(AuditEntry.action, AuditEntry.actor_id, AuditEntry.details["user_id"].as_integer())
                            .where(AuditEntry.action.like("bank_account.reconciler%")).order_by(AuditEntry.id)).all()
    assert entries == [("bank_account.reconciler_named", admin.user.id, organiser.user.id),
                       ("bank_account.reconciler_removed", admin.user.id, organiser.user.id)]


def test_only_admins_name_who_reconciles(app, db, login_as):
    organiser = login_as(Role.ORGANISER)
    with db.transaction() as s:
        account = BankAccount(bank_bin="970436", bank_name="Vietcombank", account_number="0011009876543",
                              holder_name="TRUNG TAM", active=True)
        s.add(account)
        s.flush()
        account_id = account.id
    assert name_reconciler(app, organiser, account_id, organiser.user.email).status_code == 403
    assert organiser.get(RECONCILIATION).status_code == 403
