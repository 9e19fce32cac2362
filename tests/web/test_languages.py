"""Which language a visitor gets, and pages that used to mix languages: the audit log, the mail reader and the
review notes of bank transfers each read wholly in the reader's language."""

from __future__ import annotations

import html
import io
import re
from datetime import timedelta

import pytest

from portal.accounts.models import Role
from portal.audit.labels import ACTION_LABELS
from portal.i18n import HANOI
from tests.support.payments import add_bank_account, create_paid_event, open_payment, place_pending_order
from tests.support.reconciliation import name_reconciler, statement_csv
from tests.support.ticketing import create_event
from tests.support.web import csrf_token

#: letters only Vietnamese writes (ASCII names and data keep English pages free of them)
VIETNAMESE_LETTERS = re.compile("[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹáàãéèíìóòõúùý]", re.I)


def visible_text(response) -> str:
    """What a reader sees of the page's main content: its text, without markup, scripts or the data shown in code."""
    page = response.get_data(as_text=True)
    main = re.search(r"<main.*?</main>", page, re.S).group(0)
    main = re.sub(r"<code[^>]*>.*?</code>", " ", main, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", main))


def html_lang(response) -> str:
    return re.search(r'<html lang="(\w+)"', response.get_data(as_text=True)).group(1)


# --- the language of a first visit ----------------------------------------------------------

@pytest.mark.parametrize(("accept_language", "expected"), [
    ("en", "en"),
    ("en-US,en;q=0.9", "en"),
    ("fr, en;q=0.5", "en"),  # English is the one of ours the browser accepts
    ("vi", "vi"),
    ("vi-VN,vi;q=0.9,en;q=0.8", "vi"),
    ("fr", "vi"),
    ("*", "vi"),
    (None, "vi"),
])
def test_a_first_visit_follows_the_browsers_language_among_ours_and_vietnamese_otherwise(client, accept_language,
                                                                                         expected):
    headers = {"Accept-Language": accept_language} if accept_language else {}
    assert html_lang(client.get("/", headers=headers)) == expected


def test_a_chosen_language_and_an_accounts_language_come_before_the_browsers(client, login_as):
    client.get("/language/vi")
    assert html_lang(client.get("/", headers={"Accept-Language": "en"})) == "vi"
    person = login_as(locale="vi")
    person.delete_cookie("lang")
    assert html_lang(person.get("/account", headers={"Accept-Language": "en"})) == "vi"


# --- pages in one language ------------------------------------------------------------------

@pytest.fixture
def admin(login_as):
    return login_as(Role.ADMIN, locale="en", email="boss@example.vn", name="Boss")


def in_language(client, locale: str):
    assert client.get(f"/language/{locale}").status_code == 302
    return client


def test_the_audit_log_names_every_action_in_the_readers_language(form, admin, make_user):
    person = make_user(email="person@example.vn", name="Person")
    form(admin, f"/admin/users/{person.id}", {"role": Role.MENTOR.value, "action": "grant"})
    shown = {"auth.login": ("Logged in", "Đăng nhập"), "role.granted": ("Role granted", "Đã cấp vai trò")}

    english = visible_text(in_language(admin, "en").get("/admin/audit"))
    vietnamese = visible_text(in_language(admin, "vi").get("/admin/audit"))

    for code, (en, vi) in shown.items():
        assert en in english and vi in vietnamese
        assert code not in english and code not in vietnamese
    assert VIETNAMESE_LETTERS.search(english) is None
    assert not [str(label) for label in ACTION_LABELS.values() if f" {label} " in f" {vietnamese} "]
    assert "Audit log" not in vietnamese and "Nhật ký" in vietnamese


def test_the_mail_reader_gives_statuses_and_languages_in_the_readers_language(app, form, admin, make_user):
    form(app.test_client(), "/password/forgot", {"email": make_user(email="someone@example.vn", locale="en").email})

    english = visible_text(in_language(admin, "en").get("/admin/mail"))
    vietnamese = visible_text(in_language(admin, "vi").get("/admin/mail"))
    assert "Waiting" in english and "pending" not in english
    assert "Đang chờ" in vietnamese and "Waiting" not in vietnamese and "pending" not in vietnamese
    # the subject is the mail's own (English, as its reader's), the rest of the page is the reader's
    assert VIETNAMESE_LETTERS.search(english) is None


def test_a_partial_transfers_review_note_reads_in_the_readers_language_with_amounts_as_money(app, db, make_user,
                                                                                            login_as):
    organiser = login_as(Role.ORGANISER, locale="en", name="Organiser")
    account_id = add_bank_account(db)
    name_reconciler(db, account_id, organiser.user)
    order = place_pending_order(app, db, make_user(email="binh@example.vn"), create_paid_event(db), provider="vietqr")
    payment = open_payment(app, db, order, "vietqr")
    imported = organiser.post("/payments/reconciliation/", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(organiser, app), "bank_account": str(account_id),
        "statement": (io.BytesIO(statement_csv((100_000, f"IBFT {payment.transfer_reference}"))), "sao-ke.csv")})
    page = imported.headers["Location"]

    english = visible_text(in_language(organiser, "en").get(page))
    vietnamese = visible_text(in_language(organiser, "vi").get(page))
    assert "₫250,000 was asked for; ₫100,000 has arrived so far, ₫150,000 is still owed." in english
    assert ("Số tiền cần thanh toán là 250.000\xa0₫; đến nay đã nhận 100.000\xa0₫, còn thiếu 150.000\xa0₫."
            in vietnamese)
    assert "was asked for" not in vietnamese and "250000" not in english + vietnamese
    assert VIETNAMESE_LETTERS.search(english.replace("Hoàn Kiếm", "")) is None  # the bank branch is data


def test_quotas_and_rooms_are_named_in_each_language_falling_back_to_vietnamese(db, form, login_as):
    organiser = login_as(Role.ORGANISER, locale="en")
    event = create_event(db, team=(organiser.user,), quota_names=())
    manage = f"/manage/events/{event.id}"
    assert form(organiser, f"{manage}/quotas/new", {
        "name": "Hội trường chính", "name_en": "Main hall", "size": "300",
        "ticket_types": [str(event.ticket_types[0].id)]}).status_code == 302
    assert form(organiser, f"{manage}/quotas/new", {"name": "Ngày 2", "size": "100"}).status_code == 302
    starts = event.starts_at.astimezone(HANOI) + timedelta(hours=1)  # whole minutes, inside the event
    assert form(organiser, f"{manage}/programme/new", {
        "kind": "talk", "title_vi": "Khai mạc", "title_en": "Opening", "stage": "Sân khấu chính",
        "stage_en": "Main stage", "starts_at": f"{starts:%Y-%m-%dT%H:%M}",
        "ends_at": f"{starts + timedelta(hours=1):%Y-%m-%dT%H:%M}"}).status_code == 302

    english = visible_text(in_language(organiser, "en").get(f"{manage}/quotas/"))
    vietnamese = visible_text(in_language(organiser, "vi").get(f"{manage}/quotas/"))
    assert "Main hall" in english and "Hội trường chính" not in english
    assert "Hội trường chính" in vietnamese and "Main hall" not in vietnamese
    assert "Ngày 2" in english  # no English name: the Vietnamese one rather than nothing

    visitor = in_language(organiser, "en")
    assert "Main stage" in visible_text(visitor.get(f"/events/{event.slug}"))
    assert "Sân khấu chính" in visible_text(in_language(visitor, "vi").get(f"/events/{event.slug}"))


def test_the_transfer_page_names_the_order_in_the_readers_language(app, db, make_user, login_as):
    add_bank_account(db)
    buyer = login_as(locale="vi", email="binh@example.vn")
    order = place_pending_order(app, db, buyer.user, create_paid_event(db), provider="vietqr")
    payment = open_payment(app, db, order, "vietqr")

    vietnamese = visible_text(buyer.get(f"/payments/{payment.id}/transfer"))
    english = visible_text(in_language(buyer, "en").get(f"/payments/{payment.id}/transfer"))
    assert f"TechFest Hà Nội 2026 – đơn hàng {order.code}" in vietnamese
    assert f"TechFest Hanoi 2026 – order {order.code}" in english and "Hà Nội" not in english
