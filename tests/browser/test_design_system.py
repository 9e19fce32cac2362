"""The design system holds what the portal shows: ten-digit amounts in đồng and long Vietnamese labels fit their
figure cards and tables on a 375 px phone and a 1280 px screen, no control leaves the screen, every target is at
least 24 px, the header is one row on a desktop, every management page carries its section's tabs, and axe finds
nothing serious. Screenshots of each page at each width go to test-artifacts/design/<page>-<width>.png."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.accounts.models import Role
from portal.events.models import Event, TicketType
from tests.browser.steps import log_in, translated
from tests.support.a11y import assert_accessible
from tests.support.booths import create_hall
from tests.support.finance import pay_booth_by_hand, pay_by_hand, reserve_booth
from tests.support.layout import header_rows, layout_problems
from tests.support.payments import add_bank_account, create_paid_event
from tests.support.ticketing import add_ticket, create_event

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "design"
WIDTHS = {"phone": {"width": 375, "height": 740}, "desktop": {"width": 1280, "height": 900}}
LARGEST = 2_147_483_647
#: two tickets at half the largest amount, and a booth at the largest: every figure has ten digits
TICKET_PRICE = LARGEST // 2
LONG_EVENT_NAME = "Hội chợ Công nghệ và Thiết bị Việt Nam – Techmart Hà Nội 2026: Chuyển đổi số và Đổi mới sáng tạo"
LONG_TICKET_NAME = "Vé nhà đầu tư tham dự trọn ba ngày hội chợ, các phiên gọi vốn và tiệc kết nối doanh nghiệp"


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN, email="quan.tri@example.vn", name="Nguyễn Quản Trị Hệ Thống")


@pytest.fixture
def rich_event(app, db, make_user, admin) -> int:
    """An event whose money runs to ten digits, received at the organisers' desk (beyond what one bank transfer
    may carry): a paid order of two tickets and a booth paid in full."""
    add_bank_account(db)
    ticket_type_id = create_paid_event(db, price=TICKET_PRICE)
    with db.transaction() as s:
        ticket_type = s.get(TicketType, ticket_type_id)
        ticket_type.name_vi = LONG_TICKET_NAME
        event = s.scalars(select(Event).where(Event.id == ticket_type.event_id)).one()
        event.name_vi = LONG_EVENT_NAME
        event_id = event.id
    pay_by_hand(app, db, admin, make_user(name="Nguyễn Thị Phương Thảo", email="thao@example.vn"), ticket_type_id,
                tickets=2)
    exhibitor = make_user(name="Trần Quốc Bảo", email="bao@example.vn")
    pay_booth_by_hand(app, db, admin, reserve_booth(db, exhibitor, event_id, number="A-101", price=LARGEST,
                                                    deposit=LARGEST))
    return event_id


def _visit(page, name: str, path: str, width: str) -> None:
    page.set_viewport_size(WIDTHS[width])
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}-{WIDTHS[width]['width']}.png", full_page=True)


@pytest.mark.parametrize("width", WIDTHS)
def test_ten_digit_amounts_and_long_labels_fit_every_card_table_and_screen(page, admin, rich_event, width):
    log_in(page, admin.email)
    pages = {
        "finance": (f"/manage/events/{rich_event}/finance", {"#stat-received": "4.294.967.293 ₫"}),
        "event-dashboard": (f"/manage/events/{rich_event}/dashboard", {"#stat-revenue": "2.147.483.646 ₫"}),
        "booth-report": (f"/manage/events/{rich_event}/booths/report", {"#stat-booked": "2.147.483.647 ₫",
                                                                        "#stat-paid": "2.147.483.647 ₫"}),
        "styleguide": ("/styleguide", {".stat-value >> nth=0": "2.147.483.647 ₫"}),
    }
    for name, (path, figures) in pages.items():
        _visit(page, name, path, width)
        for selector, amount in figures.items():
            expect(page.locator(selector)).to_have_text(amount.replace(" ", "\u00a0"))
        problems = layout_problems(page)
        assert not problems, f"{name} at {width}: " + "; ".join(problems)
        expect(page.locator("nav.section-menu").first).to_be_visible()
        if width == "desktop":
            assert header_rows(page) == 1, f"the header of {name} takes {header_rows(page)} rows"
        assert_accessible(page)


@pytest.mark.parametrize("roles", [(), *[(role,) for role in Role]], ids=["visitor", *[role.value for role in Role]])
def test_the_header_is_one_row_on_a_desktop_for_every_role(page, signed_in, roles):
    if roles:
        signed_in(*roles, name="Nguyễn Thị Phương Thảo Linh")
    page.goto("/dashboard" if roles else "/")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"header-{roles[0].value if roles else 'visitor'}-1280.png")
    assert header_rows(page) == 1
    assert layout_problems(page) == []


def test_on_a_phone_the_menu_button_opens_the_menu_moves_focus_into_it_and_escape_closes_it(page, app, signed_in):
    signed_in(Role.ADMIN)
    page.set_viewport_size(WIDTHS["phone"])
    page.goto("/admin/users")
    menu = page.get_by_role("button", name=translated(app, "Menu"))
    expect(menu).to_have_attribute("aria-expanded", "false")
    assert layout_problems(page) == []
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#site-nav a").first).to_be_focused()
    assert layout_problems(page) == []
    page.keyboard.press("Escape")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_focused()
    expect(page.locator("#site-nav")).to_be_hidden()


def test_on_a_phone_ticket_quantities_booth_choices_and_ticket_actions_stay_on_the_screen(page, db, make_user):
    event = create_event(db, name_vi=LONG_EVENT_NAME, ticket_types=(
        ("Investor pass", LONG_TICKET_NAME, LARGEST), ("Visitor pass", "Vé khách tham quan", 0)))
    create_hall(db, make_user, event=event)
    buyer = make_user(name="Nguyễn Thị Phương Thảo", email="thao@example.vn")
    add_ticket(db, event, buyer, type_index=1, name="Nguyễn Thị Phương Thảo Linh", email="thao.linh@example.vn")
    log_in(page, buyer.email)
    pages = {"event-page": (f"/events/{event.slug}", "select"),
             "booth-plan": (f"/events/{event.slug}/booths", ".booth-table tbody tr >> nth=0"),
             "my-tickets": ("/tickets", "td >> nth=0")}
    for name, (path, control) in pages.items():
        _visit(page, name, path, "phone")
        page.locator(control).first.scroll_into_view_if_needed()
        expect(page.locator(control).first).to_be_in_viewport(ratio=0.95)
        problems = layout_problems(page)
        assert not problems, f"{name}: " + "; ".join(problems)
        assert_accessible(page)
