"""Staff searches ignore case and Vietnamese accents on both databases: the folded text each searchable row keeps
(portal.search) and the lists that search it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.accounts.models import Organisation, OrganisationKind, User
from portal.admin.services import search_users
from portal.events.manage import list_orders
from portal.events.models import Event, Ticket
from portal.events.reports import AttendeeFilter, attendee_page
from portal.search import fold, matches
from tests.support.ticketing import add_ticket, create_event


@pytest.mark.parametrize(("typed", "folded"), [
    ("Nguyễn Thị Ánh", "nguyen thi anh"),
    ("ĐẶNG ĐỨC", "dang duc"),
    ("DRJDJX", "drjdjx"),
    ("  Lê   Văn\tNam ", "le van nam"),
    ("Ngô Quyền 50%_off", "ngo quyen 50%_off"),
    ("", ""),
])
def test_fold_drops_case_accents_and_extra_spaces(typed, folded):
    assert fold(typed) == folded


def test_each_searchable_row_keeps_its_folded_text_on_insert_and_on_update(db, make_user):
    user = make_user(name="Trần Thị Bình", email="binh@example.vn")
    with db.transaction() as s:
        s.add(Organisation(name="Công ty Đổi Mới", kind=OrganisationKind.STARTUP))
    with db.transaction() as s:
        assert s.get(User, user.id).search_text == "tran thi binh binh@example.vn"
        organisation = s.scalars(select(Organisation)).one()
        assert organisation.search_text == "cong ty doi moi"
        organisation.name = "Đổi Mới Sáng Tạo"
    with db.session_factory() as s:
        assert s.scalars(select(Organisation.search_text)).one() == "doi moi sang tao"


def test_the_attendee_list_finds_names_without_accents_or_case(db, make_user):
    buyer = make_user(email="buyer@example.vn")
    event = create_event(db)
    for name, email in (("Nguyễn Văn An", "an@example.vn"), ("DRJDJX Holdings", "x@example.vn"),
                        ("Lê Thị Hoa", "hoa@nguyen.vn"), ("Phạm 100% Đúng", "p@example.vn")):
        add_ticket(db, event, buyer, name=name, email=email)

    def found(term: str) -> list[str]:
        with db.session_factory() as s:
            tickets, total = attendee_page(s, s.get(Event, event.id), AttendeeFilter(search=term), 1)
            assert total == len(tickets)
            return [t.attendee_name for t in tickets]

    assert found("nguyen") == ["Nguyễn Văn An", "Lê Thị Hoa"]  # her e-mail says nguyen too
    assert found("drjdjx") == ["DRJDJX Holdings"]
    assert found("NGUYỄN VĂN") == ["Nguyễn Văn An"]
    assert found("100%") == ["Phạm 100% Đúng"]
    assert found("0% d") == ["Phạm 100% Đúng"]
    assert found("1_0") == []  # "_" is a character, not a wildcard


def test_the_attendee_list_finds_a_ticket_by_its_printed_code(db, make_user):
    buyer = make_user(email="buyer@example.vn")
    event = create_event(db)
    ticket = add_ticket(db, event, buyer, name="An")
    add_ticket(db, event, buyer, name="Bình")
    with db.session_factory() as s:
        for typed in (ticket.printed_code, ticket.printed_code.lower(), ticket.short_code[:5].lower()):
            tickets, _total = attendee_page(s, s.get(Event, event.id), AttendeeFilter(search=typed), 1)
            assert [t.id for t in tickets] == [ticket.id], typed


def test_orders_are_found_by_buyer_or_attendee_without_accents(db, make_user):
    event = create_event(db)
    lan = make_user(email="lan@example.vn", name="Đỗ Thị Lan")
    nam = make_user(email="nam@example.vn", name="Vũ Nam")
    add_ticket(db, event, lan, name="Đỗ Thị Lan")
    add_ticket(db, event, nam, name="Hồ Quỳnh Hương", email="huong@example.vn")

    def buyers(term: str) -> list[str]:
        with db.session_factory() as s:
            found, total = list_orders(s, s.get(Event, event.id), search=term)
            assert total == len(found)
            return sorted(order.buyer.full_name for order in found)

    assert buyers("do thi") == ["Đỗ Thị Lan"]
    assert buyers("QUYNH huong") == ["Vũ Nam"]
    assert buyers("example.vn") == ["Vũ Nam", "Đỗ Thị Lan"]
    with db.session_factory() as s:
        code = s.scalars(select(Ticket)).first().order.code
    assert len(buyers(code.lower())) == 1


def test_the_admins_user_search_ignores_accents(db, make_user):
    make_user(name="Đặng Quốc Bảo", email="bao@example.vn")
    make_user(name="Bao Ngoc", email="ngoc@example.vn")
    make_user(name="Trần An", email="an@example.vn")
    with db.session_factory() as s:
        assert sorted(u.full_name for u in search_users(s, "bao")[0]) == ["Bao Ngoc", "Đặng Quốc Bảo"]
        assert [u.full_name for u in search_users(s, "DANG QUOC")[0]] == ["Đặng Quốc Bảo"]


def test_matches_is_a_contains_on_the_folded_term(db, make_user):
    make_user(name="Nguyễn Ánh", email="anh@example.vn")
    with db.session_factory() as s:
        assert s.scalars(select(User.full_name).where(matches(User.search_text, "ÁNH"))).all() == ["Nguyễn Ánh"]
