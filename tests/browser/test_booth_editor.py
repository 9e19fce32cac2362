"""The organiser's floor-plan editor in a real browser: choosing, dragging, editing, adding and deleting booths, a
refused move put back where the server has it, and the booth list under the plan following every change without a
reload."""

from __future__ import annotations

from playwright.sync_api import expect

from portal.accounts.models import Role
from portal.booths.models import Booth
from tests.support.a11y import assert_accessible
from tests.support.booths import create_hall
from tests.support.ticketing import create_event


def stored(db, booth_id: int) -> Booth:
    with db.session_factory() as s:
        return s.get(Booth, booth_id)


def drag(page, shape, dx_units: int, dy_units: int, unit: int = 16) -> None:
    shape.scroll_into_view_if_needed()
    box = shape.locator(".booth-box").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx_units * unit / 2, y + dy_units * unit / 2, steps=3)
    page.mouse.move(x + dx_units * unit, y + dy_units * unit, steps=3)
    page.mouse.up()


def row(page, number: str):
    return page.locator("#booth-list tbody tr", has=page.locator("th", has_text=number))


def test_an_organiser_drags_adds_and_is_refused_an_overlap(page, db, make_user, signed_in):
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    organiser = signed_in(Role.ORGANISER, locale="en", email="duc@example.vn")
    hall = create_hall(db, make_user, event=create_event(db, team=(organiser,)))
    page.goto(f"/manage/events/{hall.event_id}/booths/")
    message = page.locator("#editor-message")

    a02 = page.locator("#booth-shapes .booth", has_text="A-02")
    a02.locator(".booth-box").click()
    expect(page.locator("#booth-form-title")).to_have_text("Booth A-02")
    expect(page.locator("#booth-form [name=x]")).to_have_value("3")

    page.evaluate("window.reloaded = false")  # gone if the page reloads

    drag(page, a02, 4, 0)
    expect(message).to_contain_text("Booth A-02 is saved")
    assert stored(db, hall.booths["A-02"]).x == 7
    expect(page.locator("#booth-form [name=x]")).to_have_value("7")
    expect(row(page, "A-02")).to_contain_text("7,0 · 3×3")

    handle = page.locator(".booth-handle").bounding_box()
    page.mouse.move(handle["x"] + 5, handle["y"] + 5)
    page.mouse.down()
    page.mouse.move(handle["x"] + 5 + 16, handle["y"] + 5 + 16, steps=4)
    page.mouse.up()
    expect(message).to_contain_text("Booth A-02 is saved")
    expect(row(page, "A-02")).to_contain_text("7,0 · 4×4")
    expect(row(page, "A-02")).to_contain_text("16 m²")

    page.locator("#booth-form [name=price]").fill("25000000")
    page.locator("#booth-form [name=power]").check()
    page.locator("#booth-form button[type=submit]").click()
    expect(row(page, "A-02")).to_contain_text("₫25,000,000")
    expect(row(page, "A-02")).to_contain_text("power")

    drag(page, a02, -6, 0)  # onto A-01
    expect(message).to_contain_text("Booth A-02 would overlap booth A-01")
    expect(a02.locator(".booth-box")).to_have_attribute("x", str(7 * 16))
    assert stored(db, hall.booths["A-02"]).x == 7

    page.locator("#booth-new").click()
    form = page.locator("#booth-form")
    for name, value in {"number": "D-01", "zone": "D", "x": "30", "y": "20", "w": "4", "h": "3",
                        "price": "15000000"}.items():
        form.locator(f"[name={name}]").fill(value)
    form.locator("button[type=submit]").click()
    expect(message).to_contain_text("Booth D-01 is saved")
    expect(page.locator("#booth-shapes .booth", has_text="D-01")).to_have_count(1)
    expect(row(page, "D-01")).to_contain_text("30,20 · 4×3")
    expect(row(page, "D-01")).to_contain_text("₫15,000,000")
    numbers = page.locator("#booth-list tbody th").all_text_contents()
    assert numbers == ["A-01", "A-02", "B-01", "C-01", "D-01"]  # in the list's order, by zone

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#booth-delete").click()
    expect(message).to_contain_text("The booth is deleted.")
    expect(row(page, "D-01")).to_have_count(0)
    assert page.evaluate("window.reloaded") is False  # all of it without a reload
    assert_accessible(page)

    # The new rows' own buttons work: a saved booth's row can block it.
    page.locator("#booth-new").click()
    for name, value in {"number": "E-01", "zone": "E", "x": "40", "y": "30", "w": "2", "h": "2",
                        "price": "5000000"}.items():
        form.locator(f"[name={name}]").fill(value)
    form.locator("button[type=submit]").click()
    row(page, "E-01").get_by_role("button", name="Block E-01").click()
    expect(page.locator(".flashes")).to_contain_text("Booth E-01 is no longer for sale.")
    expect(row(page, "E-01")).to_contain_text("Not for sale")
    assert not [e for e in errors if "Content Security Policy" in e or "Uncaught" in e], errors


def test_the_first_booth_of_an_empty_hall_starts_the_list(page, db, make_user, signed_in):
    organiser = signed_in(Role.ORGANISER, locale="en", email="duc@example.vn")
    hall = create_hall(db, make_user, event=create_event(db, team=(organiser,)), booths=())
    page.goto(f"/manage/events/{hall.event_id}/booths/")
    expect(page.locator("#booth-list-empty")).to_be_visible()
    expect(page.locator("#booth-list")).to_be_hidden()

    form = page.locator("#booth-form")
    for name, value in {"number": "A-01", "zone": "A", "x": "0", "y": "0", "w": "3", "h": "3",
                        "price": "20000000"}.items():
        form.locator(f"[name={name}]").fill(value)
    form.locator("button[type=submit]").click()

    expect(row(page, "A-01")).to_contain_text("₫20,000,000")
    expect(page.locator("#booth-list-empty")).to_be_hidden()
    assert_accessible(page)
